// Chunkers split valid UTF-8 text into byte ranges. Every chunker promises, for any valid input and any
// options that pass ValidateChunkOptions:
//   - chunks are non-empty, ordered by strictly increasing start, and their starts and ends are code-point
//     boundaries (never inside a UTF-8 sequence);
//   - together they cover every byte of the input (the empty input has no chunks);
//   - a chunk is at most `size` bytes, unless a single code point (or grapheme cluster where the chunker
//     keeps those whole) is larger than `size` on its own;
//   - consecutive chunks overlap by at most `overlap` bytes;
//   - splitting always makes progress (no infinite loop for any size/overlap).
// Chunkers are stateless and thread-safe: one instance may split many texts concurrently.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rlm {

struct ChunkSpan {
  size_t start = 0;  // byte offset, inclusive
  size_t end = 0;    // byte offset, exclusive
  bool operator==(const ChunkSpan&) const = default;
};

struct ChunkOptions {
  size_t size = 3000;    // target maximum chunk size in bytes (rlm-rs default)
  size_t overlap = 500;  // maximum overlap between consecutive chunks in bytes (rlm-rs default)
  // Hint for language-aware chunkers: a file name or path (the extension selects the language) ...
  std::string path;
  // ... or an explicit language name ("rust", "python", ...); empty means detect from path, then content.
  std::string language;
};

// Throws InvalidInput when size is 0 or overlap >= size.
void ValidateChunkOptions(const ChunkOptions& options);

class Chunker {
 public:
  virtual ~Chunker() = default;
  virtual std::string_view Name() const = 0;
  // One line for `--help` and docs.
  virtual std::string_view Description() const = 0;
  // Splits `text` (valid UTF-8). Options are validated by the caller (ValidateChunkOptions).
  virtual std::vector<ChunkSpan> Split(std::string_view text, const ChunkOptions& options) const = 0;
};

// The chunker registry (src/chunk/registry.cc): one line per chunker.
// Throws InvalidInput naming the available chunkers when `name` is unknown.
std::unique_ptr<Chunker> MakeChunker(std::string_view name);
// Registered names, in registry order.
std::vector<std::string> ChunkerNames();

}  // namespace rlm
