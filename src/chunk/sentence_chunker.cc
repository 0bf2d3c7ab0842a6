#include "chunk/sentence_chunker.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <deque>

#include "chunk/semantic_chunker.h"
#include "core/utf8.h"

namespace rlm {
namespace {

// Bytes that may start a sentence end: ASCII terminators, '\n' (paragraph breaks) and the lead bytes of
// the multi-byte terminators listed in IsUnicodeTerminator.
constexpr std::array<bool, 256> kCandidates = [] {
  std::array<bool, 256> t{};
  for (char c : std::string_view(".!?\n\xD6\xD8\xDB\xE0\xE1\xE2\xE3\xEF"))
    t[static_cast<unsigned char>(c)] = true;
  return t;
}();

bool IsUnicodeTerminator(char32_t cp) {
  switch (cp) {
    case 0x0589:  // ։ Armenian full stop
    case 0x061F:  // ؟ Arabic question mark
    case 0x06D4:  // ۔ Arabic full stop
    case 0x0964:  // । Devanagari danda
    case 0x0965:  // ॥
    case 0x1362:  // ። Ethiopic full stop
    case 0x203C:  // ‼
    case 0x2047:  // ⁇
    case 0x2048:  // ⁈
    case 0x2049:  // ⁉
    case 0x3002:  // 。
    case 0xFF01:  // ！
    case 0xFF0E:  // ．
    case 0xFF1F:  // ？
    case 0xFF61:  // ｡
      return true;
    default:
      return false;
  }
}

// Full-width terminators end a sentence without a following space.
bool NeedsNoSpace(char32_t cp) {
  return cp >= 0x3000;
}

bool IsCloser(char32_t cp) {
  switch (cp) {
    case '"':
    case '\'':
    case ')':
    case ']':
    case '}':
    case 0x00BB:
    case 0x2019:
    case 0x201D:
    case 0x300D:
    case 0x300F:
    case 0xFF09:
    case 0x3011:
      return true;
    default:
      return false;
  }
}

bool IsSpaceByte(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool IsAsciiLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

constexpr std::string_view kAbbreviations[] = {
    "mr",  "mrs",  "ms",  "dr",  "prof", "sr",     "jr",   "st",  "vs",  "inc", "ltd",
    "co",  "no",   "fig", "cf",  "al",   "approx", "dept", "gen", "gov", "lt",  "mt",
    "sgt", "capt", "col", "rev", "jan",  "feb",    "mar",  "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec",  "ca",     "vol",  "pp",  "ed",  "eds"};

// The word before a '.' at `dot` is an abbreviation or an initial, so the '.' does not end a sentence.
bool IsAbbreviation(std::string_view text, size_t dot) {
  constexpr size_t kLongest = 8;
  size_t begin = dot;
  while (begin > 0 && dot - begin < kLongest && IsAsciiLetter(text[begin - 1])) --begin;
  const size_t len = dot - begin;
  if (len == 0 || (begin > 0 && IsAsciiLetter(text[begin - 1]))) return false;
  if (len == 1) return true;  // initials, "e.g.", "i.e."
  char lower[kLongest];
  for (size_t k = 0; k < len; ++k) lower[k] = static_cast<char>(text[begin + k] | 0x20);
  const std::string_view word(lower, len);
  for (std::string_view a : kAbbreviations) {
    if (word == a) return true;
  }
  return false;
}

// The first i >= pos (or n) whose byte may start a sentence end. Skips 8 plain ASCII bytes at a time.
size_t NextCandidate(const unsigned char* p, size_t pos, size_t n) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHighs = 0x8080808080808080ULL;
  auto has_byte = [](uint64_t w, unsigned char c) {
    const uint64_t x = w ^ (kOnes * c);
    return (x - kOnes) & ~x & kHighs;
  };
  size_t i = pos;
  while (i + 8 <= n) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    if ((w & kHighs) | has_byte(w, '.') | has_byte(w, '!') | has_byte(w, '?') | has_byte(w, '\n')) break;
    i += 8;
  }
  while (i < n && !kCandidates[p[i]]) ++i;
  return i;
}

size_t SkipSpaces(std::string_view text, size_t i) {
  while (i < text.size() && IsSpaceByte(text[i])) ++i;
  return i;
}

// Skips further terminators and closing punctuation after a terminator ending at `i`.
size_t SkipClosers(std::string_view text, size_t i) {
  while (i < text.size()) {
    const char c = text[i];
    if (c == '.' || c == '!' || c == '?') {
      ++i;
      continue;
    }
    size_t len = 0;
    const char32_t cp = utf8::Decode(text, i, &len);
    if (!IsCloser(cp) && !IsUnicodeTerminator(cp)) break;
    i += len;
  }
  return i;
}

}  // namespace

size_t NextSentenceEnd(std::string_view text, size_t pos) {
  const size_t n = text.size();
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = NextCandidate(p, pos, n); i < n; i = NextCandidate(p, i + 1, n)) {
    const char c = static_cast<char>(p[i]);
    if (c == '\n') {
      // A paragraph break: a line break, optional blanks, another line break.
      size_t j = i + 1;
      while (j < n && (p[j] == ' ' || p[j] == '\t' || p[j] == '\r')) ++j;
      if (j < n && p[j] == '\n') return SkipSpaces(text, j);
      continue;
    }
    if (c == '.' || c == '!' || c == '?') {
      const size_t after = SkipClosers(text, i + 1);
      if (after < n && !IsSpaceByte(text[after])) continue;
      const size_t next = SkipSpaces(text, after);
      if (c == '.' && after == i + 1 && next < n && IsAbbreviation(text, i)) continue;
      if (c == '.' && next < n && p[next] >= 'a' && p[next] <= 'z') continue;
      return next;
    }
    size_t len = 0;
    const char32_t cp = utf8::Decode(text, i, &len);
    if (!IsUnicodeTerminator(cp)) continue;
    const size_t after = SkipClosers(text, i + len);
    if (!NeedsNoSpace(cp) && after < n && !IsSpaceByte(text[after])) continue;
    return SkipSpaces(text, after);
  }
  return n;
}

std::vector<ChunkSpan> SentenceChunker::Split(std::string_view text, const ChunkOptions& options) const {
  std::vector<ChunkSpan> chunks;
  const size_t n = text.size();
  const size_t size = options.size;
  // Sentence ends after `start`, found so far; ends[k] ends the (k+1)-th sentence of the chunk.
  std::deque<size_t> ends;
  auto end_at = [&](size_t k, size_t start) {
    while (ends.size() <= k) ends.push_back(NextSentenceEnd(text, ends.empty() ? start : ends.back()));
    return ends[k];
  };

  size_t start = 0;
  while (start < n) {
    size_t count = 0;  // whole sentences that fit
    while (end_at(count, start) - start <= size) {
      ++count;
      if (ends[count - 1] == n) break;
    }
    if (count == 0) {
      const size_t end = end_at(0, start);
      AppendSemanticChunks(text.substr(start, end - start), options, start, &chunks);
      ends.pop_front();
      start = end;
      continue;
    }
    const size_t end = ends[count - 1];
    chunks.push_back({start, end});
    if (end == n) break;
    // Start the next chunk at the earliest sentence of this one that keeps the overlap within bounds and
    // still leaves room for the next sentence (so the next chunk adds text).
    const size_t following = end_at(count, start);
    size_t first = count - 1;  // index into ends of the next chunk's start; count - 1 means no overlap
    for (size_t k = 0; k + 1 < count; ++k) {
      if (end - ends[k] <= options.overlap && following - ends[k] <= size) {
        first = k;
        break;
      }
    }
    start = ends[first];
    ends.erase(ends.begin(), ends.begin() + static_cast<std::ptrdiff_t>(first) + 1);
  }
  return chunks;
}

}  // namespace rlm
