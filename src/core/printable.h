// Text that came from outside (file names, buffer names, paths) made safe to print on a terminal: a name
// holding ESC [ 2 J or a carriage return must not clear the screen or overwrite the line before it when
// `rlm list` or a load report prints it. JSON output needs none of this (the JSON writer escapes controls).
#pragma once

#include <string>
#include <string_view>

namespace rlm {

// Returns `s` with every byte or code point a terminal could act on written as an escape: C0 controls and
// DEL as \xNN (ESC -> \x1b, CR -> \x0d, LF -> \x0a, TAB -> \x09), C1 controls (U+0080..U+009F, e.g. the
// single-character CSI U+009B) and the bidirectional overrides and isolates (U+202A..U+202E,
// U+2066..U+2069, which reorder what follows them on screen) as \u{XXXX}, and bytes that are not
// well-formed UTF-8 as \xNN. Everything else, backslashes included, is kept as it is, so plain names print
// unchanged. Not reversible: for display only.
std::string EscapeForTerminal(std::string_view s);

}  // namespace rlm
