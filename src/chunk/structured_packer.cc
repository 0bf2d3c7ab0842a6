#include "chunk/structured_packer.h"

#include <algorithm>

#include "chunk/semantic_chunker.h"

namespace rlm {
namespace {

class Packer {
 public:
  Packer(std::string_view text, const std::vector<StructureCut>& cuts, const ChunkOptions& options)
      : text_(text), cuts_(cuts), options_(options) {}

  std::vector<ChunkSpan> Run() {
    if (!text_.empty()) Pack(0, text_.size(), 0, cuts_.size());
    Flush();
    return std::move(out_);
  }

 private:
  // Packs [begin, end), whose interior cut points are cuts_[lo, hi).
  void Pack(size_t begin, size_t end, size_t lo, size_t hi) {
    if (end - begin <= options_.size) {
      Offer(begin, end);
      return;
    }
    Flush();
    if (lo == hi) {
      AppendSemanticChunks(text_.substr(begin, end - begin), options_, begin, &out_);
      return;
    }
    int strongest = cuts_[lo].rank;
    for (size_t k = lo + 1; k < hi; ++k) strongest = std::min(strongest, cuts_[k].rank);
    size_t part_begin = begin;
    size_t part_lo = lo;
    for (size_t k = lo; k < hi; ++k) {
      if (cuts_[k].rank != strongest) continue;
      Pack(part_begin, cuts_[k].pos, part_lo, k);
      part_begin = cuts_[k].pos;
      part_lo = k + 1;
    }
    Pack(part_begin, end, part_lo, hi);
    Flush();
  }

  // Adds [begin, end), which starts where the previous offered part ended, to the pending chunk.
  void Offer(size_t begin, size_t end) {
    if (pending_ && end - pending_start_ <= options_.size) {
      pending_end_ = end;
      return;
    }
    Flush();
    pending_ = true;
    pending_start_ = begin;
    pending_end_ = end;
  }

  void Flush() {
    if (pending_) out_.push_back({pending_start_, pending_end_});
    pending_ = false;
  }

  std::string_view text_;
  const std::vector<StructureCut>& cuts_;
  const ChunkOptions& options_;
  std::vector<ChunkSpan> out_;
  bool pending_ = false;
  size_t pending_start_ = 0;
  size_t pending_end_ = 0;
};

}  // namespace

std::vector<ChunkSpan> PackStructured(std::string_view text, const std::vector<StructureCut>& cuts,
                                      const ChunkOptions& options) {
  return Packer(text, cuts, options).Run();
}

}  // namespace rlm
