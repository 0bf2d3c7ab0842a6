// The result model (eval/results.h) and the comparisons (eval/comparison.h): queries keyed by id, empty
// rankings scored 0 as trec_eval -c scores them, failures in no mean, every comparison paired by query id
// with B - A signs. Oracles: the hand-checked repro, and tests/fixtures/pairing/cases.json, where
// real trec_eval 10.0 (-c -q) and scipy 1.10 scored random evaluations with empty and failed queries
// (tools/gen_pairing_fixtures.py).
#include "eval/results.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "eval/report.h"
#include "eval/results_fixture.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Printed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

JobResult Ranked(const std::string& variant, const std::string& qid, std::vector<ScoredDoc> docs) {
  JobResult r;
  r.variant = variant;
  r.query_id = qid;
  r.docs = std::move(docs);
  return r;
}

// The repro: corpus d1..d5; q1 "banana split" -> d2, q2 "cherry pie" -> d3, q3 "the" -> d5,
// q4 "bananas" -> d2. A (stemmed, stop words removed) retrieves nothing for q3; B (neither) nothing for q4.
// These are the rankings rlm's BM25 gives (the CLI case eval.test runs them for real).
struct Repro {
  EvalDataset data;
  RunOutcome outcome;
  Repro() {
    for (int d = 1; d <= 5; ++d) data.corpus.push_back(EvalDocument{"d" + std::to_string(d), "", "."});
    const char* rel[] = {"d2", "d3", "d5", "d2"};
    for (int q = 1; q <= 4; ++q) {
      EvalQuery query;
      query.id = "q" + std::to_string(q);
      query.text = "text";
      query.judgments.push_back(EvalJudgment{rel[q - 1], 0, 1});
      data.queries.push_back(query);
    }
    // Ordinals: d1 = 0 ... d5 = 4.
    VariantRun a{.name = "A"};
    a.results = {Ranked("A", "q1", {{1, 2.2f}, {0, 0.85f}}), Ranked("A", "q2", {{2, 2.2f}, {0, 0.85f}}),
                 Ranked("A", "q3", {}), Ranked("A", "q4", {{0, 0.85f}, {1, 0.85f}})};
    VariantRun b{.name = "B"};
    b.results = {Ranked("B", "q1", {{1, 2.5f}, {0, 0.86f}}), Ranked("B", "q2", {{2, 2.5f}, {0, 0.86f}}),
                 Ranked("B", "q3", {{3, 0.75f}, {4, 0.59f}, {0, 0.53f}}), Ranked("B", "q4", {})};
    outcome.variants = {a, b};
  }
};

TEST(EvalResults, EmptyRankingsScoreZeroAndQueriesPairById) {
  const Repro repro;
  ResultsInput in;
  in.dataset = &repro.data;
  in.outcome = &repro.outcome;
  in.metrics = {"ndcg_cut.10"};
  in.comparison.test = ComparisonTest::kWilcoxon;
  const EvalResults r = BuildEvalResults(in);
  ASSERT_EQ(r.variants.size(), 2u);
  // trec_eval -c on the same runs: A 0.7500, B 0.6577 (rlm reported A 1.0000 when it dropped q3).
  EXPECT_EQ(Printed(r.variants[0].summary[0]), "0.7500");
  EXPECT_EQ(Printed(r.variants[1].summary[0]), "0.6577");
  EXPECT_EQ(r.variants[0].evaluated, 4u);
  EXPECT_EQ(r.variants[0].empty, 1u);
  EXPECT_EQ(r.variants[0].queries[2].status, QueryStatus::kEmpty);
  EXPECT_EQ(r.variants[1].queries[3].status, QueryStatus::kEmpty);
  // Paired by id: q3 (A 0, B 0.6309) is B's gain, q4 (A 1, B 0) its loss; q1 and q2 tie.
  ASSERT_EQ(r.comparisons.size(), 1u);
  const Comparison& c = r.comparisons[0];
  EXPECT_EQ(c.a, "A");
  EXPECT_EQ(c.b, "B");
  EXPECT_EQ(c.queries, 4u);
  EXPECT_EQ(c.dropped(), 0u);
  EXPECT_EQ(c.better, 1u);
  EXPECT_EQ(c.worse, 1u);
  EXPECT_EQ(c.tied, 2u);
  EXPECT_NEAR(c.difference, (1 / std::log2(3.0) - 1) / 4, 1e-12);  // (0.6309 - 1) / 4, B - A
  EXPECT_LT(c.ci_low, c.difference);
  EXPECT_GT(c.ci_high, c.difference);
  EXPECT_TRUE(r.warnings.empty());
  // Per-query outputs list every judged query of both variants, with its status.
  const std::string csv = PerQueryCsv(r);
  EXPECT_NE(csv.find("A,q3,empty,0,0\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("B,q4,empty,0,0\n"), std::string::npos) << csv;
}

TEST(EvalResults, FailedQueriesAreInNoMeanAndLeaveQueriesUnpairedWithAWarning) {
  Repro repro;
  repro.outcome.variants[1].results[0].ok = false;  // B's q1 failed
  repro.outcome.variants[1].results[0].error = "server said no";
  repro.outcome.variants[1].results[0].docs.clear();
  ResultsInput in;
  in.dataset = &repro.data;
  in.outcome = &repro.outcome;
  in.metrics = {"ndcg_cut.10"};
  const EvalResults r = BuildEvalResults(in);
  const VariantResults& b = r.variants[1];
  EXPECT_EQ(b.failed, 1u);
  EXPECT_EQ(b.evaluated, 3u);
  ASSERT_EQ(b.failures.size(), 1u);
  EXPECT_EQ(b.failures[0].error, "server said no");
  EXPECT_NEAR(b.summary[0], (1 + 1 / std::log2(3.0) + 0) / 3, 1e-12);  // q2, q3, q4 only
  const Comparison& c = r.comparisons[0];
  EXPECT_EQ(c.queries, 3u);
  EXPECT_EQ(c.only_a, 1u);
  EXPECT_EQ(c.only_b, 0u);
  ASSERT_FALSE(r.warnings.empty());
  bool pairing = false;
  for (const std::string& w : r.warnings)
    pairing = pairing || w.find("1 evaluated only in A") != std::string::npos;
  EXPECT_TRUE(pairing) << r.warnings[0];
  // The warning reaches results.json, summary.md and the report.
  const std::string text = ResultsJson(r)["warnings"].dump();
  EXPECT_NE(text.find("evaluated only in A"), std::string::npos);
  EXPECT_NE(ReportMarkdown(r).find("evaluated only in A"), std::string::npos);
  EXPECT_NE(ReportHtml(r).find("evaluated only in A"), std::string::npos);
  EXPECT_NE(PerQueryJsonl(r).find("\"status\":\"failed\""), std::string::npos);
}

// Every comparison is kept, whatever the pairing leaves: none has fewer than two pairs silently dropped.
TEST(EvalResults, ComparisonsWithoutPairsAreReportedNotDropped) {
  Repro repro;
  for (size_t q = 0; q < 3; ++q) repro.outcome.variants[1].results[q].ok = false;
  ResultsInput in;
  in.dataset = &repro.data;
  in.outcome = &repro.outcome;
  in.metrics = {"ndcg_cut.10", "P.5"};
  const EvalResults r = BuildEvalResults(in);
  ASSERT_EQ(r.comparisons.size(), 2u);
  for (const Comparison& c : r.comparisons) {
    EXPECT_EQ(c.queries, 1u);
    EXPECT_EQ(c.p_value, 1);
    EXPECT_FALSE(c.note.empty());
  }
}

// The measures keep the order the user listed them in (trec_eval prints its own order).
TEST(EvalResults, MeasuresInTheUsersOrder) {
  const Repro repro;
  ResultsInput in;
  in.dataset = &repro.data;
  in.outcome = &repro.outcome;
  in.metrics = {"recall.100", "ndcg_cut.10", "P.5,10", "num_q"};
  const EvalResults r = BuildEvalResults(in);
  std::vector<std::string> names;
  for (const MeasureColumn& m : r.measures) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{"recall_100", "ndcg_cut_10", "P_5", "P_10", "num_q"}));
  EXPECT_EQ(r.PrimaryMeasure(), 0);
}

// Against trec_eval -c and scipy on 30 random evaluations (tools/gen_pairing_fixtures.py).
TEST(EvalResults, RandomEvaluationsMatchTrecEvalAndScipy) {
  const fs::path path = fs::path(RLM_SOURCE_DIR) / "tests/fixtures/pairing/cases.json";
  std::ifstream file(path);
  ASSERT_TRUE(file) << path;
  const json doc = json::parse(file);
  const std::vector<std::string> metrics = doc["measures"];
  size_t checked_values = 0, checked_tests = 0;
  for (size_t ci = 0; ci < doc["cases"].size(); ++ci) {
    const json& c = doc["cases"][ci];
    SCOPED_TRACE("case " + std::to_string(ci));
    EvalDataset data;
    for (int d = 0; d < c["documents"].get<int>(); ++d) {
      data.corpus.push_back(EvalDocument{"d" + std::to_string(d), "", "."});
      data.doc_index.emplace("d" + std::to_string(d), static_cast<uint32_t>(d));
    }
    for (const json& q : c["queries"]) {
      EvalQuery query;
      query.id = q["id"];
      query.text = q["text"];
      for (const auto& [doc_id, grade] : q["judgments"].items()) {
        query.judgments.push_back(EvalJudgment{doc_id, data.FindDoc(doc_id), grade.get<int32_t>()});
      }
      data.queries.push_back(std::move(query));
    }
    RunOutcome outcome;
    for (const json& v : c["variants"]) {
      VariantRun run;
      run.name = v["name"];
      for (const json& r : v["results"]) {
        JobResult j;
        j.variant = run.name;
        j.query_id = r["qid"];
        j.ok = r["status"] == "ok";
        if (!j.ok) j.error = "failed";
        if (j.ok) {
          for (const json& d : r["docs"]) {
            j.docs.push_back(ScoredDoc{data.FindDoc(d[0].get<std::string>()), d[1].get<float>()});
          }
        }
        run.results.push_back(std::move(j));
      }
      outcome.variants.push_back(std::move(run));
    }
    for (ComparisonTest test : {ComparisonTest::kT, ComparisonTest::kWilcoxon}) {
      ResultsInput in;
      in.dataset = &data;
      in.outcome = &outcome;
      in.metrics = metrics;
      in.bootstrap = 200;
      in.comparison.test = test;
      in.comparison.correction = PValueCorrection::kNone;
      in.comparison.stats.wilcoxon.method = WilcoxonMethod::kApprox;
      const EvalResults r = BuildEvalResults(in);
      ASSERT_EQ(r.variants.size(), c["expected"].size());
      for (size_t v = 0; v < r.variants.size(); ++v) {
        const VariantResults& got = r.variants[v];
        const json& want = c["expected"][v];
        ASSERT_EQ(got.name, want["name"]);
        EXPECT_EQ(got.evaluated, want["evaluated"].get<size_t>());
        EXPECT_EQ(got.empty, want["empty"].get<size_t>());
        EXPECT_EQ(got.failed, want["failed"].get<size_t>());
        if (got.evaluated == 0) continue;
        const json& table = want["trec_eval"];
        for (size_t m = 0; m < r.measures.size(); ++m) {
          EXPECT_EQ(Printed(got.summary[m]), table["all"][r.measures[m].name].get<std::string>())
              << got.name << " " << r.measures[m].name;
          for (size_t q = 0; q < r.query_ids.size(); ++q) {
            if (got.queries[q].status == QueryStatus::kFailed) {
              EXPECT_FALSE(table.contains(r.query_ids[q])) << r.query_ids[q];
              continue;
            }
            EXPECT_EQ(Printed(got.queries[q].values[m]),
                      table[r.query_ids[q]][r.measures[m].name].get<std::string>())
                << got.name << " " << r.query_ids[q] << " " << r.measures[m].name;
            ++checked_values;
          }
        }
      }
      for (const json& want : c["comparisons"]) {
        const Comparison* got = nullptr;
        for (const Comparison& x : r.comparisons) {
          if (x.a == want["a"] && x.b == want["b"] && x.measure == want["measure"]) got = &x;
        }
        ASSERT_NE(got, nullptr) << want.dump();
        EXPECT_EQ(got->queries, want["queries"].get<size_t>());
        EXPECT_EQ(got->only_a, want["only_a"].get<size_t>());
        EXPECT_EQ(got->only_b, want["only_b"].get<size_t>());
        EXPECT_EQ(got->better, want["better"].get<size_t>());
        EXPECT_EQ(got->worse, want["worse"].get<size_t>());
        EXPECT_EQ(got->tied, want["tied"].get<size_t>());
        if (want.contains("mean_a")) {
          EXPECT_NEAR(got->mean_a, want["mean_a"].get<double>(), 1e-12);
          EXPECT_NEAR(got->mean_b, want["mean_b"].get<double>(), 1e-12);
        }
        const char* key = test == ComparisonTest::kT ? "t_p" : "wilcoxon_approx_p";
        if (!want.contains(key)) {
          EXPECT_EQ(got->p_value, 1) << want.dump();
          EXPECT_FALSE(got->note.empty()) << want.dump();
          continue;
        }
        if (want["d_z"]
                .is_null()) {  // every difference the same: scipy's t says p = 0, rlm calls it undefined
          EXPECT_EQ(got->p_value, 1) << want.dump();
          continue;
        }
        const double p = want[key].get<double>();
        EXPECT_NEAR(got->p_value, p, 1e-9 * std::max(1.0, p)) << want.dump();
        if (want["d_z"].is_number())
          EXPECT_NEAR(got->effect_size, want["d_z"].get<double>(), 1e-9) << want.dump();
        ++checked_tests;
      }
    }
  }
  EXPECT_GT(checked_values, 1000u);
  EXPECT_GT(checked_tests, 100u);
}

}  // namespace
}  // namespace rlm
