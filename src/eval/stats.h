// Significance statistics on paired per-query scores: is variant A's mean metric really different from
// variant B's? Every function here is pure (no state, no I/O, thread-safe) and takes the two score vectors
// `a` and `b` aligned by query, the differences being d[i] = a[i] - b[i].
//
// Oracles (tests/eval/stats_test.cc against tests/fixtures/stats/reference.json, written by
// tools/gen_stats_fixtures.py with Debian bookworm's scipy 1.10.1, numpy 1.24 and statsmodels 0.13.5):
//   PairedTTest         == scipy.stats.ttest_rel(a, b)                      p within 1e-9 rel or 1e-12 abs
//   WilcoxonSignedRankTest (exact, no ties, no zeros)
//                       == scipy.stats.wilcoxon(a, b, method="exact")       p within 1e-9 rel or 1e-12 abs
//   WilcoxonSignedRankTest (exact conditional, any ties and zeros, each zero method)
//                       == scipy.stats.permutation_test((a, b), R+, permutation_type="samples",
//                          n_resamples=inf) for n <= 16, and an integer-count enumeration in Python for
//                          every n <= kWilcoxonExactLimit                   p within 1e-12 rel
//   WilcoxonSignedRankTest (normal approximation)
//                       == scipy.stats.wilcoxon(a, b, method="approx")      p within 1e-7 rel
//   PairedRandomizationTest (exact)
//                       == scipy.stats.permutation_test((a, b), mean(a - b), permutation_type="samples",
//                          n_resamples=inf)                                 p within 1e-12 rel
//   TukeyHsd            == scipy.stats.tukey_hsd(*groups) and its confidence_interval(): mean differences
//                          and standard errors within 1e-12 rel, p within 1e-10 abs, interval ends within
//                          1e-10 rel or 1e-10 standard errors (measured: 7e-13 abs, 2e-12 rel)
//   StudentizedRangeSurvival == scipy.stats.studentized_range.sf            within 1e-10 abs (scipy's
//                          sf = 1 - cdf by nquad with epsabs 1e-11 has no relative accuracy in the tail;
//                          measured 2e-11); nested QUADPACK quadrature of the complement down to p = 1e-24
//                          and, for k = 2, the closed form via Student's t   within 1e-9 rel (measured
//                          2e-11 and 1e-13)
//   StudentizedRangeQuantile == scipy.stats.studentized_range.ppf           within 1e-10 rel
//   AdjustPValues       == statsmodels multipletests(p, method="bonferroni"|"holm"|"fdr_bh")[1], to 1e-12
//   CohensDz            == numpy mean(d) / std(d, ddof=1)
// The Monte Carlo procedures (randomization test, bootstrap) are replayed bit-for-bit by the fixture
// script and checked against exact enumeration and normal theory.
//
// Input validation, common to every function taking paired vectors: different lengths, fewer than two
// pairs, or a non-finite value (NaN, +-inf) throws InvalidInput naming the problem and the index.
// Expected outcomes are values, not exceptions: a test that cannot be computed on valid input (every
// difference zero, differences without variance) returns p = 1 and a non-empty `undefined_reason`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rlm {

// The seed of the randomization test and the bootstrap when none is given.
inline constexpr uint64_t kDefaultStatsSeed = 0x5EED5EED5EED5EEDull;

// ---- Paired t-test

struct TTestResult {
  double statistic = 0;          // t = mean(d) / (sd(d) / sqrt(n)), sd with n - 1 in the denominator
  double p_value = 0;            // two-sided: P(|T_df| >= |t|); 1 when undefined
  double df = 0;                 // n - 1
  double mean_difference = 0;    // mean(d)
  std::string undefined_reason;  // empty when the test is defined
};

// The two-sided paired t-test, as scipy.stats.ttest_rel(a, b). When every difference is the same, sd(d) = 0
// and the test is undefined: statistic is scipy's (+-inf for a common nonzero difference, NaN when every
// difference is zero), but p = 1 with undefined_reason set, where scipy says p = 0 or NaN (R's t.test
// refuses such data as "essentially constant"). Differences equal only up to rounding give a huge finite
// t and p near 0, as in scipy.
TTestResult PairedTTest(std::span<const double> a, std::span<const double> b);

// ---- Wilcoxon signed-rank test

// How zero differences are treated (scipy's `zero_method`).
enum class WilcoxonZeroMethod {
  kWilcox,  // drop them before ranking (scipy's default)
  kPratt,   // rank them with the others, then drop their ranks (Pratt 1959; Cureton's normal correction)
  kZsplit,  // rank them and split their rank sum equally between R+ and R-
};

// kAuto uses the exact conditional distribution up to this many pairs (zeros included) and the normal
// approximation above. Why 200: the exact distribution costs about n^3 / 4 additions (n^3 / 2 with tied
// ranks), the default bootstrap interval that every comparison also computes costs 10000 n draws, and the
// two meet near n = 200 (measured at n = 200: 2.5 ms untied, 6 ms tied, bootstrap 7.6 ms; at n = 500:
// 30-48 ms against 9 ms). Near 200 pairs the approximation is already within a few 1e-4 of the exact p.
inline constexpr size_t kWilcoxonExactMaxPairs = 200;
// kExact refuses more pairs than this (InvalidInput): about a second of work.
inline constexpr size_t kWilcoxonExactLimit = 1000;

enum class WilcoxonMethod {
  // kExact for at most kWilcoxonExactMaxPairs pairs, kApprox above. scipy 1.10's method="auto" differs:
  // it switches at 50 pairs, uses the normal approximation whenever there are zeros, and with ties
  // evaluates the untied exact distribution at the truncated rank sum int(R+), which is wrong.
  kAuto,
  // The exact null distribution of R+ conditional on the observed ranks, ties and zeros: all 2^m sign
  // assignments of the m nonzero differences, each keeping its (mid)rank under the zero method (kWilcox
  // ranks the nonzero |d| alone; kPratt and kZsplit rank every |d|, zeros first, and R+ then gets none,
  // resp. half, of the zeros' rank sum, a constant). Two-sided p = min(1, 2 min(P(R+ <= r), P(R+ >= r))),
  // scipy.stats.permutation_test's definition. Without ties and zeros this is scipy's method="exact";
  // scipy 1.10 has no exact test with zeros (it switches to the approximation) or ties. More than
  // kWilcoxonExactLimit pairs throws InvalidInput.
  kExact,
  // The normal approximation with tie correction (and, for kPratt, Cureton's zero correction), as
  // scipy.stats.wilcoxon(method="approx").
  kApprox,
};

// "auto", "exact", "approx" (the names of scipy's `method`); anything else throws InvalidInput listing them.
WilcoxonMethod ParseWilcoxonMethod(std::string_view name);
std::string_view WilcoxonMethodName(WilcoxonMethod method);  // the name above

struct WilcoxonOptions {
  WilcoxonZeroMethod zero_method = WilcoxonZeroMethod::kWilcox;
  WilcoxonMethod method = WilcoxonMethod::kAuto;
  // scipy's `correction`: shift the rank sum 0.5 toward the mean before computing z. scipy defaults to
  // false, and so does rlm. Only the normal approximation uses it.
  bool continuity_correction = false;
};

struct WilcoxonResult {
  double statistic = 0;          // min(R+, R-), scipy's two-sided statistic
  double p_value = 0;            // two-sided; 1 when undefined
  bool exact = false;            // true: exact conditional distribution; false: normal approximation
  double z = 0;                  // the normal deviate; NaN when exact or undefined
  size_t n_ranked = 0;           // differences ranked (zeros excluded under kWilcox)
  size_t n_zero = 0;             // zero differences among the input
  bool ties = false;             // some nonzero |d| are equal
  std::string undefined_reason;  // empty when the test is defined
};

// The two-sided Wilcoxon signed-rank test of the differences a - b, reproducing
//   scipy.stats.wilcoxon(a, b, zero_method=Z, correction=C, alternative="two-sided", method=M)
// of scipy 1.10 with the exceptions documented at WilcoxonMethod. When every difference is zero nothing
// can be tested: p = 1 and undefined_reason says why (scipy raises ValueError for wilcox and pratt, and
// returns p = 1 for zsplit; the statistic is scipy's, 0 resp. n(n+1)/4).
WilcoxonResult WilcoxonSignedRankTest(std::span<const double> a, std::span<const double> b,
                                      const WilcoxonOptions& options = {});

// ---- Fisher randomization (sign-flip permutation) test

// The randomization test enumerates every sign vector when at most this many differences are nonzero,
// whatever RandomizationOptions::permutations says: 2^20 sign vectors cost one addition each (two tables
// of half-sums), 0.5 ms measured, less than the default 10000 random sign vectors (0.9 ms at m = 21).
inline constexpr size_t kRandomizationExactMaxNonzero = 20;

struct RandomizationOptions {
  size_t permutations = 10000;  // random sign vectors drawn; exact enumeration also when 2^m <= this
  uint64_t seed = kDefaultStatsSeed;
};

struct RandomizationResult {
  double p_value = 0;          // two-sided; 1 when undefined
  double mean_difference = 0;  // mean(d), the observed statistic
  size_t permutations = 0;     // sign vectors evaluated: 2^m if exact, else options.permutations
  bool exact = false;
  std::string undefined_reason;  // empty when the test is defined
};

// Under the null hypothesis each difference is as likely to have either sign. The statistic is |mean(d)|;
// a sign vector is "at least as extreme" when its |mean| >= the observed one minus 1e-12 * mean(|d|)
// (a tolerance for rounding, so that mathematically equal sums always count). Zero differences are
// dropped (their sign changes nothing); let m be how many remain.
//  - Exact when m <= kRandomizationExactMaxNonzero or 2^m <= permutations: all 2^m sign vectors,
//    p = count / 2^m (the identity included). The sum of a sign vector is low[mask] + high[mask], the sums
//    (in index order) of its first ceil(m/2) and of its other signed differences. This equals
//    scipy.stats.permutation_test's two-sided p = min(1, 2 min(P(S <= s), P(S >= s))): the sign-flip
//    distribution of S is symmetric, so both are P(|S| >= |s|).
//  - Otherwise Monte Carlo: `permutations` sign vectors drawn from splitmix64 seeded with `seed` (one
//    64-bit output gives the signs of 64 consecutive nonzero differences, bit i set = flipped), and
//    p = (count + 1) / (permutations + 1), which counts the observed assignment once and is never 0
//    (Phipson & Smyth 2010).
// The same inputs, options and seed always give the same p. permutations == 0 throws InvalidInput. Every
// difference zero: p = 1 (exact, one sign vector) and undefined_reason is set.
RandomizationResult PairedRandomizationTest(std::span<const double> a, std::span<const double> b,
                                            const RandomizationOptions& options = {});

// ---- Bootstrap confidence intervals

struct BootstrapOptions {
  size_t resamples = 10000;
  double confidence = 0.95;  // in (0, 1)
  uint64_t seed = kDefaultStatsSeed;
};

struct ConfidenceInterval {
  double estimate = 0;  // the sample mean
  double low = 0;
  double high = 0;
};

// Percentile bootstrap interval of the mean of `values`: `resamples` resamples of n values drawn with
// replacement (indices from splitmix64 seeded with `seed`, made uniform by Lemire's multiply-and-reject),
// each resample's mean summed in index order; low and high are the alpha/2 and 1 - alpha/2 quantiles
// (alpha = 1 - confidence) of the sorted resample means with numpy.percentile's default linear
// interpolation (as scipy.stats.bootstrap(method="percentile") uses). Deterministic for a seed.
// Fewer than two values, a non-finite value, resamples == 0 or a confidence outside (0, 1) throws.
ConfidenceInterval BootstrapMeanCI(std::span<const double> values, const BootstrapOptions& options = {});

// The same interval for the mean of the paired differences a - b.
ConfidenceInterval BootstrapMeanDifferenceCI(std::span<const double> a, std::span<const double> b,
                                             const BootstrapOptions& options = {});

// ---- Effect size

// Cohen's d_z, the standardized mean difference of paired data: mean(d) / sd(d), sd with n - 1 in the
// denominator (not Cohen's d of two independent groups, which divides by the pooled sd of a and b).
// +-inf when all differences are equal and nonzero, NaN when all are zero (as numpy computes it).
double CohensDz(std::span<const double> a, std::span<const double> b);
// The former name of CohensDz, kept for existing callers.
inline double CohensD(std::span<const double> a, std::span<const double> b) {
  return CohensDz(a, b);
}

// The q-quantile (0 <= q <= 1) of ascending `sorted` values, numpy.percentile(method="linear"): position
// (n - 1) q, linear between its neighbours. 0 for no values.
double SortedQuantile(std::span<const double> sorted, double q);

// ---- Multiple-comparison corrections

enum class PValueCorrection { kNone, kBonferroni, kHolm, kBenjaminiHochberg };

// Adjusted p-values, in the order given, as statsmodels.stats.multitest.multipletests(p, method=...)[1]:
//   kBonferroni: min(1, m * p)
//   kHolm (step-down): sorted ascending, running maximum of (m - i) * p_(i) (i from 0), capped at 1
//   kBenjaminiHochberg (step-up, "fdr_bh"): sorted ascending, running minimum from the largest of
//     p_(i) / ((i + 1) / m), capped at 1
// The adjusted values are monotone in the raw ones. An empty list gives an empty list; a value that is
// NaN or outside [0, 1] throws InvalidInput.
std::vector<double> AdjustPValues(std::span<const double> p_values, PValueCorrection correction);

// "none", "bonferroni", "holm", "bh" (aliases "fdr_bh", "benjamini-hochberg"); anything else throws
// InvalidInput listing the valid names.
PValueCorrection ParsePValueCorrection(std::string_view name);
std::string_view PValueCorrectionName(PValueCorrection correction);  // the canonical name above

// ---- One comparison, as `rlm eval compare` reports it

enum class PairedTest { kT, kWilcoxon, kRandomization };

// "t" (alias "ttest"), "wilcoxon", "randomization" (alias "permutation"); anything else throws.
PairedTest ParsePairedTest(std::string_view name);
std::string_view PairedTestName(PairedTest test);  // the canonical name above

struct CompareOptions {
  WilcoxonOptions wilcoxon;
  RandomizationOptions randomization;
  BootstrapOptions bootstrap;
};

struct PairedComparison {
  double mean_a = 0;
  double mean_b = 0;
  double p_value = 0;      // of the chosen test, unadjusted; 1 when undefined
  double effect_size = 0;  // CohensDz(a, b): NaN when every difference is zero, +-inf when all equal
  double ci_low = 0;       // bootstrap interval of mean(a - b)
  double ci_high = 0;
  std::string undefined_reason;  // the test's; empty when it is defined
};

// Runs `test`, CohensDz and BootstrapMeanDifferenceCI on one pair of score vectors. Identical vectors, all
// differences zero, or (kT) differences without variance are expected outcomes, not errors: p = 1 and
// undefined_reason says why. Throws InvalidInput only for bad input (lengths differ, fewer than two
// pairs, a non-finite score) or bad options.
PairedComparison ComparePaired(std::span<const double> a, std::span<const double> b, PairedTest test,
                               const CompareOptions& options = {});

// ---- Tukey's honestly significant difference

struct TukeyPair {
  size_t i = 0;  // i < j, indices into the groups
  size_t j = 0;
  double mean_difference = 0;  // mean(groups[i]) - mean(groups[j]) (scipy's statistic[i, j])
  double standard_error = 0;   // sqrt(mse / 2 * (1 / n_i + 1 / n_j))
  double statistic = 0;        // q = |mean_difference| / standard_error
  double p_value = 0;          // StudentizedRangeSurvival(q, k, df); 1 when undefined
  double ci_low = 0;           // mean_difference -+ critical_value * standard_error
  double ci_high = 0;
};

struct TukeyHsdResult {
  std::vector<TukeyPair> pairs;  // (0, 1), (0, 2), ..., (k - 2, k - 1)
  double df = 0;                 // N - k, N the total number of values
  double mse = 0;                // pooled within-group variance: sum of squared deviations / (N - k)
  double critical_value = 0;     // the studentized range quantile at `confidence` for k groups, df
  std::string undefined_reason;  // mse = 0 (every group constant): p = 1 and the intervals are points
};

// Tukey's HSD (Tukey-Kramer for unequal sizes) over k >= 2 groups, as scipy.stats.tukey_hsd(*groups) and
// its confidence_interval(confidence): each pair's |mean difference| in units of its standard error
// against the studentized range distribution of k means with N - k degrees of freedom; the p-values and
// the simultaneous intervals are family-wise (no further correction). ranx applies it to the per-query
// scores of k systems as k independent groups (the pairing by query is ignored). Fewer than two groups,
// a group with fewer than two values, a non-finite value, or confidence outside (0, 1) throws InvalidInput.
TukeyHsdResult TukeyHsd(std::span<const std::vector<double>> groups, double confidence = 0.95);

// P(Q > q) for the studentized range Q of k >= 2 standard normal means with a chi-based scale on df > 0
// degrees of freedom: the double integral over the scale s and the largest mean z of
// f_df(s) k phi(z) [Phi(z)^(k-1) - (Phi(z) - Phi(z - q s))^(k-1)], by adaptive Gauss-Kronrod quadrature
// written for the complement (accurate relative to p, not 1 - cdf). 1 for q <= 0, NaN for NaN arguments,
// k < 2 or df < 1 (Tukey's df = N - k is a positive integer; below 1 the scale density is singular).
// Costs 1-7 ms (a few hundred scale points, each a one-dimensional integral of a few hundred points);
// TukeyHsd on 3 groups of 300 takes 35 ms, on 10 groups of 100 (45 pairs) 240 ms. scipy replaces the
// integral by its df = infinity limit from df = 1e5 on (1e-4 relative off at df = 1e5); rlm integrates at
// every df.
double StudentizedRangeSurvival(double q, double k, double df);
// The q with P(Q <= q) = p, 0 < p < 1: the root of log StudentizedRangeSurvival(q) = log(1 - p) by
// regula falsi (Illinois), to 1e-13 relative, about ten survival evaluations. NaN outside the domain.
double StudentizedRangeQuantile(double p, double k, double df);

// ---- Building blocks, exposed for tests

// I_x(a, b), the regularized incomplete beta function, for a, b > 0 and 0 <= x <= 1: Lentz's continued
// fraction (Numerical Recipes 6.4), using the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where it converges
// faster, and Stirling's series for ln B(a, b) when an argument is large. NaN outside the domain. Agrees
// with 50-digit mpmath to 1e-12 relative (about 1e-13 for a in the thousands, 1e-14 below 100) away from
// underflow; scipy.special.betainc itself is off by 3e-12 at a = 5000.
double RegularizedIncompleteBeta(double a, double b, double x);

// P(|T| >= |t|) for Student's t with `df` > 0 degrees of freedom: I_{df/(df+t^2)}(df/2, 1/2), as
// 2 * scipy.special.stdtr(df, -|t|). NaN for NaN t; 0 for infinite t.
double StudentTTwoSidedPValue(double t, double df);

}  // namespace rlm
