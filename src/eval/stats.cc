#include "eval/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>
#include <string>

#include "core/error.h"
#include "core/random.h"

namespace rlm {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kSqrtHalf = 0.70710678118654752440084436210485;

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

struct NamedWilcoxonMethod {
  std::string_view name;
  WilcoxonMethod value;
};
constexpr NamedWilcoxonMethod kWilcoxonMethodNames[] = {
    {"auto", WilcoxonMethod::kAuto},
    {"exact", WilcoxonMethod::kExact},
    {"approx", WilcoxonMethod::kApprox},
};

// Adaptive Gauss-Kronrod (7-point Gauss, 15-point Kronrod) quadrature of f over [a, b], with QUADPACK's
// error estimate of each interval (qk15: the Kronrod-Gauss difference, scaled as (200 |K - G| / asc)^1.5
// by the integrand's mean deviation asc, and at least 50 ulp of the integral of |f|). An interval is
// accepted when its estimate is at most max(abs_tol, rel_tol * |whole|), `whole` the running estimate of
// the full integral, else halved; at most 2000 halvings in all (QUADPACK's `limit`), after which every
// remaining interval is accepted as it is, so the cost is bounded whatever f does.
template <typename F>
double AdaptiveGaussKronrod(const F& f, double a, double b, double rel_tol, double abs_tol) {
  static constexpr double kNodes[8] = {
      0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
      0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
      0.586087235467691130294144845693013, 0.405845151377397166906606412076961,
      0.207784955007898467600689403773245, 0.000000000000000000000000000000000};
  static constexpr double kKronrod[8] = {
      0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
      0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
      0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
      0.204432940075298892414161999234649, 0.209482141084727828012999174891714};
  static constexpr double kGauss[4] = {
      0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
      0.381830050505118944950369775488975, 0.417959183673469387755102040816327};
  struct Piece {
    double lo, hi, value, error;
  };
  auto rule = [&](double lo, double hi) {
    const double center = 0.5 * (lo + hi), half = 0.5 * (hi - lo);
    double left[7], right[7];
    const double fc = f(center);
    double kronrod = kKronrod[7] * fc, gauss = kGauss[3] * fc, abs_sum = kKronrod[7] * std::fabs(fc);
    for (int i = 0; i < 7; ++i) {
      const double x = half * kNodes[i];
      left[i] = f(center - x);
      right[i] = f(center + x);
      kronrod += kKronrod[i] * (left[i] + right[i]);
      abs_sum += kKronrod[i] * (std::fabs(left[i]) + std::fabs(right[i]));
      if (i % 2 == 1) gauss += kGauss[i / 2] * (left[i] + right[i]);
    }
    const double mean = 0.5 * kronrod;
    double asc = kKronrod[7] * std::fabs(fc - mean);
    for (int i = 0; i < 7; ++i) asc += kKronrod[i] * (std::fabs(left[i] - mean) + std::fabs(right[i] - mean));
    asc *= std::fabs(half);
    double error = std::fabs((kronrod - gauss) * half);
    if (asc != 0 && error != 0) error = asc * std::min(1.0, std::pow(200 * error / asc, 1.5));
    error = std::max(error, 50 * std::numeric_limits<double>::epsilon() * abs_sum * std::fabs(half));
    return Piece{lo, hi, kronrod * half, error};
  };
  std::vector<Piece> stack{rule(a, b)};
  double whole = stack.back().value, accepted = 0;
  int halvings = 0;
  while (!stack.empty()) {
    const Piece piece = stack.back();
    stack.pop_back();
    if (piece.error <= std::max(abs_tol, rel_tol * std::fabs(whole)) || halvings >= 2000) {
      accepted += piece.value;
      continue;
    }
    const double mid = 0.5 * (piece.lo + piece.hi);
    ++halvings;
    const Piece left = rule(piece.lo, mid), right = rule(mid, piece.hi);
    whole += left.value + right.value - piece.value;
    stack.push_back(left);
    stack.push_back(right);
  }
  return accepted;
}

constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;

// Phi(x) and 1 - Phi(x), each accurate in its own tail.
double NormalCdf(double x) {
  return 0.5 * std::erfc(-x * kSqrtHalf);
}
double NormalSf(double x) {
  return 0.5 * std::erfc(x * kSqrtHalf);
}

// P(range of k standard normals > w), w >= 0: k times the integral over the largest value z of
// phi(z) [Phi(z)^(k-1) - (Phi(z) - Phi(z - w))^(k-1)], the probability that z is the largest and some
// other value lies below z - w. Written as a difference that keeps its relative accuracy when it is tiny:
// with A = Phi(z), B = Phi(z - w) and D = A - B, A^(k-1) - D^(k-1) = -A^(k-1) expm1((k-1) log1p(-B/A)).
double RangeSurvival(double w, double k) {
  if (w <= 0) return 1;
  auto integrand = [&](double z) {
    const double a = NormalCdf(z), b = NormalCdf(z - w);
    if (a <= 0) return 0.0;
    double term;
    if (b < 0.5 * a) {
      term = -std::pow(a, k - 1) * std::expm1((k - 1) * std::log1p(-b / a));
    } else {
      // D = Phi(z) - Phi(z - w) from whichever tails avoid cancellation.
      const double diff = z - w > 0 ? NormalSf(z - w) - NormalSf(z) : a - b;
      term = std::pow(a, k - 1) - std::pow(diff, k - 1);
    }
    return k * kInvSqrt2Pi * std::exp(-0.5 * z * z) * term;
  };
  // The mass of the complement sits near z = w / 2: phi(z) Phi(z - w) is e^-t^2 below its peak at
  // z = w / 2 + t. Below z = -9, phi(z) Phi(z)^(k-1) < 1e-18.
  const double lo = -9, mid = 0.5 * w, hi = std::max(9.0, mid + 7);
  double p = 0;
  p += AdaptiveGaussKronrod(integrand, lo, mid, 1e-8, 1e-300);
  p += AdaptiveGaussKronrod(integrand, mid, hi, 1e-8, 1e-300);
  return std::clamp(p, 0.0, 1.0);
}

// The density of s = sqrt(chi2_df / df), the studentizing scale: log f(s) = log 2 + (df/2) log(df/2)
// - lgamma(df/2) + (df - 1) log s - df s^2 / 2. For df >= 20 the constant and the exponent are combined
// through Stirling's series, a = df/2, u = s^2 - 1: log f = log 2 + log(a) / 2 - log(2 pi) / 2 - R(a)
// - log s - a (u - log1p(u)), whose terms stay small when df is in the millions.
// `breaks` brackets where log f is within `depth` of its maximum (e^-46 ~ 1e-20), split at the mode.
struct ScaleDensity {
  ScaleDensity(double df, double depth) : df(df), a(0.5 * df) {
    if (a >= 10) {
      constant =
          std::log(2.0) + 0.5 * std::log(a) - 0.5 * std::log(2 * std::numbers::pi) - StirlingRemainder(a);
    } else {
      constant = std::log(2.0) + a * std::log(a) - std::lgamma(a);
    }
    const double mode = df > 1 ? std::sqrt((df - 1) / df) : 0.0;
    const double peak = mode > 0 ? Log(mode) : Log(1e-300);
    // log f(inside) - peak > -cut >= log f(outside) - peak
    auto edge = [&](double inside, double outside, double cut) {
      for (int i = 0; i < 200; ++i) {
        const double m = 0.5 * (inside + outside);
        (Log(m) - peak > -cut ? inside : outside) = m;
      }
      return outside;
    };
    double upper = std::max(2.0, 2 * mode);
    while (Log(upper) - peak > -46) upper *= 2;
    const double lower = mode > 0 && Log(std::numeric_limits<double>::min()) - peak <= -depth
                             ? edge(mode, std::numeric_limits<double>::min(), depth)
                             : 0.0;
    breaks = {lower};
    if (mode > lower) breaks.push_back(mode);
    // Above the mode the range's survival only falls: e^-46 of the peak is negligible there.
    breaks.push_back(edge(std::max(mode, lower), upper, 46));
  }
  double Log(double s) const {
    if (s <= 0) return -kInf;
    if (a >= 10) {
      const double u = s * s - 1;
      return constant - std::log(s) - a * (u - std::log1p(u));
    }
    return constant + (df - 1) * std::log(s) - a * s * s;
  }
  double df, a, constant = 0;
  std::vector<double> breaks;
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
    r.p_value = StudentTTwoSidedPValue(r.statistic, r.df);
    return r;
  }
  r.statistic = r.mean_difference == 0 ? kNaN : std::copysign(kInf, r.mean_difference);
  r.p_value = 1;
  r.undefined_reason =
      r.mean_difference == 0
          ? "every difference is zero (identical scores): the t statistic is 0/0"
          : "every difference is the same: the differences have no variance, so t is infinite";
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
      r.exact = n <= kWilcoxonExactMaxPairs;
      break;
    case WilcoxonMethod::kExact:
      r.exact = true;
      break;
    case WilcoxonMethod::kApprox:
      r.exact = false;
      break;
  }
  if (r.exact && n > kWilcoxonExactLimit) {
    throw InvalidInput("Wilcoxon signed-rank test: the exact distribution for " + std::to_string(n) +
                           " differences is too costly (O(n^3)); at most " +
                           std::to_string(kWilcoxonExactLimit),
                       "use the normal approximation (method approx or auto)");
  }
  const WilcoxonZeroMethod zero_method = options.zero_method;
  if (r.n_zero == n) {
    r.undefined_reason = "every difference is zero (identical scores): there is nothing to rank";
    r.p_value = 1;
    r.z = kNaN;
    r.n_ranked = zero_method == WilcoxonZeroMethod::kWilcox ? 0 : n;
    const double c = static_cast<double>(n);
    r.statistic = zero_method == WilcoxonZeroMethod::kZsplit ? c * (c + 1) / 4 : 0;
    return r;
  }
  if (zero_method == WilcoxonZeroMethod::kWilcox) std::erase(d, 0.0);
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
    // Ranks are multiples of 0.5, so doubled ranks are exact integers. The zeros' ranks never change sign:
    // R+ is the sum over the positive nonzero differences plus a constant (0 or half the zeros' rank sum),
    // so the distribution of that sum alone decides p.
    std::vector<uint64_t> doubled;
    uint64_t observed = 0;
    for (size_t i = 0; i < count; ++i) {
      if (d[i] == 0) continue;
      doubled.push_back(static_cast<uint64_t>(std::llround(2 * ranking.ranks[i])));
      if (d[i] > 0) observed += doubled.back();
    }
    r.z = kNaN;
    r.p_value = WilcoxonExactPValue(std::move(doubled), observed);
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
  if (m == 0) r.undefined_reason = "every difference is zero (identical scores): no sign can change";
  // Sums in index order, exactly as the fixture script replays them; comparing sums is comparing means.
  double observed = 0, abs_sum = 0;
  for (double x : nz) {
    observed += x;
    abs_sum += std::fabs(x);
  }
  const double threshold = std::fabs(observed) - 1e-12 * abs_sum;

  if (m <= kRandomizationExactMaxNonzero || (m < 63 && (uint64_t{1} << m) <= options.permutations)) {
    // Sign vector `mask` (bit i set = difference i flipped) sums to low[mask & low_mask] + high[mask >> h]:
    // two tables of 2^(m/2) half-sums make each of the 2^m sums one addition.
    const size_t h = (m + 1) / 2;
    auto half_sums = [&](size_t first, size_t size) {
      std::vector<double> sums(size_t{1} << size);
      for (size_t mask = 0; mask < sums.size(); ++mask) {
        double s = 0;
        for (size_t i = 0; i < size; ++i) s += (mask >> i) & 1 ? -nz[first + i] : nz[first + i];
        sums[mask] = s;
      }
      return sums;
    };
    const std::vector<double> low = half_sums(0, h), high = half_sums(h, m - h);
    uint64_t count = 0;
    for (double hi : high) {
      for (double lo : low) count += std::fabs(hi + lo) >= threshold;
    }
    r.exact = true;
    r.permutations = size_t{1} << m;
    r.p_value = static_cast<double>(count) / static_cast<double>(r.permutations);
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
  return ConfidenceInterval{Mean(values), SortedQuantile(means, alpha / 2),
                            SortedQuantile(means, 1 - alpha / 2)};
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

double CohensDz(std::span<const double> a, std::span<const double> b) {
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
    case PairedTest::kT: {
      TTestResult t = PairedTTest(a, b);
      c.p_value = t.p_value;
      c.undefined_reason = std::move(t.undefined_reason);
      break;
    }
    case PairedTest::kWilcoxon: {
      WilcoxonResult w = WilcoxonSignedRankTest(a, b, options.wilcoxon);
      c.p_value = w.p_value;
      c.undefined_reason = std::move(w.undefined_reason);
      break;
    }
    case PairedTest::kRandomization: {
      RandomizationResult r = PairedRandomizationTest(a, b, options.randomization);
      c.p_value = r.p_value;
      c.undefined_reason = std::move(r.undefined_reason);
      break;
    }
  }
  c.mean_a = Mean(a);
  c.mean_b = Mean(b);
  c.effect_size = CohensDz(a, b);
  const ConfidenceInterval ci = BootstrapMeanDifferenceCI(a, b, options.bootstrap);
  c.ci_low = ci.low;
  c.ci_high = ci.high;
  return c;
}

WilcoxonMethod ParseWilcoxonMethod(std::string_view name) {
  for (const NamedWilcoxonMethod& m : kWilcoxonMethodNames)
    if (m.name == name) return m.value;
  throw InvalidInput("unknown Wilcoxon method '" + std::string(name) + "'",
                     "use one of: auto, exact, approx");
}

std::string_view WilcoxonMethodName(WilcoxonMethod method) {
  for (const NamedWilcoxonMethod& m : kWilcoxonMethodNames)
    if (m.value == method) return m.name;
  throw InternalError("WilcoxonMethod without a name");
}

// ---- Studentized range and Tukey's HSD

double StudentizedRangeSurvival(double q, double k, double df) {
  if (std::isnan(q) || std::isnan(k) || std::isnan(df) || !(k >= 2) || !(df >= 1)) return kNaN;
  if (q <= 0) return 1;
  if (std::isinf(q)) return 0;
  auto integrate = [&](double depth) {
    const ScaleDensity density(df, depth);
    auto outer = [&](double s) { return std::exp(density.Log(s)) * RangeSurvival(q * s, k); };
    double p = 0;
    for (size_t i = 0; i + 1 < density.breaks.size(); ++i) {
      p += AdaptiveGaussKronrod(outer, density.breaks[i], density.breaks[i + 1], 1e-7, 1e-300);
    }
    return p;
  };
  // The scale's density is cut where it falls e^-46 below its peak. When p itself is far below that, the
  // integrand's mass has moved to small scales (q s small enough for the range to exceed), so the cut
  // goes deeper, down to e^-46 below p.
  double p = integrate(46);
  if (p > 0 && p < 1e-15) p = integrate(46 - std::log(p));
  return std::clamp(p, 0.0, 1.0);
}

double StudentizedRangeQuantile(double p, double k, double df) {
  if (!(p > 0 && p < 1) || !(k >= 2) || !(df >= 1)) return kNaN;
  // Root of g(q) = log sf(q) - log(1 - p), decreasing in q: bracketed, then the Illinois variant of regula
  // falsi (log sf is close to linear in q, so it converges in a few steps), to 1e-13 relative.
  const double log_target = std::log1p(-p);
  auto g = [&](double q) { return std::log(StudentizedRangeSurvival(q, k, df)) - log_target; };
  double lo = 0, g_lo = -log_target, hi = 2, g_hi = g(hi);
  while (g_hi > 0) {
    lo = hi;
    g_lo = g_hi;
    hi *= 2;
    if (hi > 1e12) return kInf;
    g_hi = g(hi);
  }
  int side = 0;
  for (int i = 0; i < 200 && hi - lo > 1e-13 * hi; ++i) {
    double x = (lo * g_hi - hi * g_lo) / (g_hi - g_lo);
    if (!(x > lo && x < hi)) x = 0.5 * (lo + hi);
    const double gx = g(x);
    if (gx == 0) return x;
    if (gx > 0) {
      lo = x;
      g_lo = gx;
      if (side == -1) g_hi *= 0.5;
      side = -1;
    } else {
      hi = x;
      g_hi = gx;
      if (side == 1) g_lo *= 0.5;
      side = 1;
    }
  }
  return 0.5 * (lo + hi);
}

TukeyHsdResult TukeyHsd(std::span<const std::vector<double>> groups, double confidence) {
  const size_t k = groups.size();
  if (k < 2) throw InvalidInput("Tukey HSD: at least 2 groups are needed, got " + std::to_string(k));
  if (!(confidence > 0 && confidence < 1)) {
    throw InvalidInput("Tukey HSD: confidence must be in (0, 1), got " + std::to_string(confidence),
                       "for 95% intervals use 0.95");
  }
  std::vector<double> means(k);
  double squares = 0, total = 0;
  for (size_t g = 0; g < k; ++g) {
    if (groups[g].size() < 2) {
      throw InvalidInput("Tukey HSD: group " + std::to_string(g) + " has " +
                         std::to_string(groups[g].size()) + " value(s); every group needs at least 2");
    }
    const std::string name = "group " + std::to_string(g) + " values";
    CheckFinite(groups[g], name.c_str());
    means[g] = Mean(groups[g]);
    squares += SampleVariance(groups[g], means[g]) * static_cast<double>(groups[g].size() - 1);
    total += static_cast<double>(groups[g].size());
  }
  TukeyHsdResult r;
  r.df = total - static_cast<double>(k);
  r.mse = squares / r.df;
  r.critical_value = StudentizedRangeQuantile(confidence, static_cast<double>(k), r.df);
  if (!(r.mse > 0)) r.undefined_reason = "every group is constant: the pooled variance is zero";
  for (size_t i = 0; i < k; ++i) {
    for (size_t j = i + 1; j < k; ++j) {
      TukeyPair& pair = r.pairs.emplace_back();
      pair.i = i;
      pair.j = j;
      pair.mean_difference = means[i] - means[j];
      pair.standard_error =
          std::sqrt(r.mse / 2 *
                    (1 / static_cast<double>(groups[i].size()) + 1 / static_cast<double>(groups[j].size())));
      if (r.mse > 0) {
        pair.statistic = std::fabs(pair.mean_difference) / pair.standard_error;
        pair.p_value = StudentizedRangeSurvival(pair.statistic, static_cast<double>(k), r.df);
      } else {
        pair.statistic = pair.mean_difference == 0 ? kNaN : kInf;
        pair.p_value = 1;
      }
      pair.ci_low = pair.mean_difference - r.critical_value * pair.standard_error;
      pair.ci_high = pair.mean_difference + r.critical_value * pair.standard_error;
    }
  }
  return r;
}

}  // namespace rlm
