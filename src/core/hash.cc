#include "core/hash.h"

#include <xxhash.h>

#include <cstring>

namespace rlm {

std::string Hash128::Hex() const {
  static const char* kDigits = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[15 - i] = kDigits[(hi >> (4 * i)) & 0xF];
    out[31 - i] = kDigits[(lo >> (4 * i)) & 0xF];
  }
  return out;
}

std::string Hash128::Bytes() const {
  std::string out(16, '\0');
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<char>((hi >> (56 - 8 * i)) & 0xFF);
    out[8 + i] = static_cast<char>((lo >> (56 - 8 * i)) & 0xFF);
  }
  return out;
}

Hash128 Hash128::FromBytes(std::string_view b) {
  Hash128 h;
  for (int i = 0; i < 8 && b.size() == 16; ++i) {
    h.hi = (h.hi << 8) | static_cast<unsigned char>(b[i]);
    h.lo = (h.lo << 8) | static_cast<unsigned char>(b[8 + i]);
  }
  return h;
}

Hash128 ContentHash(std::string_view data) {
  XXH128_hash_t h = XXH3_128bits(data.data(), data.size());
  return Hash128{h.high64, h.low64};
}

ContentHasher::ContentHasher() : state_(XXH3_createState()) { XXH3_128bits_reset(static_cast<XXH3_state_t*>(state_)); }
ContentHasher::~ContentHasher() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }
void ContentHasher::Update(std::string_view data) {
  XXH3_128bits_update(static_cast<XXH3_state_t*>(state_), data.data(), data.size());
}
Hash128 ContentHasher::Finish() const {
  XXH128_hash_t h = XXH3_128bits_digest(static_cast<XXH3_state_t*>(state_));
  return Hash128{h.high64, h.low64};
}

}  // namespace rlm
