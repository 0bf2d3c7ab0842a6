// Splitting a text in independent segments, for parallel chunking and for streaming loads of files larger
// than memory.
//
// Seams are chosen by the semantic rules with the segment length as the window (SemanticEnd in
// chunk/boundaries.h): a paragraph break, else a line break, sentence end or whitespace, else a grapheme or
// code-point boundary, in the latter half of each `target_bytes` window. A seam depends only on the bytes
// from the segment's start to target_bytes + 4 bytes after it, so a streaming reader that holds that much
// (or the rest of the file) finds the same seams as SegmentText on the whole text.
//
// Relation to the sequential result: SplitSegmented returns exactly the concatenation, over the segments
// [s_i, s_i+1), of chunker.Split(text.substr(s_i, s_i+1 - s_i)) with offsets shifted by s_i. Every seam is
// therefore a chunk boundary, no chunk crosses a seam and there is no overlap across a seam; elsewhere the
// chunks are those of the sequential chunker run on the segment. When the text is at most target_bytes long
// there is one segment and the result equals chunker.Split(text).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "chunk/chunker.h"

namespace rlm {

// The end of the segment that starts at `start` (a boundary < text.size()): text.size() when at most
// target_bytes remain, else a seam in (start, start + target_bytes]. target_bytes must be > 0.
size_t NextSeam(std::string_view text, size_t start, size_t target_bytes);

// The seams of `text`: the interior offsets 0 < s_1 < ... < s_k < text.size() where segments start, each
// segment at most target_bytes long (unless a single code point is longer). Empty when the text fits.
std::vector<size_t> SegmentText(std::string_view text, size_t target_bytes);

// Runs `chunker` on every segment of `text` (seams from SegmentText) and concatenates the shifted results
// (see the relation above). With `parallel`, segments run concurrently on the TBB pool; the result is the
// same either way. An exception in any segment cancels the others and reaches the caller.
std::vector<ChunkSpan> SplitSegmented(const Chunker& chunker, std::string_view text,
                                      const ChunkOptions& options, size_t segment_bytes, bool parallel);

}  // namespace rlm
