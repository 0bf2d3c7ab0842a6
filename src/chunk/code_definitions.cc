#include "chunk/code_definitions.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>

namespace rlm {
namespace {

constexpr int kMaxRank = 64;
constexpr size_t kMaxBracketScan = 512;

bool IsIdentStart(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u == '$' || u >= 0x80;
}
bool IsIdentChar(char c) {
  return IsIdentStart(c) || (c >= '0' && c <= '9');
}

// Every line is tested against dozens of keywords: reject on the first byte before comparing the rest.
bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && (prefix.empty() || s[0] == prefix[0]) &&
         s.compare(0, prefix.size(), prefix) == 0;
}

void SkipBlanks(std::string_view& s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
}

// True when `s` starts with the keyword `word` (not a longer identifier).
bool StartsWithWord(std::string_view s, std::string_view word) {
  return StartsWith(s, word) && (s.size() == word.size() || !IsIdentChar(s[word.size()]));
}

// Removes a leading keyword `word` and the blanks after it.
bool ConsumeWord(std::string_view& s, std::string_view word) {
  if (!StartsWithWord(s, word)) return false;
  s.remove_prefix(word.size());
  SkipBlanks(s);
  return true;
}

bool ConsumeAnyWord(std::string_view& s, std::initializer_list<std::string_view> words) {
  for (std::string_view w : words) {
    if (ConsumeWord(s, w)) return true;
  }
  return false;
}

// Removes a bracketed group starting at s[0] (nesting counted, bounded) and the blanks after it.
bool SkipBracketed(std::string_view& s, char open, char close) {
  if (s.empty() || s.front() != open) return false;
  int depth = 0;
  for (size_t i = 0; i < s.size() && i < kMaxBracketScan; ++i) {
    if (s[i] == open) ++depth;
    if (s[i] == close && --depth == 0) {
      s.remove_prefix(i + 1);
      SkipBlanks(s);
      return true;
    }
  }
  return false;
}

bool SkipQuoted(std::string_view& s) {
  if (s.empty() || s.front() != '"') return false;
  const size_t close = s.find('"', 1);
  if (close == std::string_view::npos) return false;
  s.remove_prefix(close + 1);
  SkipBlanks(s);
  return true;
}

// A keyword followed by a name: `class Foo`, `interface Bar`.
bool IsNamedKeyword(std::string_view s, std::initializer_list<std::string_view> words) {
  for (std::string_view w : words) {
    std::string_view rest = s;
    if (ConsumeWord(rest, w) && !rest.empty() && IsIdentStart(rest.front())) return true;
  }
  return false;
}

constexpr std::string_view kControlWords[] = {
    "if",     "for",           "while",     "switch",   "catch",   "return", "else",  "do",
    "case",   "goto",          "delete",    "new",      "throw",   "sizeof", "using", "try",
    "await",  "yield",         "typeof",    "assert",   "with",    "elif",   "defer", "go",
    "select", "static_assert", "co_return", "co_await", "co_yield"};

bool IsControlWord(std::string_view s) {
  for (std::string_view w : kControlWords) {
    if (StartsWithWord(s, w)) return true;
  }
  return false;
}

// `s` looks like the head of a function definition in a C-like language: at least `min_names` type and
// name words before the first '(' (`static int foo(`, `std::vector<T> Foo::Bar(`, `Foo::~Foo(`,
// `bool operator==(`), nothing but those words before it, and not a declaration (no trailing ';').
bool LooksLikeSignature(std::string_view s, int min_names) {
  if (s.empty()) return false;
  const char last = s.back();
  if (last == ';' || last == ',' || last == '\\' || last == '=') return false;
  if (s.find('(') == std::string_view::npos || IsControlWord(s)) return false;
  int names = 0;
  while (!s.empty()) {
    const char c = s.front();
    if (IsIdentStart(c) || c == '~') {
      size_t i = 0;
      while (i < s.size() && (IsIdentChar(s[i]) || s[i] == '~' || s[i] == '.' ||
                              (s[i] == ':' && i + 1 < s.size() && s[i + 1] == ':'))) {
        i += s[i] == ':' ? 2 : 1;
      }
      const std::string_view word = s.substr(0, i);
      ++names;
      s.remove_prefix(i);
      if (word == "operator" || (word.size() > 10 && word.substr(word.size() - 10) == "::operator")) {
        return names >= min_names && s.find('(') != std::string_view::npos;
      }
    } else if (c == '*' || c == '&' || c == ' ' || c == '\t') {
      s.remove_prefix(1);
    } else if (c == '<') {
      if (!SkipBracketed(s, '<', '>')) return false;
    } else if (StartsWith(s, "[]") || StartsWith(s, "::")) {
      s.remove_prefix(2);
    } else {
      return c == '(' && names >= min_names;
    }
  }
  return false;
}

bool IsRustDefinition(std::string_view s) {
  for (bool more = true; more;) {
    more = true;
    if (ConsumeWord(s, "pub")) {
      SkipBracketed(s, '(', ')');
    } else if (ConsumeWord(s, "extern")) {
      SkipQuoted(s);
    } else if (!ConsumeAnyWord(s, {"async", "unsafe", "const", "default"})) {
      more = false;
    }
  }
  if (StartsWith(s, "macro_rules!")) return true;
  for (std::string_view w : {"fn", "struct", "enum", "trait", "impl", "mod"}) {
    if (StartsWithWord(s, w)) return true;
  }
  return false;
}

bool IsPythonDefinition(std::string_view s) {
  ConsumeWord(s, "async");
  return IsNamedKeyword(s, {"def", "class"});
}

bool IsRubyDefinition(std::string_view s) {
  ConsumeAnyWord(s, {"private", "protected", "public"});
  return StartsWithWord(s, "def") || IsNamedKeyword(s, {"class", "module"}) || StartsWith(s, "class <<");
}

bool IsGoDefinition(std::string_view s) {
  return StartsWithWord(s, "func") || IsNamedKeyword(s, {"type"});
}

bool IsPhpDefinition(std::string_view s) {
  while (ConsumeAnyWord(s, {"public", "private", "protected", "static", "abstract", "final", "readonly"})) {
  }
  return IsNamedKeyword(s, {"function", "class", "interface", "trait", "enum"}) ||
         StartsWith(s, "function &");
}

bool IsJavaDefinition(std::string_view s) {
  while (!s.empty() && s.front() == '@' && !StartsWith(s, "@interface")) {
    s.remove_prefix(1);
    while (!s.empty() && (IsIdentChar(s.front()) || s.front() == '.')) s.remove_prefix(1);
    SkipBlanks(s);
    SkipBracketed(s, '(', ')');
  }
  bool modified = false;
  while (ConsumeAnyWord(s, {"public", "private", "protected", "static", "final", "abstract", "synchronized",
                            "native", "default", "sealed", "non-sealed", "strictfp"})) {
    modified = true;
  }
  if (StartsWith(s, "@interface")) return true;
  if (IsNamedKeyword(s, {"class", "interface", "enum", "record"})) return true;
  SkipBracketed(s, '<', '>');
  return LooksLikeSignature(s, modified ? 1 : 2);
}

bool IsCDefinition(std::string_view s, bool top_level) {
  bool modified = false;
  for (bool more = true; more;) {
    more = true;
    if (ConsumeWord(s, "template")) {
      SkipBracketed(s, '<', '>');
    } else if (StartsWith(s, "[[")) {
      more = SkipBracketed(s, '[', ']');  // an unclosed attribute ends the prefix (it used to loop forever)
    } else if (ConsumeWord(s, "extern")) {
      SkipQuoted(s);
    } else if (!ConsumeAnyWord(s, {"static", "inline", "constexpr", "consteval", "constinit", "virtual",
                                   "explicit", "friend", "typedef"})) {
      more = false;
    }
    modified |= more;
  }
  if (StartsWithWord(s, "class") || StartsWithWord(s, "struct") || StartsWithWord(s, "union") ||
      StartsWithWord(s, "enum") || StartsWithWord(s, "namespace")) {
    return s.back() != ';';
  }
  return LooksLikeSignature(s, top_level || modified ? 1 : 2);
}

bool IsJsDefinition(std::string_view s, bool top_level) {
  while (ConsumeAnyWord(s, {"export", "default", "declare", "async", "abstract", "public", "private",
                            "protected", "static", "readonly", "override", "accessor"})) {
  }
  if (StartsWithWord(s, "function") || StartsWith(s, "function*")) return true;
  if (IsNamedKeyword(s, {"class", "interface", "enum", "namespace", "type"})) return true;
  if (ConsumeAnyWord(s, {"const", "let", "var"})) {
    if (s.empty() || !IsIdentStart(s.front())) return false;
    const size_t eq = s.find('=');
    if (eq == std::string_view::npos || eq + 1 >= s.size() || s[eq + 1] == '=') return false;
    std::string_view value = s.substr(eq + 1);
    SkipBlanks(value);
    ConsumeWord(value, "async");
    return StartsWithWord(value, "function") || StartsWithWord(value, "class") ||
           value.find("=>") != std::string_view::npos;
  }
  if (top_level) return false;
  // Class members: `name(args) {`, `get name() {`, `*gen() {`, `#priv() {`, `name = (args) => {`.
  if (IsControlWord(s)) return false;
  for (std::string_view accessor : {"get ", "set "}) {
    if (StartsWith(s, accessor) && s.size() > 4 && IsIdentStart(s[4])) s.remove_prefix(4);
  }
  if (!s.empty() && (s.front() == '*' || s.front() == '#')) s.remove_prefix(1);
  if (s.empty() || !IsIdentStart(s.front())) return false;
  while (!s.empty() && IsIdentChar(s.front())) s.remove_prefix(1);
  SkipBlanks(s);
  SkipBracketed(s, '<', '>');
  if (!s.empty() && s.front() == '(') return s.back() == '{';
  if (!s.empty() && s.front() == '=' && (s.size() < 2 || s[1] != '='))
    return s.find("=>") != std::string_view::npos;
  return false;
}

bool IsDefinitionLine(std::string_view body, bool top_level, CodeLanguage language) {
  // Definitions start with a keyword or name (or `@annotation`, `[[attribute]]`, `~Dtor`, `*gen`, `#priv`);
  // comments, braces and most statements are rejected here without keyword comparisons.
  const char first = body.front();
  if (!IsIdentStart(first) && first != '@' && first != '[' && first != '~' && first != '*' && first != '#') {
    return false;
  }
  switch (language) {
    case CodeLanguage::kRust:
      return IsRustDefinition(body);
    case CodeLanguage::kPython:
      return IsPythonDefinition(body);
    case CodeLanguage::kRuby:
      return IsRubyDefinition(body);
    case CodeLanguage::kGo:
      return IsGoDefinition(body);
    case CodeLanguage::kPhp:
      return IsPhpDefinition(body);
    case CodeLanguage::kJava:
      return IsJavaDefinition(body);
    case CodeLanguage::kC:
    case CodeLanguage::kCpp:
      return IsCDefinition(body, top_level);
    case CodeLanguage::kJavaScript:
    case CodeLanguage::kTypeScript:
      return IsJsDefinition(body, top_level);
    case CodeLanguage::kUnknown:
      break;
  }
  return false;
}

// Comment, decorator and attribute lines that belong to the definition below them.
bool IsAttachedLine(std::string_view body, CodeLanguage language) {
  const bool slash_comments = language != CodeLanguage::kPython && language != CodeLanguage::kRuby;
  if (slash_comments && (StartsWith(body, "//") || StartsWith(body, "/*") || StartsWith(body, "*")))
    return true;
  switch (language) {
    case CodeLanguage::kRust:
      return StartsWith(body, "#[");
    case CodeLanguage::kPython:
      return StartsWith(body, "#") || StartsWith(body, "@");
    case CodeLanguage::kRuby:
    case CodeLanguage::kPhp:
      return StartsWith(body, "#");
    case CodeLanguage::kJava:
    case CodeLanguage::kJavaScript:
    case CodeLanguage::kTypeScript:
      return StartsWith(body, "@");
    case CodeLanguage::kC:
    case CodeLanguage::kCpp:
      return StartsWithWord(body, "template") || StartsWith(body, "[[");
    default:
      return false;
  }
}

struct LineView {
  std::string_view body;  // without indentation and trailing blanks / CR
  int indent = 0;         // in columns, tabs count 4
};

LineView ViewLine(std::string_view line) {
  LineView v;
  size_t i = 0;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
    v.indent += line[i] == '\t' ? 4 : 1;
    ++i;
  }
  std::string_view body = line.substr(i);
  while (!body.empty() && (body.back() == ' ' || body.back() == '\t' || body.back() == '\r'))
    body.remove_suffix(1);
  v.body = body;
  return v;
}

}  // namespace

std::vector<StructureCut> FindDefinitionCuts(std::string_view text, CodeLanguage language) {
  std::vector<StructureCut> cuts;
  if (language == CodeLanguage::kUnknown) return cuts;
  const size_t n = text.size();
  size_t floor = 0;  // cuts stay above the previous cut
  for (size_t pos = 0; pos < n;) {
    const void* hit = std::memchr(text.data() + pos, '\n', n - pos);
    const size_t eol = hit ? static_cast<size_t>(static_cast<const char*>(hit) - text.data()) : n;
    const LineView line = ViewLine(text.substr(pos, eol - pos));
    if (!line.body.empty() && IsDefinitionLine(line.body, line.indent == 0, language)) {
      size_t cut = pos;
      // Move up over attached comment/attribute lines (stopping at a blank line or code).
      while (cut > floor) {
        const size_t prev_end = cut - 1;  // the '\n' ending the previous line
        const void* prev_nl = memrchr(text.data() + floor, '\n', prev_end - floor);
        // Without a newline above, the previous line starts at the previous cut (a definition) or at 0.
        if (prev_nl == nullptr && floor > 0) break;
        const size_t prev_start =
            prev_nl ? static_cast<size_t>(static_cast<const char*>(prev_nl) - text.data()) + 1 : 0;
        const LineView prev = ViewLine(text.substr(prev_start, prev_end - prev_start));
        if (prev.body.empty() || !IsAttachedLine(prev.body, language)) break;
        cut = prev_start;
      }
      if (cut > 0 && cut > floor) {
        cuts.push_back({cut, std::min(line.indent, kMaxRank)});
        floor = cut;
      }
    }
    pos = eol + 1;
  }
  return cuts;
}

}  // namespace rlm
