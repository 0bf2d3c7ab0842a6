// The one result model of an evaluation (`rlm eval run`): built once from the dataset and the jobs' outcome
// (BuildEvalResults), then written by every format: results.json (ResultsJson), per_query.csv and
// per_query.jsonl (PerQueryCsv, PerQueryJsonl), summary.md and report.html (eval/report.h). Nothing is
// rendered to text and parsed back: qrels and rankings are evaluated in memory (trec::EvaluateQuery path
// of eval/measures.h).
//
// Queries. Per-query values are keyed by query id over the dataset's judged queries (queries without
// judgments are skipped, as trec_eval skips them, and counted). For each variant a judged query is
//   ok      its job ran and retrieved documents: evaluated as trec_eval evaluates the ranking;
//   empty   its job ran and retrieved nothing: every measure 0 (num_rel still counted), as trec_eval -c
//           scores a judged query missing from the run; counted in `empty`;
//   failed  its job failed after every attempt: no value, in no mean, counted, its error reported.
// A variant's summary is trec_eval -c's summary over its ok and empty queries. Comparisons pair by query id
// (eval/comparison.h): every pair of variants on every per-query float measure, B - A with A the earlier
// variant (the baseline first), corrected over all pairs of a measure. Queries evaluated in one variant
// only (failed in the other) are not paired, and that is stated in `warnings`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "eval/comparison.h"
#include "eval/dataset.h"
#include "eval/measures.h"
#include "eval/runner.h"
#include "eval/stats.h"

namespace rlm {

enum class QueryStatus : uint8_t { kOk, kEmpty, kFailed };
std::string_view QueryStatusName(QueryStatus status);  // "ok", "empty", "failed"

// A measure as the outputs show it, e.g. "ndcg_cut_10".
struct MeasureColumn {
  std::string name;
  trec::ValueKind kind = trec::ValueKind::kFloat;
  bool per_query = true;  // has per-query values (not num_q, gm_map, gm_bpref)
  bool summary = true;    // has a summary value
  bool compared() const { return per_query && kind == trec::ValueKind::kFloat; }
};

struct QueryResult {
  QueryStatus status = QueryStatus::kOk;
  std::vector<double> values;  // parallel to EvalResults::measures (NaN where !per_query); empty when failed
  double latency_ms = 0;       // of the successful attempt
  int attempts = 1;
  std::string error;                  // when failed
  std::vector<std::string> top_docs;  // the first kTopDocs retrieved document ids, in rank order
};

struct FailedQuery {
  std::string query_id;
  int attempts = 0;
  std::string error;
};

struct VariantResults {
  std::string name;
  std::vector<QueryResult> queries;    // parallel to EvalResults::query_ids
  std::vector<double> summary;         // parallel to measures: trec_eval -c over ok + empty queries
  std::vector<ConfidenceInterval> ci;  // parallel to measures: bootstrap 95% CI of the mean (compared ones)
  size_t evaluated = 0;                // judged queries scored: ok + empty
  size_t empty = 0;                    // judged queries that retrieved nothing (scored 0)
  size_t failed = 0;                   // judged queries whose job failed (in no mean)
  std::vector<FailedQuery> failures;   // every failed job, judged or not
  size_t ran_without_judgments = 0;    // jobs for queries without judgments: skipped, as trec_eval
  size_t resumed = 0;
  uint64_t vectors_computed = 0;
  double embed_seconds = 0, index_seconds = 0, query_seconds = 0;
  std::vector<double> latency_ms;  // of every successful job, in query order
};

struct EvalResults {
  static constexpr size_t kTopDocs = 10;

  std::string title;
  std::string run_id;
  std::string dataset;             // path (and split) as shown to people
  nlohmann::json dataset_json;     // what results.json says of the dataset
  nlohmann::json experiment_json;  // ExperimentToJson
  std::string baseline;
  std::string test;        // PairedTestName
  std::string correction;  // PValueCorrectionName
  double alpha = 0.05;
  std::vector<MeasureColumn> measures;  // in the order the user listed them (nicknames expand in trec order)
  std::vector<std::string> query_ids;   // the judged queries, in dataset order
  std::vector<std::string> query_texts;
  std::vector<std::vector<std::string>> relevant;  // per judged query: its relevant document ids
  std::vector<VariantResults> variants;            // the baseline first, then the others in experiment order
  std::vector<Comparison> comparisons;             // per compared measure (measures order), all pairs
  size_t queries_without_judgments = 0;            // dataset queries skipped for lack of judgments
  std::vector<std::string> warnings;               // differing query sets, failures, dataset warnings
  double wall_seconds = 0;

  // The index of `name` in measures, or -1.
  int MeasureIndex(std::string_view name) const;
  // The first compared measure (the one the report leads with); -1 when none.
  int PrimaryMeasure() const;
};

// Measure columns for trec_eval `-m` arguments, in the order given (runid and relstring left out);
// `order[i]` is the index of column i in measures.values().
std::vector<MeasureColumn> MeasureColumns(const trec::MeasureSet& measures, std::span<const std::string> args,
                                          std::vector<size_t>* order);

struct ResultsInput {
  const EvalDataset* dataset = nullptr;
  const RunOutcome* outcome = nullptr;
  std::vector<std::string> metrics;  // trec_eval -m arguments
  std::string baseline;              // a variant name; empty: the first
  ComparisonOptions comparison;
  size_t bootstrap = 10000;  // resamples of the per-variant confidence intervals
  uint64_t seed = 42;
  double alpha = 0.05;
};

// Scores every variant's rankings against the dataset's judgments and compares the variants. Pure: no I/O.
EvalResults BuildEvalResults(const ResultsInput& input);

// The writers. `ResultsJson` is complete (every number the other formats show, full precision).
nlohmann::json ResultsJson(const EvalResults& results);
std::string PerQueryCsv(const EvalResults& results);    // variant,query_id,status,latency_ms,<measures...>
std::string PerQueryJsonl(const EvalResults& results);  // one object per (variant, query)

}  // namespace rlm
