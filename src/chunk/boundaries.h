// Boundary search shared by the chunkers: where a chunk may end and where the chunk after it may start.
// Every function takes byte offsets into valid UTF-8 `text` and returns a code-point boundary. The semantic
// rules live here (not in SemanticChunker) because the code, markdown, sentence and parallel chunkers and the
// loader's segmenting apply the same rules to parts of a text.
//
// Speed matters (the semantic chunker is the default for multi-gigabyte loads): the searches run backwards
// from a window's end with memrchr/memchr and table lookups, read only the bytes near candidate boundaries
// and never allocate.
#pragma once

#include <cstddef>
#include <string_view>

namespace rlm {

// ASCII whitespace other than '\n' (space, tab, CR, VT, FF): a word boundary follows it.
inline bool IsBlankByte(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

// The largest grapheme-cluster boundary g with floor < g <= pos. Looks back at most a few dozen code points
// and returns pos itself when it finds none (pos must be a code-point boundary, floor < pos).
size_t FloorGrapheme(std::string_view text, size_t pos, size_t floor);

// The smallest grapheme-cluster boundary g with pos <= g < ceiling, or pos when there is none nearby.
size_t CeilGrapheme(std::string_view text, size_t pos, size_t ceiling);

// Where a chunk that starts at `start` (a boundary) and holds at most `size` bytes should end. The result e
// satisfies min_end < e, e - start <= size (unless the code point at min_end alone is longer: then e is its
// end), and e == text.size() when the rest fits. Otherwise e is the best boundary in the latter half of the
// window (and after min_end), in order of preference: after a paragraph break ("\n\n"), after a line break,
// after a sentence end (. ! ? plus closing quotes, followed by whitespace; or CJK 。！？), after whitespace;
// failing all of those, the window's end moved back to a grapheme-cluster boundary.
// min_end >= start; it is the previous chunk's end when chunks overlap, so every chunk adds new text.
// Reads only text[start, min(size(), start + size + 4)).
size_t SemanticEnd(std::string_view text, size_t start, size_t min_end, size_t size);

// Where the chunk after [start, end) should start so that the two overlap by at most `overlap` bytes: the
// first start of a non-empty line in the last `overlap` bytes before `end`, else the first word start
// there, else the first grapheme boundary there. Returns `end` (no overlap) when overlap is 0, when end is
// the end of the text, or when a chunk of `size` bytes from the candidate could not reach past `end`. The
// result is always > start.
size_t SemanticNextStart(std::string_view text, size_t start, size_t end, size_t overlap, size_t size);

// `candidate` (start < candidate <= end) when a chunk of at most `size` bytes starting there can hold the
// code point at `end` (so the next chunk ends after `end`), else `end`.
size_t FitNextStart(std::string_view text, size_t candidate, size_t end, size_t size);

}  // namespace rlm
