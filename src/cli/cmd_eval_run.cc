// `rlm eval run`: an experiment file, or the same experiment given with flags, evaluated end to end
// (eval/experiment_run.h). Ctrl-C stops cleanly (finished jobs are in the ledger; re-running resumes).
#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "cli/context.h"
#include "core/error.h"
#include "eval/experiment.h"
#include "eval/experiment_run.h"

namespace rlm::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void OnInterrupt(int) { g_stop.store(true); }

// While alive, SIGINT and SIGTERM set g_stop instead of ending the process; the old handlers come back after.
class StopOnSignals {
 public:
  StopOnSignals() {
    g_stop = false;
    struct sigaction sa {};
    sa.sa_handler = OnInterrupt;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~StopOnSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

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
  std::string correction;
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
  if (!a.test.empty()) e.statistics.test = ParsePairedTest(a.test);
  if (!a.correction.empty()) e.statistics.correction = ParsePValueCorrection(a.correction);
  FinalizeExperiment(e);
  return e;
}

void RunEval(Context& ctx, const RunArgs& a) {
  const Experiment e = BuildExperiment(a);
  ExperimentRunOptions o;
  o.stop = &g_stop;
  o.progress = ctx.Progress();
  ExperimentRunResult r;
  {
    const StopOnSignals signals;
    r = RunExperiment(e, o);
  }
  if (r.interrupted) {
    throw Error(ErrorKind::kConflict, "interrupted: finished jobs are saved in " + e.output + "/ledger.sqlite",
                "run the same command again to resume run " + r.run_id, "Interrupted");
  }
  if (ctx.json_mode()) {
    ctx.Emit(json::parse(r.results.dump()));
    return;
  }
  ctx.Print(r.summary_markdown + "\nOutputs in " + e.output + " (report.html, results.json, per_query.csv, runs/)\n");
}

}  // namespace

void AddEvalRun(CLI::App* eval, Context& ctx) {
  auto a = std::make_shared<RunArgs>();
  auto* sub = eval->add_subcommand("run", "Evaluate retrieval variants on a dataset (resumable, parallel)");
  sub->add_option("experiment", a->experiment, "Experiment file (YAML or JSON)");
  sub->add_option("--dataset", a->dataset, "Dataset folder (instead of an experiment file)");
  sub->add_option("--dataset-format", a->dataset_format, "beir, trec, embedeval or synth")->capture_default_str();
  sub->add_option("--split", a->split, "BEIR split")->capture_default_str();
  sub->add_option("--variant", a->variants, "NAME=RETRIEVAL[,key=value...] (repeatable)")->allow_extra_args(false);
  sub->add_option("-m,--metrics", a->metrics, "trec_eval measures (repeatable)")->allow_extra_args(false);
  sub->add_option("--out", a->out, "Output folder");
  sub->add_option("--depth", a->depth, "Documents retrieved per query");
  sub->add_option("--baseline", a->baseline, "Variant the others are compared with");
  sub->add_option("--test", a->test, "t, wilcoxon or randomization");
  sub->add_option("--correction", a->correction, "holm, bonferroni, bh or none");
  OnRun(sub, ctx, [&ctx, a] { RunEval(ctx, *a); });
}

}  // namespace rlm::cli
