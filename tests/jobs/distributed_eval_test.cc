// Distributed evaluation runs, end to end with real processes: a redis-server (appendonly) started here,
// `rlm worker` processes with their own folders and caches, and `rlm eval run --redis` as the coordinator.
// Every run is compared with the same experiment run in one process: the run files must be byte-identical
// and every job counted exactly once, whatever is killed or restarted on the way.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/rlm_process.h"
#include "jobs/redis.h"
#include "jobs/redis_server.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;
using testing_redis::RedisServer;

using Process = testing_cli::RlmProcess;
using testing_cli::Slurp;

class DistributedEvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::Available()) GTEST_SKIP() << "redis-server is not installed (scripts/setup installs it)";
    dir_ = fs::temp_directory_path() / ("rlm-dist-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    server_ = std::make_unique<RedisServer>(dir_ / "redis", /*appendonly=*/true);
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    WriteDataset(dir_ / "data");
  }
  void TearDown() override {
    workers_.clear();
    server_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // A BEIR folder: documents of random words from a small vocabulary, and known-item queries (a few words
  // of one document, judged relevant to it).
  static void WriteDataset(const fs::path& d) {
    fs::create_directories(d / "qrels");
    std::mt19937 rng(7);
    std::vector<std::string> vocab;
    for (int i = 0; i < 3000; ++i) vocab.push_back("w" + std::to_string(i * 7919 % 100003));
    std::vector<std::vector<std::string>> docs(kDocs);
    std::ofstream corpus(d / "corpus.jsonl");
    for (int i = 0; i < kDocs; ++i) {
      std::string text;
      for (int w = 0; w < 80; ++w) {
        docs[i].push_back(vocab[std::min<size_t>(rng() % vocab.size(), rng() % vocab.size())]);  // skewed
        text += (w ? " " : "") + docs[i].back();
      }
      corpus << nlohmann::json{{"_id", "d" + std::to_string(i)}, {"title", ""}, {"text", text}}.dump() << "\n";
    }
    std::ofstream queries(d / "queries.jsonl"), qrels(d / "qrels" / "test.tsv");
    qrels << "query-id\tcorpus-id\tscore\n";
    for (int q = 0; q < kQueries; ++q) {
      const int doc = static_cast<int>(rng() % kDocs);
      std::string text;
      for (int w = 0; w < 4; ++w) text += (w ? " " : "") + docs[doc][rng() % docs[doc].size()];
      queries << nlohmann::json{{"_id", "q" + std::to_string(q)}, {"text", text}}.dump() << "\n";
      qrels << "q" << q << "\td" << doc << "\t1\n";
    }
  }

  std::vector<std::string> RunArgs(const std::string& out, bool redis) const {
    std::vector<std::string> a = {"-q", "eval", "run", "--dataset", (dir_ / "data").string(), "--out", out,
                                  "-m", "ndcg_cut.10", "-m", "recall.100", "--variant", "bm25=bm25",
                                  "--variant", "hyb=hybrid,embedder=hash:64"};
    if (redis) a.insert(a.end(), {"--redis", server_->url()});
    return a;
  }

  void StartWorker(size_t i, const std::vector<std::string>& env = {}) {
    const fs::path wd = dir_ / ("worker" + std::to_string(i));
    std::vector<std::string> e = {"RLM_CACHE_DIR=" + (wd / "cache").string()};
    e.insert(e.end(), env.begin(), env.end());
    if (workers_.size() <= i) workers_.resize(i + 1);
    workers_[i] = std::make_unique<Process>(
        wd, "worker", std::vector<std::string>{"worker", "--redis", server_->url(), "--concurrency", "2",
                                               "--visibility-ms", "1000"},
        e);
  }

  // The single-process reference run of the same experiment.
  void RunLocal() {
    Process local(dir_, "local", RunArgs((dir_ / "local").string(), false));
    ASSERT_EQ(local.Wait(), 0) << local.err();
  }

  // Run files identical to the local run's, byte for byte; per-query metrics equal; every job's result
  // recorded exactly once.
  void ExpectSameAsLocal(const fs::path& out) {
    for (const char* v : {"bm25", "hyb"}) {
      const std::string local = Slurp(dir_ / "local" / "runs" / (std::string(v) + ".trec"));
      ASSERT_FALSE(local.empty());
      EXPECT_TRUE(local == Slurp(out / "runs" / (std::string(v) + ".trec"))) << "run file of " << v << " differs";
    }
    auto metrics = [](const fs::path& f) {
      std::map<std::string, nlohmann::json> m;
      std::ifstream in(f);
      for (std::string line; std::getline(in, line);) {
        auto j = nlohmann::json::parse(line);
        m[j["variant"].get<std::string>() + "/" + j["query_id"].get<std::string>()] = j["metrics"];
      }
      return m;
    };
    auto a = metrics(dir_ / "local" / "per_query.jsonl"), b = metrics(out / "per_query.jsonl");
    EXPECT_EQ(a.size(), 2u * kQueries);
    EXPECT_TRUE(a == b) << "per-query metrics differ";
  }

  void ExpectEveryJobOnce() {
    RedisClient c(ParseRedisUrl(server_->url()));
    const RedisValue v = c.Command({"HGETALL", "rlm:stats"});
    std::map<std::string, std::string> stats;
    for (size_t i = 0; i + 1 < v.Array("stats").size(); i += 2) stats[v.elements[i].str] = v.elements[i + 1].str;
    const int64_t produced = std::stoll(stats["produced"]);
    EXPECT_EQ(produced, 2 * kQueries + 1) << "query jobs of two variants, one embedding batch";
    EXPECT_EQ(stats["completed"], std::to_string(produced)) << "every job completed exactly once";
    EXPECT_EQ(stats.count("dead"), 0u);
  }

  static constexpr int kDocs = 1000;
  static constexpr int kQueries = 3000;
  fs::path dir_;
  std::unique_ptr<RedisServer> server_;
  std::vector<std::unique_ptr<Process>> workers_;
};

TEST_F(DistributedEvalTest, WorkersKilledAtRandomMomentsLoseNothing) {
  RunLocal();
  for (size_t i = 0; i < 3; ++i) StartWorker(i);
  Process coordinator(dir_, "coordinator", RunArgs((dir_ / "dist").string(), true));
  std::mt19937 rng(::getpid());
  int kills_during_run = 0;
  for (int k = 0; k < 5; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 400));
    const size_t victim = rng() % 3;
    if (!coordinator.Done()) ++kills_during_run;
    workers_[victim]->Signal(SIGKILL);
    EXPECT_EQ(workers_[victim]->Wait(), 128 + SIGKILL);
    StartWorker(victim);
  }
  ASSERT_EQ(coordinator.Wait(240), 0) << coordinator.err();
  RecordProperty("kills_during_run", kills_during_run);
  EXPECT_GE(kills_during_run, 3) << "the run finished before most kills: make it longer";
  ExpectSameAsLocal(dir_ / "dist");
  ExpectEveryJobOnce();
  for (auto& w : workers_) {  // SIGTERM: workers finish what they hold and leave cleanly
    w->Signal(SIGTERM);
    EXPECT_EQ(w->Wait(), 0) << w->err();
  }
}

TEST_F(DistributedEvalTest, RedisRestartedDuringARun) {
  RunLocal();
  for (size_t i = 0; i < 2; ++i) StartWorker(i);
  Process coordinator(dir_, "coordinator", RunArgs((dir_ / "dist").string(), true));
  // Restart once a fifth of the query jobs have results.
  {
    RedisClient c(ParseRedisUrl(server_->url()));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::string run;
    while (std::chrono::steady_clock::now() < deadline) {
      const RedisValue runs = c.Command({"SMEMBERS", "rlm:runs"});
      if (!runs.Array("runs").empty()) {
        run = runs.elements[0].str;
        if (c.Command({"HLEN", "rlm:run:" + run + ":query"}).Integer("HLEN") >= 2 * kQueries / 5) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_FALSE(run.empty());
    EXPECT_LT(c.Command({"HLEN", "rlm:run:" + run + ":query"}).Integer("HLEN"), 2 * kQueries)
        << "the run finished before the restart: make it longer";
  }
  server_->Stop();  // SIGTERM: Redis writes its append-only file and exits
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  std::string error;
  ASSERT_TRUE(server_->Start(&error)) << error;
  ASSERT_EQ(coordinator.Wait(240), 0) << coordinator.err();
  ExpectSameAsLocal(dir_ / "dist");
  ExpectEveryJobOnce();
}

TEST_F(DistributedEvalTest, PoisonJobEndsInTheDeadLetterStream) {
  // Query q5 of variant 0 (bm25) fails on every attempt, in every worker.
  for (size_t i = 0; i < 2; ++i) StartWorker(i, {"RLM_FAIL_JOBS=query/0:5"});
  Process coordinator(dir_, "coordinator", RunArgs((dir_ / "dist").string(), true));
  ASSERT_EQ(coordinator.Wait(240), 0) << coordinator.err();
  const auto results = nlohmann::json::parse(Slurp(dir_ / "dist" / "results.json"));
  for (const auto& v : results["variants"]) {
    if (v["name"] == "bm25") {
      EXPECT_EQ(v["failed"], 1);
      ASSERT_EQ(v["failures"].size(), 1u);
      EXPECT_EQ(v["failures"][0]["query_id"], "q5");
      EXPECT_NE(v["failures"][0]["error"].get<std::string>().find("injected failure"), std::string::npos)
          << v["failures"][0];
      EXPECT_EQ(v["queries_run"], kQueries - 1);
    } else {
      EXPECT_EQ(v["failed"], 0);
    }
  }
  RedisClient c(ParseRedisUrl(server_->url()));
  const RedisValue dead = c.Command({"XRANGE", "rlm:dead", "-", "+"});
  ASSERT_EQ(dead.Array("dead").size(), 1u);
  std::map<std::string, std::string> f;
  const auto& kv = dead.elements[0].elements[1].elements;
  for (size_t i = 0; i + 1 < kv.size(); i += 2) f[kv[i].str] = kv[i + 1].str;
  EXPECT_EQ(f["k"], "query");
  EXPECT_EQ(f["i"], "0:5");
  EXPECT_EQ(f["a"], "3");
  EXPECT_NE(f["error"].find("injected failure"), std::string::npos);
  // The operator's view agrees.
  Process status(dir_, "status", {"--format", "json", "jobs", "status", "--redis", server_->url()});
  ASSERT_EQ(status.Wait(), 0);
  const auto s = nlohmann::json::parse(Slurp(dir_ / "status.out"));
  EXPECT_EQ(s["dead"], 1);
  EXPECT_EQ(s["counters"]["retried"], 2);
  EXPECT_EQ(s["runs"][0]["query_jobs_done"], 2 * kQueries);
  ASSERT_EQ(s["workers"].size(), 2u);
  EXPECT_EQ(s["workers"][0]["live"], true);
  Process prom(dir_, "prom", {"jobs", "status", "--prometheus", "--redis", server_->url()});
  ASSERT_EQ(prom.Wait(), 0);
  const std::string text = Slurp(dir_ / "prom.out");
  EXPECT_NE(text.find("\nrlm_jobs_dead_letter 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("rlm_jobs_total{event=\"retried\"} 2\n"), std::string::npos) << text;
  // `jobs retry` re-queues it; it fails again three times (the fault is still injected) and comes back.
  Process retry(dir_, "retry", {"--format", "json", "jobs", "retry", "--redis", server_->url()});
  ASSERT_EQ(retry.Wait(), 0);
  EXPECT_EQ(nlohmann::json::parse(Slurp(dir_ / "retry.out"))["requeued"], 1);
}

// Two variants with the same embedder and chunking need one set of vectors: one embedding job is published,
// and a later run (another run id) finds the vectors in Redis and computes nothing.
TEST_F(DistributedEvalTest, EmbeddingsAreComputedOnceInTheCluster) {
  const fs::path wd = dir_ / "worker";
  auto worker = std::make_unique<Process>(
      wd, "worker",
      std::vector<std::string>{"--format", "json", "worker", "--redis", server_->url(), "--concurrency", "2"},
      std::vector<std::string>{"RLM_CACHE=off"});  // no machine-wide cache: every computed batch is counted
  auto args = [&](const std::string& out, const std::string& depth) {
    return std::vector<std::string>{"-q", "eval", "run", "--dataset", (dir_ / "data").string(), "--out", out,
                                    "-m", "ndcg_cut.10", "--variant", "dense=dense,embedder=hash:64",
                                    "--variant", "hyb=hybrid,embedder=hash:64", "--depth", depth,
                                    "--redis", server_->url()};
  };
  Process first(dir_, "first", args((dir_ / "first").string(), "1000"));
  ASSERT_EQ(first.Wait(240), 0) << first.err();
  RedisClient c(ParseRedisUrl(server_->url()));
  EXPECT_EQ(c.Command({"HGET", "rlm:stats", "produced"}).Integer("produced"), 1 + 2 * kQueries)
      << "one embedding job for both variants";
  Process second(dir_, "second", args((dir_ / "second").string(), "100"));
  ASSERT_EQ(second.Wait(240), 0) << second.err();
  worker->Signal(SIGTERM);
  ASSERT_EQ(worker->Wait(), 0) << worker->err();
  const auto summary = nlohmann::json::parse(worker->out());
  EXPECT_EQ(summary["embedding_batches_computed"], 1) << summary;
  EXPECT_EQ(summary["embedding_batches_reused"], 1) << summary;
  EXPECT_EQ(summary["handled"], 2 + 4 * kQueries) << summary;
}

TEST_F(DistributedEvalTest, InputsOverTheShippingLimitAreAClearError) {
  std::vector<std::string> args = RunArgs((dir_ / "dist").string(), true);
  args.insert(args.end(), {"--max-ship-mb", "0"});
  Process coordinator(dir_, "coordinator", args);
  EXPECT_EQ(coordinator.Wait(), 1);
  const std::string err = coordinator.err();
  EXPECT_NE(err.find("over the 0 MB that may be shipped through Redis"), std::string::npos) << err;
  EXPECT_NE(err.find("--max-ship-mb"), std::string::npos) << err;
}

TEST_F(DistributedEvalTest, UnreachableRedisNamesTheServerNotThePassword) {
  const int port = testing_redis::FreePort();
  Process status(dir_, "status", {"jobs", "status", "--redis", "redis://:hunter2@127.0.0.1:" + std::to_string(port)},
                 {"RLM_REDIS_RETRY_MS=300"});
  EXPECT_NE(status.Wait(), 0);
  const std::string err = status.err();
  EXPECT_NE(err.find("cannot connect to Redis at redis://:***@127.0.0.1:" + std::to_string(port)), std::string::npos)
      << err;
  EXPECT_EQ(err.find("hunter2"), std::string::npos) << err;
}

}  // namespace
}  // namespace rlm
