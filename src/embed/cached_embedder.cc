#include "embed/cached_embedder.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/hash.h"

namespace rlm {

CachedEmbedder::CachedEmbedder(std::unique_ptr<Embedder> inner, std::unique_ptr<EmbeddingCache> cache)
    : inner_(std::move(inner)), cache_(std::move(cache)), fingerprint_(inner_->Fingerprint()) {}

std::string CachedEmbedder::warning() const {
  std::lock_guard lock(mu_);
  return warning_;
}

void CachedEmbedder::Embed(std::span<const std::string_view> texts, EmbedRole role, float* out) const {
  const size_t dims = Dims();
  std::vector<Hash128> keys(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    ContentHasher h;
    h.Update(role == EmbedRole::kQuery ? std::string_view("q\x1f", 2) : std::string_view("d\x1f", 2));
    h.Update(texts[i]);
    keys[i] = h.Finish();
  }
  std::vector<float> rows(texts.size() * dims);
  std::vector<bool> found(texts.size(), false);
  auto note = [&](const Error& e) {
    std::lock_guard lock(mu_);
    warning_ = e.what();  // the cache's errors name its file
  };
  try {
    cache_->Lookup(fingerprint_, dims, keys, rows.data(), found);
  } catch (const Error& e) {
    note(e);
    std::fill(found.begin(), found.end(), false);
  }
  std::vector<size_t> misses;
  for (size_t i = 0; i < texts.size(); ++i) {
    if (!found[i]) misses.push_back(i);
  }
  if (!misses.empty()) {
    std::vector<std::string_view> miss_texts;
    std::vector<Hash128> miss_keys;
    for (size_t i : misses) {
      miss_texts.push_back(texts[i]);
      miss_keys.push_back(keys[i]);
    }
    std::vector<float> computed(misses.size() * dims);
    inner_->Embed(miss_texts, role, computed.data());
    for (size_t m = 0; m < misses.size(); ++m) {
      std::memcpy(rows.data() + misses[m] * dims, computed.data() + m * dims, dims * sizeof(float));
    }
    try {
      cache_->Store(fingerprint_, dims, miss_keys, computed.data());
    } catch (const Error& e) {
      note(e);
    }
  }
  inner_->counters().cache_hits.fetch_add(texts.size() - misses.size(), std::memory_order_relaxed);
  std::copy(rows.begin(), rows.end(), out);
}

std::unique_ptr<Embedder> WithDefaultCache(std::unique_ptr<Embedder> embedder) {
  if (!embedder->Cacheable() || !EmbeddingCache::Enabled()) return embedder;
  std::string warning;
  auto cache = EmbeddingCache::OpenDefaultOrWarn(&warning);
  if (!cache) return embedder;
  return std::make_unique<CachedEmbedder>(std::move(embedder), std::move(cache));
}

}  // namespace rlm
