// The one content hash of the project: XXH3-128. It addresses chunk text, embeddings (with an embedder
// fingerprint) and derived-index stamps. Not cryptographic; collisions are not a security boundary here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rlm {

struct Hash128 {
  uint64_t hi = 0;
  uint64_t lo = 0;
  bool operator==(const Hash128&) const = default;
  // 32 lowercase hex digits, hi first.
  std::string Hex() const;
  // 16 bytes, big-endian hi then lo: the form stored in SQLite blobs (sorts like Hex()).
  std::string Bytes() const;
  static Hash128 FromBytes(std::string_view b16);  // b16.size() must be 16
};

Hash128 ContentHash(std::string_view data);

// For unordered containers keyed by a content hash (the bits are already uniformly distributed).
struct Hash128Hasher {
  size_t operator()(const Hash128& h) const { return static_cast<size_t>(h.lo ^ (h.hi * 0x9E3779B97F4A7C15ULL)); }
};

// Incremental form for data that arrives in pieces (a large file).
class ContentHasher {
 public:
  ContentHasher();
  ~ContentHasher();
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;
  void Update(std::string_view data);
  Hash128 Finish() const;

 private:
  void* state_;
};

}  // namespace rlm
