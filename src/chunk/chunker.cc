#include "chunk/chunker.h"

#include "core/error.h"

namespace rlm {

void ValidateChunkOptions(const ChunkOptions& options) {
  if (options.size == 0) {
    throw InvalidInput("chunk size must be > 0", "pass a positive --chunk-size (bytes), e.g. 3000");
  }
  if (options.overlap >= options.size) {
    throw InvalidInput("overlap (" + std::to_string(options.overlap) + ") must be smaller than chunk size (" +
                           std::to_string(options.size) + ")",
                       "lower --overlap or raise --chunk-size");
  }
}

}  // namespace rlm
