// libFuzzer target: Bm25Index::Open and Search on arbitrary bytes must throw rlm::Error (InvalidInput) or
// answer with valid ordinals; never crash or read out of bounds. Build with
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc tests/fuzz/bm25_image_fuzz.cc \
//     src/core/*.cc src/text/*.cc src/index/*.cc -ltbb -lutf8proc -lxxhash -lstemmer
// Seed it with real images (Bm25Index::Serialize of small corpora using the words below) so mutations reach
// the postings.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/error.h"
#include "index/bm25.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A std::string copy is 8-byte aligned, like a memory map, so Open uses it in place.
  const std::string image(reinterpret_cast<const char*>(data), size);
  static const std::vector<std::vector<std::string>> kQueries = {
      {"alpha"}, {"beta", "gamma"}, {"alpha", "alpha", "delta"}, {"a", "b", "c", "d"}, {""}, {"zzzz"}};
  try {
    rlm::Bm25Index::Open(image, /*verify_checksum=*/true);
  } catch (const rlm::Error&) {
  }
  try {
    rlm::Bm25Index index = rlm::Bm25Index::Open(image);
    rlm::DocFilter filter(index.num_docs());
    for (size_t i = 0; i < filter.size(); ++i) filter[i] = static_cast<uint8_t>(i % 2);
    for (const auto& q : kQueries) {
      try {
        for (const rlm::ScoredDoc& hit : index.Search(q, 5, {})) {
          if (hit.doc >= index.num_docs()) std::abort();
        }
        index.Search(q, 1000, {0.9, 0.4}, &filter);
        index.DocFreq(q[0]);
      } catch (const rlm::Error&) {
      }
    }
  } catch (const rlm::Error&) {
  }
  return 0;
}
