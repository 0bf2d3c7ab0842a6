// Helpers shared by the chunker tests (header-only: the test build compiles only *_test.cc files): the
// property check every chunker must pass (the contract at the top of chunk/chunker.h) and a generator of
// random Unicode text that stresses it.
#pragma once

#include <array>
#include <cstddef>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "chunk/chunker.h"
#include "core/utf8.h"

namespace rlm::chunk_test {

// Returns "" when `chunks` satisfy every property of chunk/chunker.h for `text` and `options` (and each
// chunk ends after the previous one, so every chunk adds text); otherwise a description of the first
// violation.
inline std::string CheckChunkProperties(std::string_view text, const std::vector<ChunkSpan>& chunks,
                                        const ChunkOptions& options) {
  auto at = [](size_t i, const ChunkSpan& c) {
    return "chunk " + std::to_string(i) + " [" + std::to_string(c.start) + ", " + std::to_string(c.end) + ")";
  };
  if (text.empty()) return chunks.empty() ? "" : "chunks of an empty text";
  if (chunks.empty()) return "no chunks for a non-empty text";
  if (chunks.front().start != 0) return "first chunk does not start at 0";
  if (chunks.back().end != text.size()) return "last chunk does not end at the text's end";
  for (size_t i = 0; i < chunks.size(); ++i) {
    const ChunkSpan& c = chunks[i];
    if (c.start >= c.end) return at(i, c) + " is empty or reversed";
    if (c.end > text.size()) return at(i, c) + " ends past the text";
    if (!utf8::IsBoundary(text, c.start) || !utf8::IsBoundary(text, c.end)) {
      return at(i, c) + " is not on code-point boundaries";
    }
    const size_t len = c.end - c.start;
    const bool single_code_point = len == utf8::SequenceLength(static_cast<unsigned char>(text[c.start]));
    if (len > options.size && !single_code_point) {
      return at(i, c) + " is larger than size " + std::to_string(options.size);
    }
    if (i == 0) continue;
    const ChunkSpan& p = chunks[i - 1];
    if (c.start <= p.start) return at(i, c) + " does not start after the previous chunk";
    if (c.start > p.end) return at(i, c) + " leaves a gap after the previous chunk";
    if (c.end <= p.end) return at(i, c) + " adds no text after the previous chunk";
    if (p.end - c.start > options.overlap) {
      return at(i, c) + " overlaps the previous chunk by " + std::to_string(p.end - c.start) + " > " +
             std::to_string(options.overlap);
    }
  }
  return "";
}

inline void AppendCodePoint(std::string& out, char32_t cp) {
  utf8::Append(out, cp);
}

inline std::string RandomText(std::mt19937_64& rng, size_t target_bytes) {
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  static constexpr std::array<std::string_view, 12> kLatin = {"caf\u00e9",
                                                              "na\u00efve",
                                                              "\u00d1and\u00fa",
                                                              "\u00dcberraschung",
                                                              "stra\u00dfe",
                                                              "ol\u00e1",
                                                              "\u0153uvre",
                                                              "\u00e5ngstr\u00f6m",
                                                              "Za\u017c\u00f3\u0142\u0107",
                                                              "\u0434\u043e\u043c",
                                                              "\u03bb\u03cc\u03b3\u03bf\u03c2",
                                                              "\u0645\u0631\u062d\u0628\u0627\u061f"};
  static constexpr std::array<std::string_view, 10> kCode = {
      "fn main() {\n    let x = 1;\n}\n",
      "pub struct Point {\n    x: f64,\n}\n\nimpl Point {\n    pub fn norm(&self) -> f64 { self.x }\n}\n",
      "def f(x):\n    return x * 2\n\n\nclass A:\n    def m(self):\n        pass\n",
      "function g(a, b) {\n  return a + b;\n}\n",
      "int main(int argc, char** argv) {\n  return 0;\n}\n",
      "package main\n\nfunc Hello() string {\n\treturn \"hi\"\n}\n",
      "/// Doc comment.\n#[derive(Debug)]\nenum E { A, B }\n",
      "# Heading\n\nSome *markdown* text.\n\n## Sub heading\n",
      "```python\n# not a heading\nprint('x')\n```\n",
      "Title\n=====\n\n- item one\n- item two\n",
  };
  std::string out;
  while (out.size() < target_bytes) {
    switch (pick(16)) {
      case 0:
      case 1:
      case 2:
      case 3: {  // ASCII sentence
        const size_t words = 1 + pick(15);
        for (size_t w = 0; w < words; ++w) {
          const size_t len = 1 + pick(10);
          for (size_t k = 0; k < len; ++k)
            out += static_cast<char>((w == 0 && k == 0 ? 'A' : 'a') + pick(26));
          out += w + 1 < words ? (pick(8) == 0 ? ", " : " ") : "";
        }
        static constexpr std::array<std::string_view, 6> kEnds = {". ", "! ", "? ", ".\" ", ". ", "."};
        out += kEnds[pick(kEnds.size())];
        break;
      }
      case 4:
        out += kLatin[pick(kLatin.size())];
        out += pick(3) ? " " : ". ";
        break;
      case 5: {  // combining marks, sometimes a long run (Zalgo)
        out += static_cast<char>('a' + pick(26));
        const size_t marks = pick(4) == 0 ? 5 + pick(60) : 1 + pick(2);
        for (size_t k = 0; k < marks; ++k) AppendCodePoint(out, 0x300 + static_cast<char32_t>(pick(0x70)));
        break;
      }
      case 6: {  // CJK sentence
        const size_t len = 1 + pick(30);
        for (size_t k = 0; k < len; ++k) AppendCodePoint(out, 0x4E00 + static_cast<char32_t>(pick(0x5000)));
        static constexpr std::array<char32_t, 4> kCjkEnds = {0x3002, 0xFF01, 0xFF1F, 0x3000};
        AppendCodePoint(out, kCjkEnds[pick(kCjkEnds.size())]);
        break;
      }
      case 7: {  // emoji, ZWJ sequences, skin tones, flags
        switch (pick(4)) {
          case 0:
            AppendCodePoint(out, 0x1F600 + static_cast<char32_t>(pick(0x50)));
            break;
          case 1:
            out += "\U0001F468\u200D\U0001F469\u200D\U0001F467\u200D\U0001F466";
            break;
          case 2:
            out += "\U0001F44D\U0001F3FD";
            break;
          default:
            for (size_t k = pick(8) + 1; k > 0; --k)
              AppendCodePoint(out, 0x1F1E6 + static_cast<char32_t>(pick(26)));
        }
        if (pick(2)) out += ' ';
        break;
      }
      case 8:
      case 9: {
        static constexpr std::array<std::string_view, 6> kBreaks = {"\n",   "\n",     "\n\n",
                                                                    "\r\n", "\n\n\n", "\t"};
        out += kBreaks[pick(kBreaks.size())];
        break;
      }
      case 10: {  // a long run without whitespace
        const size_t len = 50 + pick(pick(4) == 0 ? 6000 : 600);
        const size_t kind = pick(3);
        for (size_t k = 0; k < len; ++k) {
          if (kind == 0) out += static_cast<char>('a' + pick(26));
          if (kind == 1) AppendCodePoint(out, 0x4E00 + static_cast<char32_t>(pick(0x5000)));
          if (kind == 2) AppendCodePoint(out, 0x1F300 + static_cast<char32_t>(pick(0x100)));
        }
        break;
      }
      case 11:
      case 12:
        out += kCode[pick(kCode.size())];
        break;
      case 13:
        out += "\u0928\u092e\u0938\u094d\u0924\u0947\u0964 ";
        break;  // Devanagari with danda
      case 14:
        out += pick(2) ? "e.g. Mr. Smith went... " : "3.14 is pi! ";
        break;
      default:
        out += pick(2) ? "    indented line;\n" : "## Heading " + std::to_string(pick(100)) + "\n";
        break;
    }
  }
  return out;
}

}  // namespace rlm::chunk_test
