#include "eval/experiment_run.h"

#include <tbb/global_control.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "eval/dataset.h"
#include "eval/measures.h"
#include "eval/report.h"
#include "eval/results.h"
#include "eval/runner.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;

std::string Score(float s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(s));
  return buf;
}

}  // namespace

ExperimentRunResult RunExperiment(const Experiment& e, const ExperimentRunOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const EvalDataset data = LoadDataset(e.dataset);
  trec::MeasureSet::FromArgs(e.metrics);  // bad measure names fail before any job runs

  RunCorpus corpus;
  for (const EvalDocument& d : data.corpus) {
    corpus.doc_ids.push_back(d.id);
    corpus.doc_texts.push_back(d.title.empty() ? d.text : d.title + " " + d.text);
  }
  for (const EvalQuery& q : data.queries) {
    corpus.query_ids.push_back(q.id);
    corpus.query_texts.push_back(q.text);
  }
  std::vector<RunVariant> variants;
  for (const VariantSpec& v : e.variants) {
    variants.push_back({v.name, v.chunker, v.chunk, v.embedder.empty() ? "hash" : v.embedder, v.retrieval});
  }

  ExperimentRunResult result;
  result.output = e.output;
  result.run_id = ContentHash(ExperimentFingerprint(e).Hex() + data.fingerprint.Hex()).Hex().substr(0, 16);
  RunOptions ro;
  ro.run_id = result.run_id;
  ro.out_dir = e.output;
  ro.stop = options.stop;
  ro.progress = options.progress;
  std::unique_ptr<tbb::global_control> threads;
  if (e.concurrency > 0) {
    threads =
        std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, e.concurrency);
  }
  const RunOutcome outcome =
      options.executor ? options.executor(corpus, variants, ro) : RunEvaluation(corpus, variants, ro);
  if (outcome.interrupted) {
    result.interrupted = true;
    result.interruption = outcome.interruption;
    return result;
  }

  // The rankings as TREC run files (rank order as retrieved; trec_eval re-sorts by score, then docid).
  fs::create_directories(fs::path(e.output) / "runs");
  for (const VariantRun& vr : outcome.variants) {
    std::string run_text;
    for (const JobResult& r : vr.results) {
      if (!r.ok) continue;
      for (size_t i = 0; i < r.docs.size(); ++i) {
        run_text += r.query_id + " Q0 " + corpus.doc_ids[r.docs[i].doc] + " " + std::to_string(i + 1) + " " +
                    Score(r.docs[i].score) + " " + vr.name + "\n";
      }
    }
    WriteFileAtomic((fs::path(e.output) / "runs" / (vr.name + ".trec")).string(), run_text);
  }

  ResultsInput in;
  in.dataset = &data;
  in.outcome = &outcome;
  in.metrics = e.metrics;
  in.baseline = e.statistics.baseline;
  in.comparison.test = e.statistics.test;
  in.comparison.stats.wilcoxon.method = e.statistics.wilcoxon;
  in.comparison.correction = e.statistics.correction;
  in.comparison.stats.randomization.permutations = e.statistics.permutations;
  in.comparison.stats.randomization.seed = e.statistics.seed;
  in.comparison.stats.bootstrap.resamples = e.statistics.bootstrap;
  in.comparison.stats.bootstrap.seed = e.statistics.seed;
  in.bootstrap = e.statistics.bootstrap;
  in.seed = e.statistics.seed;
  in.alpha = e.statistics.alpha;
  EvalResults results = BuildEvalResults(in);
  results.title = "rlm evaluation: " + e.name;
  results.run_id = result.run_id;
  results.dataset = e.dataset.path + (data.split.empty() ? "" : " (" + data.split + ")");
  results.experiment_json = ExperimentToJson(e);
  results.dataset_json = {{"path", e.dataset.path},
                          {"format", data.format},
                          {"split", data.split},
                          {"documents", data.corpus.size()},
                          {"queries", data.queries.size()},
                          {"fingerprint", data.fingerprint.Hex()},
                          {"warnings", data.report.warnings}};
  results.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  result.results = ResultsJson(results);
  result.summary_markdown = ReportMarkdown(results);
  result.warnings = results.warnings;
  const fs::path out(e.output);
  WriteFileAtomic((out / "per_query.csv").string(), PerQueryCsv(results));
  WriteFileAtomic((out / "per_query.jsonl").string(), PerQueryJsonl(results));
  WriteFileAtomic((out / "results.json").string(), result.results.dump(2) + "\n");
  WriteFileAtomic((out / "summary.md").string(), result.summary_markdown);
  WriteFileAtomic((out / "report.html").string(), ReportHtml(results));
  return result;
}

}  // namespace rlm
