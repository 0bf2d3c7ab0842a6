#include "embed/embedding_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "store/sqlite.h"

namespace rlm {

// Vectors are stored as the in-memory float array; a big-endian host would need byte swapping.
static_assert(std::endian::native == std::endian::little, "the cache stores little-endian float32 blobs");

namespace {

// Migrations: entry i upgrades schema version i to i + 1. Never edit a shipped entry; append a new one.
const char* const kMigrations[] = {
    // 0 -> 1: the initial schema.
    R"sql(
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO meta(key, value) VALUES ('clock', '0');
    -- Fingerprints are interned so rows carry a small integer; the table also keeps each fingerprint's
    -- entry and byte counts (maintained by the triggers below) so the cap is checked without a scan.
    CREATE TABLE fingerprints (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      entries INTEGER NOT NULL DEFAULT 0,
      bytes INTEGER NOT NULL DEFAULT 0
    );
    -- One row per cached vector: key, shape and recency. The vector itself lives in `vectors` under the same
    -- id, so refreshing `last_used` rewrites a few small pages instead of the pages holding vectors.
    -- `key` is Hash128::Bytes().
    CREATE TABLE entries (
      id INTEGER PRIMARY KEY,
      fp INTEGER NOT NULL,
      key BLOB NOT NULL,
      dims INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      last_used INTEGER NOT NULL,
      UNIQUE (fp, key)
    );
    -- Covers the LRU walk (last_used, bytes, rowid) without touching the table.
    CREATE INDEX entries_lru ON entries(last_used, bytes);
    CREATE TABLE vectors (id INTEGER PRIMARY KEY, vec BLOB NOT NULL);  -- float32, little-endian
    CREATE TRIGGER entries_insert AFTER INSERT ON entries BEGIN
      UPDATE fingerprints SET entries = entries + 1, bytes = bytes + new.bytes WHERE id = new.fp;
    END;
    CREATE TRIGGER entries_delete AFTER DELETE ON entries BEGIN
      UPDATE fingerprints SET entries = entries - 1, bytes = bytes - old.bytes WHERE id = old.fp;
      DELETE FROM vectors WHERE id = old.id;
    END;
    CREATE TRIGGER entries_update AFTER UPDATE OF bytes ON entries BEGIN
      UPDATE fingerprints SET bytes = bytes - old.bytes + new.bytes WHERE id = new.fp;
    END;
    )sql",
};
constexpr int kMigrationCount = sizeof(kMigrations) / sizeof(kMigrations[0]);
static_assert(kMigrationCount == EmbeddingCache::kSchemaVersion);

// 16 KiB pages pack common vector sizes (384 to 3072 dims) with little slack and without overflow pages
// up to 1024 dims; only takes effect when the file is created.
constexpr int kPageSize = 16384;
// After a checkpoint the WAL is truncated to this size, so one large Store does not leave a large file.
constexpr int64_t kJournalSizeLimit = 64 << 20;
// How long a lookup waits for the write lock to refresh `last_used` before giving up on it.
constexpr int kTouchWaitMs = 1000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view KeyBytes(const Hash128& h, char (&buf)[16]) {
  for (int i = 0; i < 8; ++i) {
    buf[i] = static_cast<char>((h.hi >> (56 - 8 * i)) & 0xFF);
    buf[8 + i] = static_cast<char>((h.lo >> (56 - 8 * i)) & 0xFF);
  }
  return std::string_view(buf, 16);
}

bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

std::string DeleteSuggestion(const std::string& path) {
  return "the embedding cache is only a cache: delete " + path +
         " (and its -wal/-shm files) to start afresh, " + "or set RLM_CACHE=off";
}

// Rethrows a StorageError from store/sqlite with the cache's path and a suggestion that fits a cache.
[[noreturn]] void RethrowForCache(const std::string& path, const StorageError& e) {
  std::string what = e.what();
  std::string suggestion = e.suggestion();
  if (Contains(what, "malformed") || Contains(what, "not a database") || Contains(what, "corrupt")) {
    suggestion = DeleteSuggestion(path);
  } else if (Contains(what, "locked") || Contains(what, "busy")) {
    suggestion = "another rlm process held the embedding cache too long; retry";
  } else if (Contains(what, "disk is full")) {
    suggestion = "free disk space, lower RLM_CACHE_MAX_BYTES, or run `rlm cache prune --vacuum`";
  } else if (Contains(what, "readonly") || Contains(what, "unable to open")) {
    suggestion = "make the cache directory writable, point RLM_CACHE_DIR elsewhere, or set RLM_CACHE=off";
  }
  if (what.rfind("embedding cache ", 0) == 0) throw StorageError(what, suggestion);
  throw StorageError("embedding cache " + path + ": " + what, suggestion);
}

// BEGIN (deferred: a read snapshot) or BEGIN IMMEDIATE (the write lock, waiting on the busy timeout);
// rolled back unless committed.
class Transaction {
 public:
  Transaction(sqlite3* db, bool write) : db_(db) { sql::Exec(db, write ? "BEGIN IMMEDIATE" : "BEGIN"); }
  // Takes over a transaction the caller has begun.
  struct Begun {};
  Transaction(sqlite3* db, Begun) : db_(db) {}
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void Commit() {
    sql::Exec(db_, "COMMIT");
    done_ = true;
  }

 private:
  sqlite3* db_;
  bool done_ = false;
};

}  // namespace

// ---- configuration ---------------------------------------------------------------------------------------

bool EmbeddingCache::Enabled() {
  const char* env = std::getenv("RLM_CACHE");
  if (!env) return true;
  std::string v(env);
  for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return !(v == "off" || v == "0" || v == "false" || v == "no");
}

uint64_t EmbeddingCache::DefaultMaxBytes() {
  const char* env = std::getenv("RLM_CACHE_MAX_BYTES");
  if (!env || !*env) return kDefaultMaxBytes;
  std::optional<uint64_t> n = ParseByteSize(env);
  if (!n) {
    throw InvalidInput(std::string("RLM_CACHE_MAX_BYTES=") + env + " is not a byte size",
                       "use a number of bytes or a size such as 500MB or 2GiB");
  }
  return *n;
}

std::string EmbeddingCache::DefaultDir() {
  if (const char* env = std::getenv("RLM_CACHE_DIR"); env && *env) return env;
  // The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
  if (const char* env = std::getenv("XDG_CACHE_HOME"); env && env[0] == '/') return std::string(env) + "/rlm";
  if (const char* env = std::getenv("HOME"); env && *env) return std::string(env) + "/.cache/rlm";
  throw IoError("cannot locate the embedding cache: none of RLM_CACHE_DIR, XDG_CACHE_HOME and HOME is set",
                "set RLM_CACHE_DIR to a writable directory, or RLM_CACHE=off");
}

std::optional<uint64_t> ParseByteSize(std::string_view text) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  };
  std::string_view s = trim(text);
  size_t i = 0;
  bool digits = false, dot = false;
  for (; i < s.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(s[i]))) {
      digits = true;
    } else if (s[i] == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (!digits) return std::nullopt;
  std::string number(s.substr(0, i));
  std::string unit(trim(s.substr(i)));
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  struct Unit {
    const char* names[3];
    int shift;
  };
  static constexpr Unit kUnits[] = {{{"", "b", "b"}, 0},
                                    {{"k", "kb", "kib"}, 10},
                                    {{"m", "mb", "mib"}, 20},
                                    {{"g", "gb", "gib"}, 30},
                                    {{"t", "tb", "tib"}, 40}};
  int shift = -1;
  for (const Unit& u : kUnits) {
    for (const char* name : u.names) {
      if (unit == name) shift = u.shift;
    }
  }
  if (shift < 0) return std::nullopt;
  if (!dot) {
    errno = 0;
    unsigned long long n = std::strtoull(number.c_str(), nullptr, 10);
    if (errno == ERANGE || (shift > 0 && n > (~0ULL >> shift))) return std::nullopt;
    return static_cast<uint64_t>(n) << shift;
  }
  const long double v = std::strtold(number.c_str(), nullptr) * std::ldexp(1.0L, shift) + 0.5L;
  if (!(v >= 0) || v >= std::ldexp(1.0L, 64)) return std::nullopt;
  return static_cast<uint64_t>(v);
}

// ---- opening ---------------------------------------------------------------------------------------------

std::unique_ptr<EmbeddingCache> EmbeddingCache::Open(const std::string& dir,
                                                     const EmbeddingCacheOptions& options) {
  namespace fs = std::filesystem;
  if (dir.empty()) throw InvalidInput("the embedding cache directory is empty", "set RLM_CACHE_DIR");
  const uint64_t max_bytes = options.max_bytes ? *options.max_bytes : DefaultMaxBytes();
  const std::string path = (fs::path(dir) / kFileName).string();
  const std::string writable_hint =
      "set RLM_CACHE_DIR to a writable directory, or RLM_CACHE=off to run without the cache";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw IoError("cannot create the embedding cache directory " + dir + ": " + ec.message(), writable_hint);
  if (!fs::is_directory(dir, ec)) {
    throw IoError("the embedding cache directory " + dir + " is not a directory", writable_hint);
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    throw IoError("the embedding cache directory " + dir + " is not writable: " + std::strerror(errno),
                  writable_hint);
  }
  if (fs::is_directory(path, ec)) {
    throw StorageError("the embedding cache " + path + " is a directory, not a file", DeleteSuggestion(path));
  }

  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw StorageError("cannot open the embedding cache " + path + ": " + msg, writable_hint);
  }
  std::unique_ptr<EmbeddingCache> cache(new EmbeddingCache(path, db, max_bytes, options));
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  sqlite3_extended_result_codes(db, 1);
  try {
    // page_size only applies to a new, empty file, and must come before the switch to WAL.
    sql::Exec(db, "PRAGMA page_size = " + std::to_string(kPageSize));
    sql::EnableWal(db, options.busy_timeout_ms);
    sql::Exec(db, "PRAGMA synchronous = NORMAL");
    sql::Exec(db, "PRAGMA journal_size_limit = " + std::to_string(kJournalSizeLimit));
    cache->Migrate();
  } catch (const StorageError& e) {
    RethrowForCache(path, e);
  }
  return cache;
}

std::unique_ptr<EmbeddingCache> EmbeddingCache::OpenDefaultOrWarn(std::string* warning,
                                                                  const EmbeddingCacheOptions& options) {
  if (warning) warning->clear();
  if (!Enabled()) return nullptr;
  try {
    return Open(DefaultDir(), options);
  } catch (const Error& e) {
    if (warning) {
      *warning = std::string("embedding cache disabled: ") + e.what();
      if (!e.suggestion().empty()) *warning += " (" + e.suggestion() + ")";
    }
    return nullptr;
  }
}

EmbeddingCache::EmbeddingCache(std::string path, sqlite3* db, uint64_t max_bytes,
                               const EmbeddingCacheOptions& options)
    : path_(std::move(path)),
      max_bytes_(max_bytes),
      touch_interval_ms_(options.touch_interval_ms),
      busy_timeout_ms_(options.busy_timeout_ms),
      db_(db) {}

EmbeddingCache::~EmbeddingCache() {
  sqlite3_close_v2(db_);
}

void EmbeddingCache::Migrate() {
  auto version_of = [&]() {
    sql::Statement has_meta(db_, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
    has_meta.Step();
    if (has_meta.Int(0) == 0) return 0;
    sql::Statement s(db_, "SELECT value FROM meta WHERE key = 'schema_version'");
    return s.Step() ? std::stoi(s.Text(0)) : 0;
  };
  if (version_of() == kSchemaVersion) return;
  Transaction tx(db_, /*write=*/true);
  int version = version_of();  // re-read under the write lock: another process may have migrated
  if (version > kSchemaVersion) {
    throw StorageError("embedding cache " + path_ + " has schema version " + std::to_string(version) +
                           ", newer than this rlm (" + std::to_string(kSchemaVersion) + ")",
                       "upgrade rlm, or point RLM_CACHE_DIR at another directory");
  }
  if (version == 0) {
    sql::Statement tables(db_, "SELECT count(*) FROM sqlite_master");
    tables.Step();
    if (tables.Int(0) != 0) {
      throw StorageError("embedding cache " + path_ + " is an SQLite database but not an rlm embedding cache",
                         DeleteSuggestion(path_));
    }
  }
  for (; version < kSchemaVersion; ++version) sql::Exec(db_, kMigrations[version]);
  sql::Statement set(db_,
                     "INSERT INTO meta(key, value) VALUES('schema_version', ?) "
                     "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  set.BindText(1, std::to_string(kSchemaVersion)).Run();
  tx.Commit();
}

// ---- internals (the caller holds mu_ and, where noted, a transaction) -------------------------------------

int64_t EmbeddingCache::NextTick() {
  sql::Statement s(db_,
                   "UPDATE meta SET value = max(CAST(value AS INTEGER) + 1, ?) WHERE key = 'clock' "
                   "RETURNING CAST(value AS INTEGER)");
  s.Bind(1, NowMs());
  const bool row = s.Step();
  RLM_ASSERT(row);
  const int64_t tick = s.Int(0);
  while (s.Step()) {
  }
  return tick;
}

std::optional<int64_t> EmbeddingCache::FingerprintId(std::string_view fingerprint) {
  sql::Statement s(db_, "SELECT id FROM fingerprints WHERE name = ?");
  s.BindText(1, fingerprint, /*copy=*/false);
  if (!s.Step()) return std::nullopt;
  return s.Int(0);
}

uint64_t EmbeddingCache::TotalBytes() {
  sql::Statement s(db_, "SELECT coalesce(sum(bytes), 0) FROM fingerprints");
  s.Step();
  return static_cast<uint64_t>(s.Int(0));
}

EmbeddingCachePruneResult EmbeddingCache::EvictTo(uint64_t max_bytes) {
  EmbeddingCachePruneResult r;
  uint64_t total = TotalBytes();
  if (total <= max_bytes) return r;
  // Walk the LRU index from the oldest entry; only the evicted prefix is read.
  std::vector<int64_t> victims;
  {
    sql::Statement s(db_, "SELECT id, bytes FROM entries INDEXED BY entries_lru ORDER BY last_used");
    while (total - r.removed_bytes > max_bytes && s.Step()) {
      victims.push_back(s.Int(0));
      r.removed_bytes += static_cast<uint64_t>(s.Int(1));
    }
  }
  sql::Statement del(db_, "DELETE FROM entries WHERE id = ?");  // the trigger deletes the vector
  for (int64_t id : victims) del.Bind(1, id).Run();
  r.removed_entries = victims.size();
  return r;
}

uint64_t EmbeddingCache::FileBytes() const {
  uint64_t n = 0;
  struct stat sb;
  if (::stat(path_.c_str(), &sb) == 0) n += static_cast<uint64_t>(sb.st_size);
  if (::stat((path_ + "-wal").c_str(), &sb) == 0) n += static_cast<uint64_t>(sb.st_size);
  return n;
}

// ---- the public operations -------------------------------------------------------------------------------

size_t EmbeddingCache::Lookup(std::string_view fingerprint, size_t dims, std::span<const Hash128> keys,
                              float* out, std::vector<bool>& found) {
  found.assign(keys.size(), false);
  if (keys.empty()) return 0;
  if (dims == 0) throw InvalidInput("embedding cache lookup with 0 dimensions");
  const size_t row_bytes = dims * sizeof(float);
  std::lock_guard<std::mutex> lock(mu_);
  size_t hits = 0;
  try {
    std::vector<int64_t> stale;  // hits whose last_used is older than the touch interval
    const int64_t stale_before = NowMs() - touch_interval_ms_;
    {
      Transaction tx(db_, /*write=*/false);
      std::optional<int64_t> fp = FingerprintId(fingerprint);
      if (!fp) return 0;
      sql::Statement s(db_,
                       "SELECT e.id, e.dims, e.last_used, v.vec FROM entries e JOIN vectors v ON v.id = e.id "
                       "WHERE e.fp = ? AND e.key = ?");
      char buf[16];
      for (size_t i = 0; i < keys.size(); ++i) {
        s.Bind(1, *fp).BindBlob(2, KeyBytes(keys[i], buf), /*copy=*/false);
        if (s.Step()) {
          std::string_view vec = s.Blob(3);
          if (static_cast<size_t>(s.Int(1)) == dims && vec.size() == row_bytes) {
            std::memcpy(out + i * dims, vec.data(), row_bytes);
            found[i] = true;
            ++hits;
            if (touch_interval_ms_ <= 0 || s.Int(2) <= stale_before) stale.push_back(s.Int(0));
          }
        }
        s.Reset();
      }
      tx.Commit();
    }
    if (stale.empty()) return hits;
    // Refreshing recency is best effort: when another process holds the write lock for more than
    // kTouchWaitMs the stamps stay as they were (the hits are refreshed by a later lookup; until then they
    // may be evicted a little early) and the lookup returns without waiting for the writer.
    sqlite3_busy_timeout(db_, std::min(busy_timeout_ms_, kTouchWaitMs));
    int rc = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_busy_timeout(db_, busy_timeout_ms_);
    if ((rc & 0xFF) == SQLITE_BUSY) return hits;
    sql::Check(db_, rc, "begin");
    Transaction tx(db_, Transaction::Begun{});
    const int64_t tick = NextTick();
    sql::Statement touch(db_, "UPDATE entries SET last_used = ? WHERE id = ?");
    for (int64_t id : stale) touch.Bind(1, tick).Bind(2, id).Run();
    tx.Commit();
  } catch (const StorageError& e) {
    RethrowForCache(path_, e);
  }
  return hits;
}

void EmbeddingCache::Store(std::string_view fingerprint, size_t dims, std::span<const Hash128> keys,
                           const float* rows) {
  if (keys.empty()) return;
  if (dims == 0) throw InvalidInput("cannot cache embeddings with 0 dimensions");
  const size_t row_bytes = dims * sizeof(float);
  std::lock_guard<std::mutex> lock(mu_);
  try {
    Transaction tx(db_, /*write=*/true);
    {
      sql::Statement s(db_, "INSERT INTO fingerprints(name) VALUES(?) ON CONFLICT(name) DO NOTHING");
      s.BindText(1, fingerprint, /*copy=*/false).Run();
    }
    const int64_t fp = FingerprintId(fingerprint).value();
    const int64_t tick = NextTick();
    sql::Statement entry(db_,
                         "INSERT INTO entries(fp, key, dims, bytes, last_used) VALUES(?, ?, ?, ?, ?) "
                         "ON CONFLICT(fp, key) DO UPDATE SET dims = excluded.dims, bytes = excluded.bytes, "
                         "last_used = excluded.last_used RETURNING id");
    sql::Statement vec(db_, "INSERT OR REPLACE INTO vectors(id, vec) VALUES(?, ?)");
    char buf[16];
    for (size_t i = 0; i < keys.size(); ++i) {
      entry.Bind(1, fp)
          .BindBlob(2, KeyBytes(keys[i], buf), /*copy=*/false)
          .Bind(3, static_cast<int64_t>(dims))
          .Bind(4, static_cast<int64_t>(row_bytes))
          .Bind(5, tick);
      const bool row = entry.Step();
      RLM_ASSERT(row);
      const int64_t id = entry.Int(0);
      entry.Run();  // finishes the statement and resets it
      vec.Bind(1, id)
          .BindBlob(2, std::string_view(reinterpret_cast<const char*>(rows + i * dims), row_bytes),
                    /*copy=*/false)
          .Run();
    }
    EvictTo(max_bytes_);
    tx.Commit();
  } catch (const StorageError& e) {
    RethrowForCache(path_, e);
  }
}

EmbeddingCacheStats EmbeddingCache::Stats() {
  std::lock_guard<std::mutex> lock(mu_);
  EmbeddingCacheStats st;
  st.path = path_;
  st.max_bytes = max_bytes_;
  try {
    Transaction tx(db_, /*write=*/false);
    sql::Statement s(db_, "SELECT name, entries, bytes FROM fingerprints WHERE entries > 0 ORDER BY name");
    while (s.Step()) {
      EmbeddingCacheStats::Fingerprint f{s.Text(0), static_cast<uint64_t>(s.Int(1)),
                                         static_cast<uint64_t>(s.Int(2))};
      st.entries += f.entries;
      st.bytes += f.bytes;
      st.fingerprints.push_back(std::move(f));
    }
    tx.Commit();
  } catch (const StorageError& e) {
    RethrowForCache(path_, e);
  }
  st.file_bytes = FileBytes();
  return st;
}

EmbeddingCachePruneResult EmbeddingCache::Prune(const EmbeddingCachePrune& p) {
  std::lock_guard<std::mutex> lock(mu_);
  EmbeddingCachePruneResult r;
  r.file_bytes_before = FileBytes();
  try {
    {
      Transaction tx(db_, /*write=*/true);
      if (p.fingerprint) {
        if (std::optional<int64_t> fp = FingerprintId(*p.fingerprint)) {
          sql::Statement count(db_, "SELECT entries, bytes FROM fingerprints WHERE id = ?");
          count.Bind(1, *fp);
          if (count.Step()) {
            r.removed_entries += static_cast<uint64_t>(count.Int(0));
            r.removed_bytes += static_cast<uint64_t>(count.Int(1));
          }
          sql::Statement del(db_, "DELETE FROM entries WHERE fp = ?");
          del.Bind(1, *fp).Run();
          sql::Statement drop(db_, "DELETE FROM fingerprints WHERE id = ?");
          drop.Bind(1, *fp).Run();
        }
      }
      EmbeddingCachePruneResult evicted = EvictTo(p.max_bytes.value_or(max_bytes_));
      r.removed_entries += evicted.removed_entries;
      r.removed_bytes += evicted.removed_bytes;
      tx.Commit();
    }
    if (p.vacuum) {
      sql::Exec(db_, "VACUUM");
      // Move the rewritten pages into the main file and drop the WAL (a no-op while readers hold it).
      sql::Statement ckpt(db_, "PRAGMA wal_checkpoint(TRUNCATE)");
      ckpt.Step();
      r.vacuumed = true;
    }
  } catch (const StorageError& e) {
    RethrowForCache(path_, e);
  }
  r.file_bytes_after = FileBytes();
  return r;
}

void EmbeddingCache::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  try {
    Transaction tx(db_, /*write=*/true);
    // vectors first: a table without triggers is emptied at once, not row by row.
    sql::Exec(db_, "DELETE FROM vectors; DELETE FROM entries; DELETE FROM fingerprints;");
    tx.Commit();
  } catch (const StorageError& e) {
    RethrowForCache(path_, e);
  }
}

}  // namespace rlm
