// Comparisons by query id (eval/comparison.h): pairing by id, never by position; B - A signs; the
// correction over every pair of a measure; undefined tests kept with p = 1 and a note.
#include "eval/comparison.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"

namespace rlm {
namespace {

ScoresById System(std::string name, std::vector<std::pair<std::string, double>> values) {
  ScoresById s;
  s.system = std::move(name);
  for (auto& [q, v] : values) s.values.emplace(q, v);
  return s;
}

TEST(Comparison, PairsByQueryIdNotByPosition) {
  // By position A's (q1, q2, q3) would meet B's (q2, q3, q4); by id only q2 and q3 pair.
  const ScoresById a = System("A", {{"q1", 1.0}, {"q2", 0.0}, {"q3", 1.0}});
  const ScoresById b = System("B", {{"q2", 1.0}, {"q3", 1.0}, {"q4", 0.0}});
  const Comparison c = ComparePair(a, b, "P_5", {});
  EXPECT_EQ(c.queries, 2u);
  EXPECT_EQ(c.only_a, 1u);
  EXPECT_EQ(c.only_b, 1u);
  EXPECT_EQ(c.mean_a, 0.5);
  EXPECT_EQ(c.mean_b, 1.0);
  EXPECT_EQ(c.difference, 0.5);  // B - A
  EXPECT_EQ(c.better, 1u);
  EXPECT_EQ(c.worse, 0u);
  EXPECT_EQ(c.tied, 1u);
  const std::vector<Comparison> all = {c};
  ASSERT_EQ(PairingWarnings(all).size(), 1u);
  EXPECT_NE(PairingWarnings(all)[0].find("paired on 2 queries; 1 evaluated only in A and 1 only in B"),
            std::string::npos);
}

TEST(Comparison, SignsAreBMinusA) {
  std::vector<std::pair<std::string, double>> va, vb;
  for (int i = 0; i < 20; ++i) {
    const std::string q = "q" + std::to_string(i);
    va.emplace_back(q, 0.3 + 0.01 * (i % 7));
    vb.emplace_back(q, 0.5 + 0.013 * (i % 5));  // B is better on every query
  }
  const Comparison c = ComparePair(System("A", va), System("B", vb), "map", {});
  EXPECT_GT(c.difference, 0);
  EXPECT_GT(c.effect_size, 0);
  EXPECT_GT(c.ci_low, 0);
  EXPECT_GT(c.ci_high, c.ci_low);
  EXPECT_EQ(c.better, 20u);
  EXPECT_LT(c.p_value, 1e-6);
  // Swapping the systems flips every signed number and nothing else.
  const Comparison r = ComparePair(System("B", vb), System("A", va), "map", {});
  EXPECT_DOUBLE_EQ(r.difference, -c.difference);
  EXPECT_DOUBLE_EQ(r.effect_size, -c.effect_size);
  EXPECT_EQ(r.worse, 20u);
  EXPECT_DOUBLE_EQ(r.p_value, c.p_value);
}

TEST(Comparison, CorrectionCoversEveryPairAndUndefinedTestsStay) {
  std::vector<ScoresById> systems;
  for (int s = 0; s < 6; ++s) {
    std::vector<std::pair<std::string, double>> v;
    for (int i = 0; i < 30; ++i)
      v.emplace_back("q" + std::to_string(i), std::fmod(0.37 * (i + 1) * (s + 2), 1.0));
    systems.push_back(System("s" + std::to_string(s), v));
  }
  systems.push_back(systems[0]);  // identical to s0: no difference to test
  systems.back().system = "copy";
  ComparisonOptions o;
  o.test = ComparisonTest::kWilcoxon;
  o.correction = PValueCorrection::kHolm;
  o.stats.bootstrap.resamples = 200;
  const std::vector<Comparison> all = CompareAllPairs(systems, "ndcg_cut_10", o);
  ASSERT_EQ(all.size(), 21u);
  std::vector<double> raw;
  size_t k = 0;
  for (size_t i = 0; i < systems.size(); ++i) {
    for (size_t j = i + 1; j < systems.size(); ++j, ++k) {
      EXPECT_EQ(all[k].a, systems[i].system);
      EXPECT_EQ(all[k].b, systems[j].system);
      raw.push_back(all[k].p_value);
    }
  }
  EXPECT_EQ(all[5].b, "copy");
  EXPECT_EQ(all[5].p_value, 1.0);
  EXPECT_FALSE(all[5].note.empty());
  const std::vector<double> holm = AdjustPValues(raw, PValueCorrection::kHolm);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].p_adjusted, holm[i]);
  const size_t smallest = static_cast<size_t>(std::min_element(raw.begin(), raw.end()) - raw.begin());
  EXPECT_EQ(all[smallest].p_adjusted, std::min(1.0, 21 * raw[smallest]));  // over 21 pairs, not 6
}

}  // namespace
}  // namespace rlm

namespace rlm {
namespace {

// Tukey's HSD runs once over every system (independent groups, as ranx applies it): its family-wise p
// and simultaneous interval replace the paired test's, signs turned to B - A, and no correction follows.
TEST(Comparison, TukeyHsdIsOneFamilyWiseTestOverAllSystems) {
  std::vector<ScoresById> systems;
  std::vector<std::vector<double>> groups;
  for (int s = 0; s < 4; ++s) {
    std::vector<std::pair<std::string, double>> v;
    std::vector<double>& g = groups.emplace_back();
    for (int i = 0; i < 25; ++i) {
      const double x = std::fmod(0.41 * (i + 3) * (s + 1), 1.0) + 0.05 * s;
      v.emplace_back("q" + std::to_string(100 + i), x);  // ids sort as the insertion order
      g.push_back(x);
    }
    systems.push_back(System("s" + std::to_string(s), v));
  }
  ComparisonOptions o;
  o.test = ComparisonTest::kTukeyHsd;
  o.correction = PValueCorrection::kBonferroni;  // not applied on top of Tukey's family-wise p
  o.stats.bootstrap.resamples = 200;
  const std::vector<Comparison> all = CompareAllPairs(systems, "map", o);
  const TukeyHsdResult want = TukeyHsd(groups, 0.95);
  ASSERT_EQ(all.size(), want.pairs.size());
  for (size_t k = 0; k < all.size(); ++k) {
    EXPECT_EQ(all[k].test, "tukey");
    EXPECT_EQ(all[k].p_value, want.pairs[k].p_value);
    EXPECT_EQ(all[k].p_adjusted, want.pairs[k].p_value);
    EXPECT_NEAR(all[k].difference, -want.pairs[k].mean_difference, 1e-12);  // the same queries, summed in pairs
    EXPECT_DOUBLE_EQ(all[k].ci_low, -want.pairs[k].ci_high);
    EXPECT_DOUBLE_EQ(all[k].ci_high, -want.pairs[k].ci_low);
  }
  EXPECT_EQ(ParseComparisonTest("tukey"), ComparisonTest::kTukeyHsd);
  EXPECT_THROW(ParseComparisonTest("anova"), InvalidInput);
}

}  // namespace
}  // namespace rlm
