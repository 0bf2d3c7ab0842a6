// The one pseudo-random generator of rlm: Sebastiano Vigna's splitmix64 (a 64-bit state advanced by a Weyl
// sequence; passes BigCrush). Seeded runs are reproducible bit for bit, and fixture scripts replay it
// (tools/gen_stats_fixtures.py), so changing it changes every seeded output: the randomization test,
// the bootstrap and synthesised queries. Not thread-safe; one generator per thread.
#pragma once

#include <cstdint>

namespace rlm {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  // Uniform in [0, n), n > 0, without bias: Lemire's multiply-and-reject.
  uint64_t UniformIndex(uint64_t n) {
    unsigned __int128 m = static_cast<unsigned __int128>(Next()) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = (0 - n) % n;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(Next()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  // In [0, n) by one multiply-shift: one output per call, bias below n / 2^64. Kept where seeded outputs
  // are pinned by tests (synthesised queries); prefer UniformIndex elsewhere.
  uint64_t MultiplyShift(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

 private:
  uint64_t state_;
};

}  // namespace rlm
