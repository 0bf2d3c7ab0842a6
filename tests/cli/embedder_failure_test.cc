// A failing or changed embedder must leave a workspace exactly as it was, checked on the real binary:
// - `chunk embed --all --embedder <provider>` whose provider fails at the second buffer: the workspace keeps
//   its old embedder and all of its vectors (status, chunk status, semantic search), and a retry after the
//   provider recovers switches it completely;
// - `load --embedder <provider>` failing (one file, a directory whose second file fails, a fresh
//   workspace): no buffer, no embedder record, no generation step;
// - a local model whose weights changed under the same spec: the load is refused, nothing written.
// The provider is a local Ollama-API server (tests/embed/test_http_server.h) that fails every request
// containing kPoison while `fail` is set.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/rlm_process.h"
#include "embed/model_fixture.h"
#include "embed/test_http_server.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using rlm::testhttp::TestHttpRequest;
using rlm::testhttp::TestHttpResponse;
using rlm::testhttp::TestHttpServer;
using rlm::testing_cli::RlmProcess;

constexpr char kPoison[] = "POISONWORD";
constexpr size_t kDims = 8;

// A deterministic vector per text (FNV-1a seeded splitmix64), as a provider would return it.
std::vector<float> FakeVector(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  std::vector<float> v(kDims);
  for (size_t j = 0; j < kDims; ++j) {
    uint64_t z = h + (j + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    v[j] = static_cast<float>(static_cast<double>(z >> 40) / double(1 << 24) * 2 - 1);
  }
  return v;
}

class EmbedderFailureTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rlm-embedfail-" + std::to_string(::getpid()) + "-" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    server_ = std::make_unique<TestHttpServer>([this](const TestHttpRequest& r) { return Answer(r); });
    Write("a.txt", "The alpine meadow glows with orange poppies at dawn.\n");
    Write("b.txt", std::string("Barges drift down the brown canal past the mills. ") + kPoison + "\n");
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  // Ollama's /api/embed: {"model","input":[...]} -> {"embeddings":[[...], ...]}; a 503 while failing.
  TestHttpResponse Answer(const TestHttpRequest& r) {
    TestHttpResponse res;
    const json req = json::parse(r.body);
    json embeddings = json::array();
    for (const auto& t : req.at("input")) {
      const std::string text = t.get<std::string>();
      if (fail && text.find(kPoison) != std::string::npos) {
        res.status = 503;
        res.headers = {{"Retry-After", "0"}};
        res.body = R"({"error":"the model runner crashed"})";
        return res;
      }
      embeddings.push_back(FakeVector(text));
    }
    res.body = json{{"model", req.at("model")}, {"embeddings", embeddings}}.dump();
    return res;
  }

  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel, std::ios::binary) << text;
  }

  struct Result {
    int code;
    std::string out, err;
  };
  // Runs `rlm --db-path <db> args...` in the test folder with the server as OLLAMA_HOST.
  Result Rlm(const std::vector<std::string>& args, const std::string& db = "ws.db") {
    std::vector<std::string> full = {"--db-path", (dir_ / db).string()};
    full.insert(full.end(), args.begin(), args.end());
    RlmProcess p(dir_, "rlm", full,
                 {"OLLAMA_HOST=" + server_->url(), "RLM_CACHE_DIR=" + (dir_ / ".cache").string(),
                  "RLM_CONFIG_DIR=" + (dir_ / ".config").string(), "no_proxy=*", "NO_PROXY=*"});
    const int code = p.Wait(300);
    return {code, p.out(), p.err()};
  }
  json RlmJson(const std::vector<std::string>& args, const std::string& db = "ws.db") {
    std::vector<std::string> full = {"--format", "json"};
    full.insert(full.end(), args.begin(), args.end());
    Result r = Rlm(full, db);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.code == 0 ? json::parse(r.out) : json();
  }
  // The buffer ids of a semantic search's results.
  std::vector<int64_t> SemanticHits(const std::string& query, const std::string& db = "ws.db") {
    json res = RlmJson({"search", query, "-m", "semantic", "-k", "5", "--threshold=-1"}, db);
    std::vector<int64_t> ids;
    for (const auto& hit : res.value("results", json::array()))
      ids.push_back(hit.at("buffer_id").get<int64_t>());
    return ids;
  }

  fs::path dir_;
  std::atomic<bool> fail{false};
  std::unique_ptr<TestHttpServer> server_;
};

bool Has(const std::vector<int64_t>& v, int64_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST_F(EmbedderFailureTest, FailedSwitchKeepsTheOldEmbedderAndItsVectors) {
  ASSERT_EQ(Rlm({"init"}).code, 0);
  ASSERT_EQ(Rlm({"load", (dir_ / "a.txt").string()}).code, 0);
  ASSERT_EQ(Rlm({"load", (dir_ / "b.txt").string()}).code, 0);
  const json before = RlmJson({"status"});
  ASSERT_EQ(before["embedder"], "hash");
  ASSERT_EQ(before["embedded_chunks"], before["chunk_count"]);

  // The provider answers for a.txt and fails for b.txt.
  fail = true;
  Result r = Rlm({"chunk", "embed", "--all", "--embedder", "ollama:m"});
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.err.find("the model runner crashed"), std::string::npos) << r.err;

  const json after = RlmJson({"status"});
  EXPECT_EQ(after["embedder"], "hash") << after.dump();
  EXPECT_EQ(after["buffer_count"], 2);
  EXPECT_EQ(after["chunk_count"], before["chunk_count"]);
  EXPECT_EQ(after["embedded_chunks"], after["chunk_count"]) << after.dump();
  const json coverage = RlmJson({"chunk", "status"});
  EXPECT_EQ(coverage["total_embedded"], coverage["total_chunks"]) << coverage.dump();
  EXPECT_EQ(coverage["model"].get<std::string>().rfind("hash", 0), 0u) << coverage.dump();
  // Semantic search still runs on the old (hash) vectors and finds both buffers.
  std::vector<int64_t> hits = SemanticHits("brown canal barges");
  EXPECT_TRUE(Has(hits, 1) && Has(hits, 2)) << testing::PrintToString(hits);

  // The provider recovers: the retry completes the switch, reusing a.txt's vectors from the failed run.
  fail = false;
  const json reports = RlmJson({"chunk", "embed", "--all", "--embedder", "ollama:m"});
  ASSERT_EQ(reports.size(), 2u) << reports.dump();
  EXPECT_EQ(reports[0]["embedded_count"], 0) << reports.dump();  // stored by the failed run
  EXPECT_EQ(reports[1]["embedded_count"], 1) << reports.dump();
  const json switched = RlmJson({"status"});
  EXPECT_EQ(switched["embedder"], "ollama:m");
  EXPECT_EQ(switched["embedded_chunks"], switched["chunk_count"]);
  hits = SemanticHits("brown canal barges");
  EXPECT_TRUE(Has(hits, 1) && Has(hits, 2)) << testing::PrintToString(hits);
}

TEST_F(EmbedderFailureTest, FailedLoadWritesNothing) {
  ASSERT_EQ(Rlm({"init"}).code, 0);
  ASSERT_EQ(Rlm({"load", (dir_ / "a.txt").string(), "--embedder", "ollama:m"}).code, 0);
  const json before = RlmJson({"status"});
  ASSERT_EQ(before["buffer_count"], 1);
  ASSERT_EQ(before["embedder"], "ollama:m");
  fail = true;
  auto expect_unchanged = [&](const std::string& what) {
    const json now = RlmJson({"status"});
    EXPECT_EQ(now["buffer_count"], 1) << what;
    EXPECT_EQ(now["chunk_count"], before["chunk_count"]) << what;
    EXPECT_EQ(now["embedder"], "ollama:m") << what;
    EXPECT_EQ(now["generation"], before["generation"]) << what << ": a write transaction was committed";
  };

  Result r = Rlm({"load", (dir_ / "b.txt").string(), "--embedder", "ollama:m"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("the model runner crashed"), std::string::npos) << r.err;
  expect_unchanged("file");

  // A directory whose second file fails: the provider's failure is not the file's, so it ends the load
  // (a file with bad bytes would be skipped instead).
  Write("dir/a2.txt", "Another alpine meadow, with blue gentians.\n");
  fs::copy_file(dir_ / "b.txt", dir_ / "dir/b.txt");
  r = Rlm({"load", (dir_ / "dir").string(), "--embedder", "ollama:m"});
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.err.find("the model runner crashed"), std::string::npos) << r.err;
  expect_unchanged("directory");

  r = Rlm({"add-buffer", "inline", std::string("barges and ") + kPoison});
  EXPECT_NE(r.code, 0);
  expect_unchanged("add-buffer");

  // A fresh workspace: the failed load records neither a buffer nor the embedder.
  ASSERT_EQ(Rlm({"init"}, "fresh.db").code, 0);
  const json fresh = RlmJson({"status"}, "fresh.db");
  r = Rlm({"load", (dir_ / "b.txt").string(), "--embedder", "ollama:m"}, "fresh.db");
  EXPECT_NE(r.code, 0);
  const json now = RlmJson({"status"}, "fresh.db");
  EXPECT_EQ(now["buffer_count"], 0);
  EXPECT_EQ(now["embedder"], fresh["embedder"]);
  EXPECT_EQ(now["generation"], fresh["generation"]);
}

TEST_F(EmbedderFailureTest, ChangedModelWeightsUnderTheSameSpecAreRefused) {
  const fs::path model = rlm::test::MaterializeModel(rlm::test::ModelFixtureDir("tiny-bert"), dir_ / "model");
  const std::string spec = "local:" + model.string();
  ASSERT_EQ(Rlm({"init"}).code, 0);
  ASSERT_EQ(Rlm({"load", (dir_ / "a.txt").string(), "--embedder", spec}).code, 0);
  const json before = RlmJson({"status"});
  ASSERT_EQ(before["embedder"], spec);

  // New weights, same config: overwrite the last float of the data section (a finite value: 0.25).
  {
    std::fstream f(model / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-4, std::ios::end);
    const float v = 0.25f;
    f.write(reinterpret_cast<const char*>(&v), sizeof v);
  }
  Result r = Rlm({"load", (dir_ / "b.txt").string(), "--embedder", spec});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("changed since this workspace was embedded"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("chunk embed --all --embedder " + spec), std::string::npos) << r.err;
  // Without --embedder the workspace's spec is used, and refused the same way.
  r = Rlm({"load", (dir_ / "b.txt").string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("changed since"), std::string::npos) << r.err;
  const json now = RlmJson({"status"});
  EXPECT_EQ(now["buffer_count"], 1);
  EXPECT_EQ(now["embedded_chunks"], before["embedded_chunks"]);
  EXPECT_EQ(now["generation"], before["generation"]);
}

}  // namespace
