// `rlm eval run`: an experiment file, or the same experiment given with flags, evaluated end to end
// (eval/experiment_run.h), in process or (--redis) on workers. Ctrl-C stops cleanly (finished jobs are in
// the ledger or in Redis; re-running resumes).
#include <optional>
#include <string>
#include <vector>

#include "cli/context.h"
#include "cli/redis_flags.h"
#include "core/error.h"
#include "eval/experiment.h"
#include "eval/experiment_run.h"
#include "jobs/eval_jobs.h"

namespace rlm::cli {
namespace {

struct RunArgs {
  std::string experiment;
  std::string dataset;
  std::string dataset_format = "beir";
  std::string split = "test";
  std::vector<std::string> variants;
  std::vector<std::string> metrics;
  std::string out;
  std::optional<size_t> depth;
  std::string baseline;
  std::string test;
  std::string wilcoxon;
  std::string correction;
  RedisFlags redis;
  uint64_t max_ship_mb = 256;
};

Experiment BuildExperiment(const RunArgs& a) {
  Experiment e;
  if (!a.experiment.empty()) {
    if (!a.dataset.empty() || !a.variants.empty()) {
      throw UsageError("give an experiment file or --dataset/--variant flags, not both");
    }
    e = LoadExperiment(a.experiment);
  } else {
    if (a.dataset.empty() || a.variants.empty()) {
      throw UsageError("rlm eval run needs an experiment file, or --dataset DIR and at least one --variant");
    }
    e.name = "cli";
    e.dataset.format = ParseDatasetFormat(a.dataset_format);
    e.dataset.path = a.dataset;
    e.dataset.split = a.split;
    for (const std::string& v : a.variants) e.variants.push_back(ParseVariantFlag(v));
    e.metrics = a.metrics;
  }
  if (!a.out.empty()) e.output = a.out;
  if (a.depth) {
    if (*a.depth == 0) throw UsageError("--depth must be at least 1");
    e.depth = *a.depth;
    for (VariantSpec& v : e.variants) v.depth_override = 0;
  }
  if (!a.metrics.empty()) e.metrics = a.metrics;
  if (!a.baseline.empty()) e.statistics.baseline = a.baseline;
  if (!a.test.empty()) e.statistics.test = ParseComparisonTest(a.test);
  if (!a.wilcoxon.empty()) e.statistics.wilcoxon = ParseWilcoxonMethod(a.wilcoxon);
  if (!a.correction.empty()) e.statistics.correction = ParsePValueCorrection(a.correction);
  FinalizeExperiment(e);
  return e;
}

void RunEval(Context& ctx, const RunArgs& a) {
  const Experiment e = BuildExperiment(a);
  ExperimentRunOptions o;
  o.progress = ctx.Progress();
  if (!a.redis.url.empty()) {
    DistributedOptions d;
    d.url = ResolveRedisUrl(ctx, a.redis);
    d.max_ship_bytes = a.max_ship_mb << 20;
    o.executor = [d](const RunCorpus& corpus, const std::vector<RunVariant>& variants, const RunOptions& ro) {
      return RunDistributed(corpus, variants, ro, d);
    };
  }
  ExperimentRunResult r;
  {
    const StopOnSignals signals;
    o.stop = &signals.flag();
    r = RunExperiment(e, o);
  }
  if (r.interrupted) {
    const std::string where =
        a.redis.url.empty() ? "finished jobs are saved in " + e.output + "/ledger.sqlite" : r.interruption;
    throw Error(ErrorKind::kConflict, "interrupted: " + where,
                "run the same command again to resume run " + r.run_id, ErrorType::kInterrupted);
  }
  for (const std::string& w : r.warnings) ctx.Note("warning: " + w);
  if (ctx.json_mode()) {
    ctx.Emit(r.results);
    return;
  }
  ctx.Print(r.summary_markdown + "\nOutputs in " + e.output +
            " (report.html, results.json, per_query.csv, runs/)\n");
}

}  // namespace

void AddEvalRun(CLI::App* eval, Context& ctx) {
  auto a = std::make_shared<RunArgs>();
  auto* sub = eval->add_subcommand("run", "Evaluate retrieval variants on a dataset (resumable, parallel)");
  sub->add_option("experiment", a->experiment, "Experiment file (YAML or JSON)");
  sub->add_option("--dataset", a->dataset, "Dataset folder (instead of an experiment file)");
  sub->add_option("--dataset-format", a->dataset_format, "beir, trec, embedeval or synth")
      ->capture_default_str();
  sub->add_option("--split", a->split, "BEIR split")->capture_default_str();
  sub->add_option("--variant", a->variants, "NAME=RETRIEVAL[,key=value...] (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("-m,--metrics", a->metrics, "trec_eval measures (repeatable)")->allow_extra_args(false);
  sub->add_option("--out", a->out, "Output folder");
  sub->add_option("--depth", a->depth, "Documents retrieved per query");
  sub->add_option("--baseline", a->baseline, "Variant the others are compared with");
  sub->add_option("--test", a->test, "t, wilcoxon, randomization or tukey (Tukey's HSD over all variants)");
  sub->add_option("--wilcoxon-method", a->wilcoxon,
                  "auto (exact conditional up to 200 pairs, else normal), exact or approx");
  sub->add_option("--correction", a->correction, "holm, bonferroni, bh or none");
  AddRedisFlags(sub, a->redis, /*from_environment=*/false);
  sub->add_option("--max-ship-mb", a->max_ship_mb, "With --redis: largest input shipped through Redis (MB)")
      ->capture_default_str();
  OnRun(sub, ctx, [&ctx, a] { RunEval(ctx, *a); });
}

}  // namespace rlm::cli
