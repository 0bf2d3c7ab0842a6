// Embedders turn texts into fixed-length float vectors. Every embedder has a fingerprint (kind, model
// identity, pooling, prefixes, dims) that keys stored and cached embeddings, so vectors from different
// models are never mixed. Embedders are thread-safe: Embed may be called concurrently.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rlm {

// Some models embed queries and documents differently (e5's "query: " / "passage: " prefixes).
enum class EmbedRole { kDocument, kQuery };

// What an embedder did over its lifetime, for reports ("12 chunks truncated to 256 tokens"). Thread-safe.
struct EmbedCounters {
  std::atomic<uint64_t> texts{0};             // texts embedded (computed, not served from a cache)
  std::atomic<uint64_t> truncated_texts{0};   // texts longer than the model's window, cut
  std::atomic<uint64_t> truncated_tokens{0};  // tokens dropped by those cuts
  std::atomic<uint64_t> windowed_texts{0};    // texts embedded as several windows and pooled
  std::atomic<uint64_t> cache_hits{0};        // texts served by the embedding cache (embed/cached_embedder.h)
};

class Embedder {
 public:
  virtual ~Embedder() = default;
  // Stable identity of the vectors this embedder produces, e.g. "hash-v1:d256:w+c3".
  virtual std::string Fingerprint() const = 0;
  virtual size_t Dims() const = 0;
  // Writes texts.size() * Dims() floats to `out` (row-major, one row per text). Rows are L2-normalised
  // (a text with no features gives the zero vector). Throws on failure; never writes partial rows.
  virtual void Embed(std::span<const std::string_view> texts, EmbedRole role, float* out) const = 0;
  // True when a vector is worth keeping in the shared embedding cache (models and servers; not `hash`,
  // which recomputes faster than a cache lookup).
  virtual bool Cacheable() const { return false; }
  // The most texts one Embed call should get for good throughput and bounded memory.
  virtual size_t PreferredBatch() const { return 256; }
  // Atomics: the embedder and any decorator around it (the cache) add to them.
  virtual EmbedCounters& counters() const { return counters_; }

 protected:
  mutable EmbedCounters counters_;
};

// The embedder registry (src/embed/registry.cc). `spec` is "hash" (the default), "hash:DIMS",
// "local:<folder or registered name>[:window]", "openai:<model>" or "ollama:<model>". Throws InvalidInput
// for unknown specs, NotFound for a missing model.
std::unique_ptr<Embedder> MakeEmbedder(std::string_view spec);
std::vector<std::string> EmbedderKinds();

// Embeds `texts` (document role) into `out` (texts.size() * Dims() floats), in parallel batches of the
// embedder's PreferredBatch on TBB. The first error of any batch reaches the caller.
void EmbedTexts(const Embedder& embedder, std::span<const std::string_view> texts, float* out);

}  // namespace rlm
