// Paired comparisons of systems on per-query values, paired by query id: the one place where `rlm eval run`
// and `rlm eval compare` turn per-query scores into tests, effect sizes, intervals and win/loss counts.
//
// Sign convention, everywhere rlm reports a comparison (compare's text and JSON, results.json,
// per-query CSV/JSONL, summary.md, report.html): A is the earlier system (the baseline, or the first run
// named), B the later one, and every signed number is B - A: `difference` = mean(B) - mean(A), the
// effect size (Cohen's d_z of the per-query differences B - A), the bootstrap interval of mean(B - A), and
// `better` counts queries where B scores higher than A.
//
// Pairing: only queries with a value in both systems are paired. A query with a value in one system only
// (its job failed in the other, or, in `eval compare` without -c, the other run lacks it) is not paired:
// it is counted in `only_a` / `only_b`, never dropped silently. A comparison with fewer than two pairs, or
// whose differences leave the test undefined (all zero), is still reported, with p = 1 and a `note`.
#pragma once

#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eval/stats.h"

namespace rlm {

// One system's per-query values of one measure, by query id.
struct ScoresById {
  std::string system;
  std::map<std::string, double, std::less<>> values;
};

struct Comparison {
  std::string a, b;                        // system names; differences are B - A
  std::string measure;                     // as trec_eval prints it, e.g. "ndcg_cut_10"
  std::string test;                        // PairedTestName
  size_t queries = 0;                      // paired queries
  size_t only_a = 0;                       // queries with a value in A only: not paired
  size_t only_b = 0;                       // queries with a value in B only: not paired
  double mean_a = 0, mean_b = 0;           // over the paired queries
  double difference = 0;                   // mean_b - mean_a
  double p_value = 1;                      // two-sided, unadjusted; 1 when no test was possible (see note)
  double p_adjusted = 1;                   // corrected over every comparison of the same measure in one call
  double effect_size = 0;                  // Cohen's d_z of B - A; 0 when undefined (see note)
  double ci_low = 0, ci_high = 0;          // bootstrap interval of mean(B - A)
  size_t better = 0, worse = 0, tied = 0;  // queries where B > A, B < A, B == A
  std::string note;  // why the test could not be computed; empty when p_value is a test result

  size_t dropped() const { return only_a + only_b; }
};

// The test a comparison runs: one of the paired tests of eval/stats.h on the queries both systems have, or
// Tukey's HSD over all systems at once (ranx's "tukey"): each system's per-query values as an independent
// group, p-values and intervals family-wise (simultaneous), so no further correction is applied.
enum class ComparisonTest { kT, kWilcoxon, kRandomization, kTukeyHsd };

// "t" (alias "ttest"), "wilcoxon", "randomization" (alias "permutation"), "tukey"; else InvalidInput.
ComparisonTest ParseComparisonTest(std::string_view name);
std::string_view ComparisonTestName(ComparisonTest test);  // the canonical names above

struct ComparisonOptions {
  ComparisonTest test = ComparisonTest::kT;
  PValueCorrection correction = PValueCorrection::kHolm;
  CompareOptions stats;
};

// Compares `b` with `a` (differences B - A) on the queries both have. Never throws for expected outcomes
// (fewer than two pairs, no variance): those give p = 1 and a note. p_adjusted is set to p_value.
Comparison ComparePair(const ScoresById& a, const ScoresById& b, std::string_view measure,
                       const ComparisonOptions& options);

// Every pair (i < j) of `systems`, A = systems[i], B = systems[j], in that order; p-values adjusted over
// this whole family (one measure, all pairs) with options.correction. With kTukeyHsd, p-values and
// intervals come from one TukeyHsd over all systems' values (and are not corrected again).
std::vector<Comparison> CompareAllPairs(std::span<const ScoresById> systems, std::string_view measure,
                                        const ComparisonOptions& options);

// One line per comparison that left queries unpaired, e.g. "A vs B (ndcg_cut_10): paired on 3 queries;
// 1 evaluated only in A, 0 only in B were not compared". Empty when every comparison paired every query.
std::vector<std::string> PairingWarnings(std::span<const Comparison> comparisons);

// A comparison as results.json and `eval compare --format json` write it: every field above, the note only
// when there is one.
nlohmann::ordered_json ComparisonJson(const Comparison& comparison);

}  // namespace rlm
