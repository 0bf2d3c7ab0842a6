#include "eval/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "core/error.h"

namespace rlm {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Sebastiano Vigna's splitmix64: a 64-bit state advanced by a Weyl sequence, passes BigCrush. The fixture
// script replays it (tools/gen_stats_fixtures.py, SplitMix64), so changing it changes the fixtures.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n), n > 0: Lemire's multiply-and-reject (no modulo bias).
  uint64_t UniformIndex(uint64_t n) {
    unsigned __int128 m = static_cast<unsigned __int128>(Next()) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(Next()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

 private:
  uint64_t state_;
};

// Neumaier's compensated sum: the mean and variance stay accurate to an ulp or two whatever n is, so they
// agree with numpy's pairwise sums far below the tolerances of the tests.
double AccurateSum(std::span<const double> v) {
  double sum = 0, compensation = 0;
  for (double x : v) {
    const double t = sum + x;
    compensation += std::fabs(sum) >= std::fabs(x) ? (sum - t) + x : (x - t) + sum;
    sum = t;
  }
  return sum + compensation;
}

double Mean(std::span<const double> v) {
  return AccurateSum(v) / static_cast<double>(v.size());
}

// Sample variance (n - 1 in the denominator), two-pass.
double SampleVariance(std::span<const double> v, double mean) {
  std::vector<double> squares(v.size());
  for (size_t i = 0; i < v.size(); ++i) squares[i] = (v[i] - mean) * (v[i] - mean);
  return AccurateSum(squares) / static_cast<double>(v.size() - 1);
}

std::string Describe(double x) {
  return std::isnan(x) ? "NaN" : (x > 0 ? "+inf" : "-inf");
}

void CheckFinite(std::span<const double> v, const char* name) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      throw InvalidInput(std::string("statistics: ") + name + "[" + std::to_string(i) + "] is " +
                             Describe(v[i]) + "; scores must be finite numbers",
                         "check the per-query metric values for failed or missing queries");
    }
  }
}

// Validates a paired sample and returns the differences a - b.
std::vector<double> Differences(std::span<const double> a, std::span<const double> b) {
  if (a.size() != b.size()) {
    throw InvalidInput("statistics: paired samples differ in length (" + std::to_string(a.size()) + " vs " +
                           std::to_string(b.size()) + ")",
                       "score both variants on the same queries");
  }
  if (a.size() < 2) {
    throw InvalidInput("statistics: a paired test needs at least 2 pairs, got " + std::to_string(a.size()));
  }
  CheckFinite(a, "a");
  CheckFinite(b, "b");
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = a[i] - b[i];
  return d;
}

// Modified Lentz evaluation of the continued fraction of I_x(a, b) (Numerical Recipes 3rd ed., 6.4 betacf);
// converges quickly for x < (a + 1) / (a + b + 2).
double BetaContinuedFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEpsilon = 1e-16;
  constexpr int kMaxIterations = 100000;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1;
  double d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) <= kEpsilon) return h;
  }
  throw InternalError("incomplete beta: continued fraction did not converge (a=" + std::to_string(a) +
                      ", b=" + std::to_string(b) + ", x=" + std::to_string(x) + ")");
}

// lgamma(x) - Stirling's approximation (x - 1/2) ln x - x + ln(2 pi) / 2, for x >= 10: the asymptotic
// series, whose first omitted term is below 1e-15 there.
double StirlingRemainder(double x) {
  const double r = 1 / x, r2 = r * r;
  return r *
         (1.0 / 12 -
          r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 * (1.0 / 1680 - r2 * (1.0 / 1188 - r2 * 691.0 / 360360)))));
}

// ln B(a, b). Summing lgamma values directly loses about |lgamma(a)| * 1e-16 in absolute terms, 4e-12 at
// a = 5000 (df = 10000): for a large argument, lgamma(a) - lgamma(a + b) is computed from Stirling's
// series instead, where the large terms cancel analytically.
double LogBeta(double a, double b) {
  if (a < b) std::swap(a, b);
  if (a < 10) return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
  const double ratio = -(a - 0.5) * std::log1p(b / a) - b * std::log(a + b) + b + StirlingRemainder(a) -
                       StirlingRemainder(a + b);
  return std::lgamma(b) + ratio;
}

// I_x(a, b) given x, y = 1 - x and their logarithms, each computed without cancellation by the caller
// (with a = 5000, an ulp of x alone moves a ln x by 5e-13).
double IncompleteBeta(double a, double b, double x, double y, double log_x, double log_y) {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  const double log_front = a * log_x + b * log_y - LogBeta(a, b);
  const double front = std::exp(log_front);
  if (x < (a + 1) / (a + b + 2)) return front * BetaContinuedFraction(a, b, x) / a;
  return 1 - front * BetaContinuedFraction(b, a, y) / b;
}

// Two-sided p-value of a standard normal deviate: 2 * scipy.stats.norm.sf(|z|).
double NormalTwoSidedPValue(double z) {
  constexpr double kSqrtHalf = 0.70710678118654752440;
  return std::erfc(std::fabs(z) * kSqrtHalf);
}

struct Ranking {
  std::vector<double> ranks;       // average ranks of |values|, 1-based, in input order
  std::vector<size_t> tie_groups;  // sizes of groups of equal |value| with more than one member
  std::vector<bool> tie_group_is_zero;
};

// scipy.stats.rankdata(|values|, method="average") and find_repeats on the result.
Ranking RankAbsolute(std::span<const double> values) {
  const size_t n = values.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t i, size_t j) { return std::fabs(values[i]) < std::fabs(values[j]); });
  Ranking r;
  r.ranks.resize(n);
  for (size_t start = 0; start < n;) {
    size_t end = start + 1;
    while (end < n && std::fabs(values[order[end]]) == std::fabs(values[order[start]])) ++end;
    const double average = 0.5 * static_cast<double>(start + 1 + end);  // mean of start+1 .. end
    for (size_t k = start; k < end; ++k) r.ranks[order[k]] = average;
    if (end - start > 1) {
      r.tie_groups.push_back(end - start);
      r.tie_group_is_zero.push_back(values[order[start]] == 0);
    }
    start = end;
  }
  return r;
}

// Exact two-sided p of the signed-rank sum W+ = sum of w_i over positive differences, every sign pattern
// equally likely; w are the doubled ranks (integers also under ties). Probabilities are built by halving,
// which is exact in double precision up to 53 differences.
double WilcoxonExactPValue(std::vector<uint64_t> w, uint64_t observed) {
  uint64_t g = 0;
  for (uint64_t x : w) g = std::gcd(g, x);
  if (g > 1) {
    for (uint64_t& x : w) x /= g;
    observed /= g;
  }
  const uint64_t total = std::accumulate(w.begin(), w.end(), uint64_t{0});
  std::vector<double> pmf(total + 1, 0.0);
  pmf[0] = 1;
  uint64_t reach = 0;
  for (uint64_t x : w) {
    reach += x;
    for (uint64_t s = reach; s >= x; --s) pmf[s] = 0.5 * (pmf[s] + pmf[s - x]);
    for (uint64_t s = 0; s < x && s <= reach; ++s) pmf[s] *= 0.5;
  }
  double p_less = 0, p_greater = 0;
  for (uint64_t s = 0; s <= observed; ++s) p_less += pmf[s];
  for (uint64_t s = total + 1; s-- > observed;) p_greater += pmf[s];
  return std::min(1.0, 2 * std::min(p_less, p_greater));
}

struct NamedCorrection {
  std::string_view name;
  PValueCorrection value;
};
constexpr NamedCorrection kCorrectionNames[] = {
    {"none", PValueCorrection::kNone},
    {"bonferroni", PValueCorrection::kBonferroni},
    {"holm", PValueCorrection::kHolm},
    {"bh", PValueCorrection::kBenjaminiHochberg},
    {"fdr_bh", PValueCorrection::kBenjaminiHochberg},
    {"benjamini-hochberg", PValueCorrection::kBenjaminiHochberg},
};

struct NamedTest {
  std::string_view name;
  PairedTest value;
};
constexpr NamedTest kTestNames[] = {
    {"t", PairedTest::kT},
    {"wilcoxon", PairedTest::kWilcoxon},
    {"randomization", PairedTest::kRandomization},
    {"ttest", PairedTest::kT},
    {"permutation", PairedTest::kRandomization},
};

}  // namespace

double RegularizedIncompleteBeta(double a, double b, double x) {
  if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1)) return kNaN;
  return IncompleteBeta(a, b, x, 1 - x, std::log(x), std::log1p(-x));
}

double StudentTTwoSidedPValue(double t, double df) {
  if (std::isnan(t) || !(df > 0)) return kNaN;
  const double t2 = t * t;
  if (std::isinf(t2)) return 0;
  // x = df / (df + t^2) and 1 - x = t^2 / (df + t^2), and their logarithms, without cancellation.
  if (t2 == 0) return 1;
  return IncompleteBeta(0.5 * df, 0.5, df / (df + t2), t2 / (df + t2), -std::log1p(t2 / df),
                        -std::log1p(df / t2));
}

TTestResult PairedTTest(std::span<const double> a, std::span<const double> b) {
  const std::vector<double> d = Differences(a, b);
  const double n = static_cast<double>(d.size());
  TTestResult r;
  r.df = n - 1;
  r.mean_difference = Mean(d);
  const double standard_error = std::sqrt(SampleVariance(d, r.mean_difference) / n);
  if (standard_error > 0) {
    r.statistic = r.mean_difference / standard_error;
  } else {
    r.statistic = r.mean_difference == 0 ? kNaN : std::copysign(kInf, r.mean_difference);
  }
  r.p_value = StudentTTwoSidedPValue(r.statistic, r.df);
  return r;
}

WilcoxonResult WilcoxonSignedRankTest(std::span<const double> a, std::span<const double> b,
                                      const WilcoxonOptions& options) {
  std::vector<double> d = Differences(a, b);
  const size_t n = d.size();
  WilcoxonResult r;
  r.n_zero = static_cast<size_t>(std::count(d.begin(), d.end(), 0.0));
  {
    std::vector<double> nonzero_abs;
    for (double x : d)
      if (x != 0) nonzero_abs.push_back(std::fabs(x));
    std::sort(nonzero_abs.begin(), nonzero_abs.end());
    r.ties = std::adjacent_find(nonzero_abs.begin(), nonzero_abs.end()) != nonzero_abs.end();
  }
  switch (options.method) {
    case WilcoxonMethod::kAuto:
      r.exact = n <= 50 && r.n_zero == 0 && !r.ties;
      break;
    case WilcoxonMethod::kExact:
      r.exact = r.n_zero == 0;
      break;
    case WilcoxonMethod::kApprox:
      r.exact = false;
      break;
  }
  const WilcoxonZeroMethod zero_method = options.zero_method;
  if (r.n_zero == n && zero_method != WilcoxonZeroMethod::kZsplit) {
    throw InvalidInput(
        "Wilcoxon signed-rank test: every difference is zero (identical scores), so the test is undefined "
        "with zero_method wilcox or pratt (scipy raises ValueError too)",
        "the variants do not differ on any query; zero_method zsplit gives p = 1");
  }
  if (r.exact && n > 1000) {
    throw InvalidInput("Wilcoxon signed-rank test: the exact distribution for " + std::to_string(n) +
                           " differences is too costly (O(n^3)); at most 1000",
                       "use the normal approximation (method approx or auto)");
  }
  if (zero_method == WilcoxonZeroMethod::kWilcox && !r.exact) std::erase(d, 0.0);
  const size_t count = d.size();
  r.n_ranked = count;
  const Ranking ranking = RankAbsolute(d);
  double r_plus = 0, r_minus = 0, r_zero = 0;
  for (size_t i = 0; i < count; ++i) {
    if (d[i] > 0) r_plus += ranking.ranks[i];
    if (d[i] < 0) r_minus += ranking.ranks[i];
    if (d[i] == 0) r_zero += ranking.ranks[i];
  }
  if (zero_method == WilcoxonZeroMethod::kZsplit) {
    r_plus += r_zero / 2;
    r_minus += r_zero / 2;
  }
  r.statistic = std::min(r_plus, r_minus);

  if (r.exact) {
    // No zeros here; ranks are multiples of 0.5, so doubled ranks are exact integers.
    std::vector<uint64_t> doubled(count);
    for (size_t i = 0; i < count; ++i) doubled[i] = static_cast<uint64_t>(std::llround(2 * ranking.ranks[i]));
    r.z = kNaN;
    r.p_value = WilcoxonExactPValue(std::move(doubled), static_cast<uint64_t>(std::llround(2 * r_plus)));
    return r;
  }

  // Normal approximation, term by term as scipy 1.10's _morestats.wilcoxon.
  const double c = static_cast<double>(count);
  double mean = c * (c + 1.) * 0.25;
  double variance24 = c * (c + 1.) * (2. * c + 1.);
  if (zero_method == WilcoxonZeroMethod::kPratt) {
    const double z = static_cast<double>(r.n_zero);
    mean -= z * (z + 1.) * 0.25;
    variance24 -= z * (z + 1.) * (2. * z + 1.);
  }
  double tie_term = 0;
  for (size_t g = 0; g < ranking.tie_groups.size(); ++g) {
    if (zero_method == WilcoxonZeroMethod::kPratt && ranking.tie_group_is_zero[g]) continue;
    const double t = static_cast<double>(ranking.tie_groups[g]);
    tie_term += t * (t * t - 1);
  }
  variance24 -= 0.5 * tie_term;
  const double se = std::sqrt(variance24 / 24);
  double shift = 0;
  if (options.continuity_correction) {
    shift = r.statistic > mean ? 0.5 : (r.statistic < mean ? -0.5 : 0.0);
  }
  r.z = (r.statistic - mean - shift) / se;
  r.p_value = NormalTwoSidedPValue(r.z);
  return r;
}

RandomizationResult PairedRandomizationTest(std::span<const double> a, std::span<const double> b,
                                            const RandomizationOptions& options) {
  const std::vector<double> d = Differences(a, b);
  if (options.permutations == 0) {
    throw InvalidInput("randomization test: the number of permutations must be at least 1");
  }
  RandomizationResult r;
  r.mean_difference = Mean(d);
  std::vector<double> nz;
  for (double x : d)
    if (x != 0) nz.push_back(x);
  const size_t m = nz.size();
  // Sums in index order, exactly as the fixture script replays them; comparing sums is comparing means.
  double observed = 0, abs_sum = 0;
  for (double x : nz) {
    observed += x;
    abs_sum += std::fabs(x);
  }
  const double threshold = std::fabs(observed) - 1e-12 * abs_sum;

  if (m < 63 && (uint64_t{1} << m) <= options.permutations) {
    const uint64_t patterns = uint64_t{1} << m;
    uint64_t count = 0;
    for (uint64_t mask = 0; mask < patterns; ++mask) {
      double s = 0;
      for (size_t i = 0; i < m; ++i) s += (mask >> i) & 1 ? -nz[i] : nz[i];
      if (std::fabs(s) >= threshold) ++count;
    }
    r.exact = true;
    r.permutations = patterns;
    r.p_value = static_cast<double>(count) / static_cast<double>(patterns);
    return r;
  }

  SplitMix64 rng(options.seed);
  uint64_t count = 0;
  for (size_t k = 0; k < options.permutations; ++k) {
    double s = 0;
    uint64_t word = 0;
    for (size_t i = 0; i < m; ++i) {
      if (i % 64 == 0) word = rng.Next();
      s += (word >> (i % 64)) & 1 ? -nz[i] : nz[i];
    }
    if (std::fabs(s) >= threshold) ++count;
  }
  r.exact = false;
  r.permutations = options.permutations;
  r.p_value = static_cast<double>(count + 1) / static_cast<double>(options.permutations + 1);
  return r;
}

ConfidenceInterval BootstrapMeanCI(std::span<const double> values, const BootstrapOptions& options) {
  if (values.size() < 2) {
    throw InvalidInput("bootstrap: at least 2 values are needed, got " + std::to_string(values.size()));
  }
  CheckFinite(values, "values");
  if (options.resamples == 0) throw InvalidInput("bootstrap: the number of resamples must be at least 1");
  if (!(options.confidence > 0 && options.confidence < 1)) {
    throw InvalidInput("bootstrap: confidence must be in (0, 1), got " + std::to_string(options.confidence),
                       "for a 95% interval use 0.95");
  }
  const size_t n = values.size();
  SplitMix64 rng(options.seed);
  std::vector<double> means(options.resamples);
  for (double& mean : means) {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += values[rng.UniformIndex(n)];
    mean = s / static_cast<double>(n);
  }
  std::sort(means.begin(), means.end());
  const double alpha = 1 - options.confidence;
  return ConfidenceInterval{Mean(values), SortedQuantile(means, alpha / 2), SortedQuantile(means, 1 - alpha / 2)};
}

double SortedQuantile(std::span<const double> sorted, double q) {
  if (sorted.empty()) return 0;
  const double h = static_cast<double>(sorted.size() - 1) * q;
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double g = h - static_cast<double>(lo);
  return sorted[lo] + g * (sorted[hi] - sorted[lo]);
}

ConfidenceInterval BootstrapMeanDifferenceCI(std::span<const double> a, std::span<const double> b,
                                             const BootstrapOptions& options) {
  return BootstrapMeanCI(Differences(a, b), options);
}

double CohensD(std::span<const double> a, std::span<const double> b) {
  const std::vector<double> d = Differences(a, b);
  const double mean = Mean(d);
  const double sd = std::sqrt(SampleVariance(d, mean));
  if (sd > 0) return mean / sd;
  return mean == 0 ? kNaN : std::copysign(kInf, mean);
}

std::vector<double> AdjustPValues(std::span<const double> p_values, PValueCorrection correction) {
  for (size_t i = 0; i < p_values.size(); ++i) {
    if (!(p_values[i] >= 0 && p_values[i] <= 1)) {
      throw InvalidInput("p-value correction: p[" + std::to_string(i) + "] = " + std::to_string(p_values[i]) +
                         " is not a probability in [0, 1]");
    }
  }
  const size_t m = p_values.size();
  std::vector<double> adjusted(p_values.begin(), p_values.end());
  if (correction == PValueCorrection::kNone || m == 0) return adjusted;
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return p_values[i] < p_values[j]; });
  std::vector<double> sorted(m);
  const double dm = static_cast<double>(m);
  switch (correction) {
    case PValueCorrection::kNone:
      break;
    case PValueCorrection::kBonferroni:
      for (size_t i = 0; i < m; ++i) sorted[i] = p_values[order[i]] * dm;
      break;
    case PValueCorrection::kHolm:
      for (size_t i = 0; i < m; ++i) {
        sorted[i] = p_values[order[i]] * static_cast<double>(m - i);
        if (i > 0) sorted[i] = std::max(sorted[i], sorted[i - 1]);
      }
      break;
    case PValueCorrection::kBenjaminiHochberg:
      for (size_t i = m; i-- > 0;) {
        sorted[i] = p_values[order[i]] / (static_cast<double>(i + 1) / dm);
        if (i + 1 < m) sorted[i] = std::min(sorted[i], sorted[i + 1]);
      }
      break;
  }
  for (size_t i = 0; i < m; ++i) adjusted[order[i]] = std::min(sorted[i], 1.0);
  return adjusted;
}

PValueCorrection ParsePValueCorrection(std::string_view name) {
  for (const NamedCorrection& c : kCorrectionNames)
    if (c.name == name) return c.value;
  throw InvalidInput("unknown p-value correction '" + std::string(name) + "'",
                     "use one of: none, bonferroni, holm, bh");
}

std::string_view PValueCorrectionName(PValueCorrection correction) {
  for (const NamedCorrection& c : kCorrectionNames)
    if (c.value == correction) return c.name;
  throw InternalError("PValueCorrection without a name");
}

PairedTest ParsePairedTest(std::string_view name) {
  for (const NamedTest& t : kTestNames)
    if (t.name == name) return t.value;
  throw InvalidInput("unknown significance test '" + std::string(name) + "'",
                     "use one of: t, wilcoxon, randomization");
}

std::string_view PairedTestName(PairedTest test) {
  for (const NamedTest& t : kTestNames)
    if (t.value == test) return t.name;
  throw InternalError("PairedTest without a name");
}

PairedComparison ComparePaired(std::span<const double> a, std::span<const double> b, PairedTest test,
                               const CompareOptions& options) {
  PairedComparison c;
  switch (test) {
    case PairedTest::kT:
      c.p_value = PairedTTest(a, b).p_value;
      break;
    case PairedTest::kWilcoxon:
      c.p_value = WilcoxonSignedRankTest(a, b, options.wilcoxon).p_value;
      break;
    case PairedTest::kRandomization:
      c.p_value = PairedRandomizationTest(a, b, options.randomization).p_value;
      break;
  }
  c.mean_a = Mean(a);
  c.mean_b = Mean(b);
  c.effect_size = CohensD(a, b);
  const ConfidenceInterval ci = BootstrapMeanDifferenceCI(a, b, options.bootstrap);
  c.ci_low = ci.low;
  c.ci_high = ci.high;
  return c;
}

}  // namespace rlm
