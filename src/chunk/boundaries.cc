#include "chunk/boundaries.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "core/utf8.h"

namespace rlm {
namespace {

// Grapheme clusters longer than this many code points (Zalgo text, flag runs) are cut at a code point.
constexpr int kMaxGraphemeScan = 32;

constexpr size_t kNone = static_cast<size_t>(-1);

bool IsGraphemeBreak(std::string_view text, size_t pos) {
  const auto before = static_cast<unsigned char>(text[pos - 1]);
  const auto after = static_cast<unsigned char>(text[pos]);
  // ASCII on both sides always breaks, except CR LF (no ASCII character is Prepend, Extend or ZWJ).
  if (before < 0x80 && after < 0x80) return !(before == '\r' && after == '\n');
  size_t len = 0;
  const size_t prev = utf8::FloorBoundary(text, pos - 1);
  const char32_t c1 = utf8::Decode(text, prev, &len);
  const char32_t c2 = utf8::Decode(text, pos, &len);
  return utf8proc_grapheme_break(static_cast<utf8proc_int32_t>(c1), static_cast<utf8proc_int32_t>(c2));
}

// Bytes the sentence/word scan stops at: ASCII blanks and the last bytes of 。！？ and U+3000.
constexpr std::array<bool, 256> kScanStops = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : {' ', '\t', '\r', '\v', '\f'}) t[c] = true;
  for (unsigned char c : {0x80, 0x81, 0x82, 0x9F}) t[c] = true;
  return t;
}();

bool IsAsciiTerminator(char c) {
  return c == '.' || c == '!' || c == '?';
}
bool IsAsciiCloser(char c) {
  return c == '"' || c == '\'' || c == ')' || c == ']';
}

// True when text[i] is a blank that follows a sentence terminator (optionally behind closing quotes)
// that lies at or after `start`.
bool EndsSentenceBefore(const char* base, size_t start, size_t i) {
  size_t j = i;
  for (int k = 0; k < 3 && j > start && IsAsciiCloser(base[j - 1]); ++k) --j;
  return j > start && IsAsciiTerminator(base[j - 1]);
}

// The 3-byte sequence ending at i (i >= start + 2) is b0 b1 b2.
bool Ends3(const unsigned char* p, size_t i, unsigned char b0, unsigned char b1, unsigned char b2) {
  return p[i] == b2 && p[i - 1] == b1 && p[i - 2] == b0;
}

bool IsParagraphBreak(const char* base, size_t start, size_t newline) {
  if (newline <= start) return false;
  if (base[newline - 1] == '\n') return true;
  return base[newline - 1] == '\r' && newline - 1 > start && base[newline - 2] == '\n';
}

}  // namespace

size_t FloorGrapheme(std::string_view text, size_t pos, size_t floor) {
  if (pos >= text.size()) return text.size();
  size_t p = pos;
  for (int steps = 0; steps < kMaxGraphemeScan && p > floor; ++steps) {
    if (IsGraphemeBreak(text, p)) return p;
    p = utf8::FloorBoundary(text, p - 1);
  }
  return pos;
}

size_t CeilGrapheme(std::string_view text, size_t pos, size_t ceiling) {
  if (pos == 0 || pos >= text.size()) return pos;
  size_t p = pos;
  for (int steps = 0; steps < kMaxGraphemeScan && p < ceiling; ++steps) {
    if (IsGraphemeBreak(text, p)) return p;
    p += utf8::SequenceLength(static_cast<unsigned char>(text[p]));
  }
  return pos;
}

size_t SemanticEnd(std::string_view text, size_t start, size_t min_end, size_t size) {
  const size_t n = text.size();
  if (n - start <= size) return n;
  const size_t limit = utf8::FloorBoundary(text, start + size);
  if (limit <= min_end) return utf8::CeilBoundary(text, min_end + 1);
  // Candidates are boundaries b with lo <= b <= limit; b follows the byte at b - 1.
  const size_t lo = std::min(std::max(start + size / 2, min_end + 1), limit);
  const char* base = text.data();

  size_t line = kNone;
  for (size_t hi = limit; hi > lo - 1;) {
    const void* hit = memrchr(base + lo - 1, '\n', hi - (lo - 1));
    if (hit == nullptr) break;
    const size_t i = static_cast<size_t>(static_cast<const char*>(hit) - base);
    if (IsParagraphBreak(base, start, i)) return i + 1;
    if (line == kNone) line = i + 1;
    hi = i;
  }
  if (line != kNone) return line;

  // No line break in the region: one backward pass finds the last sentence end, remembering the last blank.
  const auto* p = reinterpret_cast<const unsigned char*>(base);
  size_t blank = kNone;
  for (size_t i = limit; i-- > lo - 1;) {
    const unsigned char c = p[i];
    if (!kScanStops[c]) continue;
    if (c < 0x80) {
      if (EndsSentenceBefore(base, start, i)) return i + 1;
      if (blank == kNone) blank = i + 1;
    } else if (i >= start + 2) {
      if (Ends3(p, i, 0xE3, 0x80, 0x82) || Ends3(p, i, 0xEF, 0xBC, 0x81) || Ends3(p, i, 0xEF, 0xBC, 0x9F)) {
        return i + 1;
      }
      if (Ends3(p, i, 0xE3, 0x80, 0x80) && blank == kNone) blank = i + 1;  // U+3000 ideographic space
    }
  }
  if (blank != kNone) return blank;
  return FloorGrapheme(text, limit, min_end);
}

size_t FitNextStart(std::string_view text, size_t candidate, size_t end, size_t size) {
  if (candidate >= end || end >= text.size()) return end;
  const size_t next_end = end + utf8::SequenceLength(static_cast<unsigned char>(text[end]));
  return next_end - candidate <= size ? candidate : end;
}

size_t SemanticNextStart(std::string_view text, size_t start, size_t end, size_t overlap, size_t size) {
  if (overlap == 0 || end >= text.size() || end - start < 2) return end;
  const size_t from = utf8::CeilBoundary(text, std::max(end - std::min(overlap, end), start + 1));
  if (from >= end) return end;
  const char* base = text.data();
  // A start s in [from, end) follows the byte at s - 1, so search base[from - 1, end - 1).
  size_t candidate = kNone;
  if (const void* hit = std::memchr(base + from - 1, '\n', end - from)) {
    candidate = static_cast<size_t>(static_cast<const char*>(hit) - base) + 1;
    // Start at the next non-empty line rather than at a blank one.
    while (candidate + 1 < end && (base[candidate] == '\n' || base[candidate] == '\r')) ++candidate;
  } else {
    for (size_t i = from - 1; i + 1 < end; ++i) {
      if (IsBlankByte(static_cast<unsigned char>(base[i]))) {
        candidate = i + 1;
        break;
      }
    }
  }
  if (candidate == kNone) candidate = CeilGrapheme(text, from, end);
  return FitNextStart(text, candidate, end, size);
}

}  // namespace rlm
