// scifact_bm25_bench: rlm's BM25 retriever and SQLite FTS5's bm25() side by side on one BEIR test split
// (issue 4's peer), same documents (`title text`), same queries, same depth, one thread each.
//
//   rlm:  VariantRetriever with the default analyzer (what `rlm eval run --variant b=bm25` runs)
//   FTS5: fts5(body, tokenize='porter unicode61') in memory; a query is its words OR-ed
//         (each [A-Za-z0-9]+ run, quoted), ORDER BY bm25(fts) LIMIT depth
//
// Prints the index build time, queries/s (best of ROUNDS passes over all queries) and nDCG@10 of each
// ranking, computed by rlm's trec_eval implementation.
// Usage: scifact_bm25_bench DATASET_DIR [DEPTH (1000)] [ROUNDS (3)]
#include <sqlite3.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "eval/dataset.h"
#include "eval/measures.h"
#include "eval/retriever.h"
#include "eval/trec.h"

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

void Check(int rc, sqlite3* db, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
  }
}

std::string FtsQuery(const std::string& text) {
  std::string q, word;
  auto flush = [&] {
    if (word.empty()) return;
    q += (q.empty() ? "\"" : " OR \"") + word + "\"";
    word.clear();
  };
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word.push_back(c);
    } else {
      flush();
    }
  }
  flush();
  return q;
}

std::string Score(double v) {  // enough digits that no two different scores tie in the run file
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

double Ndcg10(const rlm::EvalDataset& data, const std::string& run_text) {
  std::string qrels;
  for (const rlm::EvalQuery& q : data.queries) {
    for (const rlm::EvalJudgment& j : q.judgments) qrels += q.id + " 0 " + j.doc_id + " " + std::to_string(j.grade) + "\n";
  }
  const std::vector<std::string> m = {"ndcg_cut.10"};
  const rlm::trec::MeasureSet measures = rlm::trec::MeasureSet::FromArgs(m);
  const rlm::trec::Evaluation e =
      rlm::trec::Evaluate(rlm::trec::ParseQrels(qrels, "qrels"), rlm::trec::ParseRun(run_text, "run"), measures);
  return e.summary[static_cast<size_t>(measures.IndexOf("ndcg_cut_10"))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: scifact_bm25_bench DATASET_DIR [DEPTH] [ROUNDS]\n");
    return 2;
  }
  const size_t depth = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1000;
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
  try {
    tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
    rlm::DatasetSpec spec;
    spec.path = argv[1];
    const rlm::EvalDataset data = rlm::LoadDataset(spec);
    std::vector<std::string> docs;
    for (const rlm::EvalDocument& d : data.corpus) docs.push_back(d.title.empty() ? d.text : d.title + " " + d.text);
    std::printf("%zu documents, %zu queries, depth %zu, one thread, best of %d passes\n", docs.size(),
                data.queries.size(), depth, rounds);

    // rlm
    auto t0 = Clock::now();
    const rlm::CorpusUnits units = rlm::SplitCorpus(docs, "", {});
    rlm::RetrieverConfig config;
    config.depth = depth;
    const rlm::VariantRetriever retriever(config, units, {}, 0);
    const double rlm_build = Since(t0);
    double rlm_best = 1e9;
    std::vector<std::vector<rlm::ScoredDoc>> rlm_hits(data.queries.size());
    for (int r = 0; r < rounds; ++r) {  // timed: retrieval only; the run text is written afterwards
      t0 = Clock::now();
      for (size_t i = 0; i < data.queries.size(); ++i) rlm_hits[i] = retriever.Retrieve(data.queries[i].text, {});
      rlm_best = std::min(rlm_best, Since(t0));
    }
    std::string rlm_run;
    for (size_t i = 0; i < data.queries.size(); ++i) {
      int rank = 0;
      for (const rlm::ScoredDoc& d : rlm_hits[i]) {
        rlm_run += data.queries[i].id + " Q0 " + data.corpus[d.doc].id + " " + std::to_string(++rank) + " " +
                   Score(d.score) + " rlm\n";
      }
    }

    // SQLite FTS5
    sqlite3* db = nullptr;
    Check(sqlite3_open(":memory:", &db), db, "open");
    t0 = Clock::now();
    Check(sqlite3_exec(db, "CREATE VIRTUAL TABLE fts USING fts5(body, tokenize='porter unicode61'); BEGIN",
                       nullptr, nullptr, nullptr), db, "create");
    sqlite3_stmt* ins = nullptr;
    Check(sqlite3_prepare_v2(db, "INSERT INTO fts(rowid, body) VALUES(?, ?)", -1, &ins, nullptr), db, "prepare");
    for (size_t i = 0; i < docs.size(); ++i) {
      sqlite3_bind_int64(ins, 1, static_cast<sqlite3_int64>(i));
      sqlite3_bind_text(ins, 2, docs[i].data(), static_cast<int>(docs[i].size()), SQLITE_STATIC);
      Check(sqlite3_step(ins), db, "insert");
      sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    Check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr), db, "commit");
    const double fts_build = Since(t0);
    sqlite3_stmt* sel = nullptr;
    Check(sqlite3_prepare_v2(db, "SELECT rowid, bm25(fts) FROM fts WHERE fts MATCH ? ORDER BY bm25(fts) LIMIT ?",
                             -1, &sel, nullptr), db, "prepare");
    std::vector<std::string> fts_queries;
    for (const rlm::EvalQuery& q : data.queries) fts_queries.push_back(FtsQuery(q.text));
    double fts_best = 1e9;
    std::vector<std::vector<std::pair<int64_t, double>>> fts_hits(data.queries.size());
    for (int r = 0; r < rounds; ++r) {
      t0 = Clock::now();
      for (size_t i = 0; i < data.queries.size(); ++i) {
        fts_hits[i].clear();
        if (fts_queries[i].empty()) continue;
        sqlite3_bind_text(sel, 1, fts_queries[i].data(), static_cast<int>(fts_queries[i].size()), SQLITE_STATIC);
        sqlite3_bind_int64(sel, 2, static_cast<sqlite3_int64>(depth));
        int rc;
        while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
          fts_hits[i].push_back({sqlite3_column_int64(sel, 0), sqlite3_column_double(sel, 1)});
        }
        Check(rc, db, "query");
        sqlite3_reset(sel);
      }
      fts_best = std::min(fts_best, Since(t0));
    }
    std::string fts_run;
    for (size_t i = 0; i < data.queries.size(); ++i) {
      int rank = 0;
      for (const auto& [row, bm25] : fts_hits[i]) {  // bm25() is lower-is-better: the score is its negation
        fts_run += data.queries[i].id + " Q0 " + data.corpus[static_cast<size_t>(row)].id + " " +
                   std::to_string(++rank) + " " + Score(-bm25) + " fts5\n";
      }
    }
    sqlite3_finalize(sel);
    sqlite3_close(db);

    const double n = static_cast<double>(data.queries.size());
    std::printf("| retriever | index build s | queries/s (1 thread) | nDCG@10 |\n|---|---:|---:|---:|\n");
    std::printf("| rlm BM25 (default analyzer, k1 1.2, b 0.75) | %.3f | %.0f | %.4f |\n", rlm_build, n / rlm_best,
                Ndcg10(data, rlm_run));
    std::printf("| SQLite %s FTS5 bm25() (porter unicode61) | %.3f | %.0f | %.4f |\n", sqlite3_libversion(), fts_build,
                n / fts_best, Ndcg10(data, fts_run));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scifact_bm25_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
