// RecursiveChunker ("recursive"): LangChain's RecursiveCharacterTextSplitter on byte ranges. The text is
// split at the first separator of ["\n\n", "\n", " ", ""] that occurs in it (the separator stays at the
// start of the following piece; "" splits into grapheme clusters, and a cluster longer than size into code
// points). Pieces shorter than size are merged left to right into chunks of at most size bytes, each chunk
// after the first keeping trailing pieces of the previous one worth at most overlap bytes; a piece of size
// bytes or more is split again with the remaining separators.
//
// Differences from LangChain: lengths are bytes, not characters; chunks are byte ranges of the input, so
// the whitespace LangChain strips from chunk edges stays in the chunks (and chunks cover the whole input).
#pragma once

#include "chunk/chunker.h"

namespace rlm {

class RecursiveChunker : public Chunker {
 public:
  std::string_view Name() const override { return "recursive"; }
  std::string_view Description() const override {
    return "LangChain-style recursive split on paragraph, line, word, character separators";
  }
  std::vector<ChunkSpan> Split(std::string_view text, const ChunkOptions& options) const override;
};

}  // namespace rlm
