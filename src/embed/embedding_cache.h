// The machine-wide embedding cache: vectors addressed by (embedder fingerprint, content hash of the text as
// embedded), shared by every workspace, so re-embedding a text any workspace has seen costs a lookup. One
// SQLite file, `<DefaultDir()>/embeddings.sqlite`, in WAL mode with a busy timeout; every write is one
// short BEGIN IMMEDIATE transaction, so a process killed mid-Store leaves the cache without that batch,
// never with half a vector, and several processes can share the file.
//
// Size: the cache holds at most `max_bytes` of vector payload (4 * dims bytes per entry; keys, indexes and
// page slack are not counted: the file is about 1.1x the payload for 384 or 768 dims, 1.35x for 1024,
// measured with the 16 KiB pages it uses). A Store that goes over the cap
// evicts the least recently used entries, walking an index on `last_used`, so eviction costs
// O(evicted * log n). Deleted entries leave free pages that later stores reuse; the file only shrinks with
// Prune({.vacuum = true}).
//
// Recency: `last_used` is a logical clock in Unix milliseconds, strictly increasing across the writes of all
// processes (max(now, previous + 1)). Store stamps its batch; Lookup stamps hits whose stamp is older than
// `touch_interval_ms` (default one minute) in a second short write transaction, so repeated lookups of hot
// rows stay read-only and never queue behind writers. Entries (key, dims, stamp) and vectors are separate
// tables, so a stamp rewrites small rows, not the pages holding vectors.
//
// Errors: a file that is not SQLite or is damaged, a directory that cannot be created or written, or a
// newer schema throw StorageError / IoError naming the file, with a suggestion (the file is only a cache:
// deleting it is safe). Callers that prefer to run without a cache than to fail use OpenDefaultOrWarn.
//
// Thread-safety: an EmbeddingCache is one SQLite connection guarded by a mutex; every method may be called
// from any thread, and calls on one object run one at a time. Objects in different threads or processes
// use SQLite's locking and may run concurrently (lookups never block each other).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/hash.h"

namespace rlm {

struct EmbeddingCacheOptions {
  // Payload cap in bytes; empty means DefaultMaxBytes().
  std::optional<uint64_t> max_bytes;
  // Lookup refreshes `last_used` only of hits stamped longer ago than this; 0 refreshes every hit.
  int64_t touch_interval_ms = 60'000;
  // How long a call waits for another process's write transaction before failing with StorageError.
  int busy_timeout_ms = 60'000;
};

struct EmbeddingCacheStats {
  struct Fingerprint {
    std::string fingerprint;
    uint64_t entries = 0;
    uint64_t bytes = 0;
  };
  std::string path;
  uint64_t entries = 0;
  uint64_t bytes = 0;  // vector payload, what max_bytes caps
  uint64_t max_bytes = 0;
  uint64_t file_bytes = 0;                // the database file plus its WAL, as on disk
  std::vector<Fingerprint> fingerprints;  // ordered by fingerprint; only those with entries
};

struct EmbeddingCachePrune {
  std::optional<uint64_t> max_bytes;       // evict least recently used entries until the payload fits
  std::optional<std::string> fingerprint;  // drop every entry of this fingerprint
  bool vacuum = false;                     // then rebuild the file so its size shrinks (takes a while)
};

struct EmbeddingCachePruneResult {
  uint64_t removed_entries = 0;
  uint64_t removed_bytes = 0;
  uint64_t file_bytes_before = 0;
  uint64_t file_bytes_after = 0;
  bool vacuumed = false;
};

class EmbeddingCache {
 public:
  static constexpr uint64_t kDefaultMaxBytes = uint64_t{2} << 30;
  static constexpr int kSchemaVersion = 1;
  static constexpr const char* kFileName = "embeddings.sqlite";

  // False when $RLM_CACHE is "off", "0", "false" or "no" (any case); true otherwise.
  static bool Enabled();
  // $RLM_CACHE_DIR, else $XDG_CACHE_HOME/rlm, else $HOME/.cache/rlm. Throws IoError when none is set.
  static std::string DefaultDir();

  // $RLM_CACHE_MAX_BYTES (bytes or a size such as "500MB"), else kDefaultMaxBytes. Throws InvalidInput
  // naming the variable when it is set but malformed.
  static uint64_t DefaultMaxBytes();

  // Opens (creating the directory, file and schema as needed) `<dir>/embeddings.sqlite`. Throws IoError
  // when the directory cannot be created, StorageError when the file cannot be opened or is not a cache,
  // InvalidInput for a malformed $RLM_CACHE_MAX_BYTES; every message names the path.
  static std::unique_ptr<EmbeddingCache> Open(const std::string& dir,
                                              const EmbeddingCacheOptions& options = {});
  // The cache the pipeline uses: nullptr with an empty `warning` when !Enabled(); nullptr with `warning` set
  // to the reason (message and suggestion) when opening DefaultDir() fails; otherwise the open cache.
  static std::unique_ptr<EmbeddingCache> OpenDefaultOrWarn(std::string* warning,
                                                           const EmbeddingCacheOptions& options = {});

  ~EmbeddingCache();
  EmbeddingCache(const EmbeddingCache&) = delete;
  EmbeddingCache& operator=(const EmbeddingCache&) = delete;

  // For every keys[i] cached under `fingerprint` with exactly `dims` dimensions, copies the vector to
  // out[i * dims, (i + 1) * dims) and sets found[i]; other rows of `out` are left untouched and found[i] is
  // false (a stored row of another dims is a miss). `found` is resized to keys.size(). Returns the number
  // of hits. Refreshing the hits' recency waits at most a second for another process's write; after that
  // it is skipped. Throws StorageError when SQLite fails.
  size_t Lookup(std::string_view fingerprint, size_t dims, std::span<const Hash128> keys, float* out,
                std::vector<bool>& found);

  // Stores rows[i * dims, (i + 1) * dims) under keys[i], replacing any entry of the same key (whatever its
  // dims), in one transaction, then evicts least recently used entries while the payload exceeds the cap.
  // `dims` must be positive. Throws StorageError when SQLite fails; then nothing of the batch is stored.
  void Store(std::string_view fingerprint, size_t dims, std::span<const Hash128> keys, const float* rows);

  EmbeddingCacheStats Stats();
  // Applies `p.fingerprint`, then `p.max_bytes` (with neither: the cap), then the vacuum. Returns what went.
  EmbeddingCachePruneResult Prune(const EmbeddingCachePrune& p);
  // Removes every entry (the file keeps its size; Prune with vacuum shrinks it).
  void Clear();

  const std::string& path() const { return path_; }
  uint64_t max_bytes() const { return max_bytes_; }

 private:
  EmbeddingCache(std::string path, sqlite3* db, uint64_t max_bytes, const EmbeddingCacheOptions& options);
  void Migrate();
  int64_t NextTick();  // inside a write transaction
  std::optional<int64_t> FingerprintId(std::string_view fingerprint);
  uint64_t TotalBytes();
  EmbeddingCachePruneResult EvictTo(uint64_t max_bytes);  // inside a write transaction
  uint64_t FileBytes() const;

  const std::string path_;
  const uint64_t max_bytes_;
  const int64_t touch_interval_ms_;
  const int busy_timeout_ms_;
  std::mutex mu_;
  sqlite3* db_;  // GUARDED_BY(mu_)
};

// Parses a byte count: a non-negative number with an optional unit B, K/KB/KiB, M/MB/MiB, G/GB/GiB,
// T/TB/TiB (case-insensitive, binary multiples as HumanBytes prints them), e.g. "500MB", "1.5 GiB", "4096".
// Returns nullopt when `text` is not one.
std::optional<uint64_t> ParseByteSize(std::string_view text);

}  // namespace rlm
