// `rlm eval run`: an experiment from start to report. Loads the dataset, runs every variant on the job model
// (eval/runner.h, checkpointed in <output>/ledger.sqlite under a run id derived from the experiment's and
// the data's fingerprints, so a re-run resumes), evaluates the rankings exactly as trec_eval would
// (eval/measures.h), compares every variant with the baseline (eval/stats.h), and writes the output folder:
//   runs/<variant>.trec   per_query.csv   per_query.jsonl   results.json   summary.md   report.html
#pragma once

#include <atomic>
#include <string>

#include <nlohmann/json.hpp>

#include "core/progress.h"
#include "eval/experiment.h"

namespace rlm {

struct ExperimentRunOptions {
  const std::atomic<bool>* stop = nullptr;  // set by the CLI's SIGINT handler
  ProgressFn progress;
};

struct ExperimentRunResult {
  std::string run_id;
  std::string output;
  bool interrupted = false;  // outputs are not written; a re-run resumes
  std::string summary_markdown;
  nlohmann::json results;  // what results.json holds
};

ExperimentRunResult RunExperiment(const Experiment& experiment, const ExperimentRunOptions& options = {});

}  // namespace rlm
