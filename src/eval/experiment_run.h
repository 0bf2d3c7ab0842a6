// `rlm eval run`: an experiment from start to report. Loads the dataset, runs every variant on the job model
// (eval/runner.h, checkpointed in <output>/ledger.sqlite under a run id derived from the experiment's and
// the data's fingerprints, so a re-run resumes), evaluates the rankings exactly as trec_eval would
// (eval/measures.h), compares every pair of variants by query id (eval/comparison.h), and writes the output
// folder from one result model (eval/results.h):
//   runs/<variant>.trec   per_query.csv   per_query.jsonl   results.json   summary.md   report.html
#pragma once

#include <atomic>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/progress.h"
#include "eval/experiment.h"
#include "eval/runner.h"

namespace rlm {

// Runs the jobs of an evaluation: RunEvaluation (in process, the default) or another executor with the
// same contract (jobs/eval_jobs.h: RunDistributed over Redis).
using RunExecutor =
    std::function<RunOutcome(const RunCorpus&, const std::vector<RunVariant>&, const RunOptions&)>;

struct ExperimentRunOptions {
  const std::atomic<bool>* stop = nullptr;  // set by the CLI's SIGINT handler
  ProgressFn progress;
  RunExecutor executor;  // empty: RunEvaluation
};

struct ExperimentRunResult {
  std::string run_id;
  std::string output;
  bool interrupted = false;  // outputs are not written; a re-run resumes
  std::string interruption;  // what the executor left, and where (RunOutcome::interruption)
  std::string summary_markdown;
  nlohmann::json results;             // what results.json holds
  std::vector<std::string> warnings;  // differing query sets, failures (also in results.json and the reports)
};

ExperimentRunResult RunExperiment(const Experiment& experiment, const ExperimentRunOptions& options = {});

}  // namespace rlm
