// Interns byte strings as dense ids 0, 1, 2, ... in order of first appearance: the vocabulary of a BM25
// build. Open addressing over one byte arena, so interning a term that is already known allocates nothing.
// Not thread-safe: the BM25 builder gives each parallel task its own table and merges them afterwards.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rlm {

class TermTable {
 public:
  TermTable();
  // Returns the id of `term`, adding it when new.
  uint32_t Intern(std::string_view term);
  // The term with id `id` (< size()). The view is invalidated by the next Intern.
  std::string_view Key(uint32_t id) const {
    return std::string_view(arena_.data() + offsets_[id], offsets_[id + 1] - offsets_[id]);
  }
  size_t size() const { return offsets_.size() - 1; }
  // Bytes of all distinct terms together.
  size_t arena_bytes() const { return arena_.size(); }

 private:
  void Grow();

  struct Slot {
    uint32_t id_plus1 = 0;  // 0: empty
    uint32_t hash_lo = 0;   // low hash bits, compared before the key bytes
  };
  std::string arena_;
  std::vector<uint64_t> offsets_;  // size() + 1 entries
  std::vector<Slot> slots_;        // power-of-two size, load factor <= 1/2
};

}  // namespace rlm
