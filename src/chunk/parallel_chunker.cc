#include "chunk/parallel_chunker.h"

#include <algorithm>
#include <limits>

#include "chunk/segmented.h"
#include "chunk/semantic_chunker.h"

namespace rlm {

size_t ParallelChunker::SegmentBytes(const ChunkOptions& options) {
  constexpr size_t kMinSegment = size_t{1} << 20;
  constexpr size_t kChunksPerSegment = 64;
  const size_t per_size = options.size > std::numeric_limits<size_t>::max() / kChunksPerSegment
                              ? std::numeric_limits<size_t>::max()
                              : options.size * kChunksPerSegment;
  return std::max(kMinSegment, per_size);
}

std::vector<ChunkSpan> ParallelChunker::Split(std::string_view text, const ChunkOptions& options) const {
  return SplitSegmented(SemanticChunker(), text, options, SegmentBytes(options), /*parallel=*/true);
}

}  // namespace rlm
