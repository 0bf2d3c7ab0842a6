// Embedders served over HTTP: the OpenAI-compatible `POST {base_url}/embeddings` API (OpenAI, vLLM, TEI,
// llama.cpp's server, Ollama's /v1, LM Studio, ...) and Ollama's native `POST {host}/api/embed`.
//
// Texts are sent in batches (`batch_size` per request, up to `max_in_flight` requests at once). A request
// that fails with 429, 500, 502, 503, 504, a connection error or a timeout is retried with exponential
// backoff and full jitter (a 429/503 `Retry-After` is honoured instead) while the retry budget lasts; any
// other non-2xx status is not retried. Every wait is reported through `on_wait`. Every reply is checked
// (size, count, order by "index", equal dims, finite numbers) before anything is written, and rows are
// L2-normalised here whatever the server does, as the Embedder contract requires. A text that is empty
// after its prefix gets the zero vector without being sent (OpenAI rejects "").
//
// Memory: a reply may hold at most `limits.max_response_bytes`, and all replies in flight in the process
// together at most HttpSettings::response_memory (see there), whatever the number of concurrent requests.
//
// Errors: InvalidInput for bad options, a non-retryable HTTP status (the message names the status, the URL
// and the server's own error message), a reply over the size cap and malformed or inconsistent replies;
// IoError when the retries or the retry budget are exhausted. Messages never contain the API key or the
// base URL's credentials, even when the server echoes them back (core/redact.h).
//
// Thread-safe: Embed, Dims and Fingerprint may be called concurrently. Idle curl handles are pooled, so
// connections (and TLS sessions) are reused across batches and calls.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/progress.h"
#include "embed/embedder.h"

namespace rlm {

enum class HttpEmbedApi {
  kOpenAi,  // POST {base_url}/embeddings  {"model","input":[...]} -> {"data":[{"index","embedding"}]}
  kOllama,  // POST {base_url}/api/embed   {"model","input":[...]} -> {"embeddings":[[...]]}
};

// The limits of HTTP requests that the user controls (CLI: --http-timeout, --http-connect-timeout,
// --http-retries, --http-retry-budget, --http-max-response; RLM_HTTP_* variables).
struct HttpLimits {
  std::chrono::milliseconds timeout{60'000};  // whole request, per attempt
  std::chrono::milliseconds connect_timeout{10'000};
  int max_retries = 5;  // retries after the first attempt
  // The most time one request may spend waiting between its attempts (backoff and Retry-After together). A
  // backoff wait is cut to what is left; a Retry-After longer than what is left fails at once (IoError
  // naming the wait and the budget): retrying before the server's time would only be refused again.
  std::chrono::milliseconds retry_budget{120'000};
  // The most bytes one reply may have (after decompression). A larger Content-Length is refused before the
  // body is read; a reply without one is cut when it passes the cap. InvalidInput (BadEmbeddingReply), not
  // retried.
  size_t max_response_bytes = size_t{64} << 20;
};

struct HttpEmbedderOptions {
  HttpEmbedApi api = HttpEmbedApi::kOpenAi;
  std::string model;  // required, sent as is
  // "https://api.openai.com/v1" (the part before /embeddings) or an Ollama host "http://localhost:11434".
  // Empty: DefaultHttpBaseUrl(api), which reads OPENAI_BASE_URL / OLLAMA_HOST.
  std::string base_url;
  // The NAME of the environment variable holding the API key, sent as "Authorization: Bearer <key>" when
  // the variable is set and non-empty. nullopt: OPENAI_API_KEY for kOpenAi, none for kOllama; "": none.
  // The variable is read once, by the constructor.
  std::optional<std::string> api_key_env;
  size_t batch_size = 64;                       // texts per request
  size_t max_in_flight = 4;                     // concurrent requests within one Embed call
  HttpLimits limits;                            // timeouts, retries, retry budget, reply size
  std::chrono::milliseconds backoff_base{500};  // attempt k waits uniform(0, min(max, base * 2^k))
  std::chrono::milliseconds backoff_max{30'000};
  // Told about every wait before a retry ("openai:m: waiting 5 s: the server asked to retry (HTTP 429) at
  // <url> (retry 1 of 5)"), from the thread that waits; empty: not told.
  NoticeFn on_wait;
  // Expected dimensions; 0: learned from the server by one probe request on the first Dims() call.
  size_t dims = 0;
  // kOpenAi only: also send "dimensions": dims (text-embedding-3-* shorten their vectors). Needs dims.
  bool send_dimensions = false;
  // Prepended to every text of the role, e.g. e5's "query: " / "passage: ", nomic's "search_query: ".
  std::string query_prefix;
  std::string document_prefix;
};

// What the program sets once for every HTTP client the registry makes (MakeOpenAiEmbedder,
// MakeOllamaEmbedder), before it makes any: the CLI from its --http-* flags and RLM_HTTP_* variables.
struct HttpSettings {
  HttpLimits limits;
  // The bytes that replies in flight may hold together, across every HTTP client of the process: a
  // semaphore on bytes. Each request reserves its client's max_response_bytes before it is sent (waiting
  // while the budget is taken; a reservation larger than the budget waits until nothing else is reserved)
  // and gives it back once its reply is parsed, so peak reply memory stays under this budget whatever the
  // concurrency. Parsing a reply needs memory of the same order on top.
  size_t response_memory = size_t{1} << 30;
  NoticeFn on_wait;  // given to every client as HttpEmbedderOptions::on_wait
};

// Replaces the process's settings. Not thread-safe against MakeOpenAiEmbedder/MakeOllamaEmbedder or
// requests in flight: call it at start.
void SetHttpSettings(HttpSettings settings);
// The process's settings (defaults until SetHttpSettings).
const HttpSettings& GetHttpSettings();

// The default base URL of `api` from the environment: OPENAI_BASE_URL else https://api.openai.com/v1;
// OLLAMA_HOST (as Ollama reads it: "host", "host:port" or a URL; no scheme means http, no port 11434) else
// http://localhost:11434.
std::string DefaultHttpBaseUrl(HttpEmbedApi api);

class HttpEmbedder : public Embedder {
 public:
  static constexpr size_t kMaxDims = 65536;

  // Reads the API key variable. Throws InvalidInput for bad options (empty model, a base URL that is not
  // http(s), zero batch size, ...). Makes no request.
  explicit HttpEmbedder(HttpEmbedderOptions options);
  ~HttpEmbedder() override;
  HttpEmbedder(const HttpEmbedder&) = delete;
  HttpEmbedder& operator=(const HttpEmbedder&) = delete;

  // "<openai|ollama>:<model>@<host[:port]/path of the base URL>:d<dims>[:p<hash of the prefixes>]", e.g.
  // "openai:text-embedding-3-small@api.openai.com/v1:d1536". Never contains a key. Calls Dims().
  std::string Fingerprint() const override;
  // options.dims, or learned once from a probe request (concurrent first callers wait for one probe); a
  // failed probe throws and the next call probes again.
  size_t Dims() const override;
  // All-or-nothing: `out` is written only after every batch succeeded. Adds texts.size() to
  // counters().texts on success.
  void Embed(std::span<const std::string_view> texts, EmbedRole role, float* out) const override;
  // Server calls are slow and may cost money: worth caching.
  bool Cacheable() const override { return true; }
  // batch_size * max_in_flight: enough for one Embed call to keep every request slot busy.
  size_t PreferredBatch() const override { return options_.batch_size * options_.max_in_flight; }

  // "openai:<model>" / "ollama:<model>": how messages name this embedder.
  const std::string& Name() const { return name_; }
  // The endpoint every request goes to, e.g. "https://api.openai.com/v1/embeddings".
  const std::string& Url() const { return url_; }

 private:
  class HandlePool;

  class ReplyMemory;

  // POSTs `body` with retries; returns the 2xx reply body, whose memory `reserved` holds (reserved before
  // each attempt, given back while waiting to retry).
  std::string Post(const std::string& body, ReplyMemory* reserved) const;
  // Embeds `texts` (already prefixed, non-empty) in one request; returns texts.size() x *dims normalised
  // floats. inputs[i] is the caller's index of texts[i], for messages. *dims 0: any, set from the reply.
  std::vector<float> EmbedBatch(std::span<const std::string> texts, std::span<const size_t> inputs,
                                size_t* dims) const;
  // InvalidInput naming this embedder, the URL and what is wrong with a reply.
  [[noreturn]] void ThrowBadReply(const std::string& what) const;

  HttpEmbedderOptions options_;
  std::string name_;
  std::string request_url_;  // the endpoint as configured (may carry user:password@)
  std::string url_;          // the endpoint for messages: without user:password@
  std::string location_;     // host[:port]/path of the base URL, for the fingerprint
  std::string api_key_;      // empty: no Authorization header
  std::unique_ptr<HandlePool> pool_;
  // Not std::call_once: with a throwing callable (a failed probe) it hangs under ThreadSanitizer and on
  // some GCC targets (GCC bug 66146).
  mutable std::mutex probe_mu_;          // held while probing
  mutable std::atomic<size_t> dims_{0};  // 0 until known; written once under probe_mu_
};

// How long to wait before retry number `attempt` + 1 (attempt 0: the first retry) of a request that failed
// with HTTP `status` (0: a connection error or timeout). A 429 or 503 reply that carried a Retry-After
// (`retry_after_seconds`, as parsed from the header: already clamped to [0, 1 day]) is honoured exactly;
// otherwise full jitter: uniform in [0, min(backoff_max, backoff_base * 2^attempt)], drawn from a
// per-thread generator seeded from std::random_device, so concurrent clients spread out. Thread-safe.
std::chrono::milliseconds RetryWait(const HttpEmbedderOptions& options, int attempt, int status,
                                    std::optional<double> retry_after_seconds);

// Decodes the reply of an embeddings request of `api` for inputs.size() texts (inputs[i]: the caller's index
// of text i, for messages) into inputs.size() x *dims floats, each row L2-normalised; *dims 0 means any
// (set from the reply, at most kMaxDims). Calls `bad` (which must throw) with what is wrong: not JSON, the
// wrong number of vectors, a duplicate or out-of-range index, a non-number or non-finite element, unequal
// lengths. The outside input of the HTTP embedders; fuzzed by tests/fuzz/embedding_reply_fuzz.cc.
std::vector<float> DecodeEmbeddingReply(HttpEmbedApi api, std::string_view reply,
                                        std::span<const size_t> inputs, size_t* dims,
                                        const std::function<void(const std::string&)>& bad);

// Registry entries: "openai:<model>" and "ollama:<model>" with the limits and wait notices of
// GetHttpSettings() and every other option at its default (base URL and key from the environment as above).
// Throw InvalidInput for an empty model.
std::unique_ptr<Embedder> MakeOpenAiEmbedder(std::string_view model);
std::unique_ptr<Embedder> MakeOllamaEmbedder(std::string_view model);

}  // namespace rlm
