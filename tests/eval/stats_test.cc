// src/eval/stats against tests/fixtures/stats/reference.json (tools/gen_stats_fixtures.py: scipy 1.10.1,
// numpy, statsmodels 0.13.5, plus the Monte Carlo procedures replayed in Python and exact enumerations;
// scipy.stats.permutation_test for the exact tests, tukey_hsd and studentized_range for Tukey's HSD).
#include "eval/stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"

namespace rlm {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const json& Reference() {
  static const json j = [] {
    const fs::path path = fs::path(RLM_SOURCE_DIR) / "tests/fixtures/stats/reference.json";
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot open " + path.string());
    return json::parse(in);
  }();
  return j;
}

// Non-finite numbers are stored as the strings "nan", "inf", "-inf".
double Num(const json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    throw std::runtime_error("bad number " + s);
  }
  return v.get<double>();
}

std::vector<double> Nums(const json& v) {
  std::vector<double> out;
  for (const json& x : v) out.push_back(Num(x));
  return out;
}

// |actual - expected| <= max(abs_tol, rel_tol * |expected|); NaN matches NaN, inf matches the same inf.
::testing::AssertionResult Close(double actual, double expected, double rel_tol, double abs_tol) {
  if (std::isnan(expected) && std::isnan(actual)) return ::testing::AssertionSuccess();
  if (std::isinf(expected) && actual == expected) return ::testing::AssertionSuccess();
  const double diff = std::fabs(actual - expected);
  if (diff <= std::max(abs_tol, rel_tol * std::fabs(expected))) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "actual " << actual << " expected " << expected << " (diff " << diff
                                       << ", rel " << diff / std::fabs(expected) << ")";
}

WilcoxonZeroMethod ZeroMethod(const std::string& s) {
  if (s == "wilcox") return WilcoxonZeroMethod::kWilcox;
  if (s == "pratt") return WilcoxonZeroMethod::kPratt;
  return WilcoxonZeroMethod::kZsplit;
}

WilcoxonMethod Method(const std::string& s) {
  if (s == "exact") return WilcoxonMethod::kExact;
  if (s == "approx") return WilcoxonMethod::kApprox;
  return WilcoxonMethod::kAuto;
}

const json& ScipyCall(const json& c, const std::string& zero_method, bool correction,
                      const std::string& method) {
  for (const json& w : c.at("wilcoxon")) {
    if (w.at("zero_method") == zero_method && w.at("correction") == correction && w.at("method") == method)
      return w;
  }
  throw std::runtime_error("no such scipy call");
}

TEST(Stats, FixtureComesFromBookwormScipy) {
  EXPECT_EQ(Reference().at("versions").at("scipy"), "1.10.1");
  EXPECT_EQ(Reference().at("default_seed").get<uint64_t>(), kDefaultStatsSeed);
  EXPECT_GE(Reference().at("paired").size(), 80u);
}

TEST(Stats, IncompleteBetaMatchesScipyBetainc) {
  for (const json& e : Reference().at("special").at("betainc")) {
    const double a = e.at("a"), b = e.at("b"), x = e.at("x");
    const double value = RegularizedIncompleteBeta(a, b, x);
    // scipy's own error reaches 3.4e-12 at a = 5000; mpmath's 50-digit value is the sharper oracle.
    EXPECT_TRUE(Close(value, Num(e.at("value")), 1e-11, 1e-300)) << "a=" << a << " b=" << b << " x=" << x;
    if (e.contains("mpmath")) {
      EXPECT_TRUE(Close(value, Num(e.at("mpmath")), 1e-12, 1e-300)) << "a=" << a << " b=" << b << " x=" << x;
    }
  }
  EXPECT_EQ(RegularizedIncompleteBeta(2, 3, 0), 0);
  EXPECT_EQ(RegularizedIncompleteBeta(2, 3, 1), 1);
  EXPECT_TRUE(std::isnan(RegularizedIncompleteBeta(-1, 3, 0.5)));
  EXPECT_TRUE(std::isnan(RegularizedIncompleteBeta(1, 3, 1.5)));
}

TEST(Stats, StudentTMatchesScipyStdtr) {
  for (const json& e : Reference().at("special").at("t_two_sided")) {
    const double t = e.at("t"), df = e.at("df");
    const double p = StudentTTwoSidedPValue(t, df);
    EXPECT_TRUE(Close(p, Num(e.at("p")), 1e-12, 1e-300)) << "t=" << t << " df=" << df;
    if (e.contains("mpmath")) {
      EXPECT_TRUE(Close(p, Num(e.at("mpmath")), 1e-12, 1e-300)) << "t=" << t << " df=" << df;
    }
    EXPECT_EQ(StudentTTwoSidedPValue(-t, df), StudentTTwoSidedPValue(t, df));
  }
  EXPECT_EQ(StudentTTwoSidedPValue(std::numeric_limits<double>::infinity(), 5), 0);
  EXPECT_TRUE(std::isnan(StudentTTwoSidedPValue(std::nan(""), 5)));
}

TEST(Stats, PairedTTestMatchesScipyTtestRel) {
  for (const json& c : Reference().at("paired")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const std::vector<double> a = Nums(c.at("a")), b = Nums(c.at("b"));
    const TTestResult r = PairedTTest(a, b);
    const double t = Num(c.at("ttest").at("statistic"));
    if (std::isfinite(t)) {
      EXPECT_TRUE(Close(r.p_value, Num(c.at("ttest").at("pvalue")), 1e-9, 1e-12));
      EXPECT_EQ(r.undefined_reason, "");
    } else {  // sd(d) = 0: scipy's t = +-inf (p = 0) or NaN (p = NaN); rlm reports no test
      EXPECT_EQ(r.p_value, 1.0);
      EXPECT_NE(r.undefined_reason, "");
    }
    // Beyond |t| = 1e6 the statistic is rounding noise over a near-zero variance; p is 0 either way.
    if (!(std::isfinite(t) && std::fabs(t) > 1e6)) {
      EXPECT_TRUE(Close(r.statistic, t, 1e-9, 1e-12));
    }
    EXPECT_EQ(r.df, c.at("ttest").at("df").get<double>());
    EXPECT_TRUE(Close(CohensD(a, b), Num(c.at("cohens_d")), 1e-9, 1e-12));
  }
}

// Every scipy.stats.wilcoxon call of the fixture, mapped onto rlm's options (see WilcoxonMethod): the
// normal approximation is scipy's method="approx"; the exact conditional distribution is scipy's
// method="exact" where scipy 1.10 has one (no ties, no zeros), and otherwise the fixture's integer-count
// enumeration, itself checked against scipy.stats.permutation_test for n <= 16 (see the next test).
TEST(Stats, WilcoxonMatchesScipy) {
  int exact_scipy = 0, exact_conditional = 0, approx_checked = 0, undefined_checked = 0;
  for (const json& c : Reference().at("paired")) {
    const std::string name = c.at("name");
    const std::vector<double> a = Nums(c.at("a")), b = Nums(c.at("b"));
    const bool ties = c.at("ties"), zeros = c.at("n_zero").get<int>() > 0;
    const size_t n = a.size();
    const bool all_zero = c.at("n_zero").get<size_t>() == n;
    for (const json& call : c.at("wilcoxon")) {
      const std::string zm = call.at("zero_method"), method = call.at("method");
      const bool correction = call.at("correction");
      SCOPED_TRACE(name + " zero_method=" + zm + " method=" + method +
                   " correction=" + std::to_string(correction));
      const WilcoxonOptions options{ZeroMethod(zm), Method(method), correction};
      const WilcoxonResult r = WilcoxonSignedRankTest(a, b, options);
      const bool exact = method == "exact" || (method == "auto" && n <= kWilcoxonExactMaxPairs);
      EXPECT_EQ(r.exact, exact);
      if (all_zero) {  // scipy raises for wilcox and pratt and says p = 1 for zsplit
        EXPECT_EQ(r.p_value, 1.0);
        EXPECT_NE(r.undefined_reason, "");
        if (!call.contains("error")) {
          EXPECT_TRUE(Close(r.statistic, Num(call.at("statistic")), 0, 1e-9));
        }
        ++undefined_checked;
        continue;
      }
      EXPECT_EQ(r.undefined_reason, "");
      ASSERT_FALSE(call.contains("error")) << call.at("error");
      EXPECT_TRUE(Close(r.statistic, Num(call.at("statistic")), 0, 1e-9));
      if (!exact) {
        EXPECT_TRUE(Close(r.p_value, Num(ScipyCall(c, zm, correction, "approx").at("pvalue")), 1e-7, 0));
        ++approx_checked;
        continue;
      }
      EXPECT_TRUE(Close(r.p_value, Num(c.at("wilcoxon_exact_conditional").at(zm)), 1e-12, 0));
      ++exact_conditional;
      if (!ties && !zeros) {
        EXPECT_TRUE(Close(r.p_value, Num(ScipyCall(c, zm, correction, "exact").at("pvalue")), 1e-9, 1e-12));
        ++exact_scipy;
      }
    }
  }
  EXPECT_GT(exact_scipy, 100);
  EXPECT_GT(exact_conditional, 500);
  EXPECT_GT(approx_checked, 300);
  EXPECT_GT(undefined_checked, 20);
}

// The exact conditional distribution under ties and zeros, for each zero method, against scipy itself:
// scipy.stats.permutation_test((a, b), R+, permutation_type="samples", n_resamples=inf) enumerates all
// 2^n swaps of the pairs, whose two-sided p is min(1, 2 min(P(R+ <= r), P(R+ >= r))) as rlm's.
TEST(Stats, WilcoxonExactConditionalMatchesScipyPermutationTest) {
  int checked = 0, with_ties_or_zeros = 0;
  for (const json& c : Reference().at("paired")) {
    if (!c.contains("wilcoxon_permutation_test")) continue;
    const std::vector<double> a = Nums(c.at("a")), b = Nums(c.at("b"));
    for (const std::string zm : {"wilcox", "pratt", "zsplit"}) {
      SCOPED_TRACE(c.at("name").get<std::string>() + " " + zm);
      const WilcoxonResult r =
          WilcoxonSignedRankTest(a, b, {.zero_method = ZeroMethod(zm), .method = WilcoxonMethod::kExact});
      EXPECT_TRUE(r.exact);
      EXPECT_TRUE(Close(r.p_value, Num(c.at("wilcoxon_permutation_test").at(zm)), 1e-12, 0));
      ++checked;
      if (c.at("ties").get<bool>() || c.at("n_zero").get<int>() > 0) ++with_ties_or_zeros;
    }
  }
  EXPECT_GT(checked, 90);
  EXPECT_GT(with_ties_or_zeros, 40);
}

TEST(Stats, WilcoxonAutoRule) {
  std::vector<double> a(kWilcoxonExactMaxPairs), b(kWilcoxonExactMaxPairs, 0.0);
  for (size_t i = 0; i < a.size(); ++i) a[i] = (i % 3 == 0 ? -1.0 : 1.0) * static_cast<double>(i % 40);
  const WilcoxonResult at_limit = WilcoxonSignedRankTest(a, b);  // ties and zeros: still exact
  EXPECT_TRUE(at_limit.exact);
  EXPECT_TRUE(at_limit.ties);
  EXPECT_EQ(at_limit.n_zero, 5u);
  EXPECT_TRUE(std::isnan(at_limit.z));
  a.push_back(1000);
  b.push_back(0);
  const WilcoxonResult above = WilcoxonSignedRankTest(a, b);
  EXPECT_FALSE(above.exact);
  EXPECT_TRUE(std::isfinite(above.z));
  // Near the limit the approximation is close to the exact conditional p.
  a.pop_back();
  b.pop_back();
  EXPECT_NEAR(WilcoxonSignedRankTest(a, b, {.method = WilcoxonMethod::kApprox}).p_value, at_limit.p_value,
              2e-3);
  const WilcoxonResult pratt = WilcoxonSignedRankTest(a, b, {.zero_method = WilcoxonZeroMethod::kPratt});
  EXPECT_TRUE(pratt.exact);
  EXPECT_EQ(pratt.n_ranked, a.size());
}

TEST(Stats, WilcoxonMethodNames) {
  for (auto m : {WilcoxonMethod::kAuto, WilcoxonMethod::kExact, WilcoxonMethod::kApprox}) {
    EXPECT_EQ(ParseWilcoxonMethod(WilcoxonMethodName(m)), m);
  }
  EXPECT_EQ(ParseWilcoxonMethod("exact"), WilcoxonMethod::kExact);
  EXPECT_EQ(WilcoxonMethodName(WilcoxonMethod::kApprox), "approx");
  try {
    ParseWilcoxonMethod("asymptotic");
    ADD_FAILURE() << "no exception";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("asymptotic"), std::string::npos);
    EXPECT_NE(e.suggestion().find("auto, exact, approx"), std::string::npos);
  }
}

TEST(Stats, WilcoxonExactIsLimitedToAThousandDifferences) {
  std::vector<double> a(1001), b(1001, 0.0);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<double>(i + 1) * (i % 2 ? 1 : -1);
  EXPECT_THROW(WilcoxonSignedRankTest(a, b, {.method = WilcoxonMethod::kExact}), InvalidInput);
  EXPECT_NO_THROW(WilcoxonSignedRankTest(a, b));
}

TEST(Stats, CorrectionsMatchStatsmodels) {
  for (const json& e : Reference().at("corrections")) {
    const std::vector<double> p = Nums(e.at("p"));
    for (auto [key, correction] :
         {std::pair{"bonferroni", PValueCorrection::kBonferroni}, std::pair{"holm", PValueCorrection::kHolm},
          std::pair{"bh", PValueCorrection::kBenjaminiHochberg}}) {
      SCOPED_TRACE(std::string(key) + " m=" + std::to_string(p.size()));
      const std::vector<double> expected = Nums(e.at(key));
      const std::vector<double> adjusted = AdjustPValues(p, correction);
      ASSERT_EQ(adjusted.size(), expected.size());
      for (size_t i = 0; i < p.size(); ++i) {
        EXPECT_TRUE(Close(adjusted[i], expected[i], 0, 1e-12)) << "i=" << i;
        EXPECT_GE(adjusted[i], p[i]);
        EXPECT_LE(adjusted[i], 1.0);
        for (size_t j = 0; j < p.size(); ++j) {
          if (p[i] < p[j]) {
            EXPECT_LE(adjusted[i], adjusted[j]) << "not monotone at " << i << ", " << j;
          }
        }
      }
    }
    EXPECT_EQ(AdjustPValues(p, PValueCorrection::kNone), p);
  }
  EXPECT_TRUE(AdjustPValues({}, PValueCorrection::kHolm).empty());
}

TEST(Stats, CorrectionsRejectNonProbabilities) {
  const std::vector<double> nan{0.1, std::nan("")}, big{0.1, 1.5}, negative{-0.1};
  EXPECT_THROW(AdjustPValues(nan, PValueCorrection::kHolm), InvalidInput);
  EXPECT_THROW(AdjustPValues(big, PValueCorrection::kBonferroni), InvalidInput);
  EXPECT_THROW(AdjustPValues(negative, PValueCorrection::kBenjaminiHochberg), InvalidInput);
}

// (a) exact enumeration and (b) the Monte Carlo stream, replayed in Python; the independent reference is
// the exact p over all 2^m sign vectors (small m) or the t-test p-value (large n).
TEST(Stats, RandomizationMatchesReplayAndReference) {
  for (const json& e : Reference().at("randomization")) {
    const std::string name = e.at("name");
    SCOPED_TRACE(name);
    const std::vector<double> a = Nums(e.at("a")), b = Nums(e.at("b"));
    const RandomizationOptions options{e.at("permutations").get<size_t>(), e.at("seed").get<uint64_t>()};
    const RandomizationResult r = PairedRandomizationTest(a, b, options);
    EXPECT_EQ(r.exact, e.at("exact").get<bool>());
    EXPECT_TRUE(Close(r.p_value, Num(e.at("p_value")), 1e-15, 0));
    const double reference = Num(e.at("reference"));
    const double p_perm = static_cast<double>(options.permutations);
    if (r.exact) {
      EXPECT_TRUE(Close(r.p_value, reference, 1e-12, 0));
      continue;
    }
    const double sigma = std::sqrt(reference * (1 - reference) / p_perm);
    double tolerance = 4.5 * sigma + 1 / (p_perm + 1);
    if (e.at("reference_kind") == "ttest_rel") tolerance += 0.01;  // permutation vs t distribution, n >= 100
    EXPECT_NEAR(r.p_value, reference, tolerance);
  }
}

TEST(Stats, RandomizationExactEnumerationMatchesPythonOnEveryCase) {
  int checked = 0;
  for (const json& c : Reference().at("paired")) {
    if (!c.contains("randomization_exact")) continue;
    SCOPED_TRACE(c.at("name").get<std::string>());
    const RandomizationResult r =
        PairedRandomizationTest(Nums(c.at("a")), Nums(c.at("b")), {.permutations = size_t{1} << 16});
    EXPECT_TRUE(r.exact);
    EXPECT_TRUE(Close(r.p_value, Num(c.at("randomization_exact")), 1e-12, 0));
    ++checked;
  }
  EXPECT_GT(checked, 20);
}

// scipy.stats.permutation_test((a, b), mean(a - b), permutation_type="samples", n_resamples=inf): the
// same exact distribution from scipy's own enumeration of the 2^n swaps (zeros included).
TEST(Stats, RandomizationExactMatchesScipyPermutationTest) {
  int checked = 0;
  for (const json& c : Reference().at("paired")) {
    if (!c.contains("randomization_permutation_test")) continue;
    SCOPED_TRACE(c.at("name").get<std::string>());
    const RandomizationResult r = PairedRandomizationTest(Nums(c.at("a")), Nums(c.at("b")));
    EXPECT_TRUE(r.exact);
    EXPECT_TRUE(Close(r.p_value, Num(c.at("randomization_permutation_test")), 1e-12, 0));
    ++checked;
  }
  EXPECT_GT(checked, 35);
}

TEST(Stats, RandomizationIsExactUpToTwentyNonzeroDifferences) {
  std::vector<double> a(kRandomizationExactMaxNonzero + 3), b(a.size(), 0.0);
  for (size_t i = 0; i < a.size(); ++i) a[i] = std::sin(static_cast<double>(i) * 2.3) + 0.2;
  a[0] = a[1] = a[2] = 0;  // zeros do not count
  RandomizationResult r = PairedRandomizationTest(a, b, {.permutations = 100});
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.permutations, size_t{1} << kRandomizationExactMaxNonzero);
  a[0] = 0.5;
  r = PairedRandomizationTest(a, b, {.permutations = 100});
  EXPECT_FALSE(r.exact);
  EXPECT_EQ(r.permutations, 100u);
  r = PairedRandomizationTest(a, b, {.permutations = size_t{1} << 21});  // 2^m <= permutations
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.permutations, size_t{1} << 21);
}

TEST(Stats, RandomizationIsDeterministicForASeed) {
  std::vector<double> a(40), b(40);
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = std::sin(static_cast<double>(i) * 1.7) * 0.3 + 0.5;
    b[i] = std::cos(static_cast<double>(i) * 0.9) * 0.3 + 0.45;
  }
  const RandomizationResult first = PairedRandomizationTest(a, b, {.permutations = 2000, .seed = 9});
  const RandomizationResult again = PairedRandomizationTest(a, b, {.permutations = 2000, .seed = 9});
  const RandomizationResult other = PairedRandomizationTest(a, b, {.permutations = 2000, .seed = 10});
  EXPECT_FALSE(first.exact);
  EXPECT_EQ(first.permutations, 2000u);
  EXPECT_EQ(first.p_value, again.p_value);
  EXPECT_NE(first.p_value, other.p_value);
  EXPECT_GE(first.p_value, 1.0 / 2001);
  EXPECT_EQ(PairedRandomizationTest(a, b).permutations, 10000u);  // the harness default
}

TEST(Stats, RandomizationOfIdenticalScoresIsOne) {
  const std::vector<double> a{0.1, 0.5, 0.9, 0.3};
  const RandomizationResult r = PairedRandomizationTest(a, a);
  EXPECT_TRUE(r.exact);
  EXPECT_EQ(r.p_value, 1.0);
}

TEST(Stats, BootstrapMatchesReplayAndReference) {
  for (const json& e : Reference().at("bootstrap")) {
    const std::string name = e.at("name");
    const std::vector<double> a = Nums(e.at("a")), b = Nums(e.at("b"));
    const BootstrapOptions options{e.at("resamples").get<size_t>(), e.at("confidence").get<double>(),
                                   e.at("seed").get<uint64_t>()};
    for (const char* key : {"difference", "mean_a"}) {
      SCOPED_TRACE(name + " " + key);
      const json& x = e.at(key);
      const ConfidenceInterval ci = std::string(key) == "difference"
                                        ? BootstrapMeanDifferenceCI(a, b, options)
                                        : BootstrapMeanCI(a, options);
      EXPECT_TRUE(Close(ci.estimate, Num(x.at("estimate")), 1e-12, 1e-15));
      EXPECT_TRUE(Close(ci.low, Num(x.at("low")), 1e-12, 1e-15));
      EXPECT_TRUE(Close(ci.high, Num(x.at("high")), 1e-12, 1e-15));
      EXPECT_LE(ci.low, ci.estimate);
      EXPECT_GE(ci.high, ci.estimate);
      if (x.contains("exact_low_bracket")) {
        const std::vector<double> low = Nums(x.at("exact_low_bracket")),
                                  high = Nums(x.at("exact_high_bracket"));
        EXPECT_GE(ci.low, low[0] - 1e-12);
        EXPECT_LE(ci.low, low[1] + 1e-12);
        EXPECT_GE(ci.high, high[0] - 1e-12);
        EXPECT_LE(ci.high, high[1] + 1e-12);
      } else {
        const double se = Num(x.at("standard_error"));
        EXPECT_NEAR(ci.low, Num(x.at("normal_low")), 0.15 * se);
        EXPECT_NEAR(ci.high, Num(x.at("normal_high")), 0.15 * se);
      }
    }
  }
}

TEST(Stats, BootstrapIsDeterministicForASeed) {
  const std::vector<double> v{0.1, 0.7, 0.3, 0.3, 0.9, 0.0, 1.0, 0.45};
  const ConfidenceInterval x = BootstrapMeanCI(v, {.resamples = 3000, .seed = 4});
  const ConfidenceInterval y = BootstrapMeanCI(v, {.resamples = 3000, .seed = 4});
  const ConfidenceInterval z = BootstrapMeanCI(v, {.resamples = 3000, .seed = 5});
  EXPECT_EQ(x.low, y.low);
  EXPECT_EQ(x.high, y.high);
  EXPECT_TRUE(x.low != z.low || x.high != z.high);
  const std::vector<double> constant(10, 0.25);
  const ConfidenceInterval c = BootstrapMeanCI(constant);
  EXPECT_EQ(c.low, 0.25);
  EXPECT_EQ(c.high, 0.25);
}

// Expected outcomes are values with a reason: nothing here throws.
TEST(Stats, IdenticalScoresAreUndefinedNotErrors) {
  const std::vector<double> a{0.2, 0.4, 0.4, 1.0};
  const TTestResult t = PairedTTest(a, a);
  EXPECT_TRUE(std::isnan(t.statistic));  // scipy's t
  EXPECT_EQ(t.p_value, 1.0);
  EXPECT_NE(t.undefined_reason.find("every difference is zero"), std::string::npos);
  EXPECT_TRUE(std::isnan(CohensDz(a, a)));
  for (auto zm : {WilcoxonZeroMethod::kWilcox, WilcoxonZeroMethod::kPratt, WilcoxonZeroMethod::kZsplit}) {
    for (auto method : {WilcoxonMethod::kAuto, WilcoxonMethod::kExact, WilcoxonMethod::kApprox}) {
      const WilcoxonResult w = WilcoxonSignedRankTest(a, a, {.zero_method = zm, .method = method});
      EXPECT_EQ(w.p_value, 1.0);
      EXPECT_NE(w.undefined_reason, "");
    }
  }
  EXPECT_EQ(WilcoxonSignedRankTest(a, a, {.zero_method = WilcoxonZeroMethod::kZsplit}).statistic,
            5.0);  // scipy's
  const RandomizationResult rt = PairedRandomizationTest(a, a);
  EXPECT_EQ(rt.p_value, 1.0);
  EXPECT_NE(rt.undefined_reason, "");
  for (auto test : {PairedTest::kT, PairedTest::kWilcoxon, PairedTest::kRandomization}) {
    SCOPED_TRACE(std::string(PairedTestName(test)));
    const PairedComparison c = ComparePaired(a, a, test);
    EXPECT_EQ(c.p_value, 1.0);
    EXPECT_NE(c.undefined_reason, "");
    EXPECT_EQ(c.mean_a, c.mean_b);
    EXPECT_EQ(c.ci_low, 0.0);
    EXPECT_EQ(c.ci_high, 0.0);
  }
  // Every difference the same nonzero value: the t-test has no variance to work with; the rank and sign
  // tests are defined (all four signs positive).
  const std::vector<double> shifted{1.25, 1.5, 1.5, 2.0}, base{0.25, 0.5, 0.5, 1.0};  // d = 1 exactly
  const TTestResult ts = PairedTTest(shifted, base);
  EXPECT_EQ(ts.statistic, std::numeric_limits<double>::infinity());
  EXPECT_EQ(ts.p_value, 1.0);
  EXPECT_NE(ts.undefined_reason.find("no variance"), std::string::npos);
  EXPECT_EQ(CohensDz(base, shifted), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(CohensD(base, shifted), CohensDz(base, shifted));
  const PairedComparison ct = ComparePaired(shifted, base, PairedTest::kT);
  EXPECT_EQ(ct.p_value, 1.0);
  EXPECT_NE(ct.undefined_reason, "");
  const PairedComparison cw = ComparePaired(shifted, base, PairedTest::kWilcoxon);
  EXPECT_EQ(cw.undefined_reason, "");
  EXPECT_EQ(cw.p_value, 0.125);  // every rank is 2.5: 2 P(R+ = 10) = 2 / 16
  const PairedComparison cr = ComparePaired(shifted, base, PairedTest::kRandomization);
  EXPECT_EQ(cr.undefined_reason, "");
  EXPECT_EQ(cr.p_value, 0.125);
}

TEST(Stats, InvalidInputIsRejectedWithAClearMessage) {
  const std::vector<double> three{0.1, 0.2, 0.3}, two{0.1, 0.2}, one{0.5};
  const std::vector<double> with_nan{0.1, std::nan(""), 0.3};
  const std::vector<double> with_inf{0.1, 0.2, std::numeric_limits<double>::infinity()};
  auto expect_invalid = [](auto&& fn, const std::string& fragment) {
    try {
      fn();
      ADD_FAILURE() << "no exception; expected one mentioning '" << fragment << "'";
    } catch (const InvalidInput& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_invalid([&] { PairedTTest(three, two); }, "differ in length (3 vs 2)");
  expect_invalid([&] { WilcoxonSignedRankTest(three, two); }, "differ in length");
  expect_invalid([&] { PairedRandomizationTest(three, two); }, "differ in length");
  expect_invalid([&] { BootstrapMeanDifferenceCI(three, two); }, "differ in length");
  expect_invalid([&] { CohensD(three, two); }, "differ in length");
  expect_invalid([&] { PairedTTest(one, one); }, "at least 2 pairs");
  expect_invalid([&] { WilcoxonSignedRankTest(one, one); }, "at least 2 pairs");
  expect_invalid([&] { BootstrapMeanCI(one); }, "at least 2 values");
  expect_invalid([&] { PairedTTest(with_nan, three); }, "a[1] is NaN");
  expect_invalid([&] { PairedRandomizationTest(three, with_nan); }, "b[1] is NaN");
  expect_invalid([&] { WilcoxonSignedRankTest(three, with_inf); }, "b[2] is +inf");
  expect_invalid([&] { BootstrapMeanCI(with_nan); }, "values[1] is NaN");
  expect_invalid([&] { PairedRandomizationTest(three, three, {.permutations = 0}); }, "permutations");
  expect_invalid([&] { BootstrapMeanCI(three, {.resamples = 0}); }, "resamples");
  expect_invalid([&] { BootstrapMeanCI(three, {.confidence = 1.0}); }, "confidence");
  expect_invalid([&] { ParsePValueCorrection("holmes"); }, "holmes");
  expect_invalid([&] { ParsePairedTest("z"); }, "unknown significance test");
  expect_invalid([&] { ComparePaired(three, two, PairedTest::kWilcoxon); }, "differ in length");
  expect_invalid([&] { ComparePaired(one, one, PairedTest::kT); }, "at least 2 pairs");
  expect_invalid([&] { ComparePaired(with_nan, three, PairedTest::kRandomization); }, "a[1] is NaN");
  const std::vector<std::vector<double>> one_group{{0.1, 0.2}}, short_group{{0.1, 0.2}, {0.3}},
      nan_group{{0.1, 0.2}, {0.3, std::nan("")}}, groups{{0.1, 0.2}, {0.3, 0.5}};
  expect_invalid([&] { TukeyHsd(one_group); }, "at least 2 groups");
  expect_invalid([&] { TukeyHsd(short_group); }, "group 1 has 1 value");
  expect_invalid([&] { TukeyHsd(nan_group); }, "group 1 values[1] is NaN");
  expect_invalid([&] { TukeyHsd(groups, 1.0); }, "confidence");
}

TEST(Stats, NamesRoundTrip) {
  for (auto c : {PValueCorrection::kNone, PValueCorrection::kBonferroni, PValueCorrection::kHolm,
                 PValueCorrection::kBenjaminiHochberg}) {
    EXPECT_EQ(ParsePValueCorrection(PValueCorrectionName(c)), c);
  }
  EXPECT_EQ(PValueCorrectionName(PValueCorrection::kBenjaminiHochberg), "bh");
  EXPECT_EQ(ParsePValueCorrection("fdr_bh"), PValueCorrection::kBenjaminiHochberg);
  for (auto t : {PairedTest::kT, PairedTest::kWilcoxon, PairedTest::kRandomization}) {
    EXPECT_EQ(ParsePairedTest(PairedTestName(t)), t);
  }
  EXPECT_EQ(PairedTestName(PairedTest::kRandomization), "randomization");
}

TEST(Stats, ComparePairedCombinesTheParts) {
  const json& c = Reference().at("paired").at(0);
  const std::vector<double> a = Nums(c.at("a")), b = Nums(c.at("b"));
  for (const json& e : Reference().at("paired")) {
    if (e.at("name") != "ndcg_n100") continue;
    const std::vector<double> x = Nums(e.at("a")), y = Nums(e.at("b"));
    const PairedComparison cmp = ComparePaired(x, y, PairedTest::kWilcoxon);
    EXPECT_TRUE(Close(cmp.mean_a, Num(e.at("mean_a")), 1e-12, 1e-15));
    EXPECT_TRUE(Close(cmp.mean_b, Num(e.at("mean_b")), 1e-12, 1e-15));
    EXPECT_TRUE(
        Close(cmp.p_value, Num(e.at("wilcoxon_exact_conditional").at("wilcox")), 1e-12, 0));  // n <= 200
    EXPECT_EQ(cmp.undefined_reason, "");
    EXPECT_TRUE(Close(cmp.effect_size, Num(e.at("cohens_d")), 1e-9, 1e-12));
    const ConfidenceInterval ci = BootstrapMeanDifferenceCI(x, y);
    EXPECT_EQ(cmp.ci_low, ci.low);
    EXPECT_EQ(cmp.ci_high, ci.high);
    EXPECT_LT(cmp.ci_low, cmp.mean_a - cmp.mean_b);
    EXPECT_GT(cmp.ci_high, cmp.mean_a - cmp.mean_b);
  }
  EXPECT_EQ(ComparePaired(a, b, PairedTest::kT).p_value, PairedTTest(a, b).p_value);
  EXPECT_EQ(ComparePaired(a, b, PairedTest::kRandomization).p_value, PairedRandomizationTest(a, b).p_value);
}

// studentized_range.sf and .ppf of scipy (nquad to epsabs 1e-11, sf = 1 - cdf: absolute accuracy only);
// in the far tail, nested QUADPACK quadrature of the complement to 1e-12 relative; and for k = 2 the
// closed form P(Q > q) = P(|T_df| > q / sqrt(2)) at 50 digits.
TEST(Stats, StudentizedRangeMatchesScipyAndIndependentQuadrature) {
  const json& ref = Reference().at("studentized_range");
  for (const json& e : ref.at("sf")) {
    const double q = e.at("q"), k = e.at("k"), df = e.at("df");
    EXPECT_TRUE(Close(StudentizedRangeSurvival(q, k, df), Num(e.at("sf")), 0, 1e-10))
        << "q=" << q << " k=" << k << " df=" << df;
  }
  for (const json& e : ref.at("ppf")) {
    const double p = e.at("p"), k = e.at("k"), df = e.at("df");
    EXPECT_TRUE(Close(StudentizedRangeQuantile(p, k, df), Num(e.at("q")), 1e-10, 0))
        << "p=" << p << " k=" << k << " df=" << df;
  }
  for (const json& e : ref.at("quadpack_sf")) {
    const double q = e.at("q"), k = e.at("k"), df = e.at("df");
    EXPECT_TRUE(Close(StudentizedRangeSurvival(q, k, df), Num(e.at("sf")), 1e-9, 0))
        << "q=" << q << " k=" << k << " df=" << df;
  }
  ASSERT_FALSE(ref.at("k2_student_t").empty());
  for (const json& e : ref.at("k2_student_t")) {
    const double q = e.at("q"), df = e.at("df");
    EXPECT_TRUE(Close(StudentizedRangeSurvival(q, 2, df), Num(e.at("sf")), 1e-9, 0))
        << "q=" << q << " df=" << df;
  }
  EXPECT_EQ(StudentizedRangeSurvival(0, 3, 10), 1.0);
  EXPECT_EQ(StudentizedRangeSurvival(std::numeric_limits<double>::infinity(), 3, 10), 0.0);
  EXPECT_TRUE(std::isnan(StudentizedRangeSurvival(2, 1, 10)));
  EXPECT_TRUE(std::isnan(StudentizedRangeSurvival(2, 3, 0.5)));
  EXPECT_TRUE(std::isnan(StudentizedRangeQuantile(1.0, 3, 10)));
}

TEST(Stats, TukeyHsdMatchesScipy) {
  int pairs = 0;
  for (const json& e : Reference().at("tukey_hsd")) {
    SCOPED_TRACE(e.at("name").get<std::string>());
    std::vector<std::vector<double>> groups;
    for (const json& g : e.at("groups")) groups.push_back(Nums(g));
    for (const auto& [confidence, key] : {std::pair{0.95, "ci_95"}, std::pair{0.9, "ci_90"}}) {
      const TukeyHsdResult r = TukeyHsd(groups, confidence);
      EXPECT_EQ(r.undefined_reason, "");
      ASSERT_EQ(r.pairs.size(), e.at("pairs").size());
      for (size_t p = 0; p < r.pairs.size(); ++p) {
        const json& x = e.at("pairs").at(p);
        const TukeyPair& y = r.pairs[p];
        SCOPED_TRACE("pair " + std::to_string(y.i) + "," + std::to_string(y.j));
        EXPECT_EQ(y.i, x.at("i").get<size_t>());
        EXPECT_EQ(y.j, x.at("j").get<size_t>());
        EXPECT_TRUE(Close(y.mean_difference, Num(x.at("mean_difference")), 1e-12, 1e-15));
        EXPECT_TRUE(Close(y.standard_error, Num(x.at("standard_error")), 1e-12, 0));
        EXPECT_TRUE(Close(y.p_value, Num(x.at("p_value")), 0, 1e-10));
        // The half-width critical_value * se carries the quantile's relative error; an endpoint near 0 does
        // not.
        EXPECT_TRUE(Close(y.ci_low, Num(x.at(key).at(0)), 1e-10, 1e-10 * y.standard_error));
        EXPECT_TRUE(Close(y.ci_high, Num(x.at(key).at(1)), 1e-10, 1e-10 * y.standard_error));
        ++pairs;
      }
    }
  }
  EXPECT_GT(pairs, 150);
}

TEST(Stats, TukeyHsdOfConstantGroupsIsUndefined) {
  const std::vector<std::vector<double>> groups{{0.5, 0.5, 0.5}, {0.25, 0.25}, {0.5, 0.5}};
  const TukeyHsdResult r = TukeyHsd(groups);
  EXPECT_NE(r.undefined_reason, "");
  EXPECT_EQ(r.mse, 0.0);
  EXPECT_EQ(r.df, 4.0);
  ASSERT_EQ(r.pairs.size(), 3u);
  for (const TukeyPair& p : r.pairs) {
    EXPECT_EQ(p.p_value, 1.0);
    EXPECT_EQ(p.ci_low, p.mean_difference);
    EXPECT_EQ(p.ci_high, p.mean_difference);
  }
  EXPECT_EQ(r.pairs[0].mean_difference, 0.25);
}


}  // namespace
}  // namespace rlm
