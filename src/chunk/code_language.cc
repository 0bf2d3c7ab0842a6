#include "chunk/code_language.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

namespace rlm {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && (prefix.empty() || s[0] == prefix[0]) &&
         s.compare(0, prefix.size(), prefix) == 0;
}
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

struct NamedLanguage {
  std::string_view name;
  CodeLanguage language;
};

constexpr NamedLanguage kNames[] = {
    {"rust", CodeLanguage::kRust},       {"rs", CodeLanguage::kRust},
    {"python", CodeLanguage::kPython},   {"py", CodeLanguage::kPython},
    {"python3", CodeLanguage::kPython},  {"javascript", CodeLanguage::kJavaScript},
    {"js", CodeLanguage::kJavaScript},   {"jsx", CodeLanguage::kJavaScript},
    {"node", CodeLanguage::kJavaScript}, {"typescript", CodeLanguage::kTypeScript},
    {"ts", CodeLanguage::kTypeScript},   {"tsx", CodeLanguage::kTypeScript},
    {"go", CodeLanguage::kGo},           {"golang", CodeLanguage::kGo},
    {"java", CodeLanguage::kJava},       {"c", CodeLanguage::kC},
    {"cpp", CodeLanguage::kCpp},         {"c++", CodeLanguage::kCpp},
    {"cxx", CodeLanguage::kCpp},         {"cc", CodeLanguage::kCpp},
    {"ruby", CodeLanguage::kRuby},       {"rb", CodeLanguage::kRuby},
    {"php", CodeLanguage::kPhp},
};

constexpr NamedLanguage kExtensions[] = {
    {"rs", CodeLanguage::kRust},
    {"py", CodeLanguage::kPython},
    {"pyw", CodeLanguage::kPython},
    {"pyi", CodeLanguage::kPython},
    {"js", CodeLanguage::kJavaScript},
    {"mjs", CodeLanguage::kJavaScript},
    {"cjs", CodeLanguage::kJavaScript},
    {"jsx", CodeLanguage::kJavaScript},
    {"ts", CodeLanguage::kTypeScript},
    {"tsx", CodeLanguage::kTypeScript},
    {"mts", CodeLanguage::kTypeScript},
    {"cts", CodeLanguage::kTypeScript},
    {"go", CodeLanguage::kGo},
    {"java", CodeLanguage::kJava},
    {"c", CodeLanguage::kC},
    {"h", CodeLanguage::kC},
    {"cpp", CodeLanguage::kCpp},
    {"cc", CodeLanguage::kCpp},
    {"cxx", CodeLanguage::kCpp},
    {"c++", CodeLanguage::kCpp},
    {"hpp", CodeLanguage::kCpp},
    {"hxx", CodeLanguage::kCpp},
    {"hh", CodeLanguage::kCpp},
    {"h++", CodeLanguage::kCpp},
    {"ipp", CodeLanguage::kCpp},
    {"inl", CodeLanguage::kCpp},
    {"rb", CodeLanguage::kRuby},
    {"rake", CodeLanguage::kRuby},
    {"gemspec", CodeLanguage::kRuby},
    {"php", CodeLanguage::kPhp},
    {"phtml", CodeLanguage::kPhp},
};

constexpr NamedLanguage kFileNames[] = {
    {"rakefile", CodeLanguage::kRuby},     {"gemfile", CodeLanguage::kRuby},
    {"guardfile", CodeLanguage::kRuby},    {"vagrantfile", CodeLanguage::kRuby},
    {"podfile", CodeLanguage::kRuby},      {"sconstruct", CodeLanguage::kPython},
    {"sconscript", CodeLanguage::kPython},
};

CodeLanguage Lookup(std::string_view key, const NamedLanguage* table, size_t count) {
  const std::string lower = Lower(key);
  for (size_t i = 0; i < count; ++i) {
    if (table[i].name == lower) return table[i].language;
  }
  return CodeLanguage::kUnknown;
}

CodeLanguage FromShebang(std::string_view line) {
  if (Contains(line, "ts-node") || Contains(line, "deno")) return CodeLanguage::kTypeScript;
  if (Contains(line, "python")) return CodeLanguage::kPython;
  if (Contains(line, "ruby")) return CodeLanguage::kRuby;
  if (Contains(line, "node") || Contains(line, "bun")) return CodeLanguage::kJavaScript;
  if (Contains(line, "php")) return CodeLanguage::kPhp;
  return CodeLanguage::kUnknown;
}

// Evidence buckets: languages, plus C/C++ split into what both share and what only one of them has.
enum Bucket { kRust, kPython, kRuby, kGo, kJava, kPhp, kJs, kTs, kCFamily, kCOnly, kCppOnly, kBuckets };

// Counts signals per bucket. A signal adds weight * min(count, kMaxRepeats), so one kind of line repeated
// thousands of times (`let x = ...;` is both Rust and JavaScript) cannot outvote several distinct kinds.
class Tally {
 public:
  void Add(Bucket bucket, std::string_view signal, int weight) {
    for (Entry& e : entries_) {
      if (e.bucket == bucket && e.signal == signal) {
        ++e.count;
        return;
      }
    }
    entries_.push_back({bucket, signal, weight, 1});
  }
  int Score(Bucket bucket) const {
    int score = 0;
    for (const Entry& e : entries_) {
      if (e.bucket == bucket) score += e.weight * std::min(e.count, kMaxRepeats);
    }
    return score;
  }

 private:
  static constexpr int kMaxRepeats = 3;
  struct Entry {
    Bucket bucket;
    std::string_view signal;
    int weight;
    int count;
  };
  std::vector<Entry> entries_;
};

bool HasRustFnPrefix(std::string_view s) {
  for (std::string_view modifier : {"pub(crate) ", "pub(super) ", "pub ", "async ", "unsafe ", "const "}) {
    if (StartsWith(s, modifier)) s.remove_prefix(modifier.size());
  }
  return StartsWith(s, "fn ");
}

// Scores one line; `s` has its indentation and trailing blanks removed.
void ScoreLine(std::string_view s, Tally& t) {
  // C and C++.
  if (StartsWith(s, "#include")) {
    t.Add(kCFamily, "#include", 3);
    const size_t open = s.find('<');
    if (open != std::string_view::npos && s.find('.', open) == std::string_view::npos)
      t.Add(kCppOnly, "#include <header>", 2);
  }
  if (StartsWith(s, "#define ") || StartsWith(s, "#ifndef ") || StartsWith(s, "#endif") ||
      StartsWith(s, "#pragma ")) {
    t.Add(kCFamily, "preprocessor", 1);
  }
  if (StartsWith(s, "namespace ")) {
    if (EndsWith(s, ";") && Contains(s, "\\")) {
      t.Add(kPhp, "namespace A\\B;", 3);
    } else if (!EndsWith(s, ";")) {
      t.Add(kCppOnly, "namespace", 3);
    }
  }
  if (StartsWith(s, "template") && Contains(s, "<")) t.Add(kCppOnly, "template<", 3);
  if (StartsWith(s, "using namespace ")) t.Add(kCppOnly, "using namespace", 3);
  if (s == "public:" || s == "private:" || s == "protected:") t.Add(kCppOnly, "access label", 3);
  if (Contains(s, "std::")) t.Add(kCppOnly, "std::", 1);
  if (StartsWith(s, "typedef ") || Contains(s, "printf(") || Contains(s, "malloc("))
    t.Add(kCOnly, "C library", 1);

  // Rust.
  if (HasRustFnPrefix(s)) t.Add(kRust, "fn", 3);
  if (StartsWith(s, "impl ") || StartsWith(s, "impl<")) t.Add(kRust, "impl", 3);
  if (StartsWith(s, "use ") && Contains(s, "::") && EndsWith(s, ";")) t.Add(kRust, "use a::b;", 2);
  if (StartsWith(s, "let mut ")) t.Add(kRust, "let mut", 2);
  if (StartsWith(s, "#[") || StartsWith(s, "#![")) t.Add(kRust, "#[attribute]", 3);
  if (StartsWith(s, "pub struct ") || StartsWith(s, "pub enum ") || StartsWith(s, "pub trait ") ||
      StartsWith(s, "pub mod ")) {
    t.Add(kRust, "pub item", 2);
  }

  // Python and Ruby.
  if (StartsWith(s, "def ") || StartsWith(s, "async def ")) {
    if (EndsWith(s, ":")) {
      t.Add(kPython, "def ...:", 3);
    } else if (EndsWith(s, ",") || EndsWith(s, "(")) {
      t.Add(kPython, "def ...,", 1);
    } else {
      t.Add(kRuby, "def", 2);
    }
  }
  if (StartsWith(s, "class ") && EndsWith(s, ":")) t.Add(kPython, "class ...:", 3);
  if (StartsWith(s, "import ") && !Contains(s, ";") && !Contains(s, "'") && !Contains(s, "\"") &&
      !Contains(s, "{") && !Contains(s, "(")) {
    t.Add(kPython, "import module", 2);
  }
  if (StartsWith(s, "from ") && Contains(s, " import ")) t.Add(kPython, "from import", 3);
  if (StartsWith(s, "elif ") || StartsWith(s, "if __name__")) t.Add(kPython, "elif", 3);
  if (s == "end") t.Add(kRuby, "end", 2);
  if (StartsWith(s, "require '") || StartsWith(s, "require \"") || StartsWith(s, "require_relative ")) {
    t.Add(kRuby, "require", 3);
  }
  if (StartsWith(s, "module ") && !Contains(s, "{") && !Contains(s, ";")) t.Add(kRuby, "module", 2);
  if (StartsWith(s, "attr_reader ") || StartsWith(s, "attr_accessor ") || StartsWith(s, "attr_writer ") ||
      StartsWith(s, "elsif ")) {
    t.Add(kRuby, "attr", 3);
  }
  if (Contains(s, " do |") || EndsWith(s, " do") || StartsWith(s, "puts ")) t.Add(kRuby, "do |x|", 2);

  // Go.
  if (StartsWith(s, "package ")) {
    if (EndsWith(s, ";")) {
      t.Add(kJava, "package a;", 3);
    } else {
      t.Add(kGo, "package", 3);
    }
  }
  if (StartsWith(s, "func ")) t.Add(kGo, "func", 3);
  if (s == "import (") t.Add(kGo, "import (", 2);
  if (Contains(s, " := ")) t.Add(kGo, ":=", 1);
  if (StartsWith(s, "type ") && (EndsWith(s, "struct {") || EndsWith(s, "interface {")))
    t.Add(kGo, "type struct", 3);

  // Java.
  if (StartsWith(s, "import ") && EndsWith(s, ";") && !Contains(s, "'") && !Contains(s, "\"") &&
      !Contains(s, "::") && !Contains(s, "\\")) {
    t.Add(kJava, "import a.b;", 3);
  }
  for (std::string_view prefix : {"public class ", "public final class ", "public abstract class ",
                                  "public interface ", "public enum ", "public record "}) {
    if (StartsWith(s, prefix)) t.Add(kJava, "public class", 3);
  }
  if (s == "@Override" || StartsWith(s, "System.out.")) t.Add(kJava, "@Override", 3);
  if (StartsWith(s, "public ") || StartsWith(s, "private ") || StartsWith(s, "protected ")) {
    if (Contains(s, "function ")) {
      t.Add(kPhp, "public function", 2);
    } else if (EndsWith(s, "{") || EndsWith(s, ";")) {
      t.Add(kJava, "public member", 1);
    }
  }

  // PHP.
  if (Contains(s, "<?php")) t.Add(kPhp, "<?php", 10);
  if (Contains(s, "$this->")) t.Add(kPhp, "$this->", 2);
  if (StartsWith(s, "function ") && Contains(s, "($")) t.Add(kPhp, "function($", 3);
  if (StartsWith(s, "use ") && Contains(s, "\\") && EndsWith(s, ";")) t.Add(kPhp, "use A\\B;", 3);

  // JavaScript and TypeScript.
  if (StartsWith(s, "function ") || StartsWith(s, "function*") || StartsWith(s, "async function ")) {
    t.Add(kJs, "function", 2);
  }
  if (StartsWith(s, "export ")) t.Add(kJs, "export", 2);
  if (StartsWith(s, "import ") && (Contains(s, " from '") || Contains(s, " from \"") ||
                                   StartsWith(s, "import '") || StartsWith(s, "import \""))) {
    t.Add(kJs, "import from", 3);
  }
  if ((StartsWith(s, "const ") || StartsWith(s, "let ") || StartsWith(s, "var ")) && Contains(s, " = ") &&
      !Contains(s, ":=")) {
    t.Add(kJs, "const =", 1);
  }
  if (Contains(s, "module.exports") || StartsWith(s, "console.")) t.Add(kJs, "console", 3);
  if (Contains(s, "require(") || Contains(s, "=> ") || EndsWith(s, "=>")) t.Add(kJs, "=>", 1);
  for (std::string_view annotation : {": string", ": number", ": boolean", ": any", ": void"}) {
    if (Contains(s, annotation)) {
      t.Add(kTs, "type annotation", 2);
      break;
    }
  }
  if (StartsWith(s, "export interface ") || StartsWith(s, "export type ") ||
      (StartsWith(s, "type ") && Contains(s, " = "))) {
    t.Add(kTs, "type alias", 3);
  }
  if (StartsWith(s, "interface ") && EndsWith(s, "{")) t.Add(kTs, "interface", 2);
  if (Contains(s, "readonly ") || Contains(s, " as const")) t.Add(kTs, "readonly", 2);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view CodeLanguageName(CodeLanguage language) {
  switch (language) {
    case CodeLanguage::kRust:
      return "rust";
    case CodeLanguage::kPython:
      return "python";
    case CodeLanguage::kJavaScript:
      return "javascript";
    case CodeLanguage::kTypeScript:
      return "typescript";
    case CodeLanguage::kGo:
      return "go";
    case CodeLanguage::kJava:
      return "java";
    case CodeLanguage::kC:
      return "c";
    case CodeLanguage::kCpp:
      return "cpp";
    case CodeLanguage::kRuby:
      return "ruby";
    case CodeLanguage::kPhp:
      return "php";
    case CodeLanguage::kUnknown:
      break;
  }
  return "unknown";
}

CodeLanguage CodeLanguageFromName(std::string_view name) {
  return Lookup(name, kNames, std::size(kNames));
}

CodeLanguage CodeLanguageFromPath(std::string_view path) {
  const size_t slash = path.find_last_of("/\\");
  const std::string_view file = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = file.rfind('.');
  if (dot != std::string_view::npos && dot > 0) {
    const CodeLanguage by_extension = Lookup(file.substr(dot + 1), kExtensions, std::size(kExtensions));
    if (by_extension != CodeLanguage::kUnknown) return by_extension;
  }
  return Lookup(file, kFileNames, std::size(kFileNames));
}

CodeLanguage SniffCodeLanguage(std::string_view content) {
  constexpr size_t kSniffBytes = 64 * 1024;
  std::string_view head = content.substr(0, kSniffBytes);
  if (StartsWith(head, "\xEF\xBB\xBF")) head.remove_prefix(3);
  if (StartsWith(head, "#!")) return FromShebang(head.substr(0, head.find('\n')));
  if (StartsWith(Trim(head.substr(0, head.find('\n'))), "<?php")) return CodeLanguage::kPhp;

  Tally t;
  for (size_t pos = 0; pos < head.size();) {
    size_t eol = head.find('\n', pos);
    if (eol == std::string_view::npos) eol = head.size();
    const std::string_view line = Trim(head.substr(pos, eol - pos));
    if (!line.empty()) ScoreLine(line, t);
    pos = eol + 1;
  }

  const int c_family = t.Score(kCFamily);
  const int cpp_only = t.Score(kCppOnly);
  const int ts = t.Score(kTs);
  const std::array<std::pair<int, CodeLanguage>, 8> scores = {{
      {t.Score(kRust), CodeLanguage::kRust},
      {t.Score(kPython), CodeLanguage::kPython},
      {t.Score(kGo), CodeLanguage::kGo},
      {t.Score(kJava), CodeLanguage::kJava},
      {c_family + std::max(t.Score(kCOnly), cpp_only), cpp_only >= 3 ? CodeLanguage::kCpp : CodeLanguage::kC},
      {t.Score(kPhp), CodeLanguage::kPhp},
      {t.Score(kJs) + ts, ts >= 3 ? CodeLanguage::kTypeScript : CodeLanguage::kJavaScript},
      {t.Score(kRuby), CodeLanguage::kRuby},
  }};
  auto best = scores.begin();
  for (auto it = scores.begin(); it != scores.end(); ++it) {
    if (it->first > best->first) best = it;
  }
  constexpr int kMinScore = 4;
  if (best->first < kMinScore) return CodeLanguage::kUnknown;
  return best->second;
}

CodeLanguage DetectCodeLanguage(std::string_view language, std::string_view path, std::string_view content) {
  if (!language.empty()) return CodeLanguageFromName(language);
  if (!path.empty()) {
    const CodeLanguage by_path = CodeLanguageFromPath(path);
    if (by_path != CodeLanguage::kUnknown) return by_path;
  }
  return SniffCodeLanguage(content);
}

}  // namespace rlm
