#include "embed/hash_embedder.h"

#include <oneapi/tbb/parallel_for.h>
// Inlined: most features are 3-byte grams, where a library call would cost more than the hash.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace rlm {
namespace {

// Changing any constant below changes the vectors: bump kVersion with it.
constexpr int kVersion = 1;
constexpr uint64_t kWordSeed = 0x9E3779B97F4A7C15ULL;
constexpr uint64_t kGramSeed = 0xC2B2AE3D27D4EB4FULL;
constexpr float kWordWeight = 1.0f;
constexpr float kGramWeight = 0.7f;

// Distinct features of one text with their counts: open addressing keyed by the 64-bit feature hash, whose
// lowest bit records the kind (1 = word, 0 = 3-gram). Key 0 marks an empty slot.
class FeatureCounts {
 public:
  void Add(uint64_t key) {
    if (key == 0) key = 2;  // 0 is the empty marker; 2 is another 3-gram key, equally arbitrary
    if (2 * (used_.size() + 1) > slots_.size()) Grow();
    const size_t mask = slots_.size() - 1;
    for (size_t i = static_cast<size_t>(key >> 40) & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.key == key) {
        ++s.count;
        return;
      }
      if (s.key == 0) {
        s.key = key;
        s.count = 1;
        used_.push_back(static_cast<uint32_t>(i));
        return;
      }
    }
  }
  template <class F>
  void ForEach(F&& f) const {
    for (uint32_t i : used_) f(slots_[i].key, slots_[i].count);
  }
  // Empties the table, touching only the used slots.
  void Clear() {
    for (uint32_t i : used_) slots_[i] = Slot{};
    used_.clear();
  }

 private:
  struct Slot {
    uint64_t key = 0;
    uint32_t count = 0;
  };
  void Grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
    std::vector<uint32_t> old_used;
    old_used.swap(used_);
    const size_t mask = slots_.size() - 1;
    for (uint32_t j : old_used) {
      size_t i = static_cast<size_t>(old[j].key >> 40) & mask;
      while (slots_[i].key != 0) i = (i + 1) & mask;
      slots_[i] = old[j];
      used_.push_back(static_cast<uint32_t>(i));
    }
  }
  std::vector<Slot> slots_;
  std::vector<uint32_t> used_;
};

struct Scratch {
  FeatureCounts features;
  std::vector<float> row;
};

Scratch& ThreadScratch() {
  thread_local Scratch s;
  return s;
}

// Terms are at most the analyzer's max_token_bytes (64) long; the bound only guards the stack buffer.
constexpr size_t kMaxTermBytes = 256;

void AddTermFeatures(std::string_view term, FeatureCounts& features) {
  features.Add(XXH3_64bits_withSeed(term.data(), term.size(), kWordSeed) | 1);
  if (term.size() > kMaxTermBytes) return;
  char marked[kMaxTermBytes + 2];  // "<" term ">"
  const size_t len = term.size() + 2;
  marked[0] = '<';
  std::memcpy(marked + 1, term.data(), term.size());
  marked[len - 1] = '>';
  unsigned char high = 0;
  for (char c : term) high |= static_cast<unsigned char>(c);
  if (high < 0x80) {
    for (size_t j = 0; j + 3 <= len; ++j)
      features.Add(XXH3_64bits_withSeed(marked + j, 3, kGramSeed) & ~uint64_t{1});
    return;
  }
  // Grams of code points, not bytes, for non-ASCII terms.
  uint16_t start[kMaxTermBytes + 3];
  size_t num_cps = 0;
  for (size_t i = 0; i < len; ++i) {
    if ((static_cast<unsigned char>(marked[i]) & 0xC0) != 0x80) start[num_cps++] = static_cast<uint16_t>(i);
  }
  start[num_cps] = static_cast<uint16_t>(len);
  for (size_t j = 0; j + 3 <= num_cps; ++j) {
    features.Add(XXH3_64bits_withSeed(marked + start[j], start[j + 3] - start[j], kGramSeed) & ~uint64_t{1});
  }
}

}  // namespace

HashEmbedder::HashEmbedder(size_t dims) : dims_(dims), analyzer_(AnalyzerOptions{}) {
  if (dims < 1 || dims > kMaxDims) {
    throw InvalidInput("hash embedder dimensions must be between 1 and " + std::to_string(kMaxDims) +
                       ", got " + std::to_string(dims));
  }
}

std::string HashEmbedder::Fingerprint() const {
  return "hash-v" + std::to_string(kVersion) + ":d" + std::to_string(dims_) +
         ":w+c3:" + analyzer_.Signature();
}

void HashEmbedder::EmbedOne(std::string_view text, float* out) const {
  Scratch& s = ThreadScratch();
  s.features.Clear();
  analyzer_.ForEachTerm(text, [&s](std::string_view term) { AddTermFeatures(term, s.features); });

  s.row.assign(dims_, 0.0f);
  float* row = s.row.data();
  const auto dims = static_cast<unsigned __int128>(dims_);
  s.features.ForEach([&](uint64_t key, uint32_t count) {
    const float kind = (key & 1) != 0 ? kWordWeight : kGramWeight;
    const float w = kind * (1.0f + std::log(static_cast<float>(count)));
    // Bucket from the high bits (multiply-shift, no modulo bias); sign from an independent bit.
    const auto bucket = static_cast<size_t>((static_cast<unsigned __int128>(key) * dims) >> 64);
    row[bucket] += ((key >> 1) & 1) != 0 ? w : -w;
  });
  double norm2 = 0;
  for (size_t i = 0; i < dims_; ++i) norm2 += static_cast<double>(row[i]) * row[i];
  if (norm2 > 0) {
    const auto inv = static_cast<float>(1.0 / std::sqrt(norm2));
    for (size_t i = 0; i < dims_; ++i) row[i] *= inv;
  }
  s.features.Clear();
  std::memcpy(out, row, dims_ * sizeof(float));  // whole rows only: nothing above writes to `out`
}

void HashEmbedder::Embed(std::span<const std::string_view> texts, EmbedRole /*role*/, float* out) const {
  counters_.texts.fetch_add(texts.size(), std::memory_order_relaxed);
  if (texts.size() <= 1) {
    if (!texts.empty()) EmbedOne(texts[0], out);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<size_t>(0, texts.size(), 4), [&](const tbb::blocked_range<size_t>& r) {
    for (size_t i = r.begin(); i != r.end(); ++i) EmbedOne(texts[i], out + i * dims_);
  });
}

}  // namespace rlm
