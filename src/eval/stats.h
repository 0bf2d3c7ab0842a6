// Significance statistics on paired per-query scores: is variant A's mean metric really different from
// variant B's? Every function here is pure (no state, no I/O, thread-safe) and takes the two score vectors
// `a` and `b` aligned by query, the differences being d[i] = a[i] - b[i].
//
// Oracles (tests/eval/stats_test.cc against tests/fixtures/stats/reference.json, written by
// tools/gen_stats_fixtures.py with Debian bookworm's scipy 1.10.1, numpy 1.24 and statsmodels 0.13.5):
//   PairedTTest         == scipy.stats.ttest_rel(a, b)                      p within 1e-9 rel or 1e-12 abs
//   WilcoxonSignedRankTest (exact distribution)
//                       == scipy.stats.wilcoxon(a, b, method="exact")       p within 1e-9 rel or 1e-12 abs
//   WilcoxonSignedRankTest (normal approximation)
//                       == scipy.stats.wilcoxon(a, b, method="approx")      p within 1e-7 rel
//   AdjustPValues       == statsmodels multipletests(p, method="bonferroni"|"holm"|"fdr_bh")[1], to 1e-12
//   CohensD             == numpy mean(d) / std(d, ddof=1)
// The Monte Carlo procedures (randomization test, bootstrap) are replayed bit-for-bit by the fixture
// script and checked against exact enumeration and normal theory.
//
// Input validation, common to every function taking paired vectors: different lengths, fewer than two
// pairs, or a non-finite value (NaN, +-inf) throws InvalidInput naming the problem and the index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace rlm {

// The seed of the randomization test and the bootstrap when none is given.
inline constexpr uint64_t kDefaultStatsSeed = 0x5EED5EED5EED5EEDull;

// ---- Paired t-test

struct TTestResult {
  double statistic = 0;        // t = mean(d) / (sd(d) / sqrt(n)), sd with n - 1 in the denominator
  double p_value = 0;          // two-sided: P(|T_df| >= |t|)
  double df = 0;               // n - 1
  double mean_difference = 0;  // mean(d)
};

// The two-sided paired t-test, as scipy.stats.ttest_rel(a, b). As in scipy, when every difference is the
// same the variance is zero: t = +-inf and p = 0 if the common difference is nonzero, t = p = NaN if every
// difference is exactly zero (identical vectors). Differences equal only up to rounding give a huge finite
// t, as in scipy.
TTestResult PairedTTest(std::span<const double> a, std::span<const double> b);

// ---- Wilcoxon signed-rank test

// How zero differences are treated (scipy's `zero_method`).
enum class WilcoxonZeroMethod {
  kWilcox,  // drop them before ranking (scipy's default)
  kPratt,   // rank them with the others, then drop their ranks (Pratt 1959; Cureton's normal correction)
  kZsplit,  // rank them and split their rank sum equally between R+ and R-
};

enum class WilcoxonMethod {
  // Exact distribution when there are at most 50 differences, no zero difference and no tied |d|;
  // the normal approximation otherwise. scipy 1.10's method="auto" differs on one point: it does not look
  // for ties and, with ties, evaluates the untied exact distribution at the truncated rank sum int(R+),
  // which is wrong; rlm then uses the normal approximation with tie correction, i.e. it returns
  // scipy.stats.wilcoxon(a, b, method="approx") (later scipy versions do the same).
  kAuto,
  // The exact null distribution of R+ over all 2^n sign assignments. With zero differences this switches
  // to the normal approximation, as scipy does. Without ties this is scipy's method="exact"; with ties it
  // is the exact conditional (permutation) distribution given the tied ranks, which scipy 1.10 does not
  // compute (checked against full enumeration). Costs O(n^3) time: n above 1000 throws InvalidInput.
  kExact,
  // The normal approximation with tie correction (and, for kPratt, Cureton's zero correction), as
  // scipy.stats.wilcoxon(method="approx").
  kApprox,
};

struct WilcoxonOptions {
  WilcoxonZeroMethod zero_method = WilcoxonZeroMethod::kWilcox;
  WilcoxonMethod method = WilcoxonMethod::kAuto;
  // scipy's `correction`: shift the rank sum 0.5 toward the mean before computing z. scipy defaults to
  // false, and so does rlm. Only the normal approximation uses it.
  bool continuity_correction = false;
};

struct WilcoxonResult {
  double statistic = 0;  // min(R+, R-), scipy's two-sided statistic
  double p_value = 0;    // two-sided
  bool exact = false;    // true: exact distribution; false: normal approximation
  double z = 0;          // the normal deviate; NaN when exact
  size_t n_ranked = 0;   // differences ranked (zeros excluded under kWilcox)
  size_t n_zero = 0;     // zero differences among the input
  bool ties = false;     // some nonzero |d| are equal
};

// The two-sided Wilcoxon signed-rank test of the differences a - b, reproducing
//   scipy.stats.wilcoxon(a, b, zero_method=Z, correction=C, alternative="two-sided", method=M)
// of scipy 1.10 with the exceptions documented at WilcoxonMethod. When every difference is zero, kWilcox
// and kPratt throw InvalidInput (scipy raises ValueError: the test is undefined); kZsplit returns p = 1.
WilcoxonResult WilcoxonSignedRankTest(std::span<const double> a, std::span<const double> b,
                                      const WilcoxonOptions& options = {});

// ---- Fisher randomization (sign-flip permutation) test

struct RandomizationOptions {
  size_t permutations = 10000;  // random sign vectors drawn; also the bound for exact enumeration
  uint64_t seed = kDefaultStatsSeed;
};

struct RandomizationResult {
  double p_value = 0;          // two-sided
  double mean_difference = 0;  // mean(d), the observed statistic
  size_t permutations = 0;     // sign vectors evaluated: 2^m if exact, else options.permutations
  bool exact = false;
};

// Under the null hypothesis each difference is as likely to have either sign. The statistic is |mean(d)|;
// a sign vector is "at least as extreme" when its |mean| >= the observed one minus 1e-12 * mean(|d|)
// (a tolerance for rounding, so that mathematically equal sums always count). Zero differences are
// dropped (their sign changes nothing); let m be how many remain.
//  - Exact when 2^m <= permutations: all 2^m sign vectors, p = count / 2^m (the identity included).
//  - Otherwise Monte Carlo: `permutations` sign vectors drawn from splitmix64 seeded with `seed` (one
//    64-bit output gives the signs of 64 consecutive nonzero differences, bit i set = flipped), and
//    p = (count + 1) / (permutations + 1), which counts the observed assignment once and is never 0
//    (Phipson & Smyth 2010).
// The same inputs, options and seed always give the same p. permutations == 0 throws InvalidInput.
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

// Cohen's d for paired data (often called d_z): mean(d) / sd(d), sd with n - 1 in the denominator.
// +-inf when all differences are equal and nonzero, NaN when all are zero (as numpy computes it).
double CohensD(std::span<const double> a, std::span<const double> b);

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
  double p_value = 0;      // of the chosen test, unadjusted
  double effect_size = 0;  // CohensD(a, b)
  double ci_low = 0;       // bootstrap interval of mean(a - b)
  double ci_high = 0;
};

// Runs `test`, CohensD and BootstrapMeanDifferenceCI on one pair of score vectors. Errors as the parts;
// in particular kWilcoxon on identical vectors throws (see WilcoxonSignedRankTest) and kT gives p = NaN.
PairedComparison ComparePaired(std::span<const double> a, std::span<const double> b, PairedTest test,
                               const CompareOptions& options = {});

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
