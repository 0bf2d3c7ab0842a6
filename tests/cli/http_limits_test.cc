// HTTP limits the user controls and secrets that stay secret, checked on the real binary against a real
// OpenAI-API server on loopback (tests/embed/test_http_server.h), through `rlm embed -e openai:m`:
// - request timeout, retries and the retry budget from flags and RLM_HTTP_* variables; bad values are
//   usage errors; a Retry-After beyond the budget fails at once; a wait is reported on stderr;
// - a huge reply (declared 1 GiB, or chunked without a length) to concurrent requests ends in a clear error
//   while the process's peak memory (VmHWM, polled from /proc) stays bounded;
// - credentials in the base URL, and an API key or Authorization header that the server echoes into its
//   error body, appear in neither stdout nor stderr, in text and JSON modes.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/rlm_process.h"
#include "embed/test_http_server.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using rlm::testhttp::ClosedPort;
using rlm::testhttp::TestHttpRequest;
using rlm::testhttp::TestHttpResponse;
using rlm::testhttp::TestHttpServer;
using rlm::testing_cli::RlmProcess;
using namespace std::chrono_literals;

constexpr size_t kDims = 4;
constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr char kKey[] = "sk-live-0123456789abcdefSECRET";
constexpr char kPassword[] = "s3cr3t-pw0rd";
const std::string kBasic = "YWxpY2U6czNjcjN0LXB3MHJk";  // base64("alice:s3cr3t-pw0rd")

// OpenAI's /v1/embeddings with constant vectors.
TestHttpResponse Embeddings(const TestHttpRequest& r) {
  const json req = json::parse(r.body);
  json data = json::array();
  for (size_t i = 0; i < req.at("input").size(); ++i) {
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", {1.0, 2.0, 3.0, 4.0}}});
  }
  TestHttpResponse res;
  res.body = json{{"object", "list"}, {"data", data}, {"model", req.at("model")}}.dump();
  return res;
}

bool IsProbe(const TestHttpRequest& r) {
  return r.body.find("dimension probe") != std::string::npos;
}

// The process's peak resident memory (VmHWM) in bytes, or 0 when /proc has no value (it exited).
uint64_t PeakRss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;  // "VmHWM:  1234 kB"
  }
  return 0;
}

class HttpLimitsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rlm-httplimits-" + std::to_string(::getpid()) + "-" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  void Serve(TestHttpServer::Handler handler) {
    server_ = std::make_unique<TestHttpServer>(std::move(handler));
  }

  struct Result {
    int code;
    std::string out, err;
    double seconds;
    uint64_t peak_rss = 0;  // the largest VmHWM seen while it ran
    bool killed_for_memory = false;
  };
  // Runs `rlm args...` with OPENAI_BASE_URL = `base` (default: the server's /v1) plus `env`; kills it after
  // `timeout_s` (code -1) or, when `rss_limit` is set, as soon as its peak memory passes the limit.
  Result Rlm(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
             std::string base = "", int timeout_s = 60, uint64_t rss_limit = 0) {
    if (base.empty()) base = server_->url() + "/v1";
    std::vector<std::string> full_env = {"OPENAI_BASE_URL=" + base,
                                         "RLM_CACHE_DIR=" + (dir_ / ".cache").string(),
                                         "RLM_CONFIG_DIR=" + (dir_ / ".config").string(),
                                         "OPENAI_API_KEY=",
                                         "no_proxy=*",
                                         "NO_PROXY=*"};
    full_env.insert(full_env.end(), env.begin(), env.end());
    const auto start = std::chrono::steady_clock::now();
    RlmProcess p(dir_, "rlm", args, full_env);
    Result r{};
    const auto deadline = start + std::chrono::seconds(timeout_s);
    const pid_t pid = p.pid();
    while (!p.Done()) {
      r.peak_rss = std::max(r.peak_rss, PeakRss(pid));
      if (rss_limit > 0 && r.peak_rss > rss_limit) {
        r.killed_for_memory = true;
        p.Signal(SIGKILL);
      }
      if (std::chrono::steady_clock::now() > deadline) p.Signal(SIGKILL);
      std::this_thread::sleep_for(2ms);
    }
    r.code = std::chrono::steady_clock::now() > deadline ? -1 : p.code();
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.out = p.out();
    r.err = p.err();
    return r;
  }

  // `rlm embed -e openai:m` of `n` texts (4 batches of 64 in flight for n = 256).
  std::vector<std::string> EmbedArgs(size_t n, std::vector<std::string> flags = {}) {
    flags.insert(flags.end(), {"embed", "-e", "openai:m"});
    for (size_t i = 0; i < n; ++i) flags.push_back("text " + std::to_string(i));
    return flags;
  }

  fs::path dir_;
  std::unique_ptr<TestHttpServer> server_;
};

// ---- timeouts, retries, retry budget ---------------------------------------------------------------------

TEST_F(HttpLimitsTest, RequestTimeoutAndRetriesFromFlagsAndEnvironment) {
  Serve([](const TestHttpRequest& r) {
    TestHttpResponse res = Embeddings(r);
    res.delay = 20s;
    return res;
  });
  // The default (60 s per attempt, 5 retries) would outlast the test's 15 s limit.
  Result r = Rlm(EmbedArgs(1), {"RLM_HTTP_TIMEOUT=0.5", "RLM_HTTP_RETRIES=1"}, "", 15);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_LT(r.seconds, 10);
  EXPECT_NE(r.err.find("Timeout"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("after 2 attempts"), std::string::npos) << r.err;
  EXPECT_EQ(server_->request_count(), 2u);

  // A flag wins over the variable.
  r = Rlm(EmbedArgs(1, {"--http-timeout", "0.3", "--http-retries", "0"}), {"RLM_HTTP_RETRIES=7"}, "", 15);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("after 1 attempt"), std::string::npos) << r.err;
  EXPECT_EQ(server_->request_count(), 3u);
}

// A loopback port whose accept queue is full: the kernel drops further SYNs, so a connect hangs.
class FullListener {
 public:
  FullListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 0);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    for (int i = 0; i < 4; ++i) {  // fill the queue (backlog 0 holds one; extra tries are harmless)
      const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      ::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      clients_.push_back(c);
    }
    std::this_thread::sleep_for(100ms);
  }
  ~FullListener() {
    for (int c : clients_) ::close(c);
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::vector<int> clients_;
};

TEST_F(HttpLimitsTest, ConnectTimeoutIsAnOption) {
  Serve(Embeddings);
  FullListener full;
  const std::string base = "http://127.0.0.1:" + std::to_string(full.port()) + "/v1";
  // The default connect timeout (10 s) would outlast 3 s.
  Result r = Rlm(EmbedArgs(1, {"--http-retries", "0"}), {}, base, 3);
  EXPECT_EQ(r.code, -1) << "the connection did not hang: " << r.err;
  r = Rlm(EmbedArgs(1, {"--http-connect-timeout", "0.3", "--http-retries", "1"}), {}, base, 15);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_LT(r.seconds, 5) << r.err;
  EXPECT_NE(r.err.find("Timeout"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("after 2 attempts"), std::string::npos) << r.err;
}

TEST_F(HttpLimitsTest, BadValuesAreUsageErrorsNamingTheRange) {
  Serve(Embeddings);
  const std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>> cases = {
      {{"--http-timeout", "0"}, {}},          {{"--http-timeout", "nan"}, {}},
      {{"--http-connect-timeout", "-1"}, {}}, {{"--http-retries", "1.5"}, {}},
      {{"--http-retries", "101"}, {}},        {{"--http-retry-budget", "-3"}, {}},
      {{"--http-max-response", "12"}, {}},    {{}, {"RLM_HTTP_TIMEOUT=abc"}},
      {{}, {"RLM_HTTP_RETRIES=-1"}},          {{}, {"RLM_HTTP_MAX_RESPONSE=1e9"}},
  };
  for (const auto& [flags, env] : cases) {
    const Result r = Rlm(EmbedArgs(1, flags), env);
    const std::string what = testing::PrintToString(flags) + testing::PrintToString(env);
    EXPECT_EQ(r.code, 2) << what << r.err;
    EXPECT_NE(r.err.find("from "), std::string::npos) << what << ": the range is not stated: " << r.err;
  }
  const Result r =
      Rlm(EmbedArgs(1, {"--http-max-response", "67108864", "--http-response-memory", "1048576"}));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--http-response-memory"), std::string::npos) << r.err;
  EXPECT_EQ(server_->request_count(), 0u);
}

TEST_F(HttpLimitsTest, RetryAfterBeyondTheBudgetFailsAtOnce) {
  Serve([](const TestHttpRequest&) {
    TestHttpResponse res;
    res.status = 429;
    res.headers = {{"Retry-After", "100"}};
    res.body = R"({"error":{"message":"Rate limit reached"}})";
    return res;
  });
  // Before: the wait was honoured (up to 300 s per retry); the test's 20 s limit would kill it.
  Result r = Rlm(EmbedArgs(1, {"--http-retry-budget", "5"}), {}, "", 20);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_LT(r.seconds, 5);
  EXPECT_EQ(server_->request_count(), 1u);
  EXPECT_NE(r.err.find("asked to wait 100 s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("retry budget"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("HTTP 429"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--http-retry-budget"), std::string::npos) << r.err;

  // The variable sets the budget too; 0 means no waiting at all.
  r = Rlm(EmbedArgs(1), {"RLM_HTTP_RETRY_BUDGET=0"}, "", 20);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("retry budget"), std::string::npos) << r.err;
}

TEST_F(HttpLimitsTest, WaitingForARetryIsReported) {
  std::atomic<int> calls{0};
  Serve([&](const TestHttpRequest& r) {
    if (calls++ == 0) {
      TestHttpResponse res;
      res.status = 429;
      res.headers = {{"Retry-After", "1"}};
      res.body = R"({"error":{"message":"slow down"}})";
      return res;
    }
    return Embeddings(r);
  });
  Result r = Rlm(EmbedArgs(1));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("waiting 1 s: the server asked to retry (HTTP 429)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(server_->url() + "/v1/embeddings"), std::string::npos) << r.err;
  // -q: nothing on stderr.
  calls = 0;
  r = Rlm(EmbedArgs(1, {"-q"}));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

// ---- bounded response memory -----------------------------------------------------------------------------

// A server that answers the dimension probe and then sends every batch a huge reply.
TestHttpResponse Huge(const TestHttpRequest& r, bool chunked) {
  if (IsProbe(r)) return Embeddings(r);
  TestHttpResponse res;
  res.zeros = uint64_t{1} << 30;  // 1 GiB
  res.chunked = chunked;
  res.close = true;
  return res;
}

// The peak-RSS bounds hold for the release build. Under AddressSanitizer freed replies stay in its
// quarantine (256 MiB by default) and shadow memory is added, so there only the 768 MiB kill guard applies.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
void ExpectPeakBelow(uint64_t peak, uint64_t bound) {
  if (kAsan) {
    std::printf("note: ASan build: the %llu MiB peak-RSS bound is checked by the release build only\n",
                static_cast<unsigned long long>(bound / kMiB));
    return;
  }
  EXPECT_LT(peak, bound);
}

TEST_F(HttpLimitsTest, BaselineMemory) {
  Serve(Embeddings);
  const Result r = Rlm(EmbedArgs(256));
  ASSERT_EQ(r.code, 0) << r.err;
  RecordProperty("baseline_peak_rss_mib", std::to_string(r.peak_rss / kMiB));
  std::printf("baseline peak RSS: %llu MiB\n", static_cast<unsigned long long>(r.peak_rss / kMiB));
}

TEST_F(HttpLimitsTest, DeclaredHugeRepliesAreRefusedBeforeTheirBody) {
  Serve([](const TestHttpRequest& r) { return Huge(r, /*chunked=*/false); });
  // 4 requests in flight, each declaring 1 GiB: before, each body was read whole (4+ GiB; killed at 768 MiB).
  const Result r = Rlm(EmbedArgs(256), {}, "", 60, 768 * kMiB);
  std::printf("peak RSS: %llu MiB\n", static_cast<unsigned long long>(r.peak_rss / kMiB));
  ASSERT_FALSE(r.killed_for_memory) << "peak RSS passed 768 MiB";
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("exceeds 64 MiB"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(server_->url() + "/v1/embeddings"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--http-max-response"), std::string::npos) << r.err;
  ExpectPeakBelow(r.peak_rss, 150 * kMiB);
}

TEST_F(HttpLimitsTest, UndeclaredHugeRepliesStopAtTheCapAndShareOneMemoryBudget) {
  Serve([](const TestHttpRequest& r) { return Huge(r, /*chunked=*/true); });
  // Each reply may hold 32 MiB, all replies together 32 MiB: one at a time. Without the shared budget the
  // 4 in flight would hold 128 MiB.
  const Result r = Rlm(EmbedArgs(256, {"--http-max-response", std::to_string(32 * kMiB),
                                       "--http-response-memory", std::to_string(32 * kMiB)}),
                       {}, "", 60, 768 * kMiB);
  std::printf("peak RSS: %llu MiB\n", static_cast<unsigned long long>(r.peak_rss / kMiB));
  ASSERT_FALSE(r.killed_for_memory) << "peak RSS passed 768 MiB";
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("exceeds 32 MiB"), std::string::npos) << r.err;
  ExpectPeakBelow(r.peak_rss, 80 * kMiB);  // measured: 58 MiB (baseline 17); budget 128 MiB: 147 MiB

  // The default cap (64 MiB) with 4 in flight stays near 4 x 64 MiB (measured: 229 MiB).
  const Result d = Rlm(EmbedArgs(256), {}, "", 60, 768 * kMiB);
  std::printf("peak RSS (defaults): %llu MiB\n", static_cast<unsigned long long>(d.peak_rss / kMiB));
  ASSERT_FALSE(d.killed_for_memory) << "peak RSS passed 768 MiB";
  EXPECT_EQ(d.code, 1) << d.err;
  EXPECT_NE(d.err.find("exceeds 64 MiB"), std::string::npos) << d.err;
  ExpectPeakBelow(d.peak_rss, 300 * kMiB);
}

// ---- secrets ---------------------------------------------------------------------------------------------

// Neither the key, the URL's password nor the Basic token they travel as may appear in `text`.
void ExpectNoSecret(const std::string& text, const std::string& what) {
  for (const std::string& secret :
       {std::string(kKey), std::string(kPassword), kBasic, std::string("0123456789abcdef")}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << what << " shows '" << secret << "':\n" << text;
  }
}

// A server that echoes the request's Authorization header (and so the key or the Basic credentials) back.
TestHttpResponse Echo(const TestHttpRequest& r, int status) {
  const std::string auth = r.Header("authorization").value_or("(none)");
  TestHttpResponse res;
  res.status = status;
  res.headers = {{"Retry-After", "0"}};
  if (status == 200) {
    res.body = "<html>proxy error: request had Authorization: " + auth + "</html>";
  } else {
    res.body = json{{"error",
                     {{"message", "Incorrect API key provided: " + auth.substr(auth.find(' ') + 1) +
                                      ". You sent Authorization: " + auth}}}}
                   .dump();
  }
  return res;
}

TEST_F(HttpLimitsTest, EchoedKeysAndUrlCredentialsAreRedacted) {
  std::atomic<int> status{401};
  Serve([&](const TestHttpRequest& r) {
    if (IsProbe(r) && status == 200) return Embeddings(r);
    return Echo(r, status);
  });
  const std::string creds_url =
      "http://alice:" + std::string(kPassword) + "@127.0.0.1:" + std::to_string(server_->port()) + "/v1";
  const std::string key = "OPENAI_API_KEY=" + std::string(kKey);
  for (const int s : {401, 500, 200}) {
    status = s;
    for (const bool use_key : {true, false}) {
      for (const std::string format : {"text", "json"}) {
        const std::string what = "HTTP " + std::to_string(s) + (use_key ? " key " : " url ") + format;
        const Result r = Rlm(EmbedArgs(1, {"--format", format, "--http-retries", "1"}),
                             use_key ? std::vector<std::string>{key} : std::vector<std::string>{},
                             use_key ? "" : creds_url);
        EXPECT_EQ(r.code, 1) << what << r.out << r.err;
        ExpectNoSecret(r.out, what + " stdout");
        ExpectNoSecret(r.err, what + " stderr");
        const std::string& msg = format == "json" ? r.out : r.err;
        EXPECT_NE(msg.find(s == 200 ? "bad reply" : "HTTP " + std::to_string(s)), std::string::npos) << msg;
        if (format == "json") {
          EXPECT_NO_THROW(json::parse(r.out)) << r.out;
        }
      }
    }
  }
  // The echo really carried the secrets.
  const auto reqs = server_->requests();
  ASSERT_FALSE(reqs.empty());
  EXPECT_TRUE(std::any_of(reqs.begin(), reqs.end(), [](const TestHttpRequest& q) {
    return q.Header("authorization") == "Bearer " + std::string(kKey);
  }));
  EXPECT_TRUE(std::any_of(reqs.begin(), reqs.end(), [](const TestHttpRequest& q) {
    return q.Header("authorization") == "Basic " + kBasic;
  }));
}

TEST_F(HttpLimitsTest, UrlCredentialsStayOutOfOtherMessages) {
  std::atomic<int> calls{0};
  Serve([&](const TestHttpRequest& r) {
    if (calls++ == 1) {  // the first batch: a wait, reported with the URL
      TestHttpResponse res;
      res.status = 503;
      res.headers = {{"Retry-After", "1"}};
      res.body = R"({"error":"busy"})";
      return res;
    }
    return Embeddings(r);
  });
  const std::string port = std::to_string(server_->port());
  const std::string creds = "alice:" + std::string(kPassword) + "@";
  // A URL that is not http(s), a refused connection, a wait notice.
  Result r = Rlm(EmbedArgs(1), {}, "ftp://" + creds + "127.0.0.1:" + port + "/v1");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("not an http:// or https:// URL"), std::string::npos) << r.err;
  ExpectNoSecret(r.out + r.err, "bad scheme");
  r = Rlm(EmbedArgs(1, {"--http-retries", "0"}), {},
          "http://" + creds + "127.0.0.1:" + std::to_string(ClosedPort()) + "/v1");
  EXPECT_EQ(r.code, 1) << r.err;
  ExpectNoSecret(r.out + r.err, "refused");
  r = Rlm(EmbedArgs(1), {}, "http://" + creds + "127.0.0.1:" + port + "/v1");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("waiting 1 s"), std::string::npos) << r.err;
  ExpectNoSecret(r.out + r.err, "wait notice");

  // A workspace embedded through that URL records and shows no credentials.
  const std::string db = (dir_ / "ws.db").string();
  std::ofstream(dir_ / "a.txt") << "some words to embed\n";
  const std::string base = "http://" + creds + "127.0.0.1:" + port + "/v1";
  ASSERT_EQ(Rlm({"--db-path", db, "init"}, {}, base).code, 0);
  r = Rlm({"--db-path", db, "load", (dir_ / "a.txt").string(), "--embedder", "openai:m"}, {}, base);
  ASSERT_EQ(r.code, 0) << r.err;
  ExpectNoSecret(r.out + r.err, "load");
  for (const std::vector<std::string>& cmd : std::vector<std::vector<std::string>>{
           {"status"}, {"chunk", "status"}, {"search", "words", "-m", "semantic"}}) {
    std::vector<std::string> args = {"--db-path", db, "--format", "json"};
    args.insert(args.end(), cmd.begin(), cmd.end());
    r = Rlm(args, {}, base);
    EXPECT_EQ(r.code, 0) << r.err;
    ExpectNoSecret(r.out + r.err, cmd.front());
  }
  ExpectNoSecret(rlm::testing_cli::Slurp(db), "the workspace file");
}

}  // namespace
