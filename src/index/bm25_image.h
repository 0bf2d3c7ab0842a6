// The on-disk (and in-memory) layout of a BM25 index: one flat little-endian byte image that a reader uses in
// place from a memory map. Internal to src/index; bump kVersion whenever anything here changes.
//
//   offset 0   Header (64 bytes, below)
//   then, each section starting at an 8-byte aligned offset, in this order:
//   doc_len    u32[num_docs]          analysed term count of each document
//   term_off   u64[num_terms + 1]     term i is pool[term_off[i], term_off[i+1]); terms are distinct,
//                                     non-empty and sorted bytewise, so lookup is a binary search
//   post_off   u64[num_terms + 1]     postings of term i are postings[post_off[i], post_off[i+1]); df is
//                                     the difference
//   postings   Posting[num_postings]  (doc u32, tf u32) pairs, doc ascending within a term, tf >= 1
//   pool       u8[pool_bytes]         the term bytes
//   zero padding to a multiple of 8; the image size is exactly the end of the padding.
//
// checksum is XXH3-64 of every byte of the image except the checksum field itself (ImageChecksum). Readers
// always check the header and section bounds (O(1)); offsets, doc ordinals and tf values are checked where a
// search reads them; the checksum is verified only on request because it reads the whole image.
#pragma once

#include <xxhash.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace rlm::bm25_image {

static_assert(std::endian::native == std::endian::little, "the BM25 image is little-endian");

inline constexpr char kMagic[8] = {'R', 'L', 'M', 'B', 'M', '2', '5', '\0'};
inline constexpr uint32_t kVersion = 1;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;  // sizeof(Header)
  uint64_t num_docs;      // < 2^32
  uint64_t num_terms;
  uint64_t num_postings;
  uint64_t total_doc_len;  // sum of doc_len
  uint64_t pool_bytes;
  uint64_t checksum;
};
static_assert(sizeof(Header) == 64);

struct Posting {
  uint32_t doc;
  uint32_t tf;
};
static_assert(sizeof(Posting) == 8);

inline constexpr uint64_t Align8(uint64_t n) {
  return (n + 7) & ~uint64_t{7};
}

// Byte offsets of each section for the given counts (callers bound the counts first so nothing overflows).
struct Layout {
  uint64_t doc_len, term_off, post_off, postings, pool, end;
};

inline Layout ComputeLayout(uint64_t num_docs, uint64_t num_terms, uint64_t num_postings,
                            uint64_t pool_bytes) {
  Layout l;
  l.doc_len = sizeof(Header);
  l.term_off = Align8(l.doc_len + 4 * num_docs);
  l.post_off = l.term_off + 8 * (num_terms + 1);
  l.postings = l.post_off + 8 * (num_terms + 1);
  l.pool = l.postings + sizeof(Posting) * num_postings;
  l.end = Align8(l.pool + pool_bytes);
  return l;
}

// XXH3-64 of `image` (at least a header long) skipping the checksum field, so header fields are covered too.
inline uint64_t ImageChecksum(std::string_view image) {
  constexpr size_t kField = offsetof(Header, checksum);
  static_assert(kField + sizeof(uint64_t) == sizeof(Header), "the checksum ends the header");
  XXH3_state_t* state = XXH3_createState();
  if (state == nullptr) return 0;  // allocation failure: the comparison fails and Open reports corruption
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, image.data(), kField);
  XXH3_64bits_update(state, image.data() + sizeof(Header), image.size() - sizeof(Header));
  const uint64_t h = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return h;
}

}  // namespace rlm::bm25_image
