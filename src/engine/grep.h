// Regular-expression search over a buffer's text with RE2: linear time in the text for every pattern, so a
// hostile pattern such as (a+)+$ cannot hang. Matches are reported with their byte offset, 1-based line and
// a context window snapped to UTF-8 boundaries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rlm {

struct GrepOptions {
  size_t max_matches = 20;
  size_t window = 120;  // bytes of context on each side of a match
  bool ignore_case = false;
};

struct GrepMatch {
  uint64_t offset = 0;  // byte offset of the match in the text
  uint64_t line = 0;    // 1-based line of the match start
  std::string matched;
  std::string snippet;  // the match with up to `window` bytes before and after, on code-point boundaries
};

struct GrepResult {
  std::vector<GrepMatch> matches;
  bool truncated = false;  // more matches exist beyond max_matches
};

// Throws InvalidInput for an invalid or too large pattern (RE2's message). Empty matches advance by one
// code point, so every pattern terminates.
GrepResult Grep(std::string_view text, const std::string& pattern, const GrepOptions& options);

}  // namespace rlm
