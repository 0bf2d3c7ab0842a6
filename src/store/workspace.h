// A workspace is one SQLite database (WAL mode, busy timeout, foreign keys) holding buffers, their chunks,
// embeddings and variables. A buffer's text is stored once, in blocks; chunks are byte ranges into it
// with line ranges and a content hash. Every write goes through a WriteTransaction (BEGIN IMMEDIATE), which
// also advances the workspace's generation so derived indexes can tell they are stale.
//
// Thread-safety: a Workspace is one connection; use it from one thread at a time. Several processes may
// open the same file: readers never block (WAL), writers queue on the busy timeout.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"

namespace rlm {

inline constexpr int kSchemaVersion = 1;
inline constexpr size_t kTextBlockBytes = 256 * 1024;  // buffer text is stored in blocks of this size

struct BufferInfo {
  int64_t id = 0;
  std::string name;
  std::string source;  // file path it was loaded from, "-" for stdin, empty for add-buffer
  uint64_t size = 0;   // bytes of stored text (after a dropped BOM)
  uint64_t line_count = 0;
  std::string content_hash;  // hex
  std::string chunker;
  uint64_t chunk_size = 0;
  uint64_t overlap = 0;
  int64_t chunk_count = 0;
  int64_t created_at = 0;  // unix seconds
  int64_t updated_at = 0;
};

struct ChunkRecord {
  int64_t id = 0;  // assigned on insert when 0
  int64_t buffer_id = 0;
  int64_t index = 0;   // position within the buffer, from 0
  uint64_t start = 0;  // byte range [start, end) in the buffer text
  uint64_t end = 0;
  uint64_t line_start = 0;  // 1-based, inclusive
  uint64_t line_end = 0;
  Hash128 hash;  // content hash of the chunk's bytes
};

struct WorkspaceStatus {
  int schema_version = 0;
  int64_t generation = 0;
  int64_t buffers = 0;
  int64_t chunks = 0;
  int64_t embedded_chunks = 0;  // chunks with a vector for the workspace embedder
  uint64_t total_bytes = 0;
  uint64_t db_bytes = 0;  // database file size (plus WAL)
  std::string embedder;
};

// True for a non-empty string of ASCII digits: how a buffer id is spelled on the command line.
bool IsBufferIdSpelling(std::string_view s);
// Throws InvalidInput for a name that cannot be a buffer's: empty, or all digits (it would read as an id).
void ValidateBufferName(std::string_view name);

class Workspace {
 public:
  // kMustExist: an existing workspace, to read and write. kCreate: creates it (and its parent folders) if
  // missing. kRead: an existing workspace, to read only; when the file or its folder is not writable (a
  // read-only file system, no permission) it is opened read-only instead of failing.
  enum class Mode { kMustExist, kCreate, kRead };
  // Opens the workspace at `path`. kMustExist and kRead throw NotFound (suggesting `rlm init`) when there is
  // no file. Applies pending schema migrations (a read-only open cannot, and throws StorageError when one is
  // pending). Throws StorageError for a file that is not an rlm workspace or has a newer schema, IoError
  // (type ReadOnlyWorkspace) when kMustExist/kCreate find the file or its folder not writable.
  //
  // A read-only open on a read-only file system uses SQLite's `immutable` mode when there is no WAL content
  // to read (SQLite cannot otherwise open a WAL-mode database whose -shm file it cannot create; nobody can
  // change the file meanwhile); else `mode=ro`, which needs the -shm file to exist or to be creatable.
  static std::unique_ptr<Workspace> Open(const std::string& path, Mode mode);
  // For `init --force`: throws InvalidInput naming `path` unless it is absent, an empty file, an rlm
  // workspace (SQLite with rlm's meta table), or a SQLite file too damaged to tell. Anything else (a text
  // file, another program's database, a FIFO or device) is never deleted.
  static void CheckReplaceable(const std::string& path);
  // True when opened read-only (Mode::kRead on an unwritable workspace): a WriteTransaction then throws
  // IoError (type ReadOnlyWorkspace).
  bool read_only() const { return !read_only_reason_.empty(); }
  ~Workspace();

  const std::string& path() const { return path_; }
  sqlite3* db() { return db_; }

  // ---- transactions -----------------------------------------------------------------------------------
  // A write transaction; rolled back unless Commit() is called. Commit advances the generation.
  class WriteTransaction {
   public:
    explicit WriteTransaction(Workspace& ws);
    ~WriteTransaction();
    void Commit();

   private:
    Workspace& ws_;
    bool done_ = false;
  };
  // A read snapshot (BEGIN DEFERRED): everything read inside it is from one consistent state.
  class ReadTransaction {
   public:
    explicit ReadTransaction(Workspace& ws);
    ~ReadTransaction();

   private:
    Workspace& ws_;
  };

  int64_t Generation();
  // A random id fixed at creation: distinguishes two workspaces created at the same path.
  std::string WorkspaceId();
  std::optional<std::string> GetMeta(std::string_view key);
  void SetMeta(std::string_view key, std::string_view value);
  WorkspaceStatus Status();
  // Deletes every buffer, chunk, embedding and variable (the generation keeps counting).
  void Reset();

  // ---- buffers ------------------------------------------------------------------------------------------
  // Resolves a buffer: all digits is an id (and only an id), anything else the exact name. rlm-rs tried
  // an all-digit argument as an id and then as a name, so a buffer named "2" and the buffer with id 2 were
  // one argument; here names cannot be all digits (InsertBuffer), and a lookup by digits never finds a name.
  std::optional<BufferInfo> FindBuffer(std::string_view id_or_name);
  // Like FindBuffer; throws NotFound naming the buffer and suggesting `rlm list`.
  BufferInfo GetBuffer(std::string_view id_or_name);
  std::optional<BufferInfo> GetBufferById(int64_t id);
  std::vector<BufferInfo> ListBuffers();
  // Throws InvalidInput when `name` is empty or all digits (ValidateBufferName), Conflict when a buffer is
  // named `name`.
  void CheckBufferNameFree(std::string_view name);
  // Inserts the row (id assigned); throws like CheckBufferNameFree.
  int64_t InsertBuffer(const BufferInfo& info);
  void UpdateBuffer(const BufferInfo& info);
  // Deletes the buffer, its text, chunks and embeddings no other chunk uses.
  void DeleteBuffer(int64_t id);

  // ---- text ---------------------------------------------------------------------------------------------
  // Streams a buffer's text into blocks. Append in order; Finish writes the last partial block.
  class TextWriter {
   public:
    TextWriter(Workspace& ws, int64_t buffer_id);
    ~TextWriter();
    void Append(std::string_view data);
    void Finish();
    uint64_t bytes_written() const { return total_; }

   private:
    void WriteBlock(std::string_view block);
    Workspace& ws_;
    int64_t buffer_id_;
    std::string pending_;
    uint64_t next_block_ = 0;
    uint64_t total_ = 0;
  };
  void DeleteText(int64_t buffer_id);
  // Bytes [start, end) of a buffer's text (clamped to its size). Reads only the blocks it needs.
  std::string ReadText(int64_t buffer_id, uint64_t start, uint64_t end);
  // Calls `fn` with consecutive pieces of the whole text, in order (one block at a time: bounded memory).
  void ForEachTextBlock(int64_t buffer_id, const std::function<void(std::string_view)>& fn);
  // Calls fn(i, text) with the first `max_bytes` bytes of each chunks[i] (chunks of `buffer_id`, ordered by
  // start), reading the text once, in blocks, and holding only what the pending chunks still need.
  void ForEachChunkText(int64_t buffer_id, const std::vector<ChunkRecord>& chunks, uint64_t max_bytes,
                        const std::function<void(size_t, std::string_view)>& fn);

  // ---- chunks -------------------------------------------------------------------------------------------
  // Inserts chunks (ids with 0 are assigned and written back).
  void InsertChunks(std::span<ChunkRecord> chunks);
  // Rewrites index/range/lines/hash of existing chunks (matched by id).
  void UpdateChunks(std::span<const ChunkRecord> chunks);
  void DeleteChunks(std::span<const int64_t> chunk_ids);
  std::vector<ChunkRecord> ListChunks(int64_t buffer_id);
  std::optional<ChunkRecord> GetChunk(int64_t chunk_id);
  // Every chunk of the workspace, ordered by (buffer_id, index).
  std::vector<ChunkRecord> AllChunks();

  // ---- embeddings (keyed by embedder fingerprint and chunk content hash) ----------------------------------
  // For each hash, true when a vector for `fingerprint` is stored.
  std::vector<bool> HasEmbeddings(std::string_view fingerprint, std::span<const Hash128> hashes);
  // Stores vectors (dims floats each, row-major); existing ones are replaced.
  void PutEmbeddings(std::string_view fingerprint, std::span<const Hash128> hashes, const float* vectors,
                     size_t dims);
  // The stored vector, or nullopt.
  std::optional<std::vector<float>> GetEmbedding(std::string_view fingerprint, const Hash128& hash);
  // Calls fn(hash, vector) for every vector of `fingerprint` used by a chunk.
  void ForEachEmbedding(std::string_view fingerprint,
                        const std::function<void(const Hash128&, std::span<const float>)>& fn);
  // Deletes vectors no chunk refers to.
  void PruneEmbeddings();
  // Deletes the vectors of `hashes` that no chunk refers to (any fingerprint).
  void PruneEmbeddings(std::span<const Hash128> hashes);

  // ---- variables ("context" vars and "global" vars, string values)
  // ------------------------------------------
  std::optional<std::string> GetVar(std::string_view scope, std::string_view name);
  void SetVar(std::string_view scope, std::string_view name, std::string_view value);
  bool DeleteVar(std::string_view scope, std::string_view name);

 private:
  Workspace(std::string path, sqlite3* db);
  void Migrate();
  void CheckSchemaVersion();
  std::string path_;
  sqlite3* db_;
  std::string read_only_reason_;  // why the workspace is not writable; empty when opened read-write
};

}  // namespace rlm
