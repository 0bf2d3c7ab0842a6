#include "chunk/markdown_chunker.h"

#include <algorithm>
#include <cstring>

namespace rlm {
namespace {

class CutList {
 public:
  explicit CutList(size_t text_size) : text_size_(text_size) {}

  void Add(size_t pos, int rank) {
    if (pos == 0 || pos >= text_size_) return;
    if (!cuts_.empty() && cuts_.back().pos == pos) {
      cuts_.back().rank = std::min(cuts_.back().rank, rank);
    } else if (cuts_.empty() || cuts_.back().pos < pos) {
      cuts_.push_back({pos, rank});
    }
  }
  std::vector<StructureCut> Take() { return std::move(cuts_); }

 private:
  size_t text_size_;
  std::vector<StructureCut> cuts_;
};

// Length of the run of `c` at the start of s.
size_t RunLength(std::string_view s, char c) {
  size_t i = 0;
  while (i < s.size() && s[i] == c) ++i;
  return i;
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

// A setext underline: 3 or more '=' (level 1) or '-' (level 2), then only blanks. Returns the level or 0.
int SetextLevel(std::string_view body) {
  if (body.empty() || (body[0] != '=' && body[0] != '-')) return 0;
  const size_t run = RunLength(body, body[0]);
  if (run < 3 || !IsBlank(body.substr(run))) return 0;
  return body[0] == '=' ? 1 : 2;
}

// An ATX heading: 1-6 '#' followed by a blank or the end of the line. Returns the level or 0.
int AtxLevel(std::string_view body) {
  const size_t run = RunLength(body, '#');
  if (run == 0 || run > 6) return 0;
  if (run < body.size() && body[run] != ' ' && body[run] != '\t') return 0;
  return static_cast<int>(run);
}

}  // namespace

std::vector<StructureCut> FindMarkdownCuts(std::string_view text) {
  CutList cuts(text.size());
  const size_t n = text.size();
  bool in_fence = false;
  char fence_char = 0;
  size_t fence_len = 0;
  bool in_front_matter = text.substr(0, 4) == "---\n" || text.substr(0, 5) == "---\r\n";
  bool prev_blank = true;
  bool prev_paragraph = false;  // the previous line can be the text of a setext heading
  bool block_follows = false;   // the previous line ended a fenced block
  size_t prev_start = 0;
  bool first_line = true;

  for (size_t pos = 0; pos < n;) {
    const void* hit = std::memchr(text.data() + pos, '\n', n - pos);
    const size_t eol = hit ? static_cast<size_t>(static_cast<const char*>(hit) - text.data()) : n;
    std::string_view line = text.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t line_start = pos;
    pos = eol + 1;

    size_t indent = 0;
    while (indent < line.size() && line[indent] == ' ') ++indent;
    const std::string_view body = line.substr(indent);

    if (in_front_matter) {
      if (!first_line && (line == "---" || line == "...")) {
        in_front_matter = false;
        block_follows = true;
      }
      first_line = false;
      continue;
    }
    first_line = false;
    if (in_fence) {
      if (indent <= 3 && RunLength(body, fence_char) >= fence_len &&
          IsBlank(body.substr(RunLength(body, fence_char)))) {
        in_fence = false;
        block_follows = true;
      }
      continue;
    }
    if (IsBlank(body)) {
      prev_blank = true;
      prev_paragraph = false;
      continue;
    }
    if (indent <= 3) {
      const size_t backticks = RunLength(body, '`');
      const size_t tildes = RunLength(body, '~');
      if ((backticks >= 3 && body.find('`', backticks) == std::string_view::npos) || tildes >= 3) {
        cuts.Add(line_start, kMarkdownBlockRank);
        in_fence = true;
        fence_char = backticks >= 3 ? '`' : '~';
        fence_len = std::max(backticks, tildes);
        prev_blank = prev_paragraph = block_follows = false;
        continue;
      }
      if (const int level = AtxLevel(body)) {
        cuts.Add(line_start, level - 1);
        prev_blank = prev_paragraph = block_follows = false;
        continue;
      }
      if (const int level = prev_paragraph ? SetextLevel(body) : 0) {
        cuts.Add(prev_start, level - 1);
        prev_blank = prev_paragraph = block_follows = false;
        continue;
      }
    }
    if (prev_blank || block_follows) cuts.Add(line_start, kMarkdownBlockRank);
    prev_paragraph = indent <= 3 || prev_paragraph;
    prev_blank = block_follows = false;
    prev_start = line_start;
  }
  return cuts.Take();
}

std::vector<ChunkSpan> MarkdownChunker::Split(std::string_view text, const ChunkOptions& options) const {
  return PackStructured(text, FindMarkdownCuts(text), options);
}

}  // namespace rlm
