// Several `rlm` processes on one workspace: concurrent loads and searches must all succeed (WAL readers,
// writers queued on the busy timeout, never "database is locked"), and a load killed with SIGKILL must leave
// a workspace that opens, lists and loads as if the killed load had never started.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/rlm_process.h"

namespace {

namespace fs = std::filesystem;

using rlm::testing_cli::RlmProcess;
using rlm::testing_cli::Slurp;

// Runs rlm to completion and returns {exit code, stdout}; stderr is appended to `err` when given.
std::pair<int, std::string> RunRlm(const fs::path& dir, const std::vector<std::string>& args,
                                   std::string* err = nullptr) {
  RlmProcess p(dir, "run", args);
  int code = p.Wait();
  if (err) *err = p.err();
  return {code, p.out()};
}

// Writes a text file of about `bytes` bytes: sentences of words, with paragraph breaks.
void WriteText(const fs::path& path, size_t bytes, unsigned seed, const std::string& marker) {
  static const char* kWords[] = {"alpha", "bravo",  "charlie", "delta", "echo", "foxtrot",  "golf",  "hotel",
                                 "india", "juliet", "kilo",    "lima",  "mike", "november", "oscar", "papa"};
  std::ofstream out(path, std::ios::binary);
  std::string line;
  size_t written = 0;
  unsigned x = seed * 2654435761u + 1;
  for (size_t n = 0; written < bytes; ++n) {
    line.clear();
    for (int w = 0; w < 12; ++w) {
      x = x * 1103515245u + 12345u;
      line += kWords[(x >> 16) % 16];
      line += ' ';
    }
    if (n % 50 == 0) line += marker + " ";
    line += ".\n";
    if (n % 7 == 0) line += "\n";
    out << line;
    written += line.size();
  }
}

class ConcurrencyTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rlm-concurrency-" + std::to_string(::getpid()) + "-" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto [code, out] = RunRlm(dir_, {"-d", "ws.db", "init"});
    ASSERT_EQ(code, 0) << out;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ConcurrencyTest, ParallelLoadsAndSearchesNeverSeeLockedDatabase) {
  WriteText(dir_ / "a.txt", 3 << 20, 1, "zulu");
  WriteText(dir_ / "b.txt", 3 << 20, 2, "yankee");
  constexpr int kRounds = 4;
  for (int round = 0; round < kRounds; ++round) {
    const std::string r = std::to_string(round);
    std::vector<std::unique_ptr<RlmProcess>> procs;
    procs.push_back(std::make_unique<RlmProcess>(
        dir_, "load-a" + r, std::vector<std::string>{"-q", "-d", "ws.db", "load", "a.txt", "-n", "a" + r}));
    procs.push_back(std::make_unique<RlmProcess>(
        dir_, "load-b" + r,
        std::vector<std::string>{"-q", "-d", "ws.db", "load", "b.txt", "-n", "b" + r, "--chunker", "fixed"}));
    procs.push_back(std::make_unique<RlmProcess>(
        dir_, "search" + r,
        std::vector<std::string>{"-d", "ws.db", "--format", "json", "search", "zulu yankee", "-k", "5"}));
    procs.push_back(std::make_unique<RlmProcess>(
        dir_, "bm25" + r,
        std::vector<std::string>{"-d", "ws.db", "--format", "json", "search", "alpha", "-m", "bm25"}));
    procs.push_back(std::make_unique<RlmProcess>(
        dir_, "list" + r, std::vector<std::string>{"-d", "ws.db", "--format", "json", "list"}));
    procs.push_back(
        std::make_unique<RlmProcess>(dir_, "status" + r, std::vector<std::string>{"-d", "ws.db", "status"}));
    for (size_t i = 0; i < procs.size(); ++i) {
      int code = procs[i]->Wait();
      std::string err = procs[i]->err();
      EXPECT_EQ(code, 0) << "round " << round << " process " << i << "\nstdout:\n"
                         << procs[i]->out() << "\nstderr:\n"
                         << err;
      EXPECT_EQ(err.find("locked"), std::string::npos) << err;
      EXPECT_EQ(err.find("busy"), std::string::npos) << err;
    }
  }
  // Every load of every round is there, complete.
  auto [code, out] = RunRlm(dir_, {"-d", "ws.db", "--format", "json", "list"});
  ASSERT_EQ(code, 0);
  auto buffers = nlohmann::json::parse(out);
  ASSERT_EQ(buffers.size(), 2u * kRounds);
  for (const auto& b : buffers) {
    EXPECT_EQ(b["metadata"]["size"],
              fs::file_size(dir_ / (b["name"].get<std::string>()[0] == 'a' ? "a.txt" : "b.txt")));
    EXPECT_GT(b["metadata"]["chunk_count"].get<int64_t>(), 0);
  }
  // And a search after the dust settles finds both markers.
  auto [scode, sout] = RunRlm(dir_, {"-d", "ws.db", "--format", "json", "search", "zulu", "-m", "bm25"});
  ASSERT_EQ(scode, 0) << sout;
  EXPECT_GT(nlohmann::json::parse(sout)["count"].get<int>(), 0);
}

// Several `rlm init` racing on one new path: the file's first opener switches it to WAL while the others
// must wait for that (SQLite returns SQLITE_BUSY there without calling the busy handler). Each init either
// succeeds or is refused because the workspace exists; none may fail on a lock, and the workspace works.
TEST_F(ConcurrencyTest, ProcessesRacingToCreateOneWorkspace) {
  WriteText(dir_ / "s.txt", 4096, 5, "small");
  constexpr int kRounds = 8, kProcs = 4;
  for (int round = 0; round < kRounds; ++round) {
    const std::string ws = "race" + std::to_string(round) + ".db";
    std::vector<std::unique_ptr<RlmProcess>> procs;
    for (int i = 0; i < kProcs; ++i) {
      procs.push_back(std::make_unique<RlmProcess>(dir_, "race" + std::to_string(i),
                                                   std::vector<std::string>{"-q", "-d", ws, "init"}));
    }
    int created = 0;
    for (auto& p : procs) {
      const int code = p->Wait();
      const std::string err = p->err();
      if (code == 0) {
        ++created;
      } else {
        EXPECT_NE(err.find("already exists"), std::string::npos) << "round " << round << ": " << err;
      }
      EXPECT_EQ(err.find("locked"), std::string::npos) << err;
    }
    EXPECT_GE(created, 1) << "round " << round;
    auto [lcode, lout] = RunRlm(dir_, {"-q", "-d", ws, "load", "s.txt", "-n", "s"});
    EXPECT_EQ(lcode, 0) << lout;
  }
}

TEST_F(ConcurrencyTest, LoadKilledMidwayLeavesNoTrace) {
  const fs::path big = dir_ / "big.txt";
  WriteText(big, 160u << 20, 3, "marker");
  const uint64_t big_size = fs::file_size(big);
  WriteText(dir_ / "small.txt", 4096, 4, "small");

  RlmProcess load(dir_, "big-load", {"-q", "-d", "ws.db", "load", "big.txt", "-n", "big"});
  // Kill once the load is visibly writing (its WAL grows), or after a few seconds at most.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  std::error_code ec;
  while (std::chrono::steady_clock::now() < deadline) {
    uint64_t wal = fs::file_size(dir_ / "ws.db-wal", ec);
    if (!ec && wal > (8u << 20)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(load.pid(), SIGKILL);
  int code = load.Wait();
  const bool killed = code == 128 + SIGKILL;
  if (!killed) {  // finished before the kill: then it must be complete
    EXPECT_EQ(code, 0) << load.err();
  }
  RecordProperty("killed_midway", killed ? "yes" : "no");

  std::string err;
  auto [lcode, lout] = RunRlm(dir_, {"-d", "ws.db", "--format", "json", "list"}, &err);
  ASSERT_EQ(lcode, 0) << lout << err;
  auto buffers = nlohmann::json::parse(lout);
  if (killed) {
    EXPECT_TRUE(buffers.empty()) << lout;
  } else {
    ASSERT_EQ(buffers.size(), 1u);
    EXPECT_EQ(buffers[0]["metadata"]["size"], big_size);
  }
  auto [scode, sout] = RunRlm(dir_, {"-d", "ws.db", "--format", "json", "status"}, &err);
  ASSERT_EQ(scode, 0) << sout << err;
  auto status = nlohmann::json::parse(sout);
  EXPECT_EQ(status["buffer_count"], buffers.size());
  if (killed) {
    EXPECT_EQ(status["chunk_count"], 0);
  }

  // The workspace takes new loads.
  auto [acode, aout] = RunRlm(dir_, {"-q", "-d", "ws.db", "--format", "json", "load", "small.txt"}, &err);
  ASSERT_EQ(acode, 0) << aout << err;
  EXPECT_EQ(nlohmann::json::parse(aout)["name"], "small.txt");
  auto [gcode, gout] = RunRlm(dir_, {"-d", "ws.db", "grep", "small.txt", "small", "-n", "1"}, &err);
  EXPECT_EQ(gcode, 0) << gout << err;
  EXPECT_NE(gout.find("Found 1 matches"), std::string::npos) << gout;
}

}  // namespace
