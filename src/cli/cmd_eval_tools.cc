// `eval compare` (paired significance tests between TREC runs, paired by query id, B - A: eval/comparison.h)
// and `eval synth` (a BEIR folder of known-item queries drawn from a folder of text files).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cli/context.h"
#include "core/error.h"
#include "core/file.h"
#include "eval/comparison.h"
#include "eval/dataset.h"
#include "eval/measures.h"
#include "eval/results.h"
#include "eval/stats.h"
#include "eval/trec.h"

namespace rlm::cli {
namespace {

namespace fs = std::filesystem;

struct CompareArgs {
  std::vector<std::string> runs;
  std::string qrels;
  std::vector<std::string> measures;
  std::string test = "t";
  std::string wilcoxon = "auto";
  std::string correction = "holm";
  size_t permutations = 10000;
  uint64_t seed = 42;
  bool complete = false;
};

// Run files: each argument is a run file, or a folder whose *.trec files (or runs/*.trec) are taken.
std::vector<std::string> RunFiles(const std::vector<std::string>& args) {
  std::vector<std::string> files;
  for (const std::string& a : args) {
    if (!fs::is_directory(a)) {
      files.push_back(a);
      continue;
    }
    const fs::path dir = fs::exists(fs::path(a) / "runs") ? fs::path(a) / "runs" : fs::path(a);
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() == ".trec") found.push_back(e.path().string());
    }
    if (found.empty()) throw NotFound("no .trec run files in " + dir.string());
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  if (files.size() < 2) throw UsageError("eval compare needs at least two runs");
  return files;
}

void RunCompare(Context& ctx, const CompareArgs& a) {
  ComparisonOptions co;
  co.test = ParseComparisonTest(a.test);
  co.stats.wilcoxon.method = ParseWilcoxonMethod(a.wilcoxon);
  co.correction = ParsePValueCorrection(a.correction);
  co.stats.randomization.permutations = a.permutations;
  co.stats.randomization.seed = a.seed;
  co.stats.bootstrap.seed = a.seed;
  const std::vector<std::string> files = RunFiles(a.runs);
  const std::vector<std::string> args =
      a.measures.empty() ? std::vector<std::string>{"ndcg_cut.10"} : a.measures;
  const trec::MeasureSet measures = trec::MeasureSet::FromArgs(args);
  std::vector<size_t> order;
  const std::vector<MeasureColumn> columns = MeasureColumns(measures, args, &order);
  const trec::Qrels qrels = trec::LoadQrels(a.qrels);
  trec::EvalOptions eo;
  eo.average_complete = a.complete;  // -c: a judged query missing from a run scores 0 in it
  // Per compared measure, per run: the values by query id.
  std::vector<std::vector<ScoresById>> systems(columns.size());
  for (const std::string& f : files) {
    const trec::Evaluation ev = trec::Evaluate(qrels, trec::LoadRun(f), measures, eo);
    for (size_t c = 0; c < columns.size(); ++c) {
      ScoresById& s = systems[c].emplace_back();
      s.system = fs::path(f).stem().string();
      if (!columns[c].compared()) continue;
      for (const trec::QueryScores& q : ev.queries) s.values.emplace(q.qid, q.values[order[c]]);
    }
  }
  json comparisons = json::array();
  std::string text;
  std::vector<std::string> warnings;
  for (size_t c = 0; c < columns.size(); ++c) {
    if (!columns[c].compared()) continue;
    const std::vector<Comparison> rows = CompareAllPairs(systems[c], columns[c].name, co);
    if (warnings.empty()) warnings = PairingWarnings(rows);
    for (const Comparison& r : rows) {
      comparisons.push_back(ComparisonJson(r));
      char line[512];
      std::snprintf(line, sizeof line,
                    "%-14s %-20s %-20s %8.4f %8.4f  B-A=%+.4f  d_z=%+.3f  p=%.4g  p_adj=%.4g  n=%zu%s\n",
                    r.measure.c_str(), r.a.c_str(), r.b.c_str(), r.mean_a, r.mean_b, r.difference,
                    r.effect_size, r.p_value, r.p_adjusted, r.queries,
                    r.dropped() > 0 ? "  (unpaired queries, see warning)" : "");
      text += line;
      if (!r.note.empty()) text += "  note: " + r.note + "\n";
    }
  }
  for (const std::string& w : warnings)
    ctx.Note("warning: " + w + (a.complete ? "" : " (use -c to score queries missing from a run as 0)"));
  if (ctx.json_mode()) {
    ctx.Emit(json{{"comparisons", comparisons},
                  {"correction", std::string(PValueCorrectionName(co.correction))},
                  {"complete", a.complete},
                  {"sign", "b - a"},
                  {"effect_size", "cohens_d_z"},
                  {"warnings", warnings}});
  } else {
    ctx.Print(text);
  }
}

struct SynthArgs {
  std::string folder;
  std::string out;
  size_t queries = 100;
  uint64_t seed = 42;
};

void RunSynth(Context& ctx, const SynthArgs& a) {
  const EvalDataset ds = Synthesize(a.folder, a.queries, a.seed);
  fs::create_directories(fs::path(a.out) / "qrels");
  std::string corpus, queries, qrels = "query-id\tcorpus-id\tscore\n";
  for (const EvalDocument& d : ds.corpus)
    corpus += json{{"_id", d.id}, {"title", d.title}, {"text", d.text}}.dump() + "\n";
  for (const EvalQuery& q : ds.queries) {
    queries += json{{"_id", q.id}, {"text", q.text}}.dump() + "\n";
    for (const EvalJudgment& j : q.judgments)
      qrels += q.id + "\t" + j.doc_id + "\t" + std::to_string(j.grade) + "\n";
  }
  WriteFileAtomic((fs::path(a.out) / "corpus.jsonl").string(), corpus);
  WriteFileAtomic((fs::path(a.out) / "queries.jsonl").string(), queries);
  WriteFileAtomic((fs::path(a.out) / "qrels" / "test.tsv").string(), qrels);
  if (ctx.json_mode()) {
    ctx.Emit(json{{"out", a.out},
                  {"documents", ds.corpus.size()},
                  {"queries", ds.queries.size()},
                  {"files_skipped", ds.report.files_skipped}});
  } else {
    ctx.Line("Wrote a BEIR folder to " + a.out + ": " + std::to_string(ds.corpus.size()) + " documents, " +
             std::to_string(ds.queries.size()) + " known-item queries (split test)");
  }
}

}  // namespace

void AddEvalTools(CLI::App* eval, Context& ctx) {
  {
    auto a = std::make_shared<CompareArgs>();
    auto* sub =
        eval->add_subcommand("compare", "Paired significance tests between TREC runs (files or run folders)");
    sub->add_option("runs", a->runs, "Run files or folders of *.trec")->required();
    sub->add_option("--qrels", a->qrels, "TREC qrels")->required();
    sub->add_option("-m,--measure", a->measures, "trec_eval measures (default ndcg_cut.10)")
        ->allow_extra_args(false);
    sub->add_option("--test", a->test, "t, wilcoxon, randomization or tukey (Tukey's HSD over all runs)")
        ->capture_default_str();
    sub->add_option("--wilcoxon-method", a->wilcoxon,
                    "auto (exact conditional up to 200 pairs, else normal), exact or approx")
        ->capture_default_str();
    sub->add_option("--correction", a->correction, "holm, bonferroni, bh or none")->capture_default_str();
    sub->add_option("--permutations", a->permutations, "Randomization test permutations")
        ->capture_default_str();
    sub->add_option("--seed", a->seed, "Seed of the randomization test and bootstrap")->capture_default_str();
    sub->add_flag(
        "-c,--complete", a->complete,
        "Score a judged query missing from a run as 0 in it (trec_eval -c); otherwise such queries are "
        "left unpaired and counted");
    OnRun(sub, ctx, [&ctx, a] { RunCompare(ctx, *a); });
  }
  {
    auto a = std::make_shared<SynthArgs>();
    auto* sub =
        eval->add_subcommand("synth", "Known-item queries from a folder of text files, as a BEIR folder");
    sub->add_option("folder", a->folder, "Folder of text files")->required();
    sub->add_option("--out", a->out, "Output BEIR folder")->required();
    sub->add_option("-n,--queries", a->queries, "Number of queries")->capture_default_str();
    sub->add_option("--seed", a->seed, "Random seed")->capture_default_str();
    OnRun(sub, ctx, [&ctx, a] { RunSynth(ctx, *a); });
  }
}

}  // namespace rlm::cli
