// The embedding cache in front of an embedder: texts whose vectors the machine-wide cache
// (embed/embedding_cache.h) holds for this embedder's fingerprint are not computed again; the rest are
// computed by the inner embedder and stored. The key is the content hash of the role and the text, so a
// query and a document of the same text (different prompts) never share a vector.
//
// The cache is an optimisation: when it fails (disk full, a damaged file), the texts are computed as if it
// were absent and warning() says why; an embedding is never lost or wrong because of the cache.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "embed/embedder.h"
#include "embed/embedding_cache.h"

namespace rlm {

class CachedEmbedder : public Embedder {
 public:
  CachedEmbedder(std::unique_ptr<Embedder> inner, std::unique_ptr<EmbeddingCache> cache);

  std::string Fingerprint() const override { return fingerprint_; }
  size_t Dims() const override { return inner_->Dims(); }
  void Embed(std::span<const std::string_view> texts, EmbedRole role, float* out) const override;
  bool Cacheable() const override { return true; }
  size_t PreferredBatch() const override { return inner_->PreferredBatch(); }
  EmbedCounters& counters() const override { return inner_->counters(); }

  const Embedder& inner() const { return *inner_; }
  // The last cache failure, empty when none.
  std::string warning() const;

 private:
  std::unique_ptr<Embedder> inner_;
  std::unique_ptr<EmbeddingCache> cache_;
  std::string fingerprint_;
  mutable std::mutex mu_;
  mutable std::string warning_;
};

// Wraps `embedder` in the default cache when it is Cacheable() and the cache is enabled and opens;
// otherwise returns it unchanged.
std::unique_ptr<Embedder> WithDefaultCache(std::unique_ptr<Embedder> embedder);

}  // namespace rlm
