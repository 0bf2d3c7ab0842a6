#include "embed/http_embedder.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <nlohmann/json.hpp>
#include <random>
#include <system_error>
#include <thread>
#include <utility>

#include "core/error.h"
#include "core/hash.h"
#include "core/redact.h"
#include "core/utf8.h"

namespace rlm {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxIdleHandles = 16;
constexpr size_t kGrowInPlaceBytes = size_t{1} << 20;  // an undeclared reply past this reserves its cap
constexpr double kMaxRetryAfterSeconds = 86400;  // a Retry-After beyond a day is clamped (the budget decides)
constexpr size_t kMaxMessageBytes = 300;         // of a server's error message quoted in ours
const char* const kProbeText = "dimension probe";

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string GetEnv(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// A server's text made safe to quote in an error message (which ends up in JSON): no secrets (redacted before
// it is cut, so no prefix of one survives), valid UTF-8, no control characters, at most kMaxMessageBytes.
std::string Quote(std::string_view text) {
  std::string s = Trim(Redact(text));
  const bool valid = !utf8::FindInvalid(s).has_value();
  for (char& c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
    if (u >= 0x80 && !valid) c = '?';
  }
  if (s.size() > kMaxMessageBytes) s = std::string(utf8::Truncate(s, kMaxMessageBytes)) + "...";
  return s;
}

// The error message in a non-2xx reply: OpenAI's {"error":{"message":...}}, Ollama's and TEI's
// {"error":"..."}, older vLLM's {"message":...}, FastAPI's {"detail":...}; else the start of the body.
std::string ServerMessage(const std::string& body) {
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded() && doc.is_object()) {
    if (auto it = doc.find("error"); it != doc.end()) {
      if (it->is_string()) return Quote(it->get<std::string>());
      if (it->is_object()) {
        if (auto m = it->find("message"); m != it->end() && m->is_string())
          return Quote(m->get<std::string>());
      }
    }
    for (const char* key : {"message", "detail"}) {
      if (auto it = doc.find(key); it != doc.end() && it->is_string()) return Quote(it->get<std::string>());
    }
  }
  return body.empty() ? "(empty body)" : Quote(body);
}

struct UrlParts {
  std::string scheme;     // lower case
  std::string userinfo;   // "user:password" or empty
  std::string authority;  // host[:port], host lower case
  std::string path;       // "" or "/..." without a trailing '/'
};

// Splits an http(s) base URL; throws InvalidInput for anything else.
UrlParts SplitBaseUrl(const std::string& url, const std::string& who) {
  const size_t sep = url.find("://");
  UrlParts p;
  if (sep != std::string::npos) p.scheme = Lower(url.substr(0, sep));
  if (p.scheme != "http" && p.scheme != "https") {
    throw InvalidInput(who + ": base URL '" + Quote(RedactUrl(url)) + "' is not an http:// or https:// URL",
                       "e.g. https://api.openai.com/v1 or http://localhost:11434");
  }
  std::string rest = url.substr(sep + 3);
  if (rest.find_first_of("?# \t\r\n") != std::string::npos) {
    throw InvalidInput(
        who + ": base URL '" + Quote(RedactUrl(url)) + "' must not contain a query, fragment or space",
        "give the URL the API paths are appended to, e.g. https://api.openai.com/v1");
  }
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  p.path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!p.path.empty() && p.path.back() == '/') p.path.pop_back();
  if (const size_t at = authority.rfind('@'); at != std::string::npos) {
    p.userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  if (p.path.find('@') != std::string::npos) {
    // "https://user:pa/ss@host": the password's '/' ended the authority, so the URL cannot be shown safely.
    throw InvalidInput(who + ": the base URL has an '@' after its host",
                       "credentials in a URL must percent-encode '/', '?', '#' and '@' (e.g. '/' as %2F)");
  }
  if (authority.empty()) throw InvalidInput(who + ": base URL '" + Quote(RedactUrl(url)) + "' has no host");
  p.authority = Lower(authority);
  return p;
}

// OLLAMA_HOST as Ollama itself reads it: "host", "host:port", "[v6]:port" or a URL; no scheme means http
// and then no port means 11434.
std::string OllamaHostUrl(std::string host) {
  host = Trim(host);
  if (host.empty()) return "http://localhost:11434";
  if (host.find("://") != std::string::npos) return host;
  const size_t slash = host.find('/');
  std::string hostport = host.substr(0, slash);
  const std::string path = slash == std::string::npos ? "" : host.substr(slash);
  bool has_port;
  if (!hostport.empty() && hostport.front() == '[') {
    has_port = hostport.find("]:") != std::string::npos;
  } else {
    const size_t colons = static_cast<size_t>(std::count(hostport.begin(), hostport.end(), ':'));
    if (colons > 1) hostport = "[" + hostport + "]";  // a bare IPv6 address
    has_port = colons == 1;
  }
  if (hostport.empty()) hostport = "localhost";
  if (!has_port) hostport += ":11434";
  return "http://" + hostport + path;
}

bool IsRetryableStatus(long status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

// Transport errors worth another attempt: everything but configuration mistakes and local failures that
// would fail the same way again.
bool IsRetryableCurl(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_WRITE_ERROR:  // our reply size cap
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
    case CURLE_LOGIN_DENIED:
    case CURLE_TOO_MANY_REDIRECTS:
      return false;
    default:
      return true;
  }
}

// Once per process, before the first handle (curl_global_init is not thread-safe in every libcurl build). A
// failure throws and the next embedder tries again; never cleaned up, as handles may outlive any owner.
void GlobalInit() {
  static std::mutex mu;
  static bool done = false;  // GUARDED_BY(mu)
  std::lock_guard<std::mutex> lock(mu);
  if (done) return;
  const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (code != CURLE_OK) throw IoError(std::string("curl_global_init failed: ") + curl_easy_strerror(code));
  done = true;
}

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  size_t max_body = 0;                // the size cap: more makes the transfer fail (too_large)
  bool too_large = false;             // the reply passed max_body (declared or received)
  uint64_t declared = 0;              // its Content-Length, when it declared one over the cap
  std::optional<double> retry_after;  // seconds, from a Retry-After header of the last response
  std::string error;                  // curl's message when code != CURLE_OK
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* reply = static_cast<Reply*>(user);
  if (size * n > reply->max_body - reply->body.size()) {
    reply->too_large = true;
    return 0;  // CURLE_WRITE_ERROR: the rest is never read
  }
  if (reply->body.size() + size * n > reply->body.capacity() && reply->body.size() >= kGrowInPlaceBytes) {
    // A large reply of unknown length: take the cap's address space once instead of doubling. Pages are
    // touched only as bytes arrive, and a doubling would hold the old and the new buffer at once (1.5x the
    // bytes) and leave freed buffers in the allocator's arenas: measured, 4 undeclared replies cut at 64 MiB
    // peaked at 450 MB with doubling.
    reply->body.reserve(reply->max_body);
  }
  reply->body.append(data, size * n);
  return size * n;
}

// "8.0 MiB" for whole multiples of 1 MiB below, else bytes.
std::string SizeText(uint64_t bytes) {
  constexpr uint64_t kMiB = uint64_t{1} << 20;
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  return std::to_string(bytes) + " bytes";
}

// "5 s", "0.25 s": a wait for a message.
std::string SecondsText(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + " s";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g s", static_cast<double>(ms.count()) / 1000);
  return buf;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* reply = static_cast<Reply*>(user);
  const std::string_view line(data, size * n);
  if (line.size() > 15 && Lower(std::string(line.substr(0, 15))) == "content-length:") {
    const std::string value = Trim(line.substr(15));
    char* end = nullptr;
    const unsigned long long length = std::strtoull(value.c_str(), &end, 10);
    if (!value.empty() && end == value.c_str() + value.size()) {
      if (length > reply->max_body) {  // refused before its body is read
        reply->too_large = true;
        reply->declared = length;
        return 0;  // CURLE_WRITE_ERROR
      }
      reply->body.reserve(static_cast<size_t>(length));  // no doubling growth; within the cap
    }
  }
  if (line.starts_with("HTTP/")) {
    reply->retry_after.reset();  // a new response (after a 100 Continue or a retry inside curl)
  } else if (line.size() > 12 && Lower(std::string(line.substr(0, 12))) == "retry-after:") {
    const std::string value = Trim(line.substr(12));
    char* end = nullptr;
    const double seconds = std::strtod(value.c_str(), &end);
    if (!value.empty() && end == value.c_str() + value.size() && std::isfinite(seconds)) {
      reply->retry_after = std::clamp(seconds, 0.0, kMaxRetryAfterSeconds);
    } else if (const time_t when = curl_getdate(value.c_str(), nullptr); when != -1) {  // an HTTP date
      reply->retry_after = std::clamp(std::difftime(when, std::time(nullptr)), 0.0, kMaxRetryAfterSeconds);
    }
  }
  return size * n;
}

}  // namespace

std::chrono::milliseconds RetryWait(const HttpEmbedderOptions& o, int attempt, int status,
                                    std::optional<double> retry_after_seconds) {
  if (retry_after_seconds && (status == 429 || status == 503)) {
    return std::chrono::milliseconds(static_cast<int64_t>(*retry_after_seconds * 1000));
  }
  // Full jitter (AWS architecture blog, "Exponential Backoff And Jitter"): uniform(0, min(max, base * 2^k)).
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const double cap =
      std::min(static_cast<double>(o.backoff_max.count()),
               static_cast<double>(o.backoff_base.count()) * std::ldexp(1.0, std::clamp(attempt, 0, 40)));
  if (cap <= 0) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(
      static_cast<int64_t>(std::uniform_real_distribution<double>(0.0, cap)(rng)));
}

namespace {

// The process's response memory budget (HttpSettings::response_memory): a semaphore on bytes.
class ResponseBudget {
 public:
  static ResponseBudget& Instance() {
    static ResponseBudget budget;
    return budget;
  }
  void SetCapacity(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      capacity_ = bytes;
    }
    cv_.notify_all();
  }
  // Waits until `bytes` fit beside what is reserved (or nothing is reserved), then reserves them.
  void Acquire(size_t bytes) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return used_ == 0 || bytes <= capacity_ - std::min(capacity_, used_); });
    used_ += bytes;
  }
  void Release(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      used_ -= std::min(used_, bytes);
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  size_t capacity_ = HttpSettings{}.response_memory;  // GUARDED_BY(mu_)
  size_t used_ = 0;                                   // GUARDED_BY(mu_)
};

HttpSettings& Settings() {
  static HttpSettings settings;
  return settings;
}

}  // namespace

void SetHttpSettings(HttpSettings settings) {
  ResponseBudget::Instance().SetCapacity(settings.response_memory);
  Settings() = std::move(settings);
}

const HttpSettings& GetHttpSettings() {
  return Settings();
}

// A request's share of the response budget: held from before the request is sent until its reply is
// parsed, given back while it waits to retry. Used by one thread.
class HttpEmbedder::ReplyMemory {
 public:
  explicit ReplyMemory(size_t bytes) : bytes_(bytes) {}
  ~ReplyMemory() { Release(); }
  ReplyMemory(const ReplyMemory&) = delete;
  ReplyMemory& operator=(const ReplyMemory&) = delete;
  void Acquire() {
    if (held_) return;
    ResponseBudget::Instance().Acquire(bytes_);
    held_ = true;
  }
  void Release() {
    if (!held_) return;
    ResponseBudget::Instance().Release(bytes_);
    held_ = false;
  }

 private:
  size_t bytes_;
  bool held_ = false;
};

// Idle easy handles, reused so that keep-alive connections and TLS sessions survive between requests. A
// handle is used by one thread at a time (curl's rule); the pool hands each out to one caller.
class HttpEmbedder::HandlePool {
 public:
  explicit HandlePool(curl_slist* headers) : headers_(headers) {}
  ~HandlePool() {
    for (CURL* h : idle_) curl_easy_cleanup(h);
    curl_slist_free_all(headers_);
  }
  HandlePool(const HandlePool&) = delete;
  HandlePool& operator=(const HandlePool&) = delete;

  // Request headers, shared read-only by every transfer.
  curl_slist* headers() const { return headers_; }

  CURL* Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    CURL* h = curl_easy_init();
    if (h == nullptr) throw IoError("curl_easy_init failed");
    return h;
  }

  void Release(CURL* h) {
    curl_easy_reset(h);  // keeps the connection and TLS session caches
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < kMaxIdleHandles) {
      idle_.push_back(h);
    } else {
      curl_easy_cleanup(h);
    }
  }

 private:
  curl_slist* headers_;
  std::mutex mu_;
  std::vector<CURL*> idle_;  // GUARDED_BY(mu_)
};

namespace {

// One POST, no retries.
Reply Perform(CURL* h, curl_slist* headers, const std::string& url, const std::string& body,
              const HttpEmbedderOptions& o) {
  Reply reply;
  reply.max_body = o.limits.max_response_bytes;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "rlm");
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // whatever curl can decode; JSON compresses well
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);         // required with threads; timeouts still work
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(o.limits.timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.limits.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &reply);
  reply.code = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply.status);
  if (reply.code != CURLE_OK) {
    reply.error = curl_easy_strerror(reply.code);
    if (errbuf[0] != '\0' && reply.error != errbuf) reply.error += std::string(" (") + errbuf + ")";
  }
  return reply;
}

}  // namespace

std::string DefaultHttpBaseUrl(HttpEmbedApi api) {
  if (api == HttpEmbedApi::kOllama) return OllamaHostUrl(GetEnv("OLLAMA_HOST"));
  std::string url = Trim(GetEnv("OPENAI_BASE_URL"));
  return url.empty() ? "https://api.openai.com/v1" : url;
}

HttpEmbedder::HttpEmbedder(HttpEmbedderOptions options) : options_(std::move(options)) {
  const bool openai = options_.api == HttpEmbedApi::kOpenAi;
  name_ = std::string(openai ? "openai:" : "ollama:") + options_.model;
  if (options_.model.empty()) {
    throw InvalidInput(std::string(openai ? "openai" : "ollama") + " embedder needs a model name",
                       openai ? "e.g. openai:text-embedding-3-small" : "e.g. ollama:nomic-embed-text");
  }
  if (options_.batch_size == 0) throw InvalidInput(name_ + ": batch size must be at least 1");
  if (options_.max_in_flight == 0) throw InvalidInput(name_ + ": requests in flight must be at least 1");
  const HttpLimits& limits = options_.limits;
  if (limits.timeout.count() <= 0 || limits.connect_timeout.count() <= 0) {
    throw InvalidInput(name_ + ": timeouts must be positive");
  }
  if (limits.max_retries < 0) throw InvalidInput(name_ + ": max retries must not be negative");
  if (limits.retry_budget.count() < 0) throw InvalidInput(name_ + ": the retry budget must not be negative");
  if (limits.max_response_bytes == 0) throw InvalidInput(name_ + ": the reply size cap must be positive");
  if (options_.backoff_base.count() < 0 || options_.backoff_max.count() < 0) {
    throw InvalidInput(name_ + ": backoff times must not be negative");
  }
  if (options_.dims > kMaxDims) {
    throw InvalidInput(name_ + ": dims " + std::to_string(options_.dims) + " is above " +
                       std::to_string(kMaxDims));
  }
  if (options_.send_dimensions && (!openai || options_.dims == 0)) {
    throw InvalidInput(name_ + ": sending \"dimensions\" needs the openai API and dims");
  }

  std::string base = Trim(options_.base_url);
  if (base.empty()) base = DefaultHttpBaseUrl(options_.api);
  const UrlParts parts = SplitBaseUrl(base, name_);
  const std::string api_path = openai ? "/embeddings" : "/api/embed";
  const std::string userinfo = parts.userinfo.empty() ? "" : parts.userinfo + "@";
  request_url_ = parts.scheme + "://" + userinfo + parts.authority + parts.path + api_path;
  url_ = parts.scheme + "://" + parts.authority + parts.path + api_path;
  location_ = parts.authority + parts.path;
  RegisterUrlCredentials(parts.userinfo);  // a server may echo them (as HTTP Basic credentials)

  if (!options_.api_key_env) options_.api_key_env = openai ? "OPENAI_API_KEY" : "";
  if (!options_.api_key_env->empty()) api_key_ = Trim(GetEnv(options_.api_key_env->c_str()));
  RegisterSecret(api_key_);  // a server may echo it in an error body
  dims_.store(options_.dims);

  GlobalInit();
  curl_slist* headers = nullptr;
  std::vector<std::string> lines = {"Content-Type: application/json", "Accept: application/json",
                                    "Expect:"};  // no 100-continue round trip for large bodies
  if (!api_key_.empty()) lines.push_back("Authorization: Bearer " + api_key_);
  for (const std::string& line : lines) {
    curl_slist* next = curl_slist_append(headers, line.c_str());
    if (next == nullptr) {
      curl_slist_free_all(headers);
      throw IoError(name_ + ": out of memory building request headers");
    }
    headers = next;
  }
  pool_ = std::make_unique<HandlePool>(headers);
}

HttpEmbedder::~HttpEmbedder() = default;

std::string HttpEmbedder::Fingerprint() const {
  std::string model = options_.model;
  // Ollama resolves a model without a tag to ":latest"; both spellings name the same vectors.
  if (options_.api == HttpEmbedApi::kOllama) {
    const size_t slash = model.rfind('/');
    if (model.find(':', slash == std::string::npos ? 0 : slash) == std::string::npos) model += ":latest";
  }
  std::string fp = std::string(options_.api == HttpEmbedApi::kOpenAi ? "openai:" : "ollama:") + model + "@" +
                   location_ + ":d" + std::to_string(Dims());
  if (!options_.query_prefix.empty() || !options_.document_prefix.empty()) {
    const std::string both =
        std::to_string(options_.query_prefix.size()) + ":" + options_.query_prefix + options_.document_prefix;
    fp += ":p" + ContentHash(both).Hex().substr(0, 16);
  }
  return fp;
}

size_t HttpEmbedder::Dims() const {
  if (const size_t d = dims_.load(std::memory_order_acquire); d != 0) return d;
  std::lock_guard<std::mutex> lock(probe_mu_);
  if (const size_t d = dims_.load(std::memory_order_acquire); d != 0) return d;  // another caller probed
  const std::string probe[] = {kProbeText};
  const size_t input[] = {0};
  size_t learned = 0;
  EmbedBatch(probe, input, &learned);
  dims_.store(learned, std::memory_order_release);
  return learned;
}

void HttpEmbedder::ThrowBadReply(const std::string& what) const {
  throw InvalidInput(Redact(name_ + ": bad reply from " + url_ + ": " + what),
                     options_.api == HttpEmbedApi::kOpenAi
                         ? "check that the server speaks the OpenAI embeddings API (POST /embeddings)"
                         : "check that the server is Ollama (POST /api/embed)",
                     ErrorType::kBadEmbeddingReply);
}

std::string HttpEmbedder::Post(const std::string& body, ReplyMemory* reserved) const {
  const bool openai = options_.api == HttpEmbedApi::kOpenAi;
  const HttpLimits& limits = options_.limits;
  std::chrono::milliseconds budget_left = limits.retry_budget;
  for (int attempt = 0;; ++attempt) {
    reserved->Acquire();
    CURL* handle = pool_->Acquire();
    Reply reply;
    try {
      reply = Perform(handle, pool_->headers(), request_url_, body, options_);
    } catch (...) {
      pool_->Release(handle);
      throw;
    }
    pool_->Release(handle);
    if (reply.code == CURLE_OK && reply.status >= 200 && reply.status < 300) return std::move(reply.body);
    reserved->Release();

    if (reply.too_large) {
      throw InvalidInput(
          Redact(name_ + ": the response from " + url_ + " exceeds " + SizeText(limits.max_response_bytes) +
                 (reply.declared > 0 ? " (it declared " + std::to_string(reply.declared) + " bytes)" : "") +
                 (reply.status > 0 ? " (HTTP " + std::to_string(reply.status) + ")" : "")),
          "a reply this large is not a batch of embeddings: check the server; if its replies really are "
          "this large, raise --http-max-response BYTES (RLM_HTTP_MAX_RESPONSE)",
          ErrorType::kBadEmbeddingReply);
    }
    std::string what;
    if (reply.code != CURLE_OK) {
      what = reply.error;
      if (!IsRetryableCurl(reply.code)) throw IoError(Redact(name_ + ": POST " + url_ + " failed: " + what));
    } else {
      what = "HTTP " + std::to_string(reply.status) + ": " + ServerMessage(reply.body);
      if (!IsRetryableStatus(reply.status)) {
        std::string suggestion;
        const std::string& key_env = *options_.api_key_env;
        if (reply.status == 401 || reply.status == 403) {
          suggestion = key_env.empty()
                           ? "the server refused the request; it may need an API key"
                           : "check the API key in " + key_env + (api_key_.empty() ? " (not set)" : "");
        } else if (reply.status == 404) {
          suggestion = openai ? "check the model name and the base URL (it ends before /embeddings, e.g. "
                                "https://api.openai.com/v1; OPENAI_BASE_URL)"
                              : "check the model name (ollama pull " + options_.model + ") and OLLAMA_HOST";
        } else if (reply.status == 400 || reply.status == 413 || reply.status == 422) {
          suggestion = "a text may exceed the model's input length; try a smaller chunk size";
        }
        throw InvalidInput(Redact(name_ + ": POST " + url_ + " returned " + what), suggestion,
                           ErrorType::kEmbeddingRequestRejected);
      }
    }
    const std::string attempts = std::to_string(attempt + 1) + (attempt == 0 ? " attempt" : " attempts");
    if (attempt >= limits.max_retries) {
      std::string suggestion;
      if (reply.status == 429) {
        suggestion = "the server is rate limiting; retry later or lower the request rate";
      } else if (reply.code != CURLE_OK) {
        suggestion = openai ? "check the network and the base URL (OPENAI_BASE_URL)"
                            : "is Ollama running (ollama serve)? check OLLAMA_HOST";
      }
      if (!suggestion.empty()) suggestion += "; ";
      suggestion += "--http-retries N (RLM_HTTP_RETRIES) allows more attempts";
      throw IoError(Redact(name_ + ": POST " + url_ + " failed after " + attempts + ": " + what), suggestion);
    }
    const int status = static_cast<int>(reply.status);
    std::chrono::milliseconds wait = RetryWait(options_, attempt, status, reply.retry_after);
    const bool server_asked = reply.retry_after && (status == 429 || status == 503);
    if (server_asked && wait > budget_left) {
      // Retrying sooner than the server asked would only be refused again.
      throw IoError(
          Redact(name_ + ": " + url_ + " asked to wait " + SecondsText(wait) + " before retrying (" + what +
                 "), more than the " + SecondsText(budget_left) + " left of the retry budget (" +
                 SecondsText(limits.retry_budget) + ") after " + attempts),
          "retry later, or allow longer waits with --http-retry-budget SECS (RLM_HTTP_RETRY_BUDGET)");
    }
    wait = std::min(wait, budget_left);
    budget_left -= wait;
    if (wait.count() > 0 && options_.on_wait) {
      const std::string retry =
          " (retry " + std::to_string(attempt + 1) + " of " + std::to_string(limits.max_retries) + ")";
      options_.on_wait(Redact(
          server_asked
              ? name_ + ": waiting " + SecondsText(wait) + ": the server asked to retry (HTTP " +
                    std::to_string(status) + ") at " + url_ + retry
              : name_ + ": waiting " + SecondsText(wait) + " to retry " + url_ + " after " + what + retry));
    }
    std::this_thread::sleep_for(wait);
  }
}

std::vector<float> HttpEmbedder::EmbedBatch(std::span<const std::string> texts,
                                            std::span<const size_t> inputs, size_t* dims) const {
  const size_t n = texts.size();
  json request = {{"model", options_.model}, {"input", json::array()}};
  for (const std::string& t : texts) request["input"].push_back(t);
  if (options_.api == HttpEmbedApi::kOpenAi) {
    request["encoding_format"] = "float";
    if (options_.send_dimensions) request["dimensions"] = options_.dims;
  }
  // Invalid UTF-8 (the library's texts are valid; this is a safety net) becomes U+FFFD instead of throwing.
  // The reply's share of the response budget is held until the reply is parsed (this function's end).
  ReplyMemory reserved(options_.limits.max_response_bytes);
  const std::string reply = Post(request.dump(-1, ' ', false, json::error_handler_t::replace), &reserved);

  return DecodeEmbeddingReply(options_.api, reply, inputs, dims,
                              [this](const std::string& what) { ThrowBadReply(what); });
}

std::vector<float> DecodeEmbeddingReply(HttpEmbedApi api, std::string_view reply,
                                        std::span<const size_t> inputs, size_t* dims,
                                        const std::function<void(const std::string&)>& bad) {
  const size_t n = inputs.size();
  auto ThrowBadReply = [&](const std::string& what) {
    bad(what);
    throw InvalidInput(what, "", ErrorType::kBadEmbeddingReply);  // `bad` must throw; this is its fallback
  };
  const json doc = json::parse(reply, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) ThrowBadReply("not valid JSON: " + Quote(reply));
  if (!doc.is_object()) ThrowBadReply("not a JSON object");

  // vectors[i]: the embedding of texts[i].
  std::vector<const json*> vectors(n, nullptr);
  if (api == HttpEmbedApi::kOpenAi) {
    const auto data = doc.find("data");
    if (data == doc.end() || !data->is_array()) ThrowBadReply("no \"data\" array");
    if (data->size() != n) {
      ThrowBadReply(std::to_string(data->size()) + " embeddings for " + std::to_string(n) + " inputs");
    }
    for (size_t k = 0; k < n; ++k) {
      const json& item = (*data)[k];
      if (!item.is_object()) ThrowBadReply("data[" + std::to_string(k) + "] is not an object");
      size_t index = k;  // servers that omit "index" answer in order
      if (auto it = item.find("index"); it != item.end()) {
        if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<uint64_t>() >= n) {
          ThrowBadReply("data[" + std::to_string(k) + "] has index " + Quote(it->dump()) +
                        ", expected 0 to " + std::to_string(n - 1));
        }
        index = it->get<size_t>();
      }
      if (vectors[index] != nullptr) ThrowBadReply("index " + std::to_string(index) + " appears twice");
      const auto emb = item.find("embedding");
      if (emb == item.end()) ThrowBadReply("data[" + std::to_string(k) + "] has no \"embedding\"");
      if (!emb->is_array()) {
        ThrowBadReply("data[" + std::to_string(k) + "].embedding is not an array of numbers" +
                      (emb->is_string() ? " (base64? rlm asks for encoding_format \"float\")" : ""));
      }
      vectors[index] = &*emb;
    }
  } else {
    const auto embs = doc.find("embeddings");
    if (embs == doc.end() || !embs->is_array()) ThrowBadReply("no \"embeddings\" array");
    if (embs->size() != n) {
      ThrowBadReply(std::to_string(embs->size()) + " embeddings for " + std::to_string(n) + " inputs");
    }
    for (size_t k = 0; k < n; ++k) {
      if (!(*embs)[k].is_array()) ThrowBadReply("embeddings[" + std::to_string(k) + "] is not an array");
      vectors[k] = &(*embs)[k];
    }
  }

  size_t d = *dims;
  if (d == 0) {
    d = vectors[0]->size();
    if (d == 0) ThrowBadReply("an empty embedding");
    if (d > HttpEmbedder::kMaxDims)
      ThrowBadReply(std::to_string(d) + " dims, above the limit of " +
                    std::to_string(HttpEmbedder::kMaxDims));
  }
  std::vector<float> rows(n * d);
  for (size_t i = 0; i < n; ++i) {
    const json& v = *vectors[i];
    if (v.size() != d) {
      ThrowBadReply(std::to_string(v.size()) + " dims for input " + std::to_string(inputs[i]) +
                    ", expected " + std::to_string(d) +
                    " (every vector of one model must have the same length)");
    }
    float* row = rows.data() + i * d;
    double norm2 = 0;
    for (size_t j = 0; j < d; ++j) {
      if (!v[j].is_number()) {
        ThrowBadReply("element " + std::to_string(j) + " of the embedding of input " +
                      std::to_string(inputs[i]) + " is " + Quote(v[j].dump()) + ", not a number");
      }
      const float x = static_cast<float>(v[j].get<double>());
      if (!std::isfinite(x)) {
        ThrowBadReply("element " + std::to_string(j) + " of the embedding of input " +
                      std::to_string(inputs[i]) + " is not a finite float (" + Quote(v[j].dump()) + ")");
      }
      row[j] = x;
      norm2 += static_cast<double>(x) * x;
    }
    if (norm2 > 0) {
      const double scale = 1.0 / std::sqrt(norm2);
      for (size_t j = 0; j < d; ++j) row[j] = static_cast<float>(row[j] * scale);
    }
  }
  *dims = d;
  return rows;
}

void HttpEmbedder::Embed(std::span<const std::string_view> texts, EmbedRole role, float* out) const {
  if (texts.empty()) return;
  const size_t dims = Dims();
  const std::string& prefix = role == EmbedRole::kQuery ? options_.query_prefix : options_.document_prefix;
  std::vector<std::string> send;  // the non-empty prefixed texts, in input order
  std::vector<size_t> where;      // where[k]: the input index of send[k]
  for (size_t i = 0; i < texts.size(); ++i) {
    if (prefix.empty() && texts[i].empty()) continue;
    send.push_back(prefix + std::string(texts[i]));
    where.push_back(i);
  }

  std::vector<float> rows(texts.size() * dims, 0.0f);  // empty texts keep the zero vector
  const size_t batch = options_.batch_size;
  const size_t batches = (send.size() + batch - 1) / batch;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mu;
  std::exception_ptr error;       // GUARDED_BY(error_mu): of the lowest failed batch
  size_t error_batch = SIZE_MAX;  // GUARDED_BY(error_mu)
  auto work = [&] {
    while (!failed.load(std::memory_order_relaxed)) {
      const size_t b = next.fetch_add(1);
      if (b >= batches) return;
      try {
        const size_t from = b * batch, count = std::min(batch, send.size() - from);
        size_t d = dims;
        const std::vector<float> got =
            EmbedBatch(std::span(send).subspan(from, count), std::span(where).subspan(from, count), &d);
        for (size_t k = 0; k < count; ++k) {
          std::copy_n(got.data() + k * dims, dims, rows.data() + where[from + k] * dims);
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mu);
        if (b < error_batch) {
          error = std::current_exception();
          error_batch = b;
        }
        failed.store(true);
      }
    }
  };
  std::vector<std::thread> helpers;
  for (size_t k = 1; k < std::min(options_.max_in_flight, batches); ++k) {
    try {
      helpers.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // fewer requests in flight, same result
    }
  }
  work();
  for (std::thread& t : helpers) t.join();
  if (error) std::rethrow_exception(error);
  std::copy(rows.begin(), rows.end(), out);
  counters_.texts.fetch_add(texts.size(), std::memory_order_relaxed);
}

std::unique_ptr<Embedder> MakeOpenAiEmbedder(std::string_view model) {
  HttpEmbedderOptions options;
  options.limits = GetHttpSettings().limits;
  options.on_wait = GetHttpSettings().on_wait;
  options.api = HttpEmbedApi::kOpenAi;
  options.model = std::string(model);
  return std::make_unique<HttpEmbedder>(std::move(options));
}

std::unique_ptr<Embedder> MakeOllamaEmbedder(std::string_view model) {
  HttpEmbedderOptions options;
  options.limits = GetHttpSettings().limits;
  options.on_wait = GetHttpSettings().on_wait;
  options.api = HttpEmbedApi::kOllama;
  options.model = std::string(model);
  return std::make_unique<HttpEmbedder>(std::move(options));
}

}  // namespace rlm
