// UTF-8 primitives on byte strings. Every offset is a byte offset; "boundary" means a position that is not
// inside a multi-byte sequence (0 and size() are boundaries). Functions assume valid UTF-8 unless they say
// they validate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rlm::utf8 {

// Returns the byte offset of the first byte that does not start a well-formed UTF-8 sequence (overlongs,
// surrogates and code points above U+10FFFF are invalid), or nullopt when `s` is valid UTF-8.
std::optional<size_t> FindInvalid(std::string_view s);

// Length of a UTF-8 BOM at the start of `s` (3) or 0.
size_t BomLength(std::string_view s);

inline bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// True when `pos` is not inside a multi-byte sequence (pos <= s.size()).
inline bool IsBoundary(std::string_view s, size_t pos) {
  return pos == 0 || pos >= s.size() || !IsContinuation(static_cast<unsigned char>(s[pos]));
}

// The largest boundary <= pos (pos is clamped to s.size()).
size_t FloorBoundary(std::string_view s, size_t pos);
// The smallest boundary >= pos (pos is clamped to s.size()).
size_t CeilBoundary(std::string_view s, size_t pos);

// Byte length of the sequence starting with lead byte `c` (1 for invalid lead bytes, so loops progress).
inline size_t SequenceLength(unsigned char c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;
}

// Decodes the code point at `pos` (a boundary < s.size()) and stores its byte length in *len.
// Invalid bytes decode as U+FFFD with length 1.
char32_t Decode(std::string_view s, size_t pos, size_t* len);

// Appends the UTF-8 encoding of `cp` to `out`.
void Append(std::string& out, char32_t cp);

// The longest prefix of `s` of at most `max_bytes` bytes that ends on a boundary: never splits a sequence.
std::string_view Truncate(std::string_view s, size_t max_bytes);

// Number of '\n' bytes in `s` (vectorised by the compiler).
size_t CountNewlines(std::string_view s);

}  // namespace rlm::utf8
