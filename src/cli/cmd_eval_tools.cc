// `eval compare` (paired significance tests between TREC runs) and `eval synth` (a BEIR folder of
// known-item queries drawn from a folder of text files).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cli/context.h"
#include "core/error.h"
#include "core/file.h"
#include "eval/dataset.h"
#include "eval/measures.h"
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
  std::string correction = "holm";
  size_t permutations = 10000;
  uint64_t seed = 42;
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
  const PairedTest test = ParsePairedTest(a.test);
  const PValueCorrection correction = ParsePValueCorrection(a.correction);
  const std::vector<std::string> files = RunFiles(a.runs);
  const trec::MeasureSet measures =
      trec::MeasureSet::FromArgs(a.measures.empty() ? std::vector<std::string>{"ndcg_cut.10"} : a.measures);
  const trec::Qrels qrels = trec::LoadQrels(a.qrels);
  // Per run: per float measure, per query id, the value.
  std::vector<std::string> names;
  std::vector<std::map<std::string, std::map<std::string, double>>> values;
  for (const std::string& f : files) {
    const trec::Evaluation ev = trec::Evaluate(qrels, trec::LoadRun(f), measures);
    names.push_back(fs::path(f).stem().string());
    auto& v = values.emplace_back();
    for (const trec::QueryScores& q : ev.queries) {
      for (size_t m = 0; m < measures.values().size(); ++m) {
        const trec::MeasureValue& mv = measures.values()[m];
        if (mv.per_query && mv.kind == trec::ValueKind::kFloat) v[mv.name][q.qid] = q.values[m];
      }
    }
  }
  CompareOptions co;
  co.randomization.permutations = a.permutations;
  co.randomization.seed = a.seed;
  co.bootstrap.seed = a.seed;
  json comparisons = json::array();
  std::string text;
  for (const trec::MeasureValue& mv : measures.values()) {
    if (!mv.per_query || mv.kind != trec::ValueKind::kFloat) continue;
    std::vector<json> rows;
    std::vector<double> p;
    for (size_t i = 0; i < files.size(); ++i) {
      for (size_t j = i + 1; j < files.size(); ++j) {
        // Paired over the queries both runs were evaluated on.
        std::vector<double> x, y;
        for (const auto& [qid, value] : values[i][mv.name]) {
          auto it = values[j][mv.name].find(qid);
          if (it == values[j][mv.name].end()) continue;
          x.push_back(value);
          y.push_back(it->second);
        }
        if (x.size() < 2) throw InvalidInput(names[i] + " and " + names[j] + " share fewer than two evaluated queries");
        json row = {{"a", names[i]}, {"b", names[j]}, {"measure", mv.name}, {"test", std::string(PairedTestName(test))},
                    {"queries", x.size()}};
        try {
          const PairedComparison c = ComparePaired(x, y, test, co);
          const bool undefined = std::isnan(c.p_value);  // no variance in the differences (identical scores)
          row.update(json{{"mean_a", c.mean_a}, {"mean_b", c.mean_b}, {"p_value", undefined ? 1.0 : c.p_value},
                          {"effect_size", std::isnan(c.effect_size) ? 0.0 : c.effect_size}, {"ci_low", c.ci_low},
                          {"ci_high", c.ci_high}});
          if (undefined) row["note"] = "the per-query differences have no variance; no test is possible";
          p.push_back(undefined ? 1.0 : c.p_value);
        } catch (const InvalidInput& e) {  // e.g. identical runs under Wilcoxon: no difference to test
          row.update(json{{"p_value", 1.0}, {"note", e.what()}});
          p.push_back(1.0);
        }
        rows.push_back(std::move(row));
      }
    }
    const std::vector<double> adjusted = AdjustPValues(p, correction);
    for (size_t r = 0; r < rows.size(); ++r) {
      rows[r]["p_adjusted"] = adjusted[r];
      char line[256];
      std::snprintf(line, sizeof line, "%-14s %-20s %-20s %8.4f %8.4f  p=%.4g  p_adj=%.4g\n", mv.name.c_str(),
                    rows[r]["a"].get<std::string>().c_str(), rows[r]["b"].get<std::string>().c_str(),
                    rows[r].value("mean_a", 0.0), rows[r].value("mean_b", 0.0), rows[r]["p_value"].get<double>(),
                    adjusted[r]);
      text += line;
      comparisons.push_back(std::move(rows[r]));
    }
  }
  if (ctx.json_mode()) {
    ctx.Emit(json{{"comparisons", comparisons}, {"correction", std::string(PValueCorrectionName(correction))}});
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
  for (const EvalDocument& d : ds.corpus) corpus += json{{"_id", d.id}, {"title", d.title}, {"text", d.text}}.dump() + "\n";
  for (const EvalQuery& q : ds.queries) {
    queries += json{{"_id", q.id}, {"text", q.text}}.dump() + "\n";
    for (const EvalJudgment& j : q.judgments) qrels += q.id + "\t" + j.doc_id + "\t" + std::to_string(j.grade) + "\n";
  }
  WriteFileAtomic((fs::path(a.out) / "corpus.jsonl").string(), corpus);
  WriteFileAtomic((fs::path(a.out) / "queries.jsonl").string(), queries);
  WriteFileAtomic((fs::path(a.out) / "qrels" / "test.tsv").string(), qrels);
  if (ctx.json_mode()) {
    ctx.Emit(json{{"out", a.out}, {"documents", ds.corpus.size()}, {"queries", ds.queries.size()},
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
    auto* sub = eval->add_subcommand("compare", "Paired significance tests between TREC runs (files or run folders)");
    sub->add_option("runs", a->runs, "Run files or folders of *.trec")->required();
    sub->add_option("--qrels", a->qrels, "TREC qrels")->required();
    sub->add_option("-m,--measure", a->measures, "trec_eval measures (default ndcg_cut.10)")->allow_extra_args(false);
    sub->add_option("--test", a->test, "t, wilcoxon or randomization")->capture_default_str();
    sub->add_option("--correction", a->correction, "holm, bonferroni, bh or none")->capture_default_str();
    sub->add_option("--permutations", a->permutations, "Randomization test permutations")->capture_default_str();
    sub->add_option("--seed", a->seed, "Seed of the randomization test and bootstrap")->capture_default_str();
    OnRun(sub, ctx, [&ctx, a] { RunCompare(ctx, *a); });
  }
  {
    auto a = std::make_shared<SynthArgs>();
    auto* sub = eval->add_subcommand("synth", "Known-item queries from a folder of text files, as a BEIR folder");
    sub->add_option("folder", a->folder, "Folder of text files")->required();
    sub->add_option("--out", a->out, "Output BEIR folder")->required();
    sub->add_option("-n,--queries", a->queries, "Number of queries")->capture_default_str();
    sub->add_option("--seed", a->seed, "Random seed")->capture_default_str();
    OnRun(sub, ctx, [&ctx, a] { RunSynth(ctx, *a); });
  }
}

}  // namespace rlm::cli
