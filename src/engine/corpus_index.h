// The derived search index of a workspace: every chunk as a document ordinal (ordered by buffer id, then
// chunk index) with its chunk id, buffer id and index, its vector from the workspace embedder, and a BM25
// index over its text. Persisted beside the database as `<db>.index` (written to a temp file and renamed)
// and memory-mapped by later processes, so a fresh process answers a search without rebuilding. The file is
// stamped with the workspace id, the generation it was built from, the analyzer and the embedder
// fingerprint; a stamp that does not match the workspace means stale, and the index is rebuilt.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/file.h"
#include "index/bm25.h"
#include "index/dense.h"
#include "store/workspace.h"
#include "text/analyzer.h"

namespace rlm {

class Embedder;

class CorpusIndex {
 public:
  // Opens the persisted index when it is fresh, else rebuilds it from `ws` (inside one read snapshot) and
  // persists it. `rebuilt` (optional) tells which happened. A damaged index file is rebuilt, not an error.
  static std::unique_ptr<CorpusIndex> OpenOrBuild(Workspace& ws, const Analyzer& analyzer,
                                                  const Embedder& embedder, bool* rebuilt = nullptr);

  size_t num_docs() const { return num_docs_; }
  size_t dims() const { return dims_; }
  int64_t chunk_id(uint32_t doc) const { return chunk_ids_[doc]; }
  int64_t buffer_id(uint32_t doc) const { return buffer_ids_[doc]; }
  int64_t chunk_index(uint32_t doc) const { return chunk_indices_[doc]; }
  const Bm25Index& bm25() const { return bm25_; }
  // Rows of chunks without a stored vector are zero (they never pass a positive threshold).
  DenseMatrixView vectors() const { return {vectors_, num_docs_, dims_}; }

 private:
  CorpusIndex() = default;
  void Attach(std::string_view image);  // points the arrays into a validated image
  MappedFile map_;
  std::string owned_;  // the image when just built (not mapped)
  size_t num_docs_ = 0;
  size_t dims_ = 0;
  const int64_t* chunk_ids_ = nullptr;
  const int64_t* buffer_ids_ = nullptr;
  const int64_t* chunk_indices_ = nullptr;
  const float* vectors_ = nullptr;
  Bm25Index bm25_;
};

// Path of the persisted index of the workspace at `db_path`.
std::string CorpusIndexPath(const std::string& db_path);

}  // namespace rlm
