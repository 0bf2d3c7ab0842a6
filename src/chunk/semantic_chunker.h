// SemanticChunker ("semantic", the default, as in rlm-rs): each chunk ends at the best boundary in the
// latter half of its `size`-byte window: paragraph break > line break > sentence end > whitespace >
// grapheme/code-point boundary (see SemanticEnd in chunk/boundaries.h). The next chunk starts `overlap`
// bytes before the end, moved forward to a line or word start inside that overlap.
//
// Linear time; it touches only the bytes near candidate boundaries and allocates nothing beyond the
// output vector, because it is the default for multi-gigabyte loads.
#pragma once

#include "chunk/chunker.h"

namespace rlm {

class SemanticChunker : public Chunker {
 public:
  std::string_view Name() const override { return "semantic"; }
  std::string_view Description() const override {
    return "Ends chunks at paragraph, line, sentence or word boundaries (default)";
  }
  std::vector<ChunkSpan> Split(std::string_view text, const ChunkOptions& options) const override;
};

// Appends the semantic chunks of `text` to *out, every offset shifted by `offset`. Other chunkers use it
// to split a part of their input (a definition, a section, a sentence) that is larger than options.size:
// pass the part as `text` and its position as `offset`.
void AppendSemanticChunks(std::string_view text, const ChunkOptions& options, size_t offset,
                          std::vector<ChunkSpan>* out);

}  // namespace rlm
