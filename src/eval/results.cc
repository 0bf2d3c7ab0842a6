#include "eval/results.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <unordered_map>

#include "core/error.h"

namespace rlm {
namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
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

// A number for JSON: counts as integers, NaN (no value) as null.
json Value(const MeasureColumn& m, double v) {
  if (std::isnan(v)) return nullptr;
  if (m.kind == trec::ValueKind::kCount) return static_cast<int64_t>(v);
  return v;
}

// The dataset's judgments as trec_eval's in-memory qrels, and each judged query's relevant documents.
struct JudgedQueries {
  trec::Qrels qrels;
  std::vector<size_t> dataset_index;  // judged query -> index in EvalDataset::queries, dataset order
};

JudgedQueries Judged(const EvalDataset& data) {
  JudgedQueries j;
  j.qrels.docs = std::make_shared<trec::DocIdTable>();
  for (size_t q = 0; q < data.queries.size(); ++q) {
    const EvalQuery& query = data.queries[q];
    if (query.judgments.empty()) continue;
    j.dataset_index.push_back(q);
    trec::QrelsQuery& qq = j.qrels.queries.emplace_back();
    qq.qid = query.id;
    for (const EvalJudgment& e : query.judgments) {
      qq.judgments.push_back(trec::Judgment{j.qrels.docs->Intern(e.doc_id), e.grade, 0});
    }
    std::sort(qq.judgments.begin(), qq.judgments.end(),
              [](const trec::Judgment& a, const trec::Judgment& b) { return a.doc < b.doc; });
  }
  std::sort(j.qrels.queries.begin(), j.qrels.queries.end(),
            [](const trec::QrelsQuery& a, const trec::QrelsQuery& b) { return a.qid < b.qid; });
  return j;
}

}  // namespace

std::string_view QueryStatusName(QueryStatus status) {
  switch (status) {
    case QueryStatus::kOk:
      return "ok";
    case QueryStatus::kEmpty:
      return "empty";
    case QueryStatus::kFailed:
      return "failed";
  }
  return "?";
}

int EvalResults::MeasureIndex(std::string_view name) const {
  for (size_t i = 0; i < measures.size(); ++i) {
    if (measures[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

int EvalResults::PrimaryMeasure() const {
  for (size_t i = 0; i < measures.size(); ++i) {
    if (measures[i].compared()) return static_cast<int>(i);
  }
  return -1;
}

std::vector<MeasureColumn> MeasureColumns(const trec::MeasureSet& measures, std::span<const std::string> args,
                                          std::vector<size_t>* order) {
  // Each argument alone names a group of printed values; the groups in argument order, first mention wins.
  std::vector<std::string> names;
  auto add = [&](const std::string& name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  };
  for (const std::string& arg : args) {
    const trec::MeasureSet one = trec::MeasureSet::FromArgs(std::span(&arg, 1));
    for (const trec::MeasureValue& v : one.values()) add(v.name);
  }
  for (const trec::MeasureValue& v : measures.values()) add(v.name);  // `official` when args is empty
  std::vector<MeasureColumn> out;
  order->clear();
  for (const std::string& name : names) {
    const int i = measures.IndexOf(name);
    if (i < 0) continue;  // a parameter the combined set resolved differently (first parameters win)
    const trec::MeasureValue& v = measures.values()[static_cast<size_t>(i)];
    if (v.kind == trec::ValueKind::kRunid || v.kind == trec::ValueKind::kRelstring) continue;
    out.push_back(MeasureColumn{v.name, v.kind, v.per_query, v.summary});
    order->push_back(static_cast<size_t>(i));
  }
  return out;
}

EvalResults BuildEvalResults(const ResultsInput& in) {
  const EvalDataset& data = *in.dataset;
  const RunOutcome& outcome = *in.outcome;
  EvalResults r;
  r.alpha = in.alpha;
  r.test = std::string(ComparisonTestName(in.comparison.test));
  r.correction = std::string(PValueCorrectionName(in.comparison.correction));
  const trec::MeasureSet set = trec::MeasureSet::FromArgs(in.metrics);
  std::vector<size_t> order;
  r.measures = MeasureColumns(set, in.metrics, &order);

  const JudgedQueries judged = Judged(data);
  std::unordered_map<std::string_view, size_t> judged_row;  // query id -> row in r.query_ids
  for (size_t q : judged.dataset_index) {
    const EvalQuery& query = data.queries[q];
    judged_row.emplace(query.id, r.query_ids.size());
    r.query_ids.push_back(query.id);
    r.query_texts.push_back(query.text);
    std::vector<std::string>& rel = r.relevant.emplace_back();
    for (const EvalJudgment& e : query.judgments) {
      if (e.grade >= 1) rel.push_back(e.doc_id);
    }
  }
  r.queries_without_judgments = data.queries.size() - r.query_ids.size();

  // The baseline first, then the others in experiment order.
  std::vector<size_t> variant_order;
  for (size_t v = 0; v < outcome.variants.size(); ++v) {
    if (outcome.variants[v].name == in.baseline) variant_order.push_back(v);
  }
  for (size_t v = 0; v < outcome.variants.size(); ++v) {
    if (outcome.variants[v].name != in.baseline) variant_order.push_back(v);
  }
  r.baseline = variant_order.empty() ? "" : outcome.variants[variant_order[0]].name;

  for (size_t vi : variant_order) {
    const VariantRun& run = outcome.variants[vi];
    VariantResults& out = r.variants.emplace_back();
    out.name = run.name;
    out.resumed = run.resumed;
    out.vectors_computed = run.vectors_computed;
    out.embed_seconds = run.embed_seconds;
    out.index_seconds = run.index_seconds;
    out.query_seconds = run.query_seconds;
    out.queries.resize(r.query_ids.size());
    std::vector<const JobResult*> job(r.query_ids.size(), nullptr);
    for (const JobResult& j : run.results) {
      if (!j.ok) out.failures.push_back(FailedQuery{j.query_id, j.attempts, j.error});
      if (j.ok) out.latency_ms.push_back(static_cast<double>(j.latency_us) / 1000.0);
      auto it = judged_row.find(j.query_id);
      if (it == judged_row.end()) {
        ++out.ran_without_judgments;
      } else {
        job[it->second] = &j;
      }
    }

    // trec_eval -c over the judged queries that did not fail: their qrels, and the rankings of those that
    // retrieved something (the others are evaluated as empty rankings).
    trec::Qrels qrels;
    qrels.docs = judged.qrels.docs;
    trec::Run ranked;
    ranked.runid = run.name;
    for (const trec::QrelsQuery& qq : judged.qrels.queries) {
      const size_t row = judged_row.at(qq.qid);
      QueryResult& qr = out.queries[row];
      const JobResult* j = job[row];
      if (j == nullptr || !j->ok) {
        qr.status = QueryStatus::kFailed;
        qr.attempts = j ? j->attempts : 0;
        qr.error = j ? j->error : "the query has no result (the run did not finish)";
        if (j == nullptr) out.failures.push_back(FailedQuery{qq.qid, 0, qr.error});
        ++out.failed;
        continue;
      }
      qrels.queries.push_back(qq);
      qr.attempts = j->attempts;
      qr.latency_ms = static_cast<double>(j->latency_us) / 1000.0;
      qr.status = j->docs.empty() ? QueryStatus::kEmpty : QueryStatus::kOk;
      if (j->docs.empty()) {
        ++out.empty;
        continue;
      }
      trec::RunQuery& rq = ranked.queries.emplace_back();
      rq.qid = qq.qid;
      for (size_t i = 0; i < j->docs.size(); ++i) {
        const uint32_t doc = j->docs[i].doc;
        if (doc >= data.corpus.size())
          throw InternalError("a ranking names document ordinal " + std::to_string(doc));
        const std::string& id = data.corpus[doc].id;
        rq.entries.push_back(trec::RunEntry{id, static_cast<double>(j->docs[i].score), 0, 0});
        if (i < EvalResults::kTopDocs) qr.top_docs.push_back(id);
      }
    }
    trec::EvalOptions options;
    options.average_complete = true;
    const trec::Evaluation ev = trec::Evaluate(qrels, ranked, set, options);
    out.evaluated = static_cast<size_t>(ev.num_q);
    out.summary.assign(r.measures.size(), kNaN);
    for (size_t m = 0; m < r.measures.size(); ++m) {
      if (r.measures[m].summary) out.summary[m] = ev.summary[order[m]];
    }
    for (const trec::QueryScores& qs : ev.queries) {
      QueryResult& qr = out.queries[judged_row.at(qs.qid)];
      qr.values.assign(r.measures.size(), kNaN);
      for (size_t m = 0; m < r.measures.size(); ++m) {
        if (r.measures[m].per_query) qr.values[m] = qs.values[order[m]];
      }
    }
    out.ci.assign(r.measures.size(), ConfidenceInterval{});
    for (size_t m = 0; m < r.measures.size(); ++m) {
      if (!r.measures[m].compared()) continue;
      std::vector<double> values;
      for (const QueryResult& qr : out.queries) {
        if (qr.status != QueryStatus::kFailed) values.push_back(qr.values[m]);
      }
      if (values.size() >= 2) {
        BootstrapOptions bo;
        bo.resamples = in.bootstrap;
        bo.seed = in.seed;
        out.ci[m] = BootstrapMeanCI(values, bo);
      } else {
        const double mean = values.empty() ? kNaN : values[0];
        out.ci[m] = ConfidenceInterval{mean, mean, mean};
      }
    }
    if (out.failed > 0) {
      r.warnings.push_back("variant " + out.name + ": " + std::to_string(out.failed) +
                           " judged queries failed and are in none of its means (see failures)");
    }
  }

  // Comparisons: every pair, paired by query id, on every compared measure.
  for (size_t m = 0; m < r.measures.size(); ++m) {
    if (!r.measures[m].compared()) continue;
    std::vector<ScoresById> systems;
    for (const VariantResults& v : r.variants) {
      ScoresById& s = systems.emplace_back();
      s.system = v.name;
      for (size_t q = 0; q < r.query_ids.size(); ++q) {
        if (v.queries[q].status != QueryStatus::kFailed)
          s.values.emplace(r.query_ids[q], v.queries[q].values[m]);
      }
    }
    std::vector<Comparison> cs = CompareAllPairs(systems, r.measures[m].name, in.comparison);
    if (static_cast<int>(m) == r.PrimaryMeasure()) {
      for (std::string& w : PairingWarnings(cs)) r.warnings.push_back(std::move(w));
    }
    r.comparisons.insert(r.comparisons.end(), cs.begin(), cs.end());
  }
  for (const std::string& w : data.report.warnings) r.warnings.push_back("dataset: " + w);
  return r;
}

json ResultsJson(const EvalResults& r) {
  json variants = json::array();
  for (const VariantResults& v : r.variants) {
    json measures = json::object();
    json ci = json::object();
    for (size_t m = 0; m < r.measures.size(); ++m) {
      if (r.measures[m].summary) measures[r.measures[m].name] = Value(r.measures[m], v.summary[m]);
      if (r.measures[m].compared()) ci[r.measures[m].name] = {v.ci[m].low, v.ci[m].high};
    }
    json failures = json::array();
    for (const FailedQuery& f : v.failures) {
      failures.push_back(json{{"query_id", f.query_id}, {"attempts", f.attempts}, {"error", f.error}});
    }
    std::vector<double> latency = v.latency_ms;
    std::sort(latency.begin(), latency.end());
    variants.push_back(json{
        {"name", v.name},
        {"measures", measures},
        {"ci95", ci},
        {"queries_evaluated", v.evaluated},
        {"queries_empty", v.empty},
        {"queries_run", v.latency_ms.size()},
        {"failed", v.failed},
        {"failures", failures},
        {"queries_without_judgments", v.ran_without_judgments},
        {"resumed", v.resumed},
        {"vectors_computed", v.vectors_computed},
        {"timings_s", {{"embed", v.embed_seconds}, {"index", v.index_seconds}, {"query", v.query_seconds}}},
        {"latency_ms",
         {{"p50", SortedQuantile(latency, 0.5)},
          {"p95", SortedQuantile(latency, 0.95)},
          {"max", SortedQuantile(latency, 1)}}}});
  }
  json comparisons = json::array();
  for (const Comparison& c : r.comparisons) {
    comparisons.push_back(json(ComparisonJson(c)));
  }
  json measure_names = json::array();
  for (const MeasureColumn& m : r.measures) measure_names.push_back(m.name);
  return json{
      {"run_id", r.run_id},
      {"experiment", r.experiment_json},
      {"dataset", r.dataset_json},
      {"measures", measure_names},
      {"judged_queries", r.query_ids.size()},
      {"queries_without_judgments", r.queries_without_judgments},
      {"statistics",
       {{"test", r.test},
        {"correction", r.correction},
        {"alpha", r.alpha},
        {"baseline", r.baseline},
        {"pairs", "all"},
        {"sign", "b - a: difference, effect_size (Cohen's d_z), ci_low/ci_high and better are B minus A"},
        {"effect_size", "cohens_d_z"}}},
      {"variants", variants},
      {"comparisons", comparisons},
      {"warnings", r.warnings},
      {"wall_seconds", r.wall_seconds}};
}

std::string PerQueryCsv(const EvalResults& r) {
  std::string csv = "variant,query_id,status,latency_ms";
  for (const MeasureColumn& m : r.measures) {
    if (m.per_query) csv += "," + CsvField(m.name);
  }
  csv += "\n";
  for (const VariantResults& v : r.variants) {
    for (size_t q = 0; q < r.query_ids.size(); ++q) {
      const QueryResult& qr = v.queries[q];
      csv += CsvField(v.name) + "," + CsvField(r.query_ids[q]) + "," +
             std::string(QueryStatusName(qr.status)) + ",";
      if (qr.status != QueryStatus::kFailed) csv += Num(qr.latency_ms);
      for (size_t m = 0; m < r.measures.size(); ++m) {
        if (!r.measures[m].per_query) continue;
        csv += ",";
        if (qr.status != QueryStatus::kFailed) csv += Num(qr.values[m]);
      }
      csv += "\n";
    }
  }
  return csv;
}

std::string PerQueryJsonl(const EvalResults& r) {
  std::string out;
  for (const VariantResults& v : r.variants) {
    for (size_t q = 0; q < r.query_ids.size(); ++q) {
      const QueryResult& qr = v.queries[q];
      json row = {{"variant", v.name}, {"query_id", r.query_ids[q]}, {"status", QueryStatusName(qr.status)}};
      if (qr.status == QueryStatus::kFailed) {
        row["attempts"] = qr.attempts;
        row["error"] = qr.error;
      } else {
        row["latency_ms"] = qr.latency_ms;
        json metrics = json::object();
        for (size_t m = 0; m < r.measures.size(); ++m) {
          if (r.measures[m].per_query) metrics[r.measures[m].name] = Value(r.measures[m], qr.values[m]);
        }
        row["metrics"] = std::move(metrics);
      }
      out += row.dump() + "\n";
    }
  }
  return out;
}

}  // namespace rlm
