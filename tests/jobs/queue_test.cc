// The Redis job queue against a real redis-server (started here on a free loopback port): exactly-once
// results, retries with backoff, the dead-letter stream, jobs of a dead consumer taken over, heartbeats
// protecting long jobs, malformed entries; and the client's URL and reply parsing.
#include "jobs/queue.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include "core/error.h"
#include "jobs/admin.h"
#include "jobs/redis.h"
#include "jobs/redis_server.h"

namespace rlm {
namespace {

using testing_redis::RedisServer;
namespace fs = std::filesystem;

class QueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::Available())
      GTEST_SKIP() << "redis-server is not installed (scripts/setup installs it)";
    dir_ = fs::temp_directory_path() / ("rlm-queue-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    server_ = std::make_unique<RedisServer>(dir_, false);
    std::string error;
    ASSERT_TRUE(server_->Start(&error)) << error;
    url_ = ParseRedisUrl(server_->url());
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  // Runs a worker on a thread until Stop().
  struct Running {
    std::atomic<bool> stop{false};
    std::thread thread;
    WorkerStats stats;
    std::string error;
  };
  std::unique_ptr<Running> StartWorker(WorkerOptions o, JobHandler handler) {
    auto r = std::make_unique<Running>();
    o.stop = &r->stop;
    r->thread = std::thread([this, o, handler, w = r.get()] {
      try {
        RunWorker(url_, queue_, o, handler, &w->stats);
      } catch (const std::exception& e) {
        w->error = e.what();
      }
    });
    return r;
  }
  static void Stop(Running& r) {
    r.stop = true;
    r.thread.join();
    EXPECT_EQ(r.error, "");
  }

  std::map<std::string, std::string> Hash(RedisClient& c, const std::string& key) {
    std::map<std::string, std::string> out;
    const RedisValue v = c.Command({"HGETALL", key});
    const auto& kv = v.Array("HGETALL");
    for (size_t i = 0; i + 1 < kv.size(); i += 2) out[kv[i].str] = kv[i + 1].str;
    return out;
  }

  // Waits until `key` has `n` fields (or 30 s).
  bool WaitForResults(RedisClient& c, const std::string& key, int64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (c.Command({"HLEN", key}).Integer("HLEN") >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  static std::vector<Job> Jobs(const std::string& run, size_t n) {
    std::vector<Job> jobs(n);
    for (size_t i = 0; i < n; ++i) {
      jobs[i].run = run;
      jobs[i].kind = "t";
      jobs[i].id = std::to_string(i);
      jobs[i].payload = "p" + std::to_string(i);
    }
    return jobs;
  }

  fs::path dir_;
  std::unique_ptr<RedisServer> server_;
  RedisUrl url_;
  JobQueue queue_{"rlmtest:"};
};

TEST_F(QueueTest, EveryJobOnceAcrossWorkers) {
  RedisClient c(url_);
  queue_.EnsureGroup(c);
  constexpr size_t kJobs = 3000;
  queue_.Publish(c, Jobs("r1", kJobs));
  std::atomic<int> calls{0};
  auto handler = [&](const Job& j) {
    calls++;
    EXPECT_EQ(j.payload, "p" + j.id);
    return JobOutcome{true, "v" + j.id, ""};
  };
  WorkerOptions o;
  o.concurrency = 3;
  auto a = StartWorker(o, handler), b = StartWorker(o, handler);
  ASSERT_TRUE(WaitForResults(c, queue_.ResultsKey("r1", "t"), kJobs));
  Stop(*a);
  Stop(*b);
  auto results = Hash(c, queue_.ResultsKey("r1", "t"));
  ASSERT_EQ(results.size(), kJobs);
  for (size_t i = 0; i < kJobs; ++i) EXPECT_EQ(results[std::to_string(i)], "v" + std::to_string(i));
  EXPECT_EQ(calls.load(), static_cast<int>(kJobs));
  EXPECT_GT(a->stats.handled.load(), 0u) << "both workers should have taken jobs";
  EXPECT_GT(b->stats.handled.load(), 0u);
  auto stats = Hash(c, queue_.Key("stats"));
  EXPECT_EQ(stats["produced"], std::to_string(kJobs));
  EXPECT_EQ(stats["completed"], std::to_string(kJobs));
  EXPECT_EQ(stats.count("duplicates"), 0u);
  // Acknowledged entries are trimmed away by the workers' maintenance (XTRIM MINID ~ trims whole nodes).
  QueueStatus s = ReadQueueStatus(c, queue_);
  EXPECT_EQ(s.running, 0);
  EXPECT_EQ(s.queued, 0);
}

TEST_F(QueueTest, FailuresAreRetriedWithBackoffThenDeadLettered) {
  RedisClient c(url_);
  queue_.EnsureGroup(c);
  queue_.Publish(c, Jobs("r2", 20));
  std::mutex mu;
  std::map<std::string, std::vector<std::pair<int, std::chrono::steady_clock::time_point>>> attempts;
  auto handler = [&](const Job& j) {
    {
      std::lock_guard lock(mu);
      attempts[j.id].push_back({j.attempt, std::chrono::steady_clock::now()});
    }
    if (j.id == "7") throw InvalidInput("poison " + j.id);                     // always fails
    if (j.id == "8" && j.attempt == 1) return JobOutcome{false, "", "flaky"};  // fails once
    return JobOutcome{true, "ok", ""};
  };
  WorkerOptions o;
  o.concurrency = 2;
  o.max_attempts = 3;
  o.backoff_ms = 100;
  o.visibility_ms = 400;  // maintenance (promotion of due retries) every 100 ms
  auto w = StartWorker(o, handler);
  ASSERT_TRUE(WaitForResults(c, queue_.ResultsKey("r2", "t"), 20));
  Stop(*w);
  auto results = Hash(c, queue_.ResultsKey("r2", "t"));
  EXPECT_EQ(results["8"], "ok");
  int n = 0;
  std::string error;
  ASSERT_TRUE(ParseDeadJobValue(results["7"], &n, &error)) << results["7"];
  EXPECT_EQ(n, 3);
  EXPECT_EQ(error, "poison 7");
  // Attempts 1, 2, 3 in order, each after at least the backoff (100 ms, then 200 ms, minus 25% jitter).
  ASSERT_EQ(attempts["7"].size(), 3u);
  for (int a = 0; a < 3; ++a) EXPECT_EQ(attempts["7"][a].first, a + 1);
  EXPECT_GE(attempts["7"][1].second - attempts["7"][0].second, std::chrono::milliseconds(75));
  EXPECT_GE(attempts["7"][2].second - attempts["7"][1].second, std::chrono::milliseconds(150));
  EXPECT_EQ(attempts["8"].size(), 2u);
  EXPECT_EQ(attempts["3"].size(), 1u);
  // The dead-letter stream keeps the job, its error and its attempts.
  const RedisValue dead_entries = c.Command({"XRANGE", queue_.Key("dead"), "-", "+"});
  const auto& dead = dead_entries.Array("XRANGE");
  ASSERT_EQ(dead.size(), 1u);
  std::map<std::string, std::string> f;
  const auto& kv = dead[0].elements[1].elements;
  for (size_t i = 0; i + 1 < kv.size(); i += 2) f[kv[i].str] = kv[i + 1].str;
  EXPECT_EQ(f["i"], "7");
  EXPECT_EQ(f["r"], "r2");
  EXPECT_EQ(f["a"], "3");
  EXPECT_EQ(f["p"], "p7");
  EXPECT_EQ(f["error"], "poison 7");
  auto stats = Hash(c, queue_.Key("stats"));
  EXPECT_EQ(stats["retried"], "3");  // 7 twice, 8 once
  EXPECT_EQ(stats["dead"], "1");
  EXPECT_EQ(stats["completed"], "19");

  // `jobs retry` puts it back with fresh attempts; a fixed handler then completes it.
  EXPECT_EQ(RetryDead(c, queue_, "other-run"), 0u);
  EXPECT_EQ(RetryDead(c, queue_, "r2"), 1u);
  EXPECT_EQ(c.Command({"XLEN", queue_.Key("dead")}).Integer("XLEN"), 0);
  auto fixed = StartWorker(o, [](const Job&) { return JobOutcome{true, "fixed", ""}; });
  ASSERT_TRUE(WaitForResults(c, queue_.ResultsKey("r2", "t"), 20));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Hash(c, queue_.ResultsKey("r2", "t"))["7"] != "fixed" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Stop(*fixed);
  EXPECT_EQ(Hash(c, queue_.ResultsKey("r2", "t"))["7"], "fixed");
}

TEST_F(QueueTest, JobsOfADeadConsumerAreTakenOver) {
  RedisClient c(url_);
  queue_.EnsureGroup(c);
  queue_.Publish(c, Jobs("r3", 50));
  // A consumer takes 20 jobs and dies without acknowledging them.
  const RedisValue got = c.Command(
      {"XREADGROUP", "GROUP", JobQueue::kGroup, "ghost", "COUNT", "20", "STREAMS", queue_.Key("jobs"), ">"});
  ASSERT_EQ(got.Array("XREADGROUP").at(0).elements.at(1).elements.size(), 20u);
  WorkerOptions o;
  o.visibility_ms = 300;
  std::atomic<int> calls{0};
  auto w = StartWorker(o, [&](const Job& j) {
    calls++;
    return JobOutcome{true, j.id, ""};
  });
  ASSERT_TRUE(WaitForResults(c, queue_.ResultsKey("r3", "t"), 50));
  Stop(*w);
  EXPECT_EQ(calls.load(), 50);
  EXPECT_EQ(w->stats.reclaimed.load(), 20u);
  EXPECT_EQ(Hash(c, queue_.Key("stats"))["completed"], "50");
}

TEST_F(QueueTest, AJobWhoseWorkersKeepDyingIsDeadLettered) {
  RedisClient c(url_);
  queue_.EnsureGroup(c);
  queue_.Publish(c, Jobs("r4", 1));
  WorkerOptions o;
  o.visibility_ms = 200;
  o.max_attempts = 3;
  // A consumer takes the job and vanishes; it was taken over and abandoned twice before (claims = 2).
  c.Command(
      {"XREADGROUP", "GROUP", JobQueue::kGroup, "ghost", "COUNT", "1", "STREAMS", queue_.Key("jobs"), ">"});
  const RedisValue entries = c.Command({"XRANGE", queue_.Key("jobs"), "-", "+"});
  c.Command({"HSET", queue_.Key("claims"), entries.Array("XRANGE").at(0).elements.at(0).str, "2"});
  std::atomic<int> calls{0};
  auto w = StartWorker(o, [&](const Job&) {
    calls++;
    return JobOutcome{true, "ran", ""};
  });
  ASSERT_TRUE(WaitForResults(c, queue_.ResultsKey("r4", "t"), 1));
  Stop(*w);
  EXPECT_EQ(calls.load(), 0) << "the third take-over must not run it again";
  int n = 0;
  std::string error;
  ASSERT_TRUE(ParseDeadJobValue(Hash(c, queue_.ResultsKey("r4", "t"))["0"], &n, &error));
  EXPECT_NE(error.find("abandoned 3 times"), std::string::npos) << error;
  EXPECT_EQ(c.Command({"XLEN", queue_.Key("dead")}).Integer("XLEN"), 1);
}

TEST_F(QueueTest, HeartbeatsKeepLongJobsFromBeingStolen) {
  RedisClient c(url_);
  queue_.EnsureGroup(c);
  std::vector<Job> jobs = Jobs("r5", 1);
  queue_.Publish(c, jobs);
  WorkerOptions o;
  o.visibility_ms = 300;
  std::atomic<int> calls{0};
  auto slow = [&](const Job&) {
    calls++;
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // 5 visibility periods
    return JobOutcome{true, "slow", ""};
  };
  auto a = StartWorker(o, slow);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (calls.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto b = StartWorker(o, slow);  // would take the job over if its idle time ever passed 300 ms
  ASSERT_TRUE(WaitForResults(c, queue_.ResultsKey("r5", "t"), 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  Stop(*a);
  Stop(*b);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(b->stats.reclaimed.load(), 0u);
}

TEST_F(QueueTest, MalformedEntriesAreDeadLetteredNotFatal) {
  RedisClient c(url_);
  queue_.EnsureGroup(c);
  c.CommandOk({"XADD", queue_.Key("jobs"), "*", "garbage", "1"});
  c.CommandOk({"XADD", queue_.Key("jobs"), "*", "r", "r6", "k", "t", "i", "x", "a", "zero", "p", ""});
  queue_.Publish(c, Jobs("r6", 3));
  auto w = StartWorker(WorkerOptions{}, [](const Job&) { return JobOutcome{true, "ok", ""}; });
  ASSERT_TRUE(WaitForResults(c, queue_.ResultsKey("r6", "t"), 3));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (c.Command({"XLEN", queue_.Key("dead")}).Integer("XLEN") < 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  Stop(*w);
  EXPECT_EQ(c.Command({"XLEN", queue_.Key("dead")}).Integer("XLEN"), 2);
  EXPECT_EQ(Hash(c, queue_.ResultsKey("r6", "t")).size(), 3u);
}

TEST_F(QueueTest, BenchConsumesEveryJobAndCleansUp) {
  QueueBenchResult r = BenchQueue(url_, 2000, 4);
  EXPECT_EQ(r.jobs, 2000u);
  EXPECT_GT(r.produce_per_s, 0);
  EXPECT_GT(r.consume_per_s, 0);
  RedisClient c(url_);
  EXPECT_EQ(c.Command({"DBSIZE"}).Integer("DBSIZE"), 0) << "the bench leaves no keys behind";
}

TEST_F(QueueTest, PasswordAndDatabaseNumber) {
  RedisClient c(url_);
  c.CommandOk({"CONFIG", "SET", "requirepass", "s3cr:t@pw"});
  // Wrong password: a clear error that does not contain the password.
  try {
    RedisClient bad(ParseRedisUrl("redis://:wrong@127.0.0.1:" + std::to_string(server_->port())));
    FAIL() << "AUTH with a wrong password succeeded";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("refused the credentials"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("wrong"), std::string::npos) << e.what();
  }
  RedisClient ok(ParseRedisUrl("redis://:s3cr%3At%40pw@127.0.0.1:" + std::to_string(server_->port()) + "/3"));
  ok.CommandOk({"SET", "k", "in-db-3"});
  EXPECT_EQ(ok.Command({"GET", "k"}).str, "in-db-3");
  EXPECT_EQ(ok.url().Redacted(), "redis://:***@127.0.0.1:" + std::to_string(server_->port()) + "/3");
  RedisClient db0(ParseRedisUrl("redis://:s3cr%3At%40pw@127.0.0.1:" + std::to_string(server_->port())));
  EXPECT_TRUE(db0.Command({"GET", "k"}).IsNil());
}

TEST_F(QueueTest, ReconnectsAfterARestart) {
  RedisClient c(url_);
  c.CommandOk({"SET", "a", "1"});
  server_->Stop();
  RedisValue v;
  std::thread client([&] {
    try {
      v = c.Command({"PING"});  // blocks through the outage, then succeeds
    } catch (const std::exception& e) {
      ADD_FAILURE() << e.what();
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::string error;
  EXPECT_TRUE(server_->Start(&error))
      << error;  // on this thread: the server dies with the thread that started it
  client.join();
  EXPECT_EQ(v.str, "PONG");
  EXPECT_GE(c.reconnects(), 1u);
}

TEST_F(QueueTest, UnreachableServerIsAClearErrorAfterTheDeadline) {
  server_->Kill();
  RedisOptions o;
  o.reconnect_deadline_ms = 300;
  try {
    RedisClient c(url_, o);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect to Redis at redis://127.0.0.1:"), std::string::npos)
        << e.what();
  }
}

// Issue 11 item 9: a reply whose header announces more than the limits is a protocol error on the real
// connection too (here a list longer than a lowered limit), and the connection recovers for the next command.
TEST_F(QueueTest, OversizedRepliesAreRefusedOnTheConnection) {
  RedisOptions o;
  o.max_reply_elements = 1000;
  o.max_bulk_bytes = 4096;
  RedisClient c(url_, o);
  std::vector<std::string> push = {"RPUSH", "big"};
  for (int i = 0; i < 1500; ++i) push.push_back(std::to_string(i));
  c.CommandOk(push);
  c.CommandOk({"SET", "long", std::string(5000, 'x')});
  EXPECT_EQ(c.Command({"LRANGE", "big", "0", "99"}).Array("LRANGE").size(), 100u);
  try {
    c.Command({"LRANGE", "big", "0", "-1"});
    FAIL() << "a reply of 1500 elements passed a limit of 1000";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("1500 elements"), std::string::npos) << e.what();
  }
  EXPECT_EQ(c.Command({"PING"}).str, "PONG");
  try {
    c.Command({"GET", "long"});
    FAIL() << "a string of 5000 bytes passed a limit of 4096";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("5000 bytes"), std::string::npos) << e.what();
  }
  EXPECT_EQ(c.Command({"LLEN", "big"}).Integer("LLEN"), 1500);
}

// A server (here a socket that answers every request with the 12-byte header the fuzzer found) cannot make
// the client allocate gigabytes: the header is refused before hiredis sees it.
TEST(RedisReply, HostileServerHeaderIsRefused) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  std::thread server([listener] {
    const int fd = ::accept(listener, nullptr, nullptr);
    char buf[4096];
    if (fd >= 0 && ::read(fd, buf, sizeof buf) > 0) {
      const char header[] = "*1122222222\r\n";
      (void)!::write(fd, header, sizeof header - 1);
      (void)!::read(fd, buf, sizeof buf);  // hold the connection until the client drops it
    }
    if (fd >= 0) ::close(fd);
  });
  RedisOptions o;
  o.reconnect_deadline_ms = 0;
  o.io_timeout_ms = 3000;
  try {
    RedisClient c(ParseRedisUrl("redis://127.0.0.1:" + std::to_string(port)), o);
    c.Command({"PING"});
    ADD_FAILURE() << "the header was accepted";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("1122222222 elements"), std::string::npos) << e.what();
  }
  ::shutdown(listener, SHUT_RDWR);
  server.join();
  ::close(listener);
}

TEST(RedisReply, CountsAndLengthsAreBounded) {
  // The fuzzer's finding: 12 bytes that made hiredis allocate ~9 GB for the array's element pointers.
  try {
    ParseResp("*1122222222\r\n");
    FAIL() << "accepted";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("1122222222 elements"), std::string::npos) << e.what();
  }
  // Refused as soon as the count is known to be too large, terminated or not.
  EXPECT_THROW(ParseResp("*99999999999999999999999"), IoError);
  EXPECT_THROW(ParseResp("$600000000\r\n"), IoError);  // over 512 MiB
  EXPECT_THROW(ParseResp("$9223372036854775807\r\n"), IoError);
  EXPECT_THROW(ParseResp("*-5\r\n"), IoError);
  EXPECT_THROW(ParseResp("$-2\r\n"), IoError);
  EXPECT_THROW(ParseResp("*1x\r\n"), IoError);
  EXPECT_THROW(ParseResp("*\r\n"), IoError);
  // Nested arrays share one budget per reply: 2 x 600k announced elements are too many ...
  EXPECT_THROW(ParseResp("*1\r\n*600000\r\n*600000\r\n"), IoError);
  // ... but consecutive replies each have their own, and bulk bodies are skipped, not parsed.
  std::string ok;
  for (int i = 0; i < 3; ++i) ok += "*1\r\n$13\r\n*1122222222\r\n\r\n";
  auto v = ParseResp(ok);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[2].Array("x")[0].String("x"), "*1122222222\r\n");
  EXPECT_EQ(ParseResp("*-1\r\n$-1\r\n*0\r\n").size(), 3u);
}

TEST(RedisUrl, Parses) {
  RedisUrl u = ParseRedisUrl("redis://:pw@example.org:7000/2");
  EXPECT_EQ(u.host, "example.org");
  EXPECT_EQ(u.port, 7000);
  EXPECT_EQ(u.password, "pw");
  EXPECT_EQ(u.user, "");
  EXPECT_EQ(u.db, 2);
  EXPECT_EQ(u.Redacted(), "redis://:***@example.org:7000/2");
  u = ParseRedisUrl("redis://alice:pw@h");
  EXPECT_EQ(u.user, "alice");
  EXPECT_EQ(u.port, 6379);
  EXPECT_EQ(u.Redacted(), "redis://alice:***@h:6379");
  u = ParseRedisUrl("redis://[::1]:6380");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 6380);
  u = ParseRedisUrl("localhost:1234");
  EXPECT_EQ(u.host, "localhost");
  EXPECT_EQ(u.port, 1234);
  for (const char* bad : {"", "redis://h:0", "redis://h:99999", "redis://h:x", "redis://h/db", "http://h",
                          "rediss://h", "redis://:pw@", "redis://:p%zz@h", "redis://[::1"}) {
    EXPECT_THROW(ParseRedisUrl(bad), InvalidInput) << bad;
  }
  try {
    ParseRedisUrl("redis://:hunter2@h:bad");
  } catch (const InvalidInput& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2"), std::string::npos) << e.what();
  }
}

TEST(RedisReply, ParsesAndValidates) {
  auto v = ParseResp("*2\r\n$3\r\nabc\r\n:42\r\n+OK\r\n-ERR no\r\n$-1\r\n*1\r\n");  // last one incomplete
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].Array("x")[0].String("x"), "abc");
  EXPECT_EQ(v[0].elements[1].Integer("x"), 42);
  EXPECT_EQ(v[1].String("x"), "OK");
  EXPECT_TRUE(v[2].IsError());
  EXPECT_TRUE(v[3].IsNil());
  EXPECT_THROW(v[1].Array("XREADGROUP"), IoError);
  EXPECT_THROW(v[0].Integer("HLEN"), IoError);
  EXPECT_THROW(ParseResp("?bad\r\n"), IoError);

  std::vector<std::string> bad;
  // [[id, [fields]]]: a good job, one with a missing kind, one with fields of the wrong type, one deleted.
  auto entries = ParseResp(
      "*4\r\n"
      "*2\r\n$3\r\n1-1\r\n*6\r\n$1\r\nk\r\n$1\r\nq\r\n$1\r\ni\r\n$2\r\n42\r\n$1\r\na\r\n$1\r\n2\r\n"
      "*2\r\n$3\r\n1-2\r\n*2\r\n$1\r\ni\r\n$1\r\n7\r\n"
      "*2\r\n$3\r\n1-3\r\n*2\r\n:1\r\n:2\r\n"
      "*2\r\n$3\r\n1-4\r\n$-1\r\n");
  std::vector<Job> jobs = DecodeEntries(entries.at(0), &bad);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].entry, "1-1");
  EXPECT_EQ(jobs[0].kind, "q");
  EXPECT_EQ(jobs[0].id, "42");
  EXPECT_EQ(jobs[0].attempt, 2);
  EXPECT_EQ(bad, (std::vector<std::string>{"1-2", "1-3", "1-4"}));
  EXPECT_THROW(DecodeEntries(ParseResp(":5\r\n").at(0), &bad), IoError);
}

}  // namespace
}  // namespace rlm
