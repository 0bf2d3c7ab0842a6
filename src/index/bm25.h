// BM25 over documents numbered 0..n-1, with the scoring of Lucene/Anserini:
//   idf(t)   = ln(1 + (N - df + 0.5) / (df + 0.5))
//   score    = sum over query terms t (each occurrence counted) of
//              idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
// where dl is the document's term count. k1 and b are query-time parameters, so one index serves all.
// Built in parallel; serialised to a flat little-endian byte image (layout: index/bm25_image.h) that Open()
// uses in place (memory-mapped), so a fresh process answers a query without rebuilding. An index is
// immutable and thread-safe to search. Scores are accumulated in float, term by term in bytewise term order,
// so a query always gives bit-identical scores.
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
  // Uses `image` in place (the caller keeps it alive, e.g. a MappedFile); an image not 8-byte aligned is
  // copied instead. Opening is O(1): it checks the header and that every section lies inside the image
  // (a truncated image throws InvalidInput). Offsets, doc ordinals and tf values are checked when a search
  // reads them, so a corrupt image makes Search throw InvalidInput and never read out of bounds. With
  // verify_checksum the whole image is hashed first and any changed byte throws InvalidInput.
  static Bm25Index Open(std::string_view image, bool verify_checksum = false);

  // Number of documents containing `term` (an analysed term); 0 when absent.
  size_t DocFreq(std::string_view term) const;

  // The top `k` documents for the analysed query terms (a term repeated in the query counts again),
  // ordered by RanksBefore. Documents with score 0 (no query term) are not returned. With `filter`
  // (filter->size() must equal num_docs()), only allowed documents are scored, so a filter never hides
  // results (it applies before ranking). Throws InvalidInput for k1 < 0, b outside [0, 1], non-finite
  // parameters, a filter of the wrong size, or a corrupt image.
  std::vector<ScoredDoc> Search(std::span<const std::string> query_terms, size_t k, const Bm25Params& params,
                                const DocFilter* filter = nullptr, SearchStats* stats = nullptr) const;

 private:
  friend class Bm25Builder;
  // Takes ownership of an image the builder just wrote.
  static Bm25Index FromImage(std::string image);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Accumulates documents (analysed in parallel with TBB) and produces an index.
class Bm25Builder {
 public:
  explicit Bm25Builder(const Analyzer& analyzer);
  ~Bm25Builder();
  // Appends documents; the first document added gets ordinal 0. Analyses the batch in parallel; an error in
  // any task cancels the batch, reaches the caller, and leaves the builder as it was before the call.
  void AddBatch(std::span<const std::string_view> texts);
  size_t num_docs() const;
  // Builds the index and resets the builder to empty (it may be reused).
  Bm25Index Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rlm
