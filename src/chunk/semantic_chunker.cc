#include "chunk/semantic_chunker.h"

#include <algorithm>

#include "chunk/boundaries.h"

namespace rlm {

void AppendSemanticChunks(std::string_view text, const ChunkOptions& options, size_t offset,
                          std::vector<ChunkSpan>* out) {
  const size_t n = text.size();
  out->reserve(out->size() + n / options.size + 1);
  size_t start = 0;
  size_t prev_end = 0;
  while (start < n) {
    const size_t end = SemanticEnd(text, start, std::max(start, prev_end), options.size);
    out->push_back({offset + start, offset + end});
    if (end == n) break;
    const size_t next = SemanticNextStart(text, start, end, options.overlap, options.size);
    prev_end = end;
    start = next;
  }
}

std::vector<ChunkSpan> SemanticChunker::Split(std::string_view text, const ChunkOptions& options) const {
  std::vector<ChunkSpan> chunks;
  AppendSemanticChunks(text, options, 0, &chunks);
  return chunks;
}

}  // namespace rlm
