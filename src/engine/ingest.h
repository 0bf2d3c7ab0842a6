// Ingest: turns a text into a buffer's stored content: validates UTF-8 (the error names the byte offset),
// chunks it, hashes and line-numbers the chunks, embeds the chunks whose vectors are not stored yet, and
// writes text blocks, chunk rows and vectors. Runs inside the caller's write transaction, so a failure
// leaves nothing behind.
//
// Large texts are processed in segments (seams at paragraph/line boundaries, see chunk/segmented.h), and
// the pages of a memory-mapped source are released after each segment, so a multi-gigabyte file is never
// resident twice. For texts longer than one segment, chunks do not cross segment seams (the same relation
// as the `parallel` chunker to `semantic`).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chunk/chunker.h"
#include "core/file.h"
#include "core/progress.h"
#include "store/workspace.h"

namespace rlm {

class Embedder;
class Error;

inline constexpr size_t kIngestSegmentBytes = 64ull << 20;

struct IngestOptions {
  std::string embedder;  // a --embedder spec; empty: the workspace's (see WorkspaceEmbedder)
  std::string chunker = "semantic";
  ChunkOptions chunk;
  ProgressFn progress;       // phase "load", bytes
  size_t source_offset = 0;  // bytes of the source before `text` (a dropped BOM), for error offsets
  size_t segment_bytes = kIngestSegmentBytes;  // texts longer than this are processed in segments
};

struct IngestStats {
  uint64_t bytes = 0;
  uint64_t lines = 0;
  size_t chunks = 0;    // chunks of the new content
  size_t kept = 0;      // chunks whose id was kept (same content as before)
  size_t added = 0;     // chunks inserted with a new id
  size_t removed = 0;   // old chunks deleted
  size_t embedded = 0;  // vectors the workspace did not have (computed or taken from the embedding cache)
  size_t embeddings_reused = 0;  // vectors found already stored
  size_t computed = 0;   // of `embedded`, vectors the embedder computed (not served by the embedding cache)
  size_t truncated = 0;  // of `computed`, chunks longer than the model's window, cut to fit
};

// Throws InvalidInput naming `source` and the byte offset (offset_base + position in `text`) of the first
// invalid UTF-8 sequence or NUL byte of `text`.
void CheckText(std::string_view text, size_t offset_base, const std::string& source);

// Replaces the content of buffer `info` (already inserted) with `text` (a BOM already removed; validated
// here, segment by segment, with CheckText). Chunks of the old content with the same bytes keep their ids.
// `map`, when given,
// is the mapping `text` lives in and has its pages released as segments are done. Updates `info`
// (size, lines, hash, chunker settings) in the workspace. Call inside a WriteTransaction.
IngestStats IngestText(Workspace& ws, const Embedder& embedder, BufferInfo& info, std::string_view text,
                       const IngestOptions& options, const MappedFile* map = nullptr);

// The spec of the embedder to use: `requested` (a --embedder spec) when given, else the workspace's (meta
// "embedder"), else "hash".
std::string WorkspaceEmbedderSpec(Workspace& ws, const std::string& requested = "");

// The workspace's embedder, made from WorkspaceEmbedderSpec(ws, requested). A workspace records the spec and
// fingerprint of the first embedder that writes to it. Afterwards an embedder with another fingerprint
// (another model, or the same spec whose model files changed) is a Conflict (type EmbedderMismatch), so
// vectors of two models never meet in one index, unless the workspace has no buffers yet; then the new one
// is recorded (call inside a write transaction for that). Switching a workspace with buffers to another
// embedder is EmbedBuffers' job.
std::unique_ptr<Embedder> WorkspaceEmbedder(Workspace& ws, const std::string& requested = "");

struct EmbedReport {
  BufferInfo buffer;
  std::string fingerprint;
  size_t total = 0;     // chunks of the buffer
  size_t embedded = 0;  // chunks that had no vector and got one
  size_t replaced = 0;  // chunks whose vector was recomputed (force)
  size_t computed = 0;  // vectors the embedder computed (the rest came from the embedding cache)
  size_t skipped() const { return total - embedded - replaced; }
};

// `chunk embed`: computes, for `embedder` (made from `spec`), the missing vectors of the chunks of buffer
// `buffer` (an id or name; empty: every buffer), or with `force` all of them, one computation per distinct
// content, and makes it the workspace's embedder. Returns one report per buffer, in buffer order. Throws
// NotFound for an unknown buffer, and whatever the embedder throws.
//
// Each buffer is its own write transaction, so other processes are not locked out for a whole run. A switch
// to another embedder is atomic all the same: the new vectors are keyed by the new fingerprint, which
// nothing reads until the workspace records it, and it is recorded only after every buffer succeeded, in
// one last transaction that first embeds whatever chunks other processes wrote meanwhile (with the old
// embedder). So when the provider fails at the fifth buffer, the workspace keeps its embedder and every old
// vector, exactly as searchable as before; the new vectors stored so far stay, unused, and a retry reuses
// them instead of computing them again.
std::vector<EmbedReport> EmbedBuffers(Workspace& ws, const std::string& spec, const Embedder& embedder,
                                      std::string_view buffer, bool force, const ProgressFn& progress);

// True for the errors CheckText throws: a text that cannot be loaded because of its own bytes (invalid
// UTF-8, NUL bytes). A directory load skips such a file and keeps the others. Any other error (an embedder
// or storage failure) ends the whole load.
bool IsUnloadableText(const Error& error);

}  // namespace rlm
