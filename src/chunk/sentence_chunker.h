// SentenceChunker ("sentence"): packs whole sentences into chunks of at most options.size bytes and
// overlaps consecutive chunks by whole trailing sentences of at most options.overlap bytes. A sentence
// longer than size is split by the semantic rules, without overlap into its neighbours.
//
// Sentence ends (NextSentenceEnd) are found without a dictionary: a terminator (. ! ? and Unicode ones
// such as 。！？‼⁉ ؟ ۔ । ॥ ։ ።), then closing quotes or brackets, then whitespace (CJK and other
// full-width terminators need none), or a paragraph break. A '.' after a single letter (initials, e.g.,
// i.e.) or a common abbreviation (Mr, Dr, Fig, ...), or followed by a lowercase word, ends no sentence.
#pragma once

#include <cstddef>
#include <string_view>

#include "chunk/chunker.h"

namespace rlm {

class SentenceChunker : public Chunker {
 public:
  std::string_view Name() const override { return "sentence"; }
  std::string_view Description() const override {
    return "Packs whole sentences; overlap by whole trailing sentences";
  }
  std::vector<ChunkSpan> Split(std::string_view text, const ChunkOptions& options) const override;
};

// The end of the sentence starting at `pos` (< text.size()): the boundary after its terminator, closing
// punctuation and trailing whitespace, or text.size() when no sentence end follows. Always > pos.
size_t NextSentenceEnd(std::string_view text, size_t pos);

}  // namespace rlm
