#include "chunk/fixed_chunker.h"

#include <algorithm>

#include "chunk/boundaries.h"
#include "core/utf8.h"

namespace rlm {

std::vector<ChunkSpan> FixedChunker::Split(std::string_view text, const ChunkOptions& options) const {
  std::vector<ChunkSpan> chunks;
  const size_t n = text.size();
  const size_t size = options.size;
  chunks.reserve(n / size + 1);
  size_t start = 0;
  size_t prev_end = 0;
  while (start < n) {
    const size_t min_end = std::max(start, prev_end);
    size_t end = n;
    if (n - start > size) {
      const size_t limit = utf8::FloorBoundary(text, start + size);
      end = limit <= min_end ? utf8::CeilBoundary(text, min_end + 1) : FloorGrapheme(text, limit, min_end);
    }
    chunks.push_back({start, end});
    if (end == n) break;
    size_t next = end;
    if (options.overlap > 0 && end - start > 1) {
      const size_t from = utf8::CeilBoundary(text, std::max(end - std::min(options.overlap, end), start + 1));
      if (from < end) next = FitNextStart(text, CeilGrapheme(text, from, end), end, size);
    }
    prev_end = end;
    start = next;
  }
  return chunks;
}

}  // namespace rlm
