#include "eval/comparison.h"

#include <cmath>

#include "core/error.h"

namespace rlm {
namespace {

struct NamedTest {
  std::string_view name;
  ComparisonTest test;
};
constexpr NamedTest kTests[] = {{"t", ComparisonTest::kT},
                                {"ttest", ComparisonTest::kT},
                                {"wilcoxon", ComparisonTest::kWilcoxon},
                                {"randomization", ComparisonTest::kRandomization},
                                {"permutation", ComparisonTest::kRandomization},
                                {"tukey", ComparisonTest::kTukeyHsd}};

PairedTest PairedOf(ComparisonTest test) {
  switch (test) {
    case ComparisonTest::kWilcoxon:
      return PairedTest::kWilcoxon;
    case ComparisonTest::kRandomization:
      return PairedTest::kRandomization;
    default:
      return PairedTest::kT;
  }
}

}  // namespace

ComparisonTest ParseComparisonTest(std::string_view name) {
  for (const NamedTest& t : kTests) {
    if (t.name == name) return t.test;
  }
  throw InvalidInput("unknown significance test '" + std::string(name) + "'",
                     "use one of: t, wilcoxon, randomization, tukey");
}

std::string_view ComparisonTestName(ComparisonTest test) {
  for (const NamedTest& t : kTests) {
    if (t.test == test) return t.name;
  }
  throw InternalError("ComparisonTest without a name");
}

Comparison ComparePair(const ScoresById& a, const ScoresById& b, std::string_view measure,
                       const ComparisonOptions& options) {
  Comparison c;
  c.a = a.system;
  c.b = b.system;
  c.measure = std::string(measure);
  c.test = std::string(ComparisonTestName(options.test));
  std::vector<double> x, y;  // A's and B's values on the paired queries, in query id order
  auto ia = a.values.begin();
  auto ib = b.values.begin();
  while (ia != a.values.end() || ib != b.values.end()) {
    if (ib == b.values.end() || (ia != a.values.end() && ia->first < ib->first)) {
      ++c.only_a;
      ++ia;
    } else if (ia == a.values.end() || ib->first < ia->first) {
      ++c.only_b;
      ++ib;
    } else {
      x.push_back(ia->second);
      y.push_back(ib->second);
      ++ia;
      ++ib;
    }
  }
  c.queries = x.size();
  double sum_a = 0, sum_b = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    sum_a += x[i];
    sum_b += y[i];
    if (y[i] > x[i]) ++c.better;
    if (y[i] < x[i]) ++c.worse;
    if (y[i] == x[i]) ++c.tied;
  }
  if (!x.empty()) {
    c.mean_a = sum_a / static_cast<double>(x.size());
    c.mean_b = sum_b / static_cast<double>(x.size());
  }
  c.difference = c.mean_b - c.mean_a;
  if (x.size() < 2) {
    c.note = "fewer than two queries were evaluated in both " + c.a + " and " + c.b + "; no test is possible";
    return c;
  }
  if (c.better == 0 && c.worse == 0) {
    c.note = "every paired query scores the same in both systems; there is no difference to test";
    return c;
  }
  // ComparePaired takes differences first - second: B first gives B - A. Under Tukey's HSD the paired
  // test's p and interval are replaced by CompareAllPairs; the effect size stays the paired d_z.
  const PairedComparison pc = ComparePaired(y, x, PairedOf(options.test), options.stats);
  c.p_value = pc.p_value;
  c.note = pc.undefined_reason;
  c.ci_low = pc.ci_low;
  c.ci_high = pc.ci_high;
  c.effect_size = pc.effect_size;
  if (!std::isfinite(c.effect_size)) {
    c.effect_size = 0;
    c.note = "every paired difference is the same; the effect size d_z is undefined (no variance)";
  }
  c.p_adjusted = c.p_value;
  return c;
}

std::vector<Comparison> CompareAllPairs(std::span<const ScoresById> systems, std::string_view measure,
                                        const ComparisonOptions& options) {
  std::vector<Comparison> out;
  for (size_t i = 0; i < systems.size(); ++i) {
    for (size_t j = i + 1; j < systems.size(); ++j)
      out.push_back(ComparePair(systems[i], systems[j], measure, options));
  }
  if (options.test == ComparisonTest::kTukeyHsd) {
    std::vector<std::vector<double>> groups;
    for (const ScoresById& s : systems) {
      std::vector<double>& g = groups.emplace_back();
      for (const auto& [query, value] : s.values) g.push_back(value);
    }
    try {
      const TukeyHsdResult tukey = TukeyHsd(groups, options.stats.bootstrap.confidence);
      for (size_t k = 0; k < out.size(); ++k) {
        const TukeyPair& t = tukey.pairs[k];  // same order: (0, 1), (0, 2), ...; its difference is A - B
        out[k].p_value = out[k].p_adjusted = t.p_value;
        out[k].ci_low = -t.ci_high;
        out[k].ci_high = -t.ci_low;
        out[k].note = tukey.undefined_reason;
      }
    } catch (const InvalidInput& e) {  // a system with fewer than two values
      for (Comparison& c : out) {
        c.p_value = c.p_adjusted = 1;
        c.note = std::string("Tukey's HSD is undefined: ") + e.what();
      }
    }
    return out;
  }
  std::vector<double> p;
  for (const Comparison& c : out) p.push_back(c.p_value);
  const std::vector<double> adjusted = AdjustPValues(p, options.correction);
  for (size_t i = 0; i < out.size(); ++i) out[i].p_adjusted = adjusted[i];
  return out;
}

std::vector<std::string> PairingWarnings(std::span<const Comparison> comparisons) {
  std::vector<std::string> out;
  for (const Comparison& c : comparisons) {
    if (c.dropped() == 0) continue;
    out.push_back(c.a + " vs " + c.b + " (" + c.measure + "): paired on " + std::to_string(c.queries) +
                  " queries; " + std::to_string(c.only_a) + " evaluated only in " + c.a + " and " +
                  std::to_string(c.only_b) + " only in " + c.b + " were not compared");
  }
  return out;
}

nlohmann::ordered_json ComparisonJson(const Comparison& c) {
  nlohmann::ordered_json row = {{"a", c.a},
                                {"b", c.b},
                                {"measure", c.measure},
                                {"test", c.test},
                                {"queries", c.queries},
                                {"only_a", c.only_a},
                                {"only_b", c.only_b},
                                {"mean_a", c.mean_a},
                                {"mean_b", c.mean_b},
                                {"difference", c.difference},
                                {"p_value", c.p_value},
                                {"p_adjusted", c.p_adjusted},
                                {"effect_size", c.effect_size},
                                {"ci_low", c.ci_low},
                                {"ci_high", c.ci_high},
                                {"better", c.better},
                                {"worse", c.worse},
                                {"tied", c.tied}};
  if (!c.note.empty()) row["note"] = c.note;
  return row;
}

}  // namespace rlm
