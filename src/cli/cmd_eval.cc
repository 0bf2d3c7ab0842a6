// Evaluation: `eval metrics <qrels> <run>` computes trec_eval 10.0's measures with trec_eval's command line
// (-q -m -c -M -l -J -N -Z -n -R -T -D; run `-` reads stdin) and output, so scripts can swap it in. Other
// `eval` subcommands (run, compare, ...) are added to the same `eval` command by their own Add* functions.
//
// With --format json the output is one document:
//   {"runid": "...", "num_q": 3, "options": {...},
//    "measures": {"map": 0.1785, "num_ret": 1500, "runid": "STANDARD", ...},     summary, trec_eval's order
//    "per_query": {"301": {"map": 0.1212, "relstring": "0000011000", ...}, ...},  only with -q
//    "skipped": {"run_queries_without_judgments": 0, "judged_queries_without_run": 0}}
// Counts are integers, everything else full-precision doubles (not rounded to 4 decimals).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cli/context.h"
#include "core/error.h"
#include "eval/measures.h"
#include "eval/trec.h"

namespace rlm::cli {

namespace {

struct MetricsArgs {
  std::string qrels;
  std::string run;
  std::vector<std::string> measures;
  bool per_query = false;
  bool complete = false;
  int64_t max_retrieved = -1;
  int64_t relevance_level = 1;
  bool judged_only = false;
  int64_t num_docs = 0;
  std::string zscores;
  bool no_summary = false;
  std::string rel_format = "qrels";
  std::string results_format = "trec_results";
  std::string debug;
};

json ValueJson(const trec::MeasureValue& v, double value, bool zscores) {
  if (v.kind == trec::ValueKind::kCount && !zscores) return json(static_cast<int64_t>(value));
  return json(value);
}

void RunMetrics(Context& ctx, const MetricsArgs& a) {
  trec::EvalOptions options;
  options.average_complete = a.complete;
  if (a.max_retrieved >= 0) options.max_retrieved = a.max_retrieved;
  options.relevance_level = a.relevance_level;
  options.judged_docs_only = a.judged_only;
  options.num_docs_in_coll = a.num_docs;
  // -D level[.qid]: rlm prints no debugging trace (its library never prints); the qid part evaluates only
  // that query, as in trec_eval.
  if (size_t dot = a.debug.find('.'); dot != std::string::npos) options.only_query = a.debug.substr(dot + 1);
  if (a.results_format != "trec_results") {
    throw InvalidInput("unknown results format '" + a.results_format + "'",
                       "trec_eval 10.0 reads one results format: trec_results", ErrorType::kUnknownFormat);
  }
  const trec::RelFormat rel_format = trec::ParseRelFormat(a.rel_format);

  trec::MeasureSet measures = trec::MeasureSet::FromArgs(a.measures);  // bad names fail before any reading
  trec::Qrels qrels = trec::LoadQrels(a.qrels, rel_format);
  trec::Run run = trec::LoadRun(a.run);
  std::unique_ptr<trec::ZScores> zscores;
  if (!a.zscores.empty()) zscores = std::make_unique<trec::ZScores>(trec::ZScores::Load(a.zscores));
  trec::Evaluation ev = trec::Evaluate(qrels, run, measures, options, zscores.get());

  if (ev.queries.empty()) {
    throw InvalidInput("no queries with both results and relevance info",
                       "check that the run's query ids (column 1) match the qrels' (column 1)",
                       ErrorType::kNoQueries);
  }
  if (ev.run_queries_without_judgments > 0) {
    ctx.Note("note: skipped " + std::to_string(ev.run_queries_without_judgments) +
             " run queries that have no judgments (as trec_eval)");
  }
  if (ev.judged_queries_without_run > 0 && !a.complete) {
    ctx.Note("note: " + std::to_string(ev.judged_queries_without_run) +
             " judged queries are missing from the run and were not averaged (use -c to count them as 0)");
  }

  const bool z = zscores != nullptr;
  if (!ctx.json_mode()) {
    ctx.Print(trec::FormatTrecEval(ev, measures, a.per_query, z, !a.no_summary));
    return;
  }
  const auto& vals = measures.values();
  json summary = json::object();
  for (size_t i = 0; i < vals.size(); ++i) {
    if (!vals[i].summary) continue;
    summary[vals[i].name] =
        vals[i].kind == trec::ValueKind::kRunid ? json(ev.runid) : ValueJson(vals[i], ev.summary[i], z);
  }
  json doc = {{"runid", ev.runid},
              {"num_q", ev.num_q},
              {"options",
               {{"measures", a.measures.empty() ? std::vector<std::string>{"official"} : a.measures},
                {"average_complete", a.complete},
                {"max_retrieved", a.max_retrieved >= 0 ? json(a.max_retrieved) : json(nullptr)},
                {"relevance_level", a.relevance_level},
                {"judged_docs_only", a.judged_only},
                {"rel_format", a.rel_format},
                {"zscores", a.zscores.empty() ? json(nullptr) : json(a.zscores)}}}};
  if (!a.no_summary) doc["measures"] = std::move(summary);
  if (a.per_query) {
    json per_query = json::object();
    for (const trec::QueryScores& q : ev.queries) {
      json row = json::object();
      for (size_t i = 0; i < vals.size(); ++i) {
        if (!vals[i].per_query) continue;
        row[vals[i].name] = vals[i].kind == trec::ValueKind::kRelstring ? json(q.relstring)
                                                                        : ValueJson(vals[i], q.values[i], z);
      }
      per_query[q.qid] = std::move(row);
    }
    doc["per_query"] = std::move(per_query);
  }
  doc["skipped"] = {{"run_queries_without_judgments", ev.run_queries_without_judgments},
                    {"judged_queries_without_run", a.complete ? 0 : ev.judged_queries_without_run}};
  ctx.Emit(doc);
}

std::string MeasuresHelp() {
  std::string s =
      "Measures (-m NAME, -m NAME.PARAMS, or the nicknames official (default), all_trec, set, qrels_jg, "
      "all_prefs, prefs):\n";
  for (const trec::MeasureInfo& m : trec::MeasureRegistry()) {
    std::string line = "  " + std::string(m.name);
    if (*m.default_params) line += "." + std::string(m.default_params);
    if (line.size() < 34) line.resize(34, ' ');
    s += line + " " + m.summary + "\n";
  }
  return s;
}

}  // namespace

void AddEvalMetrics(CLI::App* eval, Context& ctx) {
  auto a = std::make_shared<MetricsArgs>();
  CLI::App* sub = eval->add_subcommand(
      "metrics",
      "trec_eval 10.0's measures for a TREC run against TREC qrels (trec_eval's options and output)");
  sub->add_option("qrels", a->qrels, "Qrels file: qid iter docid rel")->required();
  sub->add_option("run", a->run, "Run file: qid Q0 docid rank score runid; - reads standard input")
      ->required();
  sub->add_option("-m,--measure", a->measures,
                  "Measure, measure.params or nickname (official, all_trec, set, qrels_jg, all_prefs, "
                  "prefs); repeatable")
      ->allow_extra_args(false);
  sub->add_flag("-q,--query_eval_wanted", a->per_query, "Also print each query's values");
  sub->add_flag("-c,--complete_rel_info_wanted", a->complete,
                "Average over every judged query; queries missing from the run score 0");
  sub->add_option("-M,--Max_retrieved_per_topic", a->max_retrieved, "Keep at most N documents per query")
      ->check(kNonNegative);
  sub->add_option("-l,--level_for_rel", a->relevance_level,
                  "Lowest grade that counts as relevant (default 1)");
  sub->add_flag("-J,--Judged_docs_only", a->judged_only, "Drop unjudged documents before evaluating");
  sub->add_option("-N,--Number_docs_in_coll", a->num_docs, "Collection size (utility's 4th coefficient)");
  sub->add_option("-Z,--Zscore", a->zscores,
                  "Print z-scores using a file of `qid measure mean stddev` lines");
  sub->add_flag("-n,--nosummary", a->no_summary, "No summary (the 'all' lines)");
  sub->add_option(
      "-R,--Rel_info_format", a->rel_format,
      "Relevance file format: qrels (default), qrels_jg (column 2 a user judgment group; "
      "-m qrels_jg), qrels_prefs (column 2 a judgment group, column 4 a level; -m all_prefs), prefs "
      "(qid group subgroup docid level; -m all_prefs)");
  sub->add_option("-T,--Results_format", a->results_format, "Run file format: trec_results (the only one)");
  sub->add_option("-D,--Debug_level", a->debug,
                  "LEVEL[.QID]: with .QID evaluate only that query (no debugging trace is printed)");
  sub->footer(MeasuresHelp());
  OnRun(sub, ctx, [&ctx, a] { RunMetrics(ctx, *a); });
}

void RegisterEvalCommands(CLI::App& app, Context& ctx) {
  CLI::App* eval = app.add_subcommand("eval", "Evaluate retrieval: trec_eval-exact metrics");
  eval->require_subcommand(1);
  AddEvalMetrics(eval, ctx);
  AddEvalRun(eval, ctx);
  AddEvalTools(eval, ctx);
  AddEvalFuse(eval, ctx);
  AddEvalJudge(eval, ctx);
}

}  // namespace rlm::cli
