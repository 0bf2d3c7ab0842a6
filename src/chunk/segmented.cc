#include "chunk/segmented.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include "chunk/boundaries.h"

namespace rlm {

size_t NextSeam(std::string_view text, size_t start, size_t target_bytes) {
  return SemanticEnd(text, start, start, target_bytes);
}

std::vector<size_t> SegmentText(std::string_view text, size_t target_bytes) {
  std::vector<size_t> seams;
  size_t start = 0;
  while (start < text.size()) {
    const size_t end = NextSeam(text, start, target_bytes);
    if (end == text.size()) break;
    seams.push_back(end);
    start = end;
  }
  return seams;
}

std::vector<ChunkSpan> SplitSegmented(const Chunker& chunker, std::string_view text,
                                      const ChunkOptions& options, size_t segment_bytes, bool parallel) {
  if (text.empty()) return {};
  std::vector<size_t> bounds = SegmentText(text, segment_bytes);
  bounds.insert(bounds.begin(), 0);
  bounds.push_back(text.size());
  const size_t segments = bounds.size() - 1;
  if (segments == 1) return chunker.Split(text, options);

  std::vector<std::vector<ChunkSpan>> parts(segments);
  auto split_segment = [&](size_t i) {
    parts[i] = chunker.Split(text.substr(bounds[i], bounds[i + 1] - bounds[i]), options);
    for (ChunkSpan& span : parts[i]) {
      span.start += bounds[i];
      span.end += bounds[i];
    }
  };
  if (parallel) {
    tbb::parallel_for(tbb::blocked_range<size_t>(0, segments), [&](const tbb::blocked_range<size_t>& range) {
      for (size_t i = range.begin(); i != range.end(); ++i) split_segment(i);
    });
  } else {
    for (size_t i = 0; i < segments; ++i) split_segment(i);
  }

  size_t total = 0;
  for (const auto& part : parts) total += part.size();
  std::vector<ChunkSpan> chunks;
  chunks.reserve(total);
  for (const auto& part : parts) chunks.insert(chunks.end(), part.begin(), part.end());
  return chunks;
}

}  // namespace rlm
