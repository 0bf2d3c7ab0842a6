// Embedders turn texts into fixed-length float vectors. Every embedder has a fingerprint (kind, model
// identity, pooling, prefixes, dims) that keys stored and cached embeddings, so vectors from different
// models are never mixed. Embedders are thread-safe: Embed may be called concurrently.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rlm {

// Some models embed queries and documents differently (e5's "query: " / "passage: " prefixes).
enum class EmbedRole { kDocument, kQuery };

class Embedder {
 public:
  virtual ~Embedder() = default;
  // Stable identity of the vectors this embedder produces, e.g. "hash-v1:d256:w+c3".
  virtual std::string Fingerprint() const = 0;
  virtual size_t Dims() const = 0;
  // Writes texts.size() * Dims() floats to `out` (row-major, one row per text). Rows are L2-normalised
  // (a text with no features gives the zero vector). Throws on failure; never writes partial rows.
  virtual void Embed(std::span<const std::string_view> texts, EmbedRole role, float* out) const = 0;
};

// The embedder registry (src/embed/registry.cc). `spec` is "hash" (the default) or "hash:DIMS"; later
// "local:<folder>", "openai:<model>", "ollama:<model>". Throws InvalidInput for unknown specs.
std::unique_ptr<Embedder> MakeEmbedder(std::string_view spec);
std::vector<std::string> EmbedderKinds();

}  // namespace rlm
