// libFuzzer target: UTF-8 validation, then every registered chunker on the valid input, checking the
// chunker contract (coverage, order, boundaries, progress). A violated property aborts.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "chunk/chunker.h"
#include "core/error.h"
#include "core/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  rlm::ChunkOptions o;
  o.size = 1 + data[0] * 8;
  o.overlap = data[1] % o.size;
  std::string_view text(reinterpret_cast<const char*>(data) + 2, size - 2);
  if (rlm::utf8::FindInvalid(text)) return 0;
  for (const std::string& name : rlm::ChunkerNames()) {
    auto chunker = rlm::MakeChunker(name);
    auto spans = chunker->Split(text, o);
    size_t covered = 0, prev_start = 0;
    for (size_t i = 0; i < spans.size(); ++i) {
      const auto& s = spans[i];
      if (s.start >= s.end || s.end > text.size()) std::abort();
      if (i > 0 && s.start <= prev_start) std::abort();
      if (s.start > covered) std::abort();  // a gap
      if (!rlm::utf8::IsBoundary(text, s.start) || !rlm::utf8::IsBoundary(text, s.end)) std::abort();
      covered = std::max(covered, s.end);
      prev_start = s.start;
    }
    if (covered != text.size()) std::abort();
  }
  return 0;
}
