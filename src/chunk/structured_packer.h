// Packing of structured text (code definitions, markdown sections) into chunks. The structure is given as
// cut points, each with a rank: rank 0 is the strongest cut (top-level definition, level-1 heading), larger
// ranks are weaker (methods, subsections, paragraphs).
//
// The whole text is one section. A section that fits in options.size is kept whole and packed with its
// neighbours while they fit. A section that does not fit is cut at its strongest cut points (the smallest
// rank present inside it) and each part is handled the same way; a part with no cut point inside that still
// does not fit is split by the semantic rules (with overlap inside it). The parts of an oversized section
// never share a chunk with text outside that section, so every chunk starts at 0, at a cut point, or inside
// a part that had to be split semantically. There is no overlap across cut points.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "chunk/chunker.h"

namespace rlm {

struct StructureCut {
  size_t pos = 0;  // a line start or other boundary where a chunk may start
  int rank = 0;    // 0 is the strongest
  bool operator==(const StructureCut&) const = default;
};

// Chunks `text` along `cuts`, which must be sorted by strictly increasing pos with 0 < pos < text.size().
std::vector<ChunkSpan> PackStructured(std::string_view text, const std::vector<StructureCut>& cuts,
                                      const ChunkOptions& options);

}  // namespace rlm
