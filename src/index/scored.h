// Ranked results shared by every retriever and by fusion: a document ordinal and its score, plus the work
// counters a benchmark needs to explain its numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rlm {

struct ScoredDoc {
  uint32_t doc = 0;  // ordinal in the index (0..n-1)
  float score = 0;
  bool operator==(const ScoredDoc&) const = default;
};

// Deterministic ranking order: higher score first, then lower doc ordinal.
inline bool RanksBefore(const ScoredDoc& a, const ScoredDoc& b) {
  return a.score != b.score ? a.score > b.score : a.doc < b.doc;
}

struct SearchStats {
  size_t postings_read = 0;     // BM25: postings entries visited
  size_t docs_scored = 0;       // documents that received a score
  size_t vectors_compared = 0;  // dense: dot products computed
};

// Optional pre-ranking filter: allow[doc] != 0 keeps the document. nullptr keeps everything.
using DocFilter = std::vector<uint8_t>;

}  // namespace rlm
