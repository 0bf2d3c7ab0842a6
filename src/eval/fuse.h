// Fusion of TREC runs (`rlm eval fuse`): runs aligned by query and document id, fused query by query with
// index/fusion.h, the supervised methods' statistics estimated from training qrels as ranx estimates them
// (ranx/fusion/{posfuse,probfuse,segfuse,slidefuse,mapfuse,bayesfuse}.py), and ranx's optimize_fusion grid
// search of weights and parameters on training queries.
//
// Each run is ranked as trec_eval ranks it (score descending, ties by docid descending). A query missing from
// some runs is fused from the runs that have it and counted (AlignedRuns::partial_queries); ranx refuses runs
// whose query sets differ. Training uses the runs' queries that the training qrels judge (any grade): a
// position is a hit when its document's grade is >= 1.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eval/trec.h"
#include "index/fusion.h"

namespace rlm::trec {

// Every query of any run, its documents mapped to per-query ordinals.
struct AlignedRuns {
  struct Query {
    std::string qid;
    // Ordinal -> docid, docids in descending strcmp order, so that the fusion's tie-break (lower ordinal
    // first) is trec_eval's (larger docid first). Views into the runs' storage.
    std::vector<std::string_view> docids;
    std::vector<uint32_t> tags;                 // DocIdTable::Tag of each docid, parallel to docids
    std::vector<std::vector<RankedDoc>> lists;  // per run, ranked; empty when the run lacks the query
  };
  std::vector<Query> queries;  // by qid (strcmp order)
  size_t num_runs = 0;
  std::vector<size_t> missing;       // per run: queries of the union it lacks
  std::vector<size_t> equal_scores;  // per run: queries whose documents all have one score (or one document)
  size_t partial_queries = 0;        // queries missing from at least one run
  std::vector<std::shared_ptr<const void>> storage;  // keeps the docid bytes alive
};

// Aligns `runs` (moved in: their storage is kept). Throws InvalidInput when a run has no queries (`names`
// name the runs in messages, parallel to `runs`).
AlignedRuns AlignRuns(std::vector<Run> runs, std::span<const std::string> names);

// The queries of `runs` that `qrels` judges, as indexes into runs.queries.
std::vector<size_t> TrainingQueries(const Qrels& qrels, const AlignedRuns& runs);

// Estimates the statistics of supervised method spec.method (FusionModel's layout) on the training queries,
// with spec.params (probfuse's segments). Grades >= `relevance_level` are hits. Throws InvalidInput when
// no query of the runs is judged in `qrels`, or when the method is not supervised.
FusionModel EstimateFusionModel(const Qrels& qrels, const AlignedRuns& runs, const FusionSpec& spec,
                                int64_t relevance_level = 1);

// Fuses every query (or only `only`, indexes into runs.queries, when given), keeping the top `depth`
// documents of each (0: all). The result's docids view into `runs`; entries are in ranking order.
Run FuseRuns(const AlignedRuns& runs, const FusionSpec& spec, const FusionModel* model, size_t depth,
             const std::string& runid, std::span<const size_t> only = {});

// TREC run text: `qid Q0 docid rank score runid`, ranks 1.., scores in the shortest form that reads back
// as the same double.
std::string FormatRun(const Run& run);

struct FusionOptimum {
  FusionSpec spec;        // the starting spec with the best weights / parameter
  FusionModel model;      // supervised methods: estimated with the chosen parameter
  double score = 0;       // the measure on the training queries
  size_t candidates = 0;  // configurations evaluated
  size_t training_queries = 0;
};

// ranx's optimize_fusion: evaluates every configuration of the grid on the training queries (complete fused
// lists) with `measure` (one trec_eval measure value, e.g. "ndcg_cut.10"; summary value) and keeps the best,
// the last one on a tie as ranx. Weighted methods: every weight vector of multiples of `weight_step` in [0,
// 1] summing to 1 (counted in integer steps; ranx compares float sums to 1.0 and so skips some). Methods with
// a parameter: its grid (FusionParamInfo). Supervised methods without a parameter: the estimate alone.
// Configurations are evaluated in parallel. Throws InvalidInput when the method has nothing to optimise, the
// measure is not one float value, `weight_step` does not divide 1, or no query is judged in `qrels`.
FusionOptimum OptimizeFusion(const Qrels& qrels, const AlignedRuns& runs, const FusionSpec& start,
                             const std::string& measure, double weight_step = 0.1);

}  // namespace rlm::trec
