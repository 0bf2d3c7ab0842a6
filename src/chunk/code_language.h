// Source languages the code chunker understands, and how a text's language is found: an explicit name
// first, else the extension (or well-known file name) of a path, else the content (shebang, `<?php`, and
// a score of language-typical line starts such as `fn `, `def ...:`, `package `, `#include`).
#pragma once

#include <string_view>

namespace rlm {

enum class CodeLanguage {
  kUnknown,
  kRust,
  kPython,
  kJavaScript,
  kTypeScript,
  kGo,
  kJava,
  kC,
  kCpp,
  kRuby,
  kPhp
};

// The canonical lower-case name ("rust", "python", "javascript", "typescript", "go", "java", "c", "cpp",
// "ruby", "php"; "unknown").
std::string_view CodeLanguageName(CodeLanguage language);

// A language name or common alias, case-insensitive ("rs", "py", "js", "ts", "golang", "c++", "rb", ...);
// kUnknown for anything else.
CodeLanguage CodeLanguageFromName(std::string_view name);

// By the extension of `path` ("src/main.rs", "lib.HPP") or a well-known file name ("Rakefile").
CodeLanguage CodeLanguageFromPath(std::string_view path);

// By content: a shebang or `<?php` decides; otherwise lines typical of each language in the first 64 KiB
// are scored (each kind of line counts at most 3 times, so a thousand `let x = ...;` lines cannot outvote a
// few `fn` lines), and kUnknown is returned when no language has clear evidence (e.g. prose).
CodeLanguage SniffCodeLanguage(std::string_view content);

// `language` when non-empty (an unrecognised name gives kUnknown: an explicit choice is never second-
// guessed), else by `path` when it names a known extension, else by content.
CodeLanguage DetectCodeLanguage(std::string_view language, std::string_view path, std::string_view content);

}  // namespace rlm
