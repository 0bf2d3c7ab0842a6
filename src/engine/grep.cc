#include "engine/grep.h"

#include <re2/re2.h>

#include "core/error.h"
#include "core/utf8.h"

namespace rlm {

GrepResult Grep(std::string_view text, const std::string& pattern, const GrepOptions& o) {
  RE2::Options opts;
  opts.set_case_sensitive(!o.ignore_case);
  opts.set_log_errors(false);
  opts.set_max_mem(64 << 20);
  RE2 re(pattern, opts);
  if (!re.ok()) throw InvalidInput("invalid pattern '" + pattern + "': " + re.error(), "RE2 syntax is used");

  GrepResult result;
  size_t pos = 0;
  size_t line = 1, line_pos = 0;  // line number at byte line_pos
  re2::StringPiece input(text.data(), text.size());
  re2::StringPiece m;
  while (pos <= text.size()) {
    if (!re.Match(input, pos, text.size(), RE2::UNANCHORED, &m, 1)) break;
    if (result.matches.size() == o.max_matches) {
      result.truncated = true;
      break;
    }
    size_t start = static_cast<size_t>(m.data() - text.data());
    size_t end = start + m.size();
    line += utf8::CountNewlines(text.substr(line_pos, start - line_pos));
    line_pos = start;
    GrepMatch g;
    g.offset = start;
    g.line = line;
    g.matched.assign(m.data(), m.size());
    size_t from = utf8::FloorBoundary(text, start > o.window ? start - o.window : 0);
    size_t to = utf8::CeilBoundary(text, std::min(text.size(), end + o.window));
    g.snippet.assign(text.substr(from, to - from));
    result.matches.push_back(std::move(g));
    if (end > start) {
      pos = end;
    } else {  // an empty match: the next search starts one code point past it, so it is reported once
      if (end == text.size()) break;
      pos = end + utf8::SequenceLength(static_cast<unsigned char>(text[end]));
    }
  }
  return result;
}

}  // namespace rlm
