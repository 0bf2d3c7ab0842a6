// MarkdownChunker ("markdown"): heading-aware chunks. Chunks are cut before ATX headings (`#`..`######`
// at a line start, up to 3 spaces of indentation) and setext headings (a text line underlined with at least
// 3 `=` or `-`), never inside ``` or ~~~ fenced code blocks and never inside YAML front matter. Sections
// that fit in options.size are packed whole; a larger section is cut at its subsection headings, then
// between blocks (paragraphs, lists, fenced code blocks; a fenced block is kept whole when it fits), and
// only a single block larger than size is split by the semantic rules (chunk/structured_packer.h).
#pragma once

#include <string_view>
#include <vector>

#include "chunk/chunker.h"
#include "chunk/structured_packer.h"

namespace rlm {

class MarkdownChunker : public Chunker {
 public:
  std::string_view Name() const override { return "markdown"; }
  std::string_view Description() const override {
    return "Markdown cut before headings, keeping fenced code blocks whole";
  }
  std::vector<ChunkSpan> Split(std::string_view text, const ChunkOptions& options) const override;
};

// Block rank of MarkdownCuts: weaker than any heading (headings of level L have rank L - 1).
inline constexpr int kMarkdownBlockRank = 6;

// The places where a markdown text may be cut: heading line starts (rank level - 1) and block starts
// (rank kMarkdownBlockRank: the first line after a blank line, a fence opening, the line after a fence).
std::vector<StructureCut> FindMarkdownCuts(std::string_view text);

}  // namespace rlm
