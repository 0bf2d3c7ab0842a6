// Retrieval measures computed as trec_eval 10.0 computes them, under trec_eval's names and parameters.
//
// The registry (MeasureRegistry) lists every measure of `-m all_trec` (runid num_q num_ret num_rel
// num_rel_ret map gm_map Rprec bpref recip_rank iprec_at_recall P relstring recall infAP gm_bpref
// Rprec_mult utility 11pt_avg binG G ndcg ndcg_rel Rndcg ndcg_cut map_cut relative_P success set_P
// set_relative_P set_recall set_map set_F num_nonrel_judged_ret rbp rbp_resid unj), trec_eval's measures
// outside all_trec (dcg, ideal_dcg, yaap; the 14 prefs_* measures of -R qrels_prefs and -R prefs; map_avgjg,
// P_avgjg and Rprec_mult_avgjg of -R qrels_jg), and four rlm measures that are not trec_eval's:
//   mrr_cut.k  reciprocal rank of the first relevant document if it is within the top k, else 0 (MRR@k);
//              printed as mrr_cut_10. trec_eval's recip_rank is MRR over the whole ranking.
//   hit.k      1 if a relevant document is within the top k (hit@k); the same value as trec_eval's success_k.
//   err_cut.k  ERR@k (Chapelle et al. 2009) as gdeval.pl computes it, which ir_measures' ERR@k runs: the
//              stop probability at a document of grade g is (2^g - 1) / 2^4 (grades above 4 count as 4,
//              negative and unjudged as 0), ERR@k = sum over ranks r <= k of R_r / r * prod_{i<r}(1 - R_i).
//              -l does not apply. A query with no positive grade scores 0 (gdeval skips it).
//   judged.k   Judged@k (ir_measures): the fraction of the top min(k, num_ret) documents that have a grade
//              >= 0 (in the pool with a negative grade counts as unjudged, unlike ir_measures); 0 when
//              nothing is retrieved. Ties are ranked as trec_eval ranks them.
// Nicknames: `official` (trec_eval's default), `all_trec`, `set`, `qrels_jg`, `all_prefs`, `prefs`.
// Parameters follow trec_eval: `P.5,10` (integer cutoffs, sorted, printed P_5), `iprec_at_recall..10,.20`
// (fractions, printed _0.10), `ndcg.1=3,2=9` (gain per relevance level; printed ndcg_1=3,2=9),
// `utility.2,-1,0,0`, `relstring.20`, `rbp.p=0.8`, `rbp_resid.p=0.8`.
//
// Evaluation follows trec_eval: queries are ranked by score descending, ties by docid descending (the
// preference measures: ascending, as trec_eval's form_prefs_counts); -M cuts each ranking; a query in the
// run without judgments is skipped (counted in Evaluation); a judged query missing from the run is skipped,
// or with -c evaluated as trec_eval does, as a ranking of one unjudged document whose num_ret, utility (with
// default parameters), unj_* and rbp_resid (default parameters) are then set to 0 and relstring emptied.
// Summary values are means over the evaluated queries (with -c over every judged query), except num_* and
// prefs_num_* (sums), num_q (the count), gm_map and gm_bpref (geometric means, each query's value floored
// at 1e-5) and runid (the run's). A measure reads one kind of judgments (RelFormat): plain qrels, qrels_jg,
// or preferences (qrels_prefs, prefs); runid and num_q read any.
//
// Every value is computed in trec_eval's order of operations, with the same divisions and accumulation
// order, so printed values agree on rounding boundaries too (set_map is num_rel_ret^2 / (num_ret * num_rel)
// in one division, not set_P * set_recall; 11pt_avg sums its levels last first; an empty ranking gives
// iprec_at_recall and 11pt_avg 0/0 = nan where trec_eval does). tests/eval/trec_parity_test.cc compares the
// printed output with real trec_eval's on random inputs. Known differences, all where trec_eval reads
// memory it never wrote: rbp with gains outside [0, 1] (m_rbp.c's min and max are uninitialised; rlm starts
// both at 0), prefs_avgjg_Rnonrel(_ret) when the lowest level of a group has fewer documents than it needs
// (rlm stops at the end of the query's judgments), and bpref with -l above a query's highest grade + 1.
//
// The per-query work (ranking, relevance lookup, every requested measure) is done once per query over one
// array of relevance values, in parallel over queries with oneTBB. Thread-safety: a MeasureSet is immutable
// after construction and may be shared; Evaluate may run concurrently on distinct outputs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eval/trec.h"

namespace rlm::trec {

// trec_eval's command-line options that change values.
struct EvalOptions {
  bool average_complete = false;      // -c: average over every judged query; missing ones score 0
  int64_t max_retrieved = INT64_MAX;  // -M: documents per query kept after ranking
  int64_t relevance_level = 1;        // -l: the lowest grade that counts as relevant
  bool judged_docs_only = false;      // -J: drop unjudged documents from the ranking first
  int64_t num_docs_in_coll = 0;       // -N: collection size (only utility's 4th coefficient uses it)
  std::string only_query;             // -D N.qid: evaluate this judged query only ("": all)
};

enum class ValueKind : uint8_t {
  kFloat,      // printed %6.4f
  kCount,      // an integer, printed %ld
  kRunid,      // summary only: the run's id
  kRelstring,  // per query only: a string of grades
};

enum class Aggregation : uint8_t { kMean, kSum, kGeometricMean, kQueryCount, kNone };

// One printed value of a measure, e.g. "P_10" of P.
struct MeasureValue {
  std::string name;
  ValueKind kind;
  Aggregation aggregation;
  bool per_query;  // printed per query with -q (not num_q, gm_map, gm_bpref, runid)
  bool summary;    // printed in the summary (not relstring)
};

// A measure family of the registry.
struct MeasureInfo {
  const char* name;
  const char* default_params;  // "" when it takes none
  const char* summary;         // one line for help texts and docs
  bool official;
  bool all_trec;
};
std::span<const MeasureInfo> MeasureRegistry();

// The measures to compute, in trec_eval's output order (registry order, whatever the order of requests).
class MeasureSet {
 public:
  MeasureSet();
  ~MeasureSet();
  MeasureSet(MeasureSet&&) noexcept;
  MeasureSet& operator=(MeasureSet&&) noexcept;

  // Builds the set from trec_eval `-m` arguments: names, `name.params` and nicknames; no arguments means
  // `official`. When a measure is named twice with parameters, the first parameters win (as trec_eval).
  // Throws InvalidInput naming an unknown measure (with the nearest valid name) or bad parameters.
  static MeasureSet FromArgs(std::span<const std::string> args);

  const std::vector<MeasureValue>& values() const { return values_; }
  // The index of `name` (as printed, e.g. "ndcg_cut_10") in values(), or -1.
  int IndexOf(std::string_view name) const;

  struct Instance;  // a family with its parameters (defined in measures.cc)
  const std::vector<Instance>& instances() const { return instances_; }

 private:
  std::vector<Instance> instances_;
  std::vector<MeasureValue> values_;
};

struct QueryScores {
  std::string qid;
  std::vector<double> values;  // parallel to MeasureSet::values()
  std::string relstring;       // when relstring was requested
  bool in_run = true;          // false: judged but absent from the run (evaluated only with -c)
};

struct Evaluation {
  std::vector<QueryScores> queries;  // the evaluated queries, by qid (strcmp order)
  std::vector<double> summary;       // parallel to MeasureSet::values()
  std::string runid;
  int64_t num_q = 0;                          // queries averaged over
  int64_t run_queries_without_judgments = 0;  // in the run, not in the qrels: skipped (as trec_eval)
  int64_t judged_queries_without_run = 0;     // in the qrels, not in the run: skipped unless -c
};

// Per-query means and standard deviations for trec_eval's -Z: lines `qid measure mean stddev`.
class ZScores {
 public:
  // Throws InvalidInput "name:line: ..." on a malformed line.
  static ZScores Parse(std::string_view text, std::string_view name);
  static ZScores Load(const std::string& path);
  // Replaces each value by (value - mean) / stddev for its (qid, name); -1000000 where none is known or
  // stddev is 0 and the value differs from the mean (as trec_eval).
  void Convert(std::string_view qid, const std::vector<MeasureValue>& names,
               std::vector<double>& values) const;

 private:
  std::map<std::string, std::map<std::string, std::pair<double, double>, std::less<>>, std::less<>> table_;
};

// Evaluates `run` against `qrels`. With `zscores`, every per-query value is converted before the summary
// is formed (trec_eval -Z). Throws InvalidInput when a requested measure reads another kind of judgments
// than qrels.format.
Evaluation Evaluate(const Qrels& qrels, const Run& run, const MeasureSet& measures,
                    const EvalOptions& options = {}, const ZScores* zscores = nullptr);

// Evaluates one ranking held in memory: `entries` in any order (ranked here as trec_eval ranks), `judged`
// the query's judgments (null: none; its groups, with levels for qrels_prefs, when read with -R qrels_jg or
// qrels_prefs), `docs` the table its judgments were interned in. Fills `out.values` (and `out.relstring`);
// `out.qid` is left as is.
void EvaluateQuery(const QrelsQuery* judged, std::span<const RunEntry> entries, const DocIdTable& docs,
                   const MeasureSet& measures, const EvalOptions& options, QueryScores& out);

// trec_eval's text output: with `per_query`, each query's values first (`%-22s\t%s\t%6.4f`, counts as
// integers, relstring quoted), then the summary with qid "all". With `zscores`, names get a "Z" prefix
// and every number is printed as a float, as trec_eval -Z prints them. `summary` false: no "all" lines (-n).
std::string FormatTrecEval(const Evaluation& evaluation, const MeasureSet& measures, bool per_query,
                           bool zscores = false, bool summary = true);

}  // namespace rlm::trec
