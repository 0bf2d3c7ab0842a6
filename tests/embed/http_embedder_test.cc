// HttpEmbedder against a real local HTTP server that speaks the OpenAI and Ollama embedding APIs with fake,
// deterministic vectors (hashed from the input text), scripted to fail in the ways real servers do.
#include "embed/http_embedder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/redact.h"
#include "test_http_server.h"

namespace rlm {
namespace {

using json = nlohmann::json;
using testhttp::ClosedPort;
using testhttp::TestHttpRequest;
using testhttp::TestHttpResponse;
using testhttp::TestHttpServer;
using namespace std::chrono_literals;

constexpr size_t kDims = 8;
constexpr float kSentinel = 42.0f;

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// What the fake server answers for `text`: deterministic, not normalised, values in [-1, 1).
std::vector<float> FakeVector(std::string_view text, size_t dims) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ULL;
  std::vector<float> v(dims);
  for (size_t j = 0; j < dims; ++j) v[j] = static_cast<float>((Mix(h + j) >> 40) / double(1 << 24) * 2 - 1);
  return v;
}

// What the embedder must return for `text`: the fake vector, L2-normalised.
std::vector<float> Expected(std::string_view text, size_t dims = kDims) {
  std::vector<float> v = FakeVector(text, dims);
  double n2 = 0;
  for (float x : v) n2 += static_cast<double>(x) * x;
  for (float& x : v) x = static_cast<float>(x * (1.0 / std::sqrt(n2)));
  return v;
}

TestHttpResponse Json(int status, const json& body,
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
  TestHttpResponse r;
  r.status = status;
  r.body = body.dump();
  r.headers = std::move(headers);
  return r;
}

std::vector<std::string> Inputs(const TestHttpRequest& r) {
  return json::parse(r.body).at("input").get<std::vector<std::string>>();
}

// Answers an embeddings request of either API (chosen by path) with fake vectors. `dims_of` may change the
// length of one text's vector; `reverse` lists OpenAI's data items last index first.
TestHttpResponse Answer(const TestHttpRequest& r, size_t dims = kDims, bool reverse = false,
                        std::function<size_t(const std::string&)> dims_of = nullptr) {
  const json req = json::parse(r.body);
  const std::vector<std::string> inputs = Inputs(r);
  if (req.contains("dimensions")) dims = req["dimensions"].get<size_t>();  // as text-embedding-3-* do
  auto vec = [&](const std::string& t) { return FakeVector(t, dims_of ? dims_of(t) : dims); };
  if (r.target == "/api/embed") {
    json embs = json::array();
    for (const std::string& t : inputs) embs.push_back(vec(t));
    return Json(200, {{"model", req["model"]}, {"embeddings", embs}});
  }
  json data = json::array();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const size_t k = reverse ? inputs.size() - 1 - i : i;
    data.push_back({{"object", "embedding"}, {"index", k}, {"embedding", vec(inputs[k])}});
  }
  return Json(
      200, {{"object", "list"}, {"data", data}, {"model", req["model"]}, {"usage", {{"total_tokens", 1}}}});
}

HttpEmbedderOptions Options(HttpEmbedApi api, const TestHttpServer& server, size_t dims = kDims) {
  HttpEmbedderOptions o;
  o.api = api;
  o.model = api == HttpEmbedApi::kOpenAi ? "text-embedding-3-small" : "nomic-embed-text";
  o.base_url = api == HttpEmbedApi::kOpenAi ? server.url() + "/v1" : server.url();
  o.api_key_env = "";
  o.dims = dims;
  o.limits.max_retries = 3;
  o.backoff_base = 1ms;
  o.backoff_max = 5ms;
  o.limits.timeout = 5000ms;
  o.limits.connect_timeout = 2000ms;
  return o;
}

std::vector<std::string> Texts(size_t n) {
  std::vector<std::string> texts;
  for (size_t i = 0; i < n; ++i) texts.push_back("t" + std::to_string(i));
  return texts;
}

std::vector<float> EmbedAll(const Embedder& e, const std::vector<std::string>& texts,
                            EmbedRole role = EmbedRole::kDocument) {
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<float> out(texts.size() * e.Dims(), kSentinel);
  e.Embed(views, role, out.data());
  return out;
}

void ExpectRows(const std::vector<float>& out, const std::vector<std::string>& texts, size_t dims = kDims) {
  ASSERT_EQ(out.size(), texts.size() * dims);
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<float> want = Expected(texts[i], dims);
    for (size_t j = 0; j < dims; ++j) ASSERT_NEAR(out[i * dims + j], want[j], 1e-6) << "row " << i;
  }
}

// Runs Embed expecting an exception of type E; checks that `out` was not touched; returns the error.
template <typename E>
E EmbedFails(const Embedder& e, const std::vector<std::string>& texts, size_t dims = kDims) {
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<float> out(texts.size() * dims, kSentinel);
  try {
    e.Embed(views, EmbedRole::kDocument, out.data());
  } catch (const E& err) {
    for (float x : out) EXPECT_EQ(x, kSentinel) << "output written on failure";
    return err;
  }
  ADD_FAILURE() << "Embed did not throw the expected error";
  return E("no error");
}

// Sets (or with nullopt unsets) an environment variable for a scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class HttpEmbedderTest : public ::testing::Test {
 protected:
  // A proxy configured on the machine must not intercept requests to 127.0.0.1.
  ScopedEnv no_proxy_{"no_proxy", "*"};
  ScopedEnv no_proxy_upper_{"NO_PROXY", "*"};
};

TEST_F(HttpEmbedderTest, OpenAiRequestAndReply) {
  TestHttpServer server([](const TestHttpRequest& r) { return Answer(r); });
  HttpEmbedder e(Options(HttpEmbedApi::kOpenAi, server));
  const std::vector<std::string> texts = {"alpha", "beta", "γάμμα \"quoted\"\n"};
  ExpectRows(EmbedAll(e, texts), texts);
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/v1/embeddings");
  EXPECT_EQ(reqs[0].Header("content-type"), "application/json");
  EXPECT_FALSE(reqs[0].Header("authorization").has_value());
  const json body = json::parse(reqs[0].body);
  EXPECT_EQ(body["model"], "text-embedding-3-small");
  EXPECT_EQ(body["input"].get<std::vector<std::string>>(), texts);
  EXPECT_EQ(body["encoding_format"], "float");
  EXPECT_FALSE(body.contains("dimensions"));
  EXPECT_EQ(e.Url(), server.url() + "/v1/embeddings");
  EXPECT_EQ(e.counters().texts.load(), 3u);
  EXPECT_TRUE(e.Cacheable());
  EXPECT_EQ(e.PreferredBatch(), 64u * 4u);
}

TEST_F(HttpEmbedderTest, OllamaNativeRequestAndReply) {
  TestHttpServer server([](const TestHttpRequest& r) { return Answer(r); });
  HttpEmbedder e(Options(HttpEmbedApi::kOllama, server));
  const std::vector<std::string> texts = {"one", "two"};
  ExpectRows(EmbedAll(e, texts), texts);
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].target, "/api/embed");
  const json body = json::parse(reqs[0].body);
  EXPECT_EQ(body["model"], "nomic-embed-text");
  EXPECT_EQ(body["input"].get<std::vector<std::string>>(), texts);
  EXPECT_FALSE(body.contains("encoding_format"));
}

TEST_F(HttpEmbedderTest, AuthorizationHeaderOnlyWhenTheKeyVariableIsSet) {
  TestHttpServer server([](const TestHttpRequest& r) { return Answer(r); });
  HttpEmbedderOptions o = Options(HttpEmbedApi::kOpenAi, server);
  o.api_key_env = "RLM_TEST_HTTP_KEY";
  {
    ScopedEnv key("RLM_TEST_HTTP_KEY", "sk-secret-123");
    HttpEmbedder e(o);
    EmbedAll(e, {"x"});
  }
  {
    ScopedEnv key("RLM_TEST_HTTP_KEY", std::nullopt);
    HttpEmbedder e(o);
    EmbedAll(e, {"x"});
  }
  {
    ScopedEnv key("OPENAI_API_KEY", "sk-default");
    o.api_key_env = std::nullopt;  // the default variable for openai
    HttpEmbedder e(o);
    EmbedAll(e, {"x"});
  }
  const auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].Header("authorization"), "Bearer sk-secret-123");
  EXPECT_FALSE(reqs[1].Header("authorization").has_value());
  EXPECT_EQ(reqs[2].Header("authorization"), "Bearer sk-default");
}

TEST_F(HttpEmbedderTest, LearnsDimsWithOneProbeAcrossThreads) {
  TestHttpServer server([](const TestHttpRequest& r) { return Answer(r, 24); });
  HttpEmbedder e(Options(HttpEmbedApi::kOpenAi, server, /*dims=*/0));
  EXPECT_EQ(server.request_count(), 0u);  // construction makes no request
  std::vector<std::thread> threads;
  std::atomic<size_t> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      if (e.Dims() != 24) ++wrong;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0u);
  ASSERT_EQ(server.request_count(), 1u);
  EXPECT_EQ(Inputs(server.requests()[0]).size(), 1u);
  EXPECT_EQ(e.Fingerprint(),
            "openai:text-embedding-3-small@127.0.0.1:" + std::to_string(server.port()) + "/v1:d24");
  ExpectRows(EmbedAll(e, {"a", "b"}), {"a", "b"}, 24);
  EXPECT_EQ(server.request_count(), 2u);
}

TEST_F(HttpEmbedderTest, FailedProbeIsRetriedByTheNextCall) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const TestHttpRequest& r) {
    if (calls++ == 0) return Json(400, {{"error", {{"message", "model warming up"}}}});
    return Answer(r);
  });
  HttpEmbedder e(Options(HttpEmbedApi::kOpenAi, server, 0));
  EXPECT_THROW(e.Dims(), InvalidInput);
  EXPECT_EQ(e.Dims(), kDims);
}

TEST_F(HttpEmbedderTest, SplitsIntoBatchesOf64) {
  for (size_t in_flight : {size_t{1}, size_t{4}}) {
    TestHttpServer server([](const TestHttpRequest& r) { return Answer(r); });
    HttpEmbedderOptions o = Options(HttpEmbedApi::kOpenAi, server);
    o.max_in_flight = in_flight;
    HttpEmbedder e(o);
    const std::vector<std::string> texts = Texts(150);
    ExpectRows(EmbedAll(e, texts), texts);
    const auto reqs = server.requests();
    ASSERT_EQ(reqs.size(), 3u);
    std::vector<std::string> seen;
    std::vector<size_t> sizes;
    for (const auto& r : reqs) {
      const auto in = Inputs(r);
      sizes.push_back(in.size());
      EXPECT_LE(in.size(), 64u);
      // each batch is a contiguous slice starting at a multiple of 64
      const size_t first = std::stoul(in.front().substr(1));
      EXPECT_EQ(first % 64, 0u);
      for (size_t k = 0; k < in.size(); ++k) EXPECT_EQ(in[k], texts[first + k]);
    }
    std::sort(sizes.begin(), sizes.end());
    EXPECT_EQ(sizes, (std::vector<size_t>{22, 64, 64}));
  }
}

TEST_F(HttpEmbedderTest, OrdersByIndexNotPosition) {
  TestHttpServer server([](const TestHttpRequest& r) { return Answer(r, kDims, /*reverse=*/true); });
  HttpEmbedder e(Options(HttpEmbedApi::kOpenAi, server));
  const std::vector<std::string> texts = {"first", "second", "third", "fourth"};
  ExpectRows(EmbedAll(e, texts), texts);
}

TEST_F(HttpEmbedderTest, RetriesServerErrorsThenSucceeds) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const TestHttpRequest& r) {
    const int n = calls++;
    if (n < 2) return Json(500, {{"error", {{"message", "overloaded"}}}});
    return Answer(r);
  });
  HttpEmbedder e(Options(HttpEmbedApi::kOpenAi, server));
  ExpectRows(EmbedAll(e, {"a", "b"}), {"a", "b"});
  EXPECT_EQ(server.request_count(), 3u);
}

TEST_F(HttpEmbedderTest, RetriesEveryTransientStatus) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const TestHttpRequest& r) {
    const int statuses[] = {502, 503, 504, 429};
    const int n = calls++;
    if (n < 4) return Json(statuses[n], {{"error", "busy"}});
    return Answer(r);
  });
  HttpEmbedderOptions o = Options(HttpEmbedApi::kOllama, server);
  o.limits.max_retries = 4;
  HttpEmbedder e(o);
  ExpectRows(EmbedAll(e, {"a"}), {"a"});
  EXPECT_EQ(server.request_count(), 5u);
}

TEST_F(HttpEmbedderTest, HonoursRetryAfter) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const TestHttpRequest& r) {
    if (calls++ == 0) return Json(429, {{"error", {{"message", "rate limited"}}}}, {{"Retry-After", "0"}});
    return Answer(r);
  });
  HttpEmbedderOptions o = Options(HttpEmbedApi::kOpenAi, server);
  o.backoff_base = 20s;  // without Retry-After the retry would wait up to 20 s
  o.backoff_max = 20s;
  HttpEmbedder e(o);
  const auto start = std::chrono::steady_clock::now();
  ExpectRows(EmbedAll(e, {"a"}), {"a"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(server.request_count(), 2u);
}

// The retry wait: full jitter within [0, min(max, base * 2^attempt)], a 429/503 Retry-After taken as is.
TEST(RetryWait, FullJitterWithinTheExponentialCap) {
  HttpEmbedderOptions o;
  o.backoff_base = 100ms;
  o.backoff_max = 3000ms;
  constexpr int kDraws = 2000;
  for (int attempt = 0; attempt <= 8; ++attempt) {
    SCOPED_TRACE(attempt);
    const int64_t cap = std::min<int64_t>(3000, int64_t{100} << attempt);
    std::set<int64_t> seen;
    int64_t lo = cap, hi = 0;
    double sum = 0;
    for (int i = 0; i < kDraws; ++i) {
      for (int status : {0, 500, 502, 504, 429, 503}) {  // no Retry-After: always jitter
        const int64_t w = RetryWait(o, attempt, status, std::nullopt).count();
        ASSERT_GE(w, 0);
        ASSERT_LE(w, cap);
        if (status != 0) continue;
        seen.insert(w);
        lo = std::min(lo, w);
        hi = std::max(hi, w);
        sum += static_cast<double>(w);
      }
    }
    // Jitter: the draws spread over the whole range (a fixed or capped wait fails every line). With 2000
    // uniform draws each bound below fails with probability < 1e-9.
    EXPECT_GT(seen.size(), std::min<size_t>(static_cast<size_t>(cap) / 2, 500));
    EXPECT_LT(lo, cap / 10 + 1);
    EXPECT_GT(hi, cap - cap / 10 - 1);
    EXPECT_NEAR(sum / kDraws, cap / 2.0, cap * 0.05);
  }
  // Far past the doubling: the cap is backoff_max; no overflow for absurd attempts.
  for (int attempt : {20, 63, 64, 1000, std::numeric_limits<int>::max()}) {
    const int64_t w = RetryWait(o, attempt, 500, std::nullopt).count();
    EXPECT_GE(w, 0);
    EXPECT_LE(w, 3000);
  }
  o.backoff_base = 0ms;
  EXPECT_EQ(RetryWait(o, 3, 500, std::nullopt).count(), 0);
}

TEST(RetryWait, RetryAfterIsHonouredOn429And503Only) {
  HttpEmbedderOptions o;
  o.backoff_base = 100ms;
  o.backoff_max = 200ms;
  EXPECT_EQ(RetryWait(o, 0, 429, 2.5), 2500ms);  // longer than the backoff cap: the server decides
  EXPECT_EQ(RetryWait(o, 5, 503, 0.0), 0ms);
  EXPECT_EQ(RetryWait(o, 0, 503, 300.0), 300000ms);
  for (int status : {500, 502, 504, 0}) {  // a Retry-After on other statuses is not a rate limit
    for (int i = 0; i < 100; ++i) EXPECT_LE(RetryWait(o, 0, status, 2.5), 100ms) << status;
  }
}

TEST_F(HttpEmbedderTest, RetriesExhaustedIsIoError) {
  TestHttpServer server([](const TestHttpRequest&) {
    return Json(503, {{"error", {{"message", "no capacity"}}}});
  });
  HttpEmbedder e(Options(HttpEmbedApi::kOpenAi, server));
  const IoError err = EmbedFails<IoError>(e, {"a", "b"});
  EXPECT_EQ(server.request_count(), 4u);  // 1 + max_retries
  const std::string msg = err.what();
  EXPECT_NE(msg.find("after 4 attempts"), std::string::npos) << msg;
  EXPECT_NE(msg.find("HTTP 503: no capacity"), std::string::npos) << msg;
  EXPECT_NE(msg.find(e.Url()), std::string::npos) << msg;
}

TEST_F(HttpEmbedderTest, ClientErrorIsNotRetriedAndSurfacesTheServerMessage) {
  TestHttpServer server([](const TestHttpRequest&) {
    return Json(400, {{"error",
                       {{"message", "This model's maximum context length is 8192 tokens"},
                        {"type", "invalid_request_error"}}}});
  });
  HttpEmbedder e(Options(HttpEmbedApi::kOpenAi, server));
  const InvalidInput err = EmbedFails<InvalidInput>(e, {"a"});
  EXPECT_EQ(server.request_count(), 1u);
  const std::string msg = err.what();
  EXPECT_NE(msg.find("HTTP 400"), std::string::npos) << msg;
  EXPECT_NE(msg.find(e.Url()), std::string::npos) << msg;
  EXPECT_NE(msg.find("maximum context length is 8192 tokens"), std::string::npos) << msg;
  EXPECT_NE(err.suggestion().find("chunk size"), std::string::npos);
}

TEST_F(HttpEmbedderTest, UnauthorizedNamesTheKeyVariableNeverTheKey) {
  TestHttpServer server([](const TestHttpRequest&) {
    return Json(401, {{"error", {{"message", "Incorrect API key provided"}}}});
  });
  ScopedEnv key("RLM_TEST_HTTP_KEY", "sk-secret-xyz");
  HttpEmbedderOptions o = Options(HttpEmbedApi::kOpenAi, server);
  o.api_key_env = "RLM_TEST_HTTP_KEY";
  HttpEmbedder e(o);
  const InvalidInput err = EmbedFails<InvalidInput>(e, {"a"});
  EXPECT_EQ(server.request_count(), 1u);
  const std::string msg = err.what();
  EXPECT_NE(msg.find("HTTP 401: Incorrect API key provided"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("sk-secret-xyz"), std::string::npos);
  EXPECT_NE(err.suggestion().find("RLM_TEST_HTTP_KEY"), std::string::npos);
  EXPECT_EQ(e.Fingerprint().find("sk-secret"), std::string::npos);
}

TEST_F(HttpEmbedderTest, OllamaErrorMessage) {
  TestHttpServer server([](const TestHttpRequest&) {
    return Json(404, {{"error", "model \"nomic-embed-text\" not found, try pulling it first"}});
  });
  HttpEmbedder e(Options(HttpEmbedApi::kOllama, server));
  const InvalidInput err = EmbedFails<InvalidInput>(e, {"a"});
  EXPECT_NE(std::string(err.what()).find("not found, try pulling it first"), std::string::npos) << err.what();
  EXPECT_NE(err.suggestion().find("ollama pull nomic-embed-text"), std::string::npos);
}

TEST_F(HttpEmbedderTest, WrongDimsNamesTheInput) {
  TestHttpServer server([](const TestHttpRequest& r) {
    return Answer(r, kDims, false, [](const std::string& t) { return t == "t138" ? size_t{7} : kDims; });
  });
  HttpEmbedder e(Options(HttpEmbedApi::kOpenAi, server));
  const InvalidInput err = EmbedFails<InvalidInput>(e, Texts(150));
  EXPECT_NE(std::string(err.what()).find("openai:text-embedding-3-small: bad reply from "), std::string::npos)
      << err.what();
  EXPECT_NE(std::string(err.what()).find(": 7 dims for input 138, expected 8"), std::string::npos)
      << err.what();
}

TEST_F(HttpEmbedderTest, BadRepliesAreInvalidInput) {
  const std::pair<std::string, std::string> cases[] = {
      {R"({"data": [)", "not valid JSON"},
      {R"(<html>busy</html>)", "not valid JSON"},
      {R"([1, 2])", "not a JSON object"},
      {R"({"object": "list"})", "no \"data\" array"},
      {R"({"data": [{"index": 0, "embedding": [1, 2, 3, 4, 5, 6, 7, 8]}]})", "1 embeddings for 2 inputs"},
      {R"({"data": [{"index": 0, "embedding": [1,2,3,4,5,6,7,8]}, {"index": 1}]})", "has no \"embedding\""},
      {R"({"data": [{"index": 0, "embedding": [1,2,3,4,5,6,7,8]}, {"index": 0, "embedding": [1,2,3,4,5,6,7,8]}]})",
       "index 0 appears twice"},
      {R"({"data": [{"index": 0, "embedding": [1,2,3,4,5,6,7,8]}, {"index": 2, "embedding": [1,2,3,4,5,6,7,8]}]})",
       "has index 2, expected 0 to 1"},
      {R"({"data": [{"index": 0, "embedding": "AAAA"}, {"index": 1, "embedding": "AAAA"}]})", "base64"},
      {R"({"data": [{"index": 0, "embedding": [1,2,3,4,5,6,7,1e39]}, {"index": 1, "embedding": [1,2,3,4,5,6,7,8]}]})",
       "element 7 of the embedding of input 0 is not a finite float"},
      {R"({"data": [{"index": 0, "embedding": [1,2,3,4,5,6,7,8]}, {"index": 1, "embedding": [1,2,null,4,5,6,7,8]}]})",
       "element 2 of the embedding of input 1 is null, not a number"},
  };
  for (const auto& [reply, want] : cases) {
    TestHttpServer server([&reply](const TestHttpRequest&) {
      TestHttpResponse r;
      r.body = reply;
      return r;
    });
    HttpEmbedder e(Options(HttpEmbedApi::kOpenAi, server));
    const InvalidInput err = EmbedFails<InvalidInput>(e, {"a", "b"});
    const std::string msg = err.what();
    EXPECT_NE(msg.find("openai:text-embedding-3-small: bad reply from " + e.Url()), std::string::npos) << msg;
    EXPECT_NE(msg.find(want), std::string::npos) << "reply " << reply << " gave: " << msg;
    EXPECT_EQ(server.request_count(), 1u) << "bad replies are not retried";
  }
}

TEST_F(HttpEmbedderTest, OllamaWrongCount) {
  TestHttpServer server([](const TestHttpRequest&) {
    return Json(200, {{"embeddings", {FakeVector("x", kDims)}}});
  });
  HttpEmbedder e(Options(HttpEmbedApi::kOllama, server));
  const InvalidInput err = EmbedFails<InvalidInput>(e, {"a", "b", "c"});
  EXPECT_NE(std::string(err.what()).find("1 embeddings for 3 inputs"), std::string::npos) << err.what();
}

TEST_F(HttpEmbedderTest, SlowReplyTimesOutAndIsRetried) {
  TestHttpServer server([](const TestHttpRequest& r) {
    TestHttpResponse res = Answer(r);
    res.delay = 5s;
    return res;
  });
  HttpEmbedderOptions o = Options(HttpEmbedApi::kOpenAi, server);
  o.limits.timeout = 300ms;
  o.limits.max_retries = 1;
  HttpEmbedder e(o);
  const auto start = std::chrono::steady_clock::now();
  const IoError err = EmbedFails<IoError>(e, {"a"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(server.request_count(), 2u);
  EXPECT_NE(std::string(err.what()).find("Timeout"), std::string::npos) << err.what();
}

TEST_F(HttpEmbedderTest, ConnectionRefusedIsIoErrorAfterRetries) {
  HttpEmbedderOptions o;
  o.api = HttpEmbedApi::kOllama;
  o.model = "m";
  o.base_url = "http://127.0.0.1:" + std::to_string(ClosedPort());
  o.dims = kDims;
  o.limits.max_retries = 2;
  o.backoff_base = 1ms;
  HttpEmbedder e(o);
  const IoError err = EmbedFails<IoError>(e, {"a"});
  const std::string msg = err.what();
  EXPECT_NE(msg.find(o.base_url + "/api/embed failed after 3 attempts"), std::string::npos) << msg;
  EXPECT_NE(err.suggestion().find("ollama serve"), std::string::npos);
}

TEST_F(HttpEmbedderTest, OneFailedBatchLeavesTheOutputUntouched) {
  TestHttpServer server([](const TestHttpRequest& r) {
    if (Inputs(r).front() == "t64") return Json(400, {{"error", {{"message", "bad batch"}}}});
    return Answer(r);
  });
  HttpEmbedder e(Options(HttpEmbedApi::kOpenAi, server));
  const InvalidInput err = EmbedFails<InvalidInput>(e, Texts(150));
  EXPECT_NE(std::string(err.what()).find("bad batch"), std::string::npos);
  EXPECT_EQ(e.counters().texts.load(), 0u);
}

TEST_F(HttpEmbedderTest, PrefixesByRoleAndInTheFingerprint) {
  TestHttpServer server([](const TestHttpRequest& r) { return Answer(r); });
  HttpEmbedderOptions o = Options(HttpEmbedApi::kOpenAi, server);
  HttpEmbedder plain(o);
  o.query_prefix = "query: ";
  o.document_prefix = "passage: ";
  HttpEmbedder e5(o);
  ExpectRows(EmbedAll(e5, {"q"}, EmbedRole::kQuery), {"query: q"});
  ExpectRows(EmbedAll(e5, {"d"}, EmbedRole::kDocument), {"passage: d"});
  const auto reqs = server.requests();
  EXPECT_EQ(Inputs(reqs[0]), std::vector<std::string>{"query: q"});
  EXPECT_EQ(Inputs(reqs[1]), std::vector<std::string>{"passage: d"});
  o.query_prefix = "query:";
  o.document_prefix = " passage: ";
  HttpEmbedder shifted(o);
  EXPECT_EQ(plain.Fingerprint().find(":p"), std::string::npos);
  EXPECT_NE(e5.Fingerprint().find(":d8:p"), std::string::npos) << e5.Fingerprint();
  EXPECT_NE(e5.Fingerprint(), shifted.Fingerprint());
}

TEST_F(HttpEmbedderTest, EmptyTextsGetZeroRowsWithoutARequest) {
  TestHttpServer server([](const TestHttpRequest& r) { return Answer(r); });
  HttpEmbedder e(Options(HttpEmbedApi::kOpenAi, server));
  const std::vector<float> out = EmbedAll(e, {"a", "", "b"});
  EXPECT_EQ(Inputs(server.requests()[0]), (std::vector<std::string>{"a", "b"}));
  for (size_t j = 0; j < kDims; ++j) {
    EXPECT_EQ(out[kDims + j], 0.0f);
    EXPECT_NEAR(out[j], Expected("a")[j], 1e-6);
    EXPECT_NEAR(out[2 * kDims + j], Expected("b")[j], 1e-6);
  }
  EmbedAll(e, {"", ""});
  EXPECT_EQ(server.request_count(), 1u);
}

TEST_F(HttpEmbedderTest, FingerprintsAndUrlsHoldNoCredentials) {
  TestHttpServer server([](const TestHttpRequest& r) { return Answer(r); });
  HttpEmbedderOptions o = Options(HttpEmbedApi::kOpenAi, server);
  o.base_url = "http://user:pa55@127.0.0.1:" + std::to_string(server.port()) + "/v1/";
  o.dims = 4;
  o.send_dimensions = true;
  HttpEmbedder e(o);
  EXPECT_EQ(e.Url(), server.url() + "/v1/embeddings");
  EXPECT_EQ(e.Fingerprint(),
            "openai:text-embedding-3-small@127.0.0.1:" + std::to_string(server.port()) + "/v1:d4");
  ExpectRows(EmbedAll(e, {"a"}), {"a"}, 4);
  const TestHttpRequest req = server.requests().at(0);
  EXPECT_EQ(json::parse(req.body)["dimensions"], 4);
  EXPECT_TRUE(req.Header("authorization").value_or("").starts_with("Basic "));  // the URL's user:password

  HttpEmbedderOptions ol = Options(HttpEmbedApi::kOllama, server);
  ol.model = "nomic-embed-text";
  HttpEmbedder untagged(ol);
  ol.model = "nomic-embed-text:latest";
  HttpEmbedder tagged(ol);
  EXPECT_EQ(untagged.Fingerprint(), tagged.Fingerprint());
  EXPECT_EQ(tagged.Fingerprint(),
            "ollama:nomic-embed-text:latest@127.0.0.1:" + std::to_string(server.port()) + ":d8");
}

TEST_F(HttpEmbedderTest, DefaultsFromTheEnvironment) {
  TestHttpServer server([](const TestHttpRequest& r) { return Answer(r, 16); });
  {
    ScopedEnv base("OPENAI_BASE_URL", std::nullopt);
    ScopedEnv host("OLLAMA_HOST", std::nullopt);
    EXPECT_EQ(static_cast<HttpEmbedder&>(*MakeOpenAiEmbedder("m")).Url(),
              "https://api.openai.com/v1/embeddings");
    EXPECT_EQ(static_cast<HttpEmbedder&>(*MakeOllamaEmbedder("m")).Url(), "http://localhost:11434/api/embed");
  }
  const std::pair<const char*, const char*> hosts[] = {
      {"myhost", "http://myhost:11434/api/embed"},
      {"0.0.0.0:1234", "http://0.0.0.0:1234/api/embed"},
      {"https://ollama.example.com", "https://ollama.example.com/api/embed"},
      {"::1", "http://[::1]:11434/api/embed"},
  };
  for (const auto& [value, url] : hosts) {
    ScopedEnv host("OLLAMA_HOST", value);
    EXPECT_EQ(static_cast<HttpEmbedder&>(*MakeOllamaEmbedder("m")).Url(), url) << value;
  }
  {
    ScopedEnv base("OPENAI_BASE_URL", server.url() + "/v1");
    ScopedEnv key("OPENAI_API_KEY", "sk-env");
    auto e = MakeOpenAiEmbedder("text-embedding-3-small");
    EXPECT_EQ(e->Dims(), 16u);
    ExpectRows(EmbedAll(*e, {"a"}), {"a"}, 16);
    EXPECT_EQ(server.requests().back().Header("authorization"), "Bearer sk-env");
  }
  {
    ScopedEnv host("OLLAMA_HOST", "127.0.0.1:" + std::to_string(server.port()));
    ScopedEnv key("OPENAI_API_KEY", "sk-env");
    auto e = MakeOllamaEmbedder("all-minilm");
    ExpectRows(EmbedAll(*e, {"a"}), {"a"}, 16);
    EXPECT_EQ(server.requests().back().target, "/api/embed");
    EXPECT_FALSE(server.requests().back().Header("authorization").has_value());
  }
}

TEST_F(HttpEmbedderTest, BadOptionsAreInvalidInput) {
  EXPECT_THROW(MakeOpenAiEmbedder(""), InvalidInput);
  EXPECT_THROW(MakeOllamaEmbedder(""), InvalidInput);
  auto with = [](auto change) {
    HttpEmbedderOptions o;
    o.model = "m";
    o.base_url = "http://127.0.0.1:1/v1";
    change(o);
    return o;
  };
  EXPECT_NO_THROW(HttpEmbedder(with([](HttpEmbedderOptions&) {})));
  EXPECT_THROW(HttpEmbedder(with([](HttpEmbedderOptions& o) { o.base_url = "ftp://h/v1"; })), InvalidInput);
  EXPECT_THROW(HttpEmbedder(with([](HttpEmbedderOptions& o) { o.base_url = "localhost:8080"; })),
               InvalidInput);
  EXPECT_THROW(HttpEmbedder(with([](HttpEmbedderOptions& o) { o.base_url = "http://h/v1?x=1"; })),
               InvalidInput);
  EXPECT_THROW(HttpEmbedder(with([](HttpEmbedderOptions& o) { o.batch_size = 0; })), InvalidInput);
  EXPECT_THROW(HttpEmbedder(with([](HttpEmbedderOptions& o) { o.max_in_flight = 0; })), InvalidInput);
  EXPECT_THROW(HttpEmbedder(with([](HttpEmbedderOptions& o) { o.limits.timeout = 0ms; })), InvalidInput);
  EXPECT_THROW(HttpEmbedder(with([](HttpEmbedderOptions& o) { o.send_dimensions = true; })), InvalidInput);
  EXPECT_THROW(HttpEmbedder(with([](HttpEmbedderOptions& o) { o.dims = HttpEmbedder::kMaxDims + 1; })),
               InvalidInput);
}

TEST_F(HttpEmbedderTest, ConcurrentEmbedCalls) {
  TestHttpServer server([](const TestHttpRequest& r) { return Answer(r); });
  HttpEmbedderOptions o = Options(HttpEmbedApi::kOpenAi, server);
  o.batch_size = 16;
  o.max_in_flight = 2;
  HttpEmbedder e(o);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::string> texts;
      for (int i = 0; i < 100; ++i)
        texts.push_back("thread " + std::to_string(t) + " text " + std::to_string(i));
      const std::vector<float> out = EmbedAll(e, texts);
      for (size_t i = 0; i < texts.size(); ++i) {
        const std::vector<float> want = Expected(texts[i]);
        for (size_t j = 0; j < kDims; ++j) {
          if (std::abs(out[i * kDims + j] - want[j]) > 1e-6) ++bad;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(server.request_count(), 4u * 7u);  // ceil(100 / 16) per call
}

// ---- user-controlled limits (issue 11 item 4) -------------------------------------------------------------

TEST_F(HttpEmbedderTest, RetryAfterBeyondTheBudgetFailsAtOnce) {
  TestHttpServer server([](const TestHttpRequest&) {
    return Json(429, {{"error", {{"message", "rate limited"}}}}, {{"Retry-After", "30"}});
  });
  HttpEmbedderOptions o = Options(HttpEmbedApi::kOpenAi, server);
  o.limits.retry_budget = 2s;
  HttpEmbedder e(o);
  const auto start = std::chrono::steady_clock::now();
  const IoError err = EmbedFails<IoError>(e, {"a"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(server.request_count(), 1u);
  const std::string msg = err.what();
  EXPECT_NE(
      msg.find(e.Url() + " asked to wait 30 s before retrying (HTTP 429: rate limited), more than the 2 s "
                         "left of the retry budget (2 s) after 1 attempt"),
      std::string::npos)
      << msg;
  EXPECT_NE(err.suggestion().find("--http-retry-budget"), std::string::npos) << err.suggestion();
}

TEST_F(HttpEmbedderTest, RetryBudgetCutsBackoffWaits) {
  TestHttpServer server([](const TestHttpRequest&) { return Json(503, {{"error", "busy"}}); });
  HttpEmbedderOptions o = Options(HttpEmbedApi::kOpenAi, server);
  o.backoff_base = 20s;  // jitter up to 20 s, 40 s, ... per retry without the budget
  o.backoff_max = 60s;
  o.limits.max_retries = 4;
  o.limits.retry_budget = 300ms;
  HttpEmbedder e(o);
  const auto start = std::chrono::steady_clock::now();
  const IoError err = EmbedFails<IoError>(e, {"a"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(server.request_count(), 5u);  // every retry still made, without waiting past the budget
  EXPECT_NE(std::string(err.what()).find("after 5 attempts"), std::string::npos) << err.what();
}

TEST_F(HttpEmbedderTest, WaitsAreReported) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const TestHttpRequest& r) {
    const int n = calls++;
    if (n == 0) return Json(429, {{"error", "slow down"}}, {{"Retry-After", "0.2"}});
    if (n == 1) return Json(502, {{"error", "bad gateway"}});
    return Answer(r);
  });
  HttpEmbedderOptions o = Options(HttpEmbedApi::kOpenAi, server);
  o.backoff_base = 100ms;
  o.backoff_max = 100ms;
  std::mutex mu;
  std::vector<std::string> notices;
  o.on_wait = [&](std::string_view m) {
    std::lock_guard<std::mutex> lock(mu);
    notices.emplace_back(m);
  };
  HttpEmbedder e(o);
  ExpectRows(EmbedAll(e, {"a"}), {"a"});
  ASSERT_GE(notices.size(), 1u);
  EXPECT_EQ(notices[0],
            "openai:text-embedding-3-small: waiting 0.2 s: the server asked to retry (HTTP 429) at " +
                e.Url() + " (retry 1 of 3)");
  if (notices.size() > 1) {  // the jittered wait may draw 0 ms, which is not reported
    EXPECT_NE(notices[1].find("to retry " + e.Url() + " after HTTP 502: bad gateway (retry 2 of 3)"),
              std::string::npos)
        << notices[1];
  }
}

TEST_F(HttpEmbedderTest, RepliesOverTheSizeCapAreRefused) {
  for (const bool chunked : {false, true}) {
    SCOPED_TRACE(chunked ? "chunked" : "Content-Length");
    TestHttpServer server([&](const TestHttpRequest&) {
      TestHttpResponse r;
      r.zeros = 64u << 20;
      r.chunked = chunked;
      return r;
    });
    HttpEmbedderOptions o = Options(HttpEmbedApi::kOpenAi, server);
    o.limits.max_response_bytes = 1u << 20;
    HttpEmbedder e(o);
    const InvalidInput err = EmbedFails<InvalidInput>(e, {"a"});
    EXPECT_EQ(err.type(), std::string("BadEmbeddingReply"));
    EXPECT_EQ(server.request_count(), 1u) << "not retried";
    const std::string msg = err.what();
    EXPECT_NE(msg.find("the response from " + e.Url() + " exceeds 1 MiB"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("declared 67108864 bytes") != std::string::npos, !chunked) << msg;
    EXPECT_NE(err.suggestion().find("--http-max-response"), std::string::npos);
  }
}

TEST_F(HttpEmbedderTest, ResponseMemoryIsOneBudgetForTheProcess) {
  std::atomic<int> in_flight{0}, most{0};
  TestHttpServer server([&](const TestHttpRequest& r) {
    const int now = ++in_flight;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(50ms);
    --in_flight;
    return Answer(r);
  });
  const HttpSettings saved = GetHttpSettings();
  HttpSettings s;
  s.response_memory = 2u << 20;  // two replies of 1 MiB
  SetHttpSettings(s);
  HttpEmbedderOptions o = Options(HttpEmbedApi::kOpenAi, server);
  o.limits.max_response_bytes = 1u << 20;
  o.batch_size = 4;
  o.max_in_flight = 8;
  HttpEmbedder a(o), b(o);
  std::thread other([&] { ExpectRows(EmbedAll(b, Texts(32)), Texts(32)); });
  ExpectRows(EmbedAll(a, Texts(32)), Texts(32));
  other.join();
  SetHttpSettings(saved);
  EXPECT_EQ(server.request_count(), 16u);
  EXPECT_EQ(most.load(), 2) << "two embedders, eight requests each in flight, memory for two replies";
}

// ---- secrets (issue 11 item 5) ----------------------------------------------------------------------------

TEST_F(HttpEmbedderTest, EchoedKeysAndCredentialsNeverReachAMessage) {
  const std::string key = "sk-proj-Echo0123456789";
  std::atomic<int> status{401};
  TestHttpServer server([&](const TestHttpRequest& r) {
    const std::string auth = r.Header("authorization").value_or("");
    if (status == 200) {  // a reply that is not JSON, quoted in the error
      TestHttpResponse res;
      res.body = std::string(275, 'x') + " you sent " + auth;  // the quote's 300-byte cut falls in the secret
      return res;
    }
    return Json(status,
                {{"error",
                  {{"message", "Invalid key " + auth.substr(auth.find(' ') + 1) +
                                   "; header was: Authorization: " + auth}}}},
                {{"Retry-After", "0"}});
  });
  ScopedEnv env("RLM_TEST_ECHO_KEY", key);
  for (const int s : {401, 500, 200}) {
    status = s;
    HttpEmbedderOptions o = Options(HttpEmbedApi::kOpenAi, server);
    o.api_key_env = "RLM_TEST_ECHO_KEY";
    HttpEmbedder with_key(o);
    o.api_key_env = "";
    o.base_url = "http://bob:Pa55-w0rd-echo@127.0.0.1:" + std::to_string(server.port()) + "/v1";
    HttpEmbedder with_url(o);
    for (const HttpEmbedder* e : {&with_key, &with_url}) {
      std::string msg;
      try {
        EmbedAll(*e, {"a"});
      } catch (const Error& err) {
        msg = std::string(err.what()) + " | " + err.suggestion();
      }
      ASSERT_FALSE(msg.empty());
      for (const std::string& secret :
           {std::string("sk-proj"), std::string("Echo0123456789"), std::string("Pa55-w0rd-echo"),
            Base64("bob:Pa55-w0rd-echo").substr(0, 8)}) {
        EXPECT_EQ(msg.find(secret), std::string::npos) << s << ": " << msg;
      }
    }
  }
}

}  // namespace
}  // namespace rlm
