#include "chunk/recursive_chunker.h"

#include <utf8proc.h>

#include <deque>
#include <utility>

#include "core/utf8.h"

namespace rlm {
namespace {

constexpr std::string_view kSeparators[] = {"\n\n", "\n", " "};
constexpr size_t kGraphemeLevel = std::size(kSeparators);

// LangChain's _merge_splits for contiguous pieces joined by "".
class Merger {
 public:
  Merger(const ChunkOptions& options, std::vector<ChunkSpan>* out) : options_(options), out_(out) {}

  void Add(size_t begin, size_t end) {
    const size_t len = end - begin;
    if (!pieces_.empty() && total_ + len > options_.size) {
      out_->push_back({pieces_.front().first, pieces_.back().second});
      while (total_ > options_.overlap || (total_ > 0 && total_ + len > options_.size)) {
        total_ -= pieces_.front().second - pieces_.front().first;
        pieces_.pop_front();
      }
    }
    pieces_.emplace_back(begin, end);
    total_ += len;
  }

  void Finish() {
    if (!pieces_.empty()) out_->push_back({pieces_.front().first, pieces_.back().second});
    pieces_.clear();
    total_ = 0;
  }

 private:
  const ChunkOptions& options_;
  std::vector<ChunkSpan>* out_;
  std::deque<std::pair<size_t, size_t>> pieces_;
  size_t total_ = 0;
};

class RecursiveSplitter {
 public:
  RecursiveSplitter(std::string_view text, const ChunkOptions& options, std::vector<ChunkSpan>* out)
      : text_(text), options_(options), out_(out) {}

  // Splits [begin, end) starting with separator `level`.
  void Split(size_t begin, size_t end, size_t level) {
    const std::string_view part = text_.substr(begin, end - begin);
    while (level < kGraphemeLevel && part.find(kSeparators[level]) == std::string_view::npos) ++level;
    Merger merger(options_, out_);
    if (level == kGraphemeLevel) {
      SplitGraphemes(begin, end, merger);
    } else {
      const std::string_view separator = kSeparators[level];
      const std::string_view upto = text_.substr(0, end);
      size_t piece = begin;
      for (size_t hit = upto.find(separator, begin); hit != std::string_view::npos;
           hit = upto.find(separator, hit + separator.size())) {
        if (hit > piece) Handle(piece, hit, level, merger);
        piece = hit;
      }
      Handle(piece, end, level, merger);
    }
    merger.Finish();
  }

 private:
  void Handle(size_t begin, size_t end, size_t level, Merger& merger) {
    if (end - begin < options_.size) {
      merger.Add(begin, end);
      return;
    }
    merger.Finish();
    Split(begin, end, level + 1);
  }

  void SplitGraphemes(size_t begin, size_t end, Merger& merger) {
    utf8proc_int32_t state = 0;
    size_t len = 0;
    char32_t prev = utf8::Decode(text_, begin, &len);
    size_t cluster = begin;
    for (size_t i = begin + len; i < end; i += len) {
      const char32_t cp = utf8::Decode(text_, i, &len);
      if (utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(prev),
                                           static_cast<utf8proc_int32_t>(cp), &state)) {
        HandleCluster(cluster, i, merger);
        cluster = i;
      }
      prev = cp;
    }
    HandleCluster(cluster, end, merger);
  }

  void HandleCluster(size_t begin, size_t end, Merger& merger) {
    if (end - begin < options_.size) {
      merger.Add(begin, end);
      return;
    }
    for (size_t i = begin; i < end;) {
      const size_t next = utf8::CeilBoundary(text_, i + 1);
      if (next - i < options_.size) {
        merger.Add(i, next);
      } else {
        merger.Finish();
        out_->push_back({i, next});
      }
      i = next;
    }
  }

  std::string_view text_;
  const ChunkOptions& options_;
  std::vector<ChunkSpan>* out_;
};

}  // namespace

std::vector<ChunkSpan> RecursiveChunker::Split(std::string_view text, const ChunkOptions& options) const {
  std::vector<ChunkSpan> chunks;
  if (!text.empty()) RecursiveSplitter(text, options, &chunks).Split(0, text.size(), 0);
  return chunks;
}

}  // namespace rlm
