#include "index/term_table.h"

// Inlined: terms are short, and a library call would cost more than hashing them.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstring>
#include <limits>

#include "core/error.h"

namespace rlm {

TermTable::TermTable() : offsets_{0}, slots_(1024) {}

uint32_t TermTable::Intern(std::string_view term) {
  const uint64_t h = XXH3_64bits(term.data(), term.size());
  const uint32_t lo = static_cast<uint32_t>(h);
  size_t mask = slots_.size() - 1;
  for (size_t i = static_cast<size_t>(h >> 32) & mask;; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (slot.id_plus1 == 0) {
      if (size() >= std::numeric_limits<uint32_t>::max() - 1)
        throw InvalidInput("vocabulary exceeds 2^32 terms");
      const auto id = static_cast<uint32_t>(size());
      arena_.append(term);
      offsets_.push_back(arena_.size());
      slot.id_plus1 = id + 1;
      slot.hash_lo = lo;
      if (2 * size() > slots_.size()) Grow();
      return id;
    }
    if (slot.hash_lo == lo && Key(slot.id_plus1 - 1) == term) return slot.id_plus1 - 1;
  }
}

void TermTable::Grow() {
  std::vector<Slot> bigger(slots_.size() * 2);
  const size_t mask = bigger.size() - 1;
  for (uint32_t id = 0; id < size(); ++id) {
    std::string_view key = Key(id);
    const uint64_t h = XXH3_64bits(key.data(), key.size());
    size_t i = static_cast<size_t>(h >> 32) & mask;
    while (bigger[i].id_plus1 != 0) i = (i + 1) & mask;
    bigger[i] = Slot{id + 1, static_cast<uint32_t>(h)};
  }
  slots_.swap(bigger);
}

}  // namespace rlm
