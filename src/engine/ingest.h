// Ingest: turns a text into a buffer's stored content, in two phases, so that no write lock is held while
// rlm waits on the world (a slow file, a slow embedding server):
//
//  1. PrepareText, outside any write transaction: reads the text in segments, validates UTF-8 (the error
//     names the byte offset), chunks, hashes and line-numbers the chunks, and computes the vectors the
//     workspace does not have yet. The vectors wait in a PendingVectors (memory, up to a budget; beyond
//     it they are stored early, each batch in a short write transaction of its own).
//  2. CommitText, inside the caller's write transaction: reads the text again, checks that it is the same
//     bytes (else FileChanged: a file modified under a load is an error, never a mixed result), and writes
//     text blocks, chunk rows and the pending vectors. A vector that went missing meanwhile (another
//     process pruned it) is computed here, the only case that embeds under the lock.
//
// Texts come from a TextSource: a string in memory, or a regular file read with pread (never mapped, so a
// file truncated under a load is a clear FileChanged error, not SIGBUS). Large texts are processed in
// segments (seams at paragraph/line boundaries, see chunk/segmented.h), so a multi-gigabyte file is never
// resident; chunks do not cross segment seams (the same relation as the `parallel` chunker to `semantic`).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chunk/chunker.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/progress.h"
#include "store/workspace.h"

namespace rlm {

class Embedder;
class Error;

inline constexpr size_t kIngestSegmentBytes = 64ull << 20;

// The bytes of a text to ingest, read in windows.
class TextSource {
 public:
  virtual ~TextSource() = default;
  virtual uint64_t size() const = 0;
  // Bytes [offset, offset + len) clipped to size(); valid until the next call.
  virtual std::string_view Read(uint64_t offset, size_t len) = 0;
};

class StringSource final : public TextSource {
 public:
  explicit StringSource(std::string_view text) : text_(text) {}
  uint64_t size() const override { return text_.size(); }
  std::string_view Read(uint64_t offset, size_t len) override {
    return offset >= text_.size() ? std::string_view() : text_.substr(offset, len);
  }

 private:
  std::string_view text_;
};

// A regular file from byte `skip` (a BOM) on. A read past a truncation throws FileChanged (InputFile).
class FileSource final : public TextSource {
 public:
  FileSource(const InputFile& file, uint64_t skip) : file_(file), skip_(skip) {}
  uint64_t size() const override { return file_.size() - skip_; }
  std::string_view Read(uint64_t offset, size_t len) override;

 private:
  const InputFile& file_;
  uint64_t skip_;
  std::string buf_;
  uint64_t buf_off_ = 0;  // text offset of buf_[0]
};

struct IngestOptions {
  std::string embedder;  // a --embedder spec; empty: the workspace's (see WorkspaceEmbedder)
  std::string chunker = "semantic";
  ChunkOptions chunk;
  ProgressFn progress;       // phase "load", bytes
  size_t source_offset = 0;  // bytes of the source before the text (a dropped BOM), for error offsets
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

// Vectors computed before the write transaction that will reference them. Held in memory up to
// `budget_bytes`; past it, a batch is stored at once in a short write transaction of its own (harmless:
// vectors are addressed by content, and nothing reads one before a chunk refers to it). Discard() removes
// what was stored early and is still unreferenced, for a load that failed.
class PendingVectors {
 public:
  PendingVectors(Workspace& ws, const Embedder& embedder, size_t budget_bytes = 64u << 20);
  bool Contains(const Hash128& hash) const { return index_.count(hash) != 0; }
  void Add(std::span<const Hash128> hashes, const float* vectors);
  // Stores everything pending; call inside the write transaction that commits the texts.
  void WriteAll();
  // Best effort, outside any transaction: removes the vectors stored early that no chunk refers to.
  void Discard() noexcept;

 private:
  void Store();
  Workspace& ws_;
  std::string fingerprint_;
  size_t dims_;
  size_t budget_;
  std::vector<Hash128> hashes_;
  std::vector<float> vectors_;
  std::unordered_map<Hash128, size_t, Hash128Hasher> index_;
  std::vector<Hash128> stored_early_;
};

// Phase 1 of ingest (see above): what PrepareText learnt of a text.
struct PreparedText {
  std::string source;                // for messages
  std::vector<ChunkRecord> records;  // in order; index, offsets, lines and hash set; no ids
  Hash128 content_hash;
  IngestStats stats;  // bytes, lines, chunks, embedded, embeddings_reused, computed, truncated
};

// Throws InvalidInput naming `source` and the byte offset (offset_base + position in `text`) of the first
// invalid UTF-8 sequence or NUL byte of `text`.
void CheckText(std::string_view text, size_t offset_base, const std::string& source);

// Phase 1, outside any write transaction: validates (CheckText, segment by segment), chunks and hashes
// `text`, and computes into `pending` the vectors the workspace and `pending` do not have.
PreparedText PrepareText(Workspace& ws, const Embedder& embedder, TextSource& text, const std::string& source,
                         const IngestOptions& options, PendingVectors& pending);

// Phase 2, inside a write transaction, after pending.WriteAll(): replaces the content of buffer `info`
// (already inserted) with `text`, which must be the bytes `prepared` was made from (else InvalidInput,
// type FileChanged). Chunks of the old content with the same bytes keep their ids. Updates `info` (size,
// lines, hash, chunker settings) in the workspace.
IngestStats CommitText(Workspace& ws, const Embedder& embedder, BufferInfo& info,
                       const PreparedText& prepared, TextSource& text, const IngestOptions& options);

// The spec of the embedder to use: `requested` (a --embedder spec) when given, else the workspace's (meta
// "embedder"), else "hash".
std::string WorkspaceEmbedderSpec(Workspace& ws, const std::string& requested = "");

// The workspace's embedder, made from WorkspaceEmbedderSpec(ws, requested). A workspace records the spec and
// fingerprint of the first embedder that writes to it (RecordWorkspaceEmbedder). Afterwards an embedder
// with another fingerprint (another model, or the same spec whose model files changed) is a Conflict (type
// EmbedderMismatch), so vectors of two models never meet in one index, unless the workspace has no buffers
// yet. Reads only. Switching a workspace with buffers to another embedder is EmbedBuffers' job.
std::unique_ptr<Embedder> WorkspaceEmbedder(Workspace& ws, const std::string& requested = "");
// Inside the write transaction that stores vectors of `embedder` (made by WorkspaceEmbedder from the same
// `requested`): checks again (another process may have recorded another embedder meanwhile) and records it
// when the workspace has none or has no buffers.
void RecordWorkspaceEmbedder(Workspace& ws, const std::string& requested, const Embedder& embedder);

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
