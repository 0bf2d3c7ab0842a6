// ParallelChunker ("parallel"): the semantic chunker run over segments of the text in parallel (TBB).
// Segments are about max(1 MiB, 64 * size) bytes, cut at paragraph, line or word boundaries
// (chunk/segmented.h). The result is exactly the semantic chunks of each segment, shifted and concatenated:
// chunks never cross a seam and do not overlap across one. A text of at most one segment gives exactly the
// semantic chunker's result.
#pragma once

#include "chunk/chunker.h"

namespace rlm {

class ParallelChunker : public Chunker {
 public:
  std::string_view Name() const override { return "parallel"; }
  std::string_view Description() const override {
    return "Semantic chunking of large texts, segments split in parallel";
  }
  std::vector<ChunkSpan> Split(std::string_view text, const ChunkOptions& options) const override;

  // The segment length used for `options`: max(1 MiB, 64 * size), saturating.
  static size_t SegmentBytes(const ChunkOptions& options);
};

}  // namespace rlm
