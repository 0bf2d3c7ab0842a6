// BM25 over documents numbered 0..n-1, with the scoring of Lucene/Anserini:
//   idf(t)   = ln(1 + (N - df + 0.5) / (df + 0.5))
//   score    = sum over query terms t (each occurrence counted) of
//              idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
// where dl is the document's term count. k1 and b are query-time parameters, so one index serves all.
// Built in parallel; serialised to a flat little-endian byte image that Open() uses in place (memory-mapped),
// so a fresh process answers a query without rebuilding. An index is immutable and thread-safe to search.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/scored.h"
#include "text/analyzer.h"

namespace rlm {

struct Bm25Params {
  double k1 = 1.2;
  double b = 0.75;
};

class Bm25Index {
 public:
  Bm25Index();
  ~Bm25Index();
  Bm25Index(Bm25Index&&) noexcept;
  Bm25Index& operator=(Bm25Index&&) noexcept;

  size_t num_docs() const;
  size_t num_terms() const;
  double avg_doc_length() const;

  // The flat byte image (starts with a magic and format version). Open(Serialize()) searches identically.
  std::string Serialize() const;
  // Uses `image` in place (the caller keeps it alive, e.g. a MappedFile). Validates every length and offset:
  // a truncated or corrupt image throws InvalidInput, never reads out of bounds.
  static Bm25Index Open(std::string_view image);

  // The top `k` documents for the analysed query terms (a term repeated in the query counts again),
  // ordered by RanksBefore. Documents with score 0 (no query term) are not returned. With `filter`,
  // only allowed documents are scored, so a filter never hides results (it applies before ranking).
  std::vector<ScoredDoc> Search(std::span<const std::string> query_terms, size_t k, const Bm25Params& params,
                                const DocFilter* filter = nullptr, SearchStats* stats = nullptr) const;

 private:
  friend class Bm25Builder;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Accumulates documents (analysed in parallel with TBB) and produces an index.
class Bm25Builder {
 public:
  explicit Bm25Builder(const Analyzer& analyzer);
  ~Bm25Builder();
  // Appends documents; the first document added gets ordinal 0. Analyses the batch in parallel.
  void AddBatch(std::span<const std::string_view> texts);
  size_t num_docs() const;
  Bm25Index Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rlm
