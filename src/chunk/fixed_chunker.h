// FixedChunker ("fixed"): windows of `size` bytes regardless of content. Each window's end moves back to a
// code-point boundary, and to a grapheme-cluster boundary when one is within the window; the next window
// starts `overlap` bytes before the end, moved forward to a code-point (and grapheme) boundary, so the
// overlap never exceeds `overlap` and never starts inside a UTF-8 sequence (rlm-rs's could).
#pragma once

#include "chunk/chunker.h"

namespace rlm {

class FixedChunker : public Chunker {
 public:
  std::string_view Name() const override { return "fixed"; }
  std::string_view Description() const override {
    return "Fixed-size byte windows, cut at code-point (grapheme) boundaries";
  }
  std::vector<ChunkSpan> Split(std::string_view text, const ChunkOptions& options) const override;
};

}  // namespace rlm
