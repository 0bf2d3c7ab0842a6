// `eval fuse`: fusion of TREC run files with ranx's methods and normalisations (index/fusion.h), supervised
// methods trained and parameters grid-searched on training qrels (eval/fuse.h).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>
#include <vector>

#include "cli/context.h"
#include "core/error.h"
#include "core/file.h"
#include "eval/fuse.h"
#include "eval/trec.h"
#include "index/fusion.h"

namespace rlm::cli {
namespace {

struct FuseArgs {
  std::vector<std::string> runs;
  std::string method = "rrf";
  std::string norm;  // empty: min-max, ranx's default
  std::string weights;
  std::vector<std::string> params;
  std::string out;
  std::string runid;
  size_t depth = 0;
  bool optimize = false;
  std::string qrels;
  std::string measure = "ndcg";
  double step = 0.1;
};

double ParseNumber(std::string_view s, const std::string& what) {
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) {
    throw UsageError(what + ": '" + std::string(s) + "' is not a number");
  }
  return v;
}

json ParamsJson(const FusionMethodInfo& info, const FusionSpec& spec) {
  json params = json::object();
  for (const FusionParamInfo* p : info.params) params[p->name] = spec.params.*(p->field);
  return params;
}

void RunFuse(Context& ctx, const FuseArgs& a) {
  if (a.runs.size() < 2) throw UsageError("eval fuse needs at least two runs");
  const FusionMethodInfo& info = FindFusionMethod(a.method);
  FusionSpec spec;
  spec.method = info.method;
  spec.norm = a.norm.empty() ? FusionNorm::kMinMax : FindFusionNorm(a.norm).norm;
  if (!a.weights.empty()) {
    if (!info.uses_weights) throw UsageError(std::string(info.name) + " takes no weights");
    std::string_view rest = a.weights;
    while (true) {
      const size_t comma = rest.find(',');
      spec.weights.push_back(ParseNumber(rest.substr(0, comma), "--weights"));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  for (const std::string& p : a.params) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos) throw UsageError("--param takes name=value, got '" + p + "'");
    SetFusionParam(info, p.substr(0, eq), ParseNumber(std::string_view(p).substr(eq + 1), "--param " + p),
                   spec.params);
  }
  if (a.optimize && a.qrels.empty()) {
    throw UsageError("--optimize needs training qrels (--qrels FILE)");
  }
  if (info.needs_training && a.qrels.empty()) {
    throw UsageError(std::string(info.name) + " is supervised: give training qrels with --qrels FILE");
  }
  if (!a.qrels.empty() && !a.optimize && !info.needs_training) {
    throw UsageError("--qrels is used by --optimize and by supervised methods only");
  }

  std::vector<trec::Run> loaded;
  for (const std::string& f : a.runs) loaded.push_back(trec::LoadRun(f));
  const trec::AlignedRuns runs = trec::AlignRuns(std::move(loaded), a.runs);
  if (runs.partial_queries) {
    std::string which;
    for (size_t r = 0; r < runs.num_runs; ++r) {
      if (runs.missing[r]) which += "; " + a.runs[r] + " lacks " + std::to_string(runs.missing[r]);
    }
    ctx.Note("note: " + std::to_string(runs.partial_queries) + " of " + std::to_string(runs.queries.size()) +
             " queries are missing from some runs and are fused from the runs that have them" + which);
  }
  const bool score_based =
      !info.rank_based && spec.norm != FusionNorm::kRank && spec.norm != FusionNorm::kBorda;
  for (size_t r = 0; r < runs.num_runs; ++r) {
    if (score_based && runs.equal_scores[r]) {
      ctx.Note("note: " + a.runs[r] + " gives every document the same score in " +
               std::to_string(runs.equal_scores[r]) + " queries; " + FusionNormOf(spec.norm).name +
               " normalization maps such scores to " +
               (spec.norm == FusionNorm::kMax ? "1 (or s / 1e-9)" : "0"));
    }
  }

  json optimized = nullptr, training_json = nullptr;
  FusionModel model;
  if (!a.qrels.empty()) {
    const trec::Qrels qrels = trec::LoadQrels(a.qrels);
    const std::vector<size_t> training = trec::TrainingQueries(qrels, runs);
    size_t judged_without_run = 0;
    for (const trec::QrelsQuery& j : qrels.queries) {
      const auto it = std::lower_bound(
          runs.queries.begin(), runs.queries.end(), j.qid,
          [](const trec::AlignedRuns::Query& q, const std::string& qid) { return q.qid < qid; });
      judged_without_run += it == runs.queries.end() || it->qid != j.qid;
    }
    if (training.size() < runs.queries.size() || judged_without_run) {
      ctx.Note("note: training on the " + std::to_string(training.size()) + " of " +
               std::to_string(runs.queries.size()) + " run queries judged in " + a.qrels + "; " +
               std::to_string(judged_without_run) + " judged queries are in no run");
    }
    training_json = {{"queries", training.size()},
                     {"run_queries_without_judgments", runs.queries.size() - training.size()},
                     {"judged_queries_without_run", judged_without_run}};
    if (a.optimize) {
      trec::FusionOptimum best = trec::OptimizeFusion(qrels, runs, spec, a.measure, a.step);
      spec = best.spec;
      model = std::move(best.model);
      optimized = {{"measure", a.measure},
                   {"score", best.score},
                   {"configurations", best.candidates},
                   {"training_queries", best.training_queries}};
      std::string chosen;
      if (info.uses_weights) {
        for (double w : spec.weights) chosen += (chosen.empty() ? "weights " : ",") + json(w).dump();
      }
      for (const FusionParamInfo* p : info.params) {
        chosen +=
            (chosen.empty() ? "" : " ") + std::string(p->name) + "=" + json(spec.params.*(p->field)).dump();
      }
      ctx.Note("optimized " + std::string(info.name) + " on " + std::to_string(best.training_queries) +
               " training queries over " + std::to_string(best.candidates) + " configurations: " +
               (chosen.empty() ? "estimated" : chosen) + ", " + a.measure + " " + json(best.score).dump());
    } else {
      model = trec::EstimateFusionModel(qrels, runs, spec);
    }
  }

  const std::string runid = a.runid.empty() ? std::string(info.name) : a.runid;
  const trec::Run fused = trec::FuseRuns(runs, spec, info.needs_training ? &model : nullptr, a.depth, runid);
  size_t documents = 0;
  for (const trec::RunQuery& q : fused.queries) documents += q.entries.size();
  WriteFileAtomic(a.out, trec::FormatRun(fused));

  if (ctx.json_mode()) {
    json doc = {{"method", info.name},
                {"normalization", FusionNormOf(spec.norm).name},
                {"runs", a.runs},
                {"weights", info.uses_weights ? json(spec.weights) : json(nullptr)},
                {"params", ParamsJson(info, spec)},
                {"optimized", optimized},
                {"training", training_json},
                {"queries", fused.queries.size()},
                {"partial_queries", runs.partial_queries},
                {"documents", documents},
                {"output", a.out},
                {"runid", runid}};
    ctx.Emit(doc);
  } else {
    ctx.Line("fused " + std::to_string(runs.num_runs) + " runs with " + info.name + ": " +
             std::to_string(fused.queries.size()) + " queries, " + std::to_string(documents) +
             " documents -> " + a.out);
  }
}

std::string MethodsHelp() {
  std::string s = "Methods (--method NAME; * supervised: needs --qrels; w: takes --weights):\n";
  for (const FusionMethodInfo& m : FusionMethods()) {
    std::string line =
        "  " + std::string(m.name) + (m.needs_training ? " *" : "") + (m.uses_weights ? " w" : "");
    if (line.size() < 18) line.resize(18, ' ');
    line += m.summary;
    for (const FusionParamInfo* p : m.params) {
      char num[32];
      line += "; --param " + std::string(p->name) + "=" +
              std::string(num, std::to_chars(num, num + sizeof num, FusionParams{}.*(p->field)).ptr);
    }
    s += line + "\n";
  }
  s += "Normalizations (--norm NAME, default min-max):\n";
  for (const FusionNormInfo& n : FusionNorms()) {
    std::string line = "  " + std::string(n.name);
    if (line.size() < 18) line.resize(18, ' ');
    s += line + n.summary + "\n";
  }
  return s;
}

}  // namespace

void AddEvalFuse(CLI::App* eval, Context& ctx) {
  auto a = std::make_shared<FuseArgs>();
  CLI::App* sub = eval->add_subcommand("fuse", "Fuse TREC runs with ranx's fusion methods into one run");
  sub->add_option("runs", a->runs, "Run files: qid Q0 docid rank score runid")->required();
  sub->add_option("--method", a->method, "Fusion method (default rrf)");
  sub->add_option("--norm", a->norm, "Score normalization applied to each run first (default min-max)");
  sub->add_option("--weights", a->weights, "Comma-separated weights, one per run (weighted methods)");
  sub->add_option("--param", a->params, "A method parameter name=value; repeatable")->allow_extra_args(false);
  sub->add_option("-o,--output", a->out, "Output run file (written atomically)")->required();
  sub->add_option("--runid", a->runid, "Run id of the output (default: the method name)");
  sub->add_option("--depth", a->depth,
                  "Documents kept per query (default 0: all; --optimize scores the full lists)")
      ->check(kNonNegative);
  sub->add_flag("--optimize", a->optimize,
                "Grid-search weights / the parameter on the training qrels, as ranx's optimize_fusion");
  sub->add_option("--qrels", a->qrels, "Training qrels (for --optimize and supervised methods)");
  sub->add_option("-m,--measure", a->measure, "Measure maximized by --optimize (default ndcg)");
  sub->add_option("--step", a->step, "Weight grid step of --optimize (default 0.1)");
  sub->footer(MethodsHelp());
  OnRun(sub, ctx, [&ctx, a] { RunFuse(ctx, *a); });
}

}  // namespace rlm::cli
