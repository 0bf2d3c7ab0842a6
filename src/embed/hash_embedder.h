// The zero-setup default embedder: deterministic signed feature hashing (the "hashing trick"). Features are
// the analysed words of a text (the BM25 analyzer with stop words and Porter stemming, so both retrievers
// agree on what a word is) and the character 3-grams of each word with boundary markers ("<ru", "run",
// "un>" for "run"), which let inflections and typos share features. Each distinct feature contributes
// kind_weight * (1 + ln count) (sublinear term frequency; 3-grams weigh less than words) with a hashed sign
// to one of Dims() buckets chosen by XXH3-64; the row is then L2-normalised. A text with no words gives the
// zero vector. Queries and documents are embedded the same way.
// Thread-safe; per-thread scratch keeps the hot loop free of heap allocation.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "embed/embedder.h"
#include "text/analyzer.h"

namespace rlm {

class HashEmbedder : public Embedder {
 public:
  static constexpr size_t kDefaultDims = 256;
  static constexpr size_t kMaxDims = 65536;
  // Throws InvalidInput unless 1 <= dims <= kMaxDims.
  explicit HashEmbedder(size_t dims = kDefaultDims);

  // "hash-v1:d<dims>:w+c3:<analyzer signature>"; the version is bumped whenever the algorithm changes.
  std::string Fingerprint() const override;
  size_t Dims() const override { return dims_; }
  // Rows are computed in parallel (TBB) when there are several texts.
  void Embed(std::span<const std::string_view> texts, EmbedRole role, float* out) const override;
  // One row: writes Dims() floats.
  void EmbedOne(std::string_view text, float* out) const;

 private:
  size_t dims_;
  Analyzer analyzer_;
};

}  // namespace rlm
