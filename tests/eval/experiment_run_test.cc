// `rlm eval run` end to end: the SciFact BM25 quality bar (where ../shared/data exists), the output folder,
// and the crash test: a run killed with SIGKILL mid-way and re-run gives results identical to an
// uninterrupted run, recomputing only the unfinished jobs.
#include "eval/experiment_run.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "core/file.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kShared = fs::path(RLM_SOURCE_DIR) / "../shared/data";

TEST(EvalRun, SciFactBm25ReachesThePublishedScore) {
  if (!fs::exists(kShared / "scifact/corpus.jsonl")) GTEST_SKIP() << "../shared/data/scifact is absent";
  const fs::path out = fs::path(::testing::TempDir()) / "eval-scifact";
  fs::remove_all(out);
  Experiment e;
  e.name = "scifact";
  e.dataset.path = (kShared / "scifact").string();
  e.output = out.string();
  e.metrics = {"ndcg_cut.10", "recall.100", "map"};
  e.variants.push_back(ParseVariantFlag("bm25=bm25"));
  FinalizeExperiment(e);
  const ExperimentRunResult r = RunExperiment(e);
  ASSERT_FALSE(r.interrupted);
  const json& v = r.results["variants"][0];
  EXPECT_EQ(v["queries_evaluated"].get<int>(), 300);
  EXPECT_EQ(v["failed"].get<int>(), 0);
  const double ndcg = v["measures"]["ndcg_cut_10"].get<double>();
  EXPECT_GE(ndcg, 0.675) << "SciFact BM25 nDCG@10";
  RecordProperty("scifact_bm25_ndcg_cut_10", std::to_string(ndcg));
  for (const char* f :
       {"runs/bm25.trec", "per_query.csv", "per_query.jsonl", "results.json", "summary.md", "report.html"}) {
    EXPECT_TRUE(fs::exists(out / f)) << f;
  }
}

// A corpus of text files for synthesised known-item queries.
fs::path MakeFolder(const fs::path& dir) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  const char* words[] = {"alpha",   "beta",   "gamma",  "delta",  "river",  "stone",  "cloud",
                         "forest",  "signal", "matrix", "vector", "token",  "engine", "harbor",
                         "lantern", "meadow", "orbit",  "prism",  "quartz", "raven"};
  std::mt19937 rng(7);
  for (int f = 0; f < 400; ++f) {
    std::string text;
    for (int w = 0; w < 120; ++w) text += std::string(words[rng() % 20]) + std::to_string(rng() % 50) + " ";
    std::ofstream(dir / ("doc" + std::to_string(f) + ".txt")) << text << "\n";
  }
  return dir;
}

int64_t LedgerRows(const fs::path& ledger) {
  sqlite3* db = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(ledger.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 1000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM results", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      n = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return n;
}

std::string Slurp(const fs::path& p) {
  return ReadFile(p.string());
}

TEST(EvalRun, KilledRunResumesToIdenticalResults) {
  const fs::path base = fs::path(::testing::TempDir()) / "eval-kill";
  const fs::path folder = MakeFolder(base / "docs");
  const std::string variants =
      " --variant bm25=bm25 --variant dense=dense,embedder=hash:128 --variant hyb=hybrid,embedder=hash:128,"
      "rerank=mmr --variant chunked=bm25,chunker=fixed,size=200,overlap=0";
  auto command = [&](const fs::path& out) {
    return std::string(RLM_BINARY) + " -q eval run --dataset " + folder.string() +
           " --dataset-format synth --out " + out.string() + variants;
  };
  // The uninterrupted reference.
  const fs::path ref = base / "ref";
  fs::remove_all(ref);
  ASSERT_EQ(std::system((command(ref) + " >/dev/null").c_str()), 0);

  // The same run, killed as soon as the ledger holds some results, then re-run.
  const fs::path out = base / "killed";
  fs::remove_all(out);
  std::vector<std::string> args = {
      RLM_BINARY,         "-q",    "eval",  "run",       "--dataset", folder.string(),
      "--dataset-format", "synth", "--out", out.string()};
  std::istringstream words(variants);
  for (std::string w; words >> w;) args.push_back(w);
  std::vector<char*> argv;  // built before fork: the child calls only async-signal-safe functions
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int64_t rows = 0;
  for (int i = 0; i < 3000 && rows <= 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    if (fs::exists(out / "ledger.sqlite")) rows = LedgerRows(out / "ledger.sqlite");
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed (rows " << rows << ")";
  EXPECT_FALSE(fs::exists(out / "results.json"));
  ASSERT_EQ(std::system((command(out) + " >/dev/null").c_str()), 0);

  const json a = json::parse(Slurp(ref / "results.json"));
  const json b = json::parse(Slurp(out / "results.json"));
  EXPECT_EQ(a["run_id"], b["run_id"]);
  size_t resumed = 0;
  for (size_t v = 0; v < a["variants"].size(); ++v) {
    EXPECT_EQ(a["variants"][v]["measures"], b["variants"][v]["measures"]) << a["variants"][v]["name"];
    const std::string name = a["variants"][v]["name"];
    EXPECT_EQ(Slurp(ref / "runs" / (name + ".trec")), Slurp(out / "runs" / (name + ".trec"))) << name;
    resumed += b["variants"][v]["resumed"].get<size_t>();
  }
  EXPECT_GT(resumed, 0u) << "the re-run recomputed everything";
  // Per-query metrics are identical (latencies, of course, are not).
  auto metrics = [](const fs::path& file) {
    std::map<std::string, json> m;
    std::istringstream in(Slurp(file));
    for (std::string line; std::getline(in, line);) {
      const json j = json::parse(line);
      m[j["variant"].get<std::string>() + "/" + j["query_id"].get<std::string>()] =
          j.value("metrics", json());
    }
    return m;
  };
  const auto ma = metrics(ref / "per_query.jsonl");
  EXPECT_GT(ma.size(), 100u);
  EXPECT_EQ(ma, metrics(out / "per_query.jsonl"));
}

}  // namespace
}  // namespace rlm
