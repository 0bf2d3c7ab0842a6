#include "core/utf8.h"

#include <algorithm>
#include <cstring>

namespace rlm::utf8 {

std::optional<size_t> FindInvalid(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // ASCII fast path: 8 bytes at a time.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    char32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if (!IsContinuation(p[i + k])) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return i;
    }
    i += len;
  }
  return std::nullopt;
}

size_t BomLength(std::string_view s) {
  return s.size() >= 3 && s.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
}

size_t FloorBoundary(std::string_view s, size_t pos) {
  if (pos >= s.size()) return s.size();
  // A sequence has at most 3 continuation bytes; stop there even on invalid input.
  size_t steps = 0;
  while (pos > 0 && steps < 3 && IsContinuation(static_cast<unsigned char>(s[pos]))) {
    --pos;
    ++steps;
  }
  return pos;
}

size_t CeilBoundary(std::string_view s, size_t pos) {
  if (pos >= s.size()) return s.size();
  size_t steps = 0;
  while (pos < s.size() && steps < 3 && IsContinuation(static_cast<unsigned char>(s[pos]))) {
    ++pos;
    ++steps;
  }
  return pos;
}

char32_t Decode(std::string_view s, size_t pos, size_t* len) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  unsigned char c = p[pos];
  size_t l = SequenceLength(c);
  if (l == 1 || pos + l > s.size()) {
    *len = 1;
    return c < 0x80 ? c : 0xFFFD;
  }
  char32_t cp = l == 2 ? (c & 0x1F) : l == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < l; ++k) {
    if (!IsContinuation(p[pos + k])) {
      *len = 1;
      return 0xFFFD;
    }
    cp = (cp << 6) | (p[pos + k] & 0x3F);
  }
  *len = l;
  return cp;
}

void Append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string_view Truncate(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  return s.substr(0, FloorBoundary(s, max_bytes));
}

size_t CountNewlines(std::string_view s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace rlm::utf8
