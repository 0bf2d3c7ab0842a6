// In-memory evaluations for the result-model and report tests: a dataset (documents d0.., judged queries
// q0.. with graded judgments) and a RunOutcome whose variants retrieve random rankings, some queries
// retrieving nothing and some failing, all drawn from a seed.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "eval/dataset.h"
#include "eval/runner.h"

namespace rlm::testing {

struct SyntheticEval {
  EvalDataset dataset;
  RunOutcome outcome;
};

struct SyntheticOptions {
  size_t documents = 40;
  size_t queries = 30;
  size_t unjudged_queries = 0;  // queries without judgments (run, but skipped by the metrics)
  std::vector<std::string> variants = {"A", "B"};
  double p_empty = 0.1;  // a query's job retrieved nothing
  double p_fail = 0.0;   // a query's job failed
  size_t depth = 20;
};

inline SyntheticEval MakeSyntheticEval(uint64_t seed, const SyntheticOptions& o = {}) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  auto chance = [&](double p) { return static_cast<double>(rng() % 1000000) < p * 1e6; };
  SyntheticEval s;
  s.dataset.format = "beir";
  for (size_t d = 0; d < o.documents; ++d) {
    s.dataset.corpus.push_back(EvalDocument{"d" + std::to_string(d), "", "text of d" + std::to_string(d)});
    s.dataset.doc_index.emplace("d" + std::to_string(d), static_cast<uint32_t>(d));
  }
  for (size_t q = 0; q < o.queries + o.unjudged_queries; ++q) {
    EvalQuery query;
    query.id = "q" + std::to_string(q);
    query.text = "query <" + std::to_string(q) + "> about something";
    if (q < o.queries) {
      std::vector<bool> used(o.documents, false);
      const size_t n = 1 + uniform(5);
      for (size_t j = 0; j < n; ++j) {
        const size_t d = uniform(o.documents);
        if (used[d]) continue;
        used[d] = true;
        query.judgments.push_back(EvalJudgment{"d" + std::to_string(d), static_cast<uint32_t>(d),
                                               static_cast<int32_t>(uniform(4))});
      }
    }
    s.dataset.queries.push_back(std::move(query));
  }
  for (const std::string& name : o.variants) {
    VariantRun run;
    run.name = name;
    for (const EvalQuery& q : s.dataset.queries) {
      JobResult r;
      r.variant = name;
      r.query_id = q.id;
      r.latency_us = static_cast<int64_t>(100 + uniform(5000));
      if (chance(o.p_fail)) {
        r.ok = false;
        r.attempts = 3;
        r.error = "injected failure of " + q.id;
        ++run.failed;
      } else if (!chance(o.p_empty)) {
        std::vector<bool> used(o.documents, false);
        const size_t n = 1 + uniform(o.depth);
        for (size_t i = 0; i < n; ++i) {
          const size_t d = uniform(o.documents);
          if (used[d]) continue;
          used[d] = true;
          // Scores on a coarse grid, so ties occur and every value is exact in float and in text.
          r.docs.push_back(ScoredDoc{static_cast<uint32_t>(d), static_cast<float>(uniform(16)) / 8.0f});
        }
        std::stable_sort(r.docs.begin(), r.docs.end(),
                         [](const ScoredDoc& a, const ScoredDoc& b) { return a.score > b.score; });
      }
      run.results.push_back(std::move(r));
    }
    s.outcome.variants.push_back(std::move(run));
  }
  return s;
}

}  // namespace rlm::testing
