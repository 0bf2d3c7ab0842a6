#include "eval/experiment_run.h"

#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>

#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "eval/dataset.h"
#include "eval/measures.h"
#include "eval/report.h"
#include "eval/runner.h"
#include "eval/stats.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Score(float s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(s));
  return buf;
}

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

ExperimentRunResult RunExperiment(const Experiment& e, const ExperimentRunOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const EvalDataset data = LoadDataset(e.dataset);
  const trec::MeasureSet measures = trec::MeasureSet::FromArgs(e.metrics);

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
    threads = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism, e.concurrency);
  }
  const RunOutcome outcome = options.executor ? options.executor(corpus, variants, ro) : RunEvaluation(corpus, variants, ro);
  if (outcome.interrupted) {
    result.interrupted = true;
    return result;
  }

  // Qrels and runs as trec_eval reads them (the same text is what runs/<variant>.trec holds).
  std::string qrels_text;
  for (const EvalQuery& q : data.queries) {
    for (const EvalJudgment& j : q.judgments) {
      qrels_text += q.id + " 0 " + j.doc_id + " " + std::to_string(j.grade) + "\n";
    }
  }
  auto docs = std::make_shared<trec::DocIdTable>();
  const trec::Qrels qrels = trec::ParseQrels(qrels_text, "qrels", docs);
  fs::create_directories(fs::path(e.output) / "runs");

  ReportData report;
  report.title = "rlm evaluation: " + e.name;
  report.run_id = result.run_id;
  report.dataset = e.dataset.path + (data.split.empty() ? "" : " (" + data.split + ")");
  report.baseline = e.statistics.baseline;
  json variants_json = json::array();
  std::string csv = "variant,query_id,status,latency_ms";
  for (const trec::MeasureValue& m : measures.values()) {
    if (m.per_query && m.kind != trec::ValueKind::kRelstring) csv += "," + m.name;
  }
  csv += "\n";
  std::string jsonl;
  // Per variant: the per-query values of each float measure, keyed by query id, for the comparisons.
  std::vector<std::map<std::string, std::vector<double>>> per_query(outcome.variants.size());
  std::vector<std::string> float_measures;
  for (const trec::MeasureValue& m : measures.values()) {
    if (m.per_query && m.kind == trec::ValueKind::kFloat) float_measures.push_back(m.name);
  }

  for (size_t vi = 0; vi < outcome.variants.size(); ++vi) {
    const VariantRun& vr = outcome.variants[vi];
    std::string run_text;
    std::map<std::string, const JobResult*> by_query;
    json failures = json::array();
    std::vector<double> latencies;
    for (const JobResult& r : vr.results) {
      by_query[r.query_id] = &r;
      if (!r.ok) {
        failures.push_back(json{{"query_id", r.query_id}, {"attempts", r.attempts}, {"error", r.error}});
        continue;
      }
      latencies.push_back(static_cast<double>(r.latency_us) / 1000.0);
      for (size_t i = 0; i < r.docs.size(); ++i) {
        run_text += r.query_id + " Q0 " + corpus.doc_ids[r.docs[i].doc] + " " + std::to_string(i + 1) + " " +
                    Score(r.docs[i].score) + " " + vr.name + "\n";
      }
    }
    WriteFileAtomic((fs::path(e.output) / "runs" / (vr.name + ".trec")).string(), run_text);
    const trec::Run run = trec::ParseRun(run_text, vr.name + ".trec");
    const trec::Evaluation ev = trec::Evaluate(qrels, run, measures);

    json summary = json::object();
    ReportVariant rv;
    rv.name = vr.name;
    rv.failed = vr.failed;
    rv.queries = static_cast<size_t>(ev.num_q);
    rv.latency_ms = latencies;
    for (size_t m = 0; m < measures.values().size(); ++m) {
      const trec::MeasureValue& mv = measures.values()[m];
      if (mv.kind == trec::ValueKind::kRunid || !mv.summary) continue;
      summary[mv.name] = ev.summary[m];
    }
    for (const trec::QueryScores& qs : ev.queries) {
      const JobResult* r = by_query.count(qs.qid) ? by_query[qs.qid] : nullptr;
      csv += CsvField(vr.name) + "," + CsvField(qs.qid) + ",ok," + (r ? Score(r->latency_us / 1000.0f) : "");
      json metrics = json::object();
      for (size_t m = 0; m < measures.values().size(); ++m) {
        const trec::MeasureValue& mv = measures.values()[m];
        if (!mv.per_query || mv.kind == trec::ValueKind::kRelstring) continue;
        csv += "," + Score(static_cast<float>(qs.values[m]));
        metrics[mv.name] = qs.values[m];
        if (mv.kind == trec::ValueKind::kFloat) per_query[vi][mv.name].push_back(qs.values[m]);
      }
      csv += "\n";
      jsonl += json{{"variant", vr.name}, {"query_id", qs.qid}, {"status", "ok"},
                    {"latency_ms", r ? r->latency_us / 1000.0 : 0.0}, {"metrics", metrics}}.dump() + "\n";
    }
    for (const json& f : failures) {
      csv += CsvField(vr.name) + "," + CsvField(f["query_id"].get<std::string>()) + ",failed,\n";
      jsonl += json{{"variant", vr.name}, {"query_id", f["query_id"]}, {"status", "failed"}, {"error", f["error"]}}
                   .dump() + "\n";
    }
    for (const std::string& name : float_measures) {
      ReportMeasure me;
      me.name = name;
      me.per_query = per_query[vi][name];
      me.mean = summary.value(name, 0.0);
      if (me.per_query.size() >= 2) {
        BootstrapOptions bo;
        bo.resamples = e.statistics.bootstrap;
        bo.seed = e.statistics.seed;
        const ConfidenceInterval ci = BootstrapMeanCI(me.per_query, bo);
        me.ci_low = ci.low;
        me.ci_high = ci.high;
      } else {
        me.ci_low = me.ci_high = me.mean;
      }
      rv.measures.push_back(std::move(me));
    }
    report.variants.push_back(std::move(rv));
    std::sort(latencies.begin(), latencies.end());
    variants_json.push_back(json{
        {"name", vr.name},
        {"measures", summary},
        {"queries_evaluated", ev.num_q},
        {"queries_run", vr.results.size() - vr.failed},
        {"failed", vr.failed},
        {"failures", failures},
        {"queries_without_judgments", ev.run_queries_without_judgments},
        {"resumed", vr.resumed},
        {"vectors_computed", vr.vectors_computed},
        {"timings_s", {{"embed", vr.embed_seconds}, {"index", vr.index_seconds}, {"query", vr.query_seconds}}},
        {"latency_ms",
         {{"p50", SortedQuantile(latencies, 0.5)}, {"p95", SortedQuantile(latencies, 0.95)},
          {"max", SortedQuantile(latencies, 1)}}}});
  }

  // Every variant against the baseline, on every float measure; corrections within each measure.
  json comparisons = json::array();
  size_t base = 0;
  for (size_t i = 0; i < outcome.variants.size(); ++i) {
    if (outcome.variants[i].name == e.statistics.baseline) base = i;
  }
  CompareOptions co;
  co.randomization.permutations = e.statistics.permutations;
  co.randomization.seed = e.statistics.seed;
  co.bootstrap.resamples = e.statistics.bootstrap;
  co.bootstrap.seed = e.statistics.seed;
  for (const std::string& name : float_measures) {
    std::vector<ReportComparison> rows;
    std::vector<double> p;
    for (size_t vi = 0; vi < outcome.variants.size(); ++vi) {
      if (vi == base) continue;
      const auto& a = per_query[base][name];
      const auto& b = per_query[vi][name];
      if (a.size() != b.size() || a.size() < 2) continue;  // failures left different query sets
      ReportComparison c;
      c.a = outcome.variants[base].name;
      c.b = outcome.variants[vi].name;
      c.measure = name;
      c.test = std::string(PairedTestName(e.statistics.test));
      try {
        const PairedComparison pc = ComparePaired(b, a, e.statistics.test, co);  // differences b - a
        c.mean_a = pc.mean_b;
        c.mean_b = pc.mean_a;
        c.p_value = pc.p_value;
        c.effect_size = pc.effect_size;
        c.ci_low = pc.ci_low;
        c.ci_high = pc.ci_high;
      } catch (const InvalidInput&) {  // identical score vectors: no evidence of a difference
        c.p_value = 1;
      }
      if (std::isnan(c.p_value)) c.p_value = 1;
      p.push_back(c.p_value);
      rows.push_back(c);
    }
    const std::vector<double> adjusted = AdjustPValues(p, e.statistics.correction);
    for (size_t i = 0; i < rows.size(); ++i) {
      rows[i].p_adjusted = adjusted[i];
      comparisons.push_back(json{{"a", rows[i].a}, {"b", rows[i].b}, {"measure", name}, {"test", rows[i].test},
                                 {"mean_a", rows[i].mean_a}, {"mean_b", rows[i].mean_b}, {"p_value", rows[i].p_value},
                                 {"p_adjusted", rows[i].p_adjusted}, {"effect_size", rows[i].effect_size},
                                 {"ci_low", rows[i].ci_low}, {"ci_high", rows[i].ci_high}});
      report.comparisons.push_back(rows[i]);
    }
  }
  for (const EvalQuery& q : data.queries) report.query_ids.push_back(q.id);
  report.alpha = e.statistics.alpha;

  json dataset_json = {{"path", e.dataset.path},
                       {"format", data.format},
                       {"split", data.split},
                       {"documents", data.corpus.size()},
                       {"queries", data.queries.size()},
                       {"fingerprint", data.fingerprint.Hex()},
                       {"warnings", data.report.warnings}};
  result.results = json{{"run_id", result.run_id},
                        {"experiment", ExperimentToJson(e)},
                        {"dataset", dataset_json},
                        {"variants", variants_json},
                        {"comparisons", comparisons},
                        {"wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()}};
  result.summary_markdown = ReportMarkdown(report);
  const fs::path out(e.output);
  WriteFileAtomic((out / "per_query.csv").string(), csv);
  WriteFileAtomic((out / "per_query.jsonl").string(), jsonl);
  WriteFileAtomic((out / "results.json").string(), result.results.dump(2) + "\n");
  WriteFileAtomic((out / "summary.md").string(), result.summary_markdown);
  WriteFileAtomic((out / "report.html").string(), ReportHtml(report));
  return result;
}

}  // namespace rlm
