// Distributed runs under operators and failures, with real processes: a redis-server started here on a free
// loopback port, `rlm worker` processes, `rlm eval run --redis` as the coordinator and `rlm jobs` as the
// operator. Workers outlive `jobs purge --all`; a Redis that loses its data mid-run is refilled by the
// coordinator; forged entries are dead-lettered without touching a run's results; SIGTERM is prompt even
// while Redis is down; the password can stay out of argv.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cli/rlm_process.h"
#include "jobs/redis.h"
#include "jobs/redis_server.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;
using testing_cli::Slurp;
using testing_redis::RedisServer;
using Process = testing_cli::RlmProcess;
using Clock = std::chrono::steady_clock;

class DistributedOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::Available())
      GTEST_SKIP() << "redis-server is not installed (scripts/setup installs it)";
    dir_ = fs::temp_directory_path() / ("rlm-ops-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // No persistence: a restart comes back empty, as a server restarted without its data.
    server_ = std::make_unique<RedisServer>(dir_ / "redis", /*appendonly=*/false);
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    WriteDataset(dir_ / "data");
  }
  void TearDown() override {
    workers_.clear();
    server_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  static void WriteDataset(const fs::path& d) {
    fs::create_directories(d / "qrels");
    std::mt19937 rng(11);
    std::vector<std::vector<std::string>> docs(kDocs);
    std::ofstream corpus(d / "corpus.jsonl");
    for (int i = 0; i < kDocs; ++i) {
      std::string text;
      for (int w = 0; w < 40; ++w) {
        docs[i].push_back("w" + std::to_string(std::min(rng() % 2000, rng() % 2000)));
        text += (w ? " " : "") + docs[i].back();
      }
      corpus << nlohmann::json{{"_id", "d" + std::to_string(i)}, {"title", ""}, {"text", text}}.dump()
             << "\n";
    }
    std::ofstream queries(d / "queries.jsonl"), qrels(d / "qrels" / "test.tsv");
    qrels << "query-id\tcorpus-id\tscore\n";
    for (int q = 0; q < kQueries; ++q) {
      const int doc = static_cast<int>(rng() % kDocs);
      std::string text;
      for (int w = 0; w < 3; ++w) text += (w ? " " : "") + docs[doc][rng() % docs[doc].size()];
      queries << nlohmann::json{{"_id", "q" + std::to_string(q)}, {"text", text}}.dump() << "\n";
      qrels << "q" << q << "\td" << doc << "\t1\n";
    }
  }

  std::vector<std::string> RunArgs(const std::string& out, bool redis) const {
    std::vector<std::string> a = {"-q",
                                  "eval",
                                  "run",
                                  "--dataset",
                                  (dir_ / "data").string(),
                                  "--out",
                                  out,
                                  "-m",
                                  "ndcg_cut.10",
                                  "--variant",
                                  "bm25=bm25",
                                  "--variant",
                                  "hyb=hybrid,embedder=hash:64"};
    if (redis) a.insert(a.end(), {"--redis", server_->url()});
    return a;
  }

  void StartWorker(size_t i, std::vector<std::string> args = {}, const std::vector<std::string>& env = {}) {
    const fs::path wd = dir_ / ("worker" + std::to_string(i));
    std::vector<std::string> e = {"RLM_CACHE_DIR=" + (wd / "cache").string()};
    e.insert(e.end(), env.begin(), env.end());
    if (args.empty()) args = {"worker", "--redis", server_->url()};
    args.insert(args.end(), {"--concurrency", "2", "--visibility-ms", "1000"});
    if (workers_.size() <= i) workers_.resize(i + 1);
    workers_[i] = std::make_unique<Process>(wd, "worker", args, e);
  }

  RedisClient Client() const { return RedisClient(ParseRedisUrl(server_->url())); }

  // Polls `ready` every 10 ms for up to `seconds`.
  template <class Fn>
  static bool WaitFor(Fn ready, int seconds = 30) {
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (Clock::now() < deadline) {
      if (ready()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  // The id of the (first) run Redis knows, once its embedding jobs are published.
  std::string WaitForPublishedRun(RedisClient& c) {
    std::string run;
    WaitFor([&] {
      const RedisValue runs = c.Command({"SMEMBERS", "rlm:runs"});
      if (runs.Array("runs").empty()) return false;
      run = runs.elements[0].str;
      return !c.Command({"HGET", "rlm:run:" + run, "embed_published"}).IsNil();
    });
    return run;
  }

  void WaitForWorkers(size_t n) {
    RedisClient c = Client();
    ASSERT_TRUE(WaitFor([&] {
      return c.Command({"HLEN", "rlm:workers"}).Integer("HLEN") >= int64_t(n);
    })) << "the workers did not register";
  }

  void RunLocal() {
    Process local(dir_, "local", RunArgs((dir_ / "local").string(), false));
    ASSERT_EQ(local.Wait(), 0) << local.err();
  }

  void ExpectSameAsLocal(const fs::path& out) {
    for (const char* v : {"bm25", "hyb"}) {
      const std::string local = Slurp(dir_ / "local" / "runs" / (std::string(v) + ".trec"));
      ASSERT_FALSE(local.empty());
      EXPECT_TRUE(local == Slurp(out / "runs" / (std::string(v) + ".trec")))
          << "run file of " << v << " differs";
    }
  }

  static constexpr int kDocs = 300;
  static constexpr int kQueries = 600;
  fs::path dir_;
  std::unique_ptr<RedisServer> server_;
  std::vector<std::unique_ptr<Process>> workers_;
};

// Issue 11 item 6a: `jobs purge --all` deletes the stream and its group under idle workers; they recreate
// them and serve the next run.
TEST_F(DistributedOpsTest, WorkersSurvivePurgeAll) {
  RunLocal();
  for (size_t i = 0; i < 2; ++i) StartWorker(i);
  WaitForWorkers(2);
  for (int round = 0; round < 2; ++round) {
    Process purge(dir_, "purge", {"jobs", "purge", "--all", "--redis", server_->url()});
    ASSERT_EQ(purge.Wait(), 0) << purge.err();
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // a few XREADGROUP BLOCK periods
    for (auto& w : workers_) ASSERT_FALSE(w->Done()) << "a worker left after purge --all: " << w->err();
  }
  Process coordinator(dir_, "coordinator", RunArgs((dir_ / "dist").string(), true));
  ASSERT_EQ(coordinator.Wait(120), 0) << coordinator.err();
  ExpectSameAsLocal(dir_ / "dist");
  for (auto& w : workers_) {
    w->Signal(SIGTERM);
    EXPECT_EQ(w->Wait(), 0) << w->err();
  }
}

// Issue 11 item 6b: redis-server restarted without its data mid-run. The coordinator notices the run's
// bookkeeping is gone, stores the inputs and publishes the missing jobs again, and the run ends as a local
// one does.
TEST_F(DistributedOpsTest, CoordinatorRefillsARedisThatLostItsData) {
  RunLocal();
  Process coordinator(dir_, "coordinator", RunArgs((dir_ / "dist").string(), true));
  {
    RedisClient c = Client();
    const std::string run = WaitForPublishedRun(c);
    ASSERT_FALSE(run.empty());
    StartWorker(0);
    ASSERT_TRUE(WaitFor([&] {
      return c.Command({"HLEN", "rlm:run:" + run + ":query"}).Integer("HLEN") >= 50;
    }));
    EXPECT_LT(c.Command({"HLEN", "rlm:run:" + run + ":query"}).Integer("HLEN"), 2 * kQueries)
        << "the run finished before the restart: make it longer";
  }
  server_->Kill();  // no persistence: the server comes back empty
  std::string error;
  ASSERT_TRUE(server_->Start(&error)) << error;
  ASSERT_EQ(coordinator.Wait(120), 0) << coordinator.err();
  ExpectSameAsLocal(dir_ / "dist");
  // And once more with FLUSHALL under a running coordinator (no restart, no lost connection).
  Process again(dir_, "again", RunArgs((dir_ / "again").string(), true));
  {
    RedisClient c = Client();
    c.CommandOk({"FLUSHALL"});  // the first run's results: this one must compute everything again
    const std::string run = WaitForPublishedRun(c);
    ASSERT_FALSE(run.empty());
    ASSERT_TRUE(WaitFor([&] {
      return c.Command({"HLEN", "rlm:run:" + run + ":query"}).Integer("HLEN") >= 50;
    }));
    c.CommandOk({"FLUSHALL"});
  }
  ASSERT_EQ(again.Wait(120), 0) << again.err();
  ExpectSameAsLocal(dir_ / "again");
  workers_[0]->Signal(SIGTERM);
  EXPECT_EQ(workers_[0]->Wait(), 0) << workers_[0]->err();
}

// Issue 11 item 6b: SIGTERM to a coordinator says what is really left in Redis: the run's jobs when they are
// there, nothing when Redis lost them, and that it cannot tell when Redis is down (and says so promptly).
TEST_F(DistributedOpsTest, InterruptedCoordinatorSaysWhatIsLeftInRedis) {
  {  // Redis up, no workers: every job stays queued.
    Process coordinator(dir_, "queued", RunArgs((dir_ / "dist").string(), true));
    RedisClient c = Client();
    ASSERT_FALSE(WaitForPublishedRun(c).empty());
    coordinator.Signal(SIGTERM);
    EXPECT_NE(coordinator.Wait(30), 0);
    const std::string err = coordinator.err();
    EXPECT_NE(err.find("0 of 1 embedding jobs done; the other 1 stay queued in Redis at " + server_->url()),
              std::string::npos)
        << err;
  }
  {  // Redis lost everything while the coordinator was stopped (SIGSTOP): nothing is left.
    Client().CommandOk({"FLUSHALL"});
    Process coordinator(dir_, "lost", RunArgs((dir_ / "dist").string(), true));
    RedisClient c = Client();
    ASSERT_FALSE(WaitForPublishedRun(c).empty());
    coordinator.Signal(SIGSTOP);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    c.CommandOk({"FLUSHALL"});
    coordinator.Signal(SIGTERM);
    coordinator.Signal(SIGCONT);
    EXPECT_NE(coordinator.Wait(30), 0);
    const std::string err = coordinator.err();
    EXPECT_NE(err.find("no longer holds run"), std::string::npos) << err;
    EXPECT_EQ(err.find("stay queued"), std::string::npos) << err;
  }
  {  // Redis down: the coordinator stops at once and says it cannot tell.
    Client().CommandOk({"FLUSHALL"});
    Process coordinator(dir_, "down", RunArgs((dir_ / "dist").string(), true));
    RedisClient c = Client();
    ASSERT_FALSE(WaitForPublishedRun(c).empty());
    server_->Kill();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto t0 = Clock::now();
    coordinator.Signal(SIGTERM);
    EXPECT_NE(coordinator.Wait(10), -1) << "the coordinator did not stop within 10 s of SIGTERM";
    RecordProperty(
        "coordinator_stop_ms",
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count()));
    const std::string err = coordinator.err();
    EXPECT_NE(err.find("is unreachable"), std::string::npos) << err;
    EXPECT_EQ(err.find("stay queued"), std::string::npos) << err;
  }
}

// Issue 11 item 6c: entries forged with a real run id but job ids that are not the run's (out of range, not
// matching their payload, garbage) are dead-lettered without a result, and the run's results stay its own.
TEST_F(DistributedOpsTest, ForgedEntriesAreDeadLetteredWithoutPoisoningTheRun) {
  RunLocal();
  StartWorker(0);
  Process first(dir_, "first", RunArgs((dir_ / "first").string(), true));
  ASSERT_EQ(first.Wait(120), 0) << first.err();
  RedisClient c = Client();
  const std::string run = c.Command({"SMEMBERS", "rlm:runs"}).Array("runs").at(0).str;
  const std::string results = "rlm:run:" + run + ":query";
  ASSERT_EQ(c.Command({"HLEN", results}).Integer("HLEN"), 2 * kQueries);
  const std::vector<std::pair<std::string, std::string>> forged = {
      {"0:99999", "0 99999"},  // query out of range
      {"7:1", "7 1"},          // variant out of range
      {"bogus", "0 1"},        // id that is no job of the run
      {"0:1", "1 2"},          // id and payload disagree
      {"1:3", "zzz"}};         // payload garbage
  for (const auto& [id, payload] : forged) {
    c.CommandOk({"XADD", "rlm:jobs", "*", "r", run, "k", "query", "i", id, "a", "1", "p", payload});
  }
  c.CommandOk({"XADD", "rlm:jobs", "*", "r", run, "k", "embed", "i", "0:5", "a", "1", "p", "0 5"});
  ASSERT_TRUE(WaitFor([&] {
    return c.Command({"XLEN", "rlm:dead"}).Integer("XLEN") >= 6;
  })) << "forged entries were not dead-lettered";
  EXPECT_EQ(c.Command({"HLEN", results}).Integer("HLEN"), 2 * kQueries) << "a forged entry wrote a result";
  EXPECT_EQ(c.Command({"HLEN", "rlm:run:" + run + ":embed"}).Integer("HLEN"), 1) << "one embedding batch";
  EXPECT_EQ(c.Command({"ZCARD", "rlm:delayed"}).Integer("ZCARD"), 0) << "forged entries are not retried";
  // The same run again (it follows the stored results) and a new one (another depth) both succeed.
  Process again(dir_, "again", RunArgs((dir_ / "again").string(), true));
  ASSERT_EQ(again.Wait(120), 0) << again.err();
  ExpectSameAsLocal(dir_ / "again");
  std::vector<std::string> args = RunArgs((dir_ / "deeper").string(), true);
  args.insert(args.end(), {"--depth", "50"});
  Process deeper(dir_, "deeper", args);
  ASSERT_EQ(deeper.Wait(120), 0) << deeper.err();
  workers_[0]->Signal(SIGTERM);
  EXPECT_EQ(workers_[0]->Wait(), 0) << workers_[0]->err();
}

// Issue 11 item 6d: SIGTERM reaches a worker that is waiting for a Redis that is down.
TEST_F(DistributedOpsTest, WorkerStopsPromptlyWhileRedisIsDown) {
  StartWorker(0);
  WaitForWorkers(1);
  server_->Kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));  // the worker is retrying now
  const auto t0 = Clock::now();
  workers_[0]->Signal(SIGTERM);
  const int code = workers_[0]->Wait(10);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  RecordProperty("worker_stop_ms", std::to_string(ms));
  ASSERT_NE(code, -1) << "the worker did not stop within 10 s of SIGTERM";
  EXPECT_EQ(code, 0) << workers_[0]->err();
  EXPECT_LT(ms, 5000) << "stopping took " << ms << " ms";
  EXPECT_NE(workers_[0]->err().find("unreachable"), std::string::npos) << workers_[0]->err();
}

// Issue 11 item 5: the password comes from RLM_REDIS_URL (worker, jobs) or --redis-password-file (every
// command), never from argv, and every message shows the URL redacted.
TEST_F(DistributedOpsTest, PasswordFromTheEnvironmentOrAFile) {
  const std::string password = "hunter2-s3cret";
  {
    RedisClient c = Client();
    c.CommandOk({"CONFIG", "SET", "requirepass", password});
  }
  const std::string bare = server_->url();  // redis://127.0.0.1:port
  const std::string with_password = "redis://:" + password + "@127.0.0.1:" + std::to_string(server_->port());
  const fs::path file = dir_ / "redis.pass";
  std::ofstream(file) << password << "\n";
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  RunLocal();
  StartWorker(0, {"worker", "--redis", bare, "--redis-password-file", file.string()});
  // eval run distributes only when given --redis (RLM_REDIS_URL alone keeps it local); the password file
  // completes the URL.
  std::vector<std::string> args = RunArgs((dir_ / "dist").string(), true);
  args.insert(args.end(), {"--redis-password-file", file.string()});
  Process coordinator(dir_, "coordinator", args, {"RLM_REDIS_URL=" + with_password});
  ASSERT_EQ(coordinator.Wait(120), 0) << coordinator.err();
  ExpectSameAsLocal(dir_ / "dist");
  const std::string cmdline = Slurp("/proc/" + std::to_string(workers_[0]->pid()) + "/cmdline");
  EXPECT_EQ(cmdline.find(password), std::string::npos);
  Process status(dir_, "status", {"--format", "json", "jobs", "status"}, {"RLM_REDIS_URL=" + with_password});
  ASSERT_EQ(status.Wait(), 0) << status.err();
  const auto s = nlohmann::json::parse(Slurp(dir_ / "status.out"));
  EXPECT_EQ(s["redis"], "redis://:***@127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_EQ(s["workers"].size(), 1u);
  // Without a password: refused, and the message names the server without one.
  Process refused(dir_, "refused", {"jobs", "status", "--redis", bare});
  EXPECT_NE(refused.Wait(), 0);
  EXPECT_NE(refused.err().find("127.0.0.1:" + std::to_string(server_->port())), std::string::npos)
      << refused.err();
  // A wrong password in the file: refused, and neither password is printed.
  std::ofstream(file) << "wrong-pass\n";
  Process wrong(dir_, "wrong", {"jobs", "status", "--redis", bare, "--redis-password-file", file.string()});
  EXPECT_NE(wrong.Wait(), 0);
  EXPECT_NE(wrong.err().find("redis://:***@127.0.0.1:"), std::string::npos) << wrong.err();
  EXPECT_EQ(wrong.err().find("wrong-pass"), std::string::npos) << wrong.err();
  // A password in both places is a usage error; a missing file names the file.
  Process both(dir_, "both",
               {"jobs", "status", "--redis", with_password, "--redis-password-file", file.string()});
  EXPECT_EQ(both.Wait(), 2) << both.err();
  EXPECT_EQ(both.err().find(password), std::string::npos) << both.err();
  Process missing(dir_, "missing",
                  {"jobs", "status", "--redis", bare, "--redis-password-file", (dir_ / "nope").string()});
  EXPECT_NE(missing.Wait(), 0);
  EXPECT_NE(missing.err().find("nope"), std::string::npos) << missing.err();
  // The worker's own messages show the URL redacted.
  workers_[0]->Signal(SIGTERM);
  EXPECT_EQ(workers_[0]->Wait(), 0) << workers_[0]->err();
  EXPECT_NE(workers_[0]->err().find("redis://:***@127.0.0.1:"), std::string::npos) << workers_[0]->err();
  EXPECT_EQ(workers_[0]->err().find(password), std::string::npos);
}

}  // namespace
}  // namespace rlm
