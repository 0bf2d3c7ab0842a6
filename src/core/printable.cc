#include "core/printable.h"

#include <cstdio>

#include "core/utf8.h"

namespace rlm {

namespace {

bool IsBidiControl(char32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string EscapeForTerminal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto invalid = utf8::FindInvalid(s);
  size_t valid_until = invalid ? *invalid : s.size();
  char buf[16];
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (i >= valid_until) {  // a byte that does not start a well-formed sequence
      if (c < 0x80 && c >= 0x20 && c != 0x7F) {
        out += static_cast<char>(c);
      } else {
        std::snprintf(buf, sizeof buf, "\\x%02x", c);
        out += buf;
      }
      ++i;
      // Re-validate from the next byte: only the bytes that are really invalid are escaped.
      const auto next = utf8::FindInvalid(s.substr(i));
      valid_until = next ? i + *next : s.size();
      continue;
    }
    if (c < 0x20 || c == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
      ++i;
      continue;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    size_t len = 1;
    const char32_t cp = utf8::Decode(s, i, &len);
    if ((cp >= 0x80 && cp <= 0x9F) || IsBidiControl(cp)) {
      std::snprintf(buf, sizeof buf, "\\u{%04x}", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

}  // namespace rlm
