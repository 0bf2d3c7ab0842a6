#include "store/workspace.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/error.h"
#include "core/file.h"
#include "store/sqlite.h"

namespace rlm {

namespace {

// How long a connection waits for another process's lock before giving up.
constexpr int kBusyTimeoutMs = 60000;

// Migrations: entry i upgrades schema version i to i + 1. Never edit a shipped entry; append a new one.
const char* const kMigrations[] = {
    // 0 -> 1: the initial schema.
    R"sql(
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE buffers (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      source TEXT NOT NULL DEFAULT '',
      size INTEGER NOT NULL,
      line_count INTEGER NOT NULL,
      content_hash TEXT NOT NULL,
      chunker TEXT NOT NULL,
      chunk_size INTEGER NOT NULL,
      overlap INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    -- rowid = buffer_id << 32 | block number, so one block is addressed without an index lookup.
    CREATE TABLE buffer_text (
      id INTEGER PRIMARY KEY,
      buffer_id INTEGER NOT NULL REFERENCES buffers(id) ON DELETE CASCADE,
      data BLOB NOT NULL
    );
    CREATE INDEX buffer_text_buffer ON buffer_text(buffer_id);
    CREATE TABLE chunks (
      id INTEGER PRIMARY KEY,
      buffer_id INTEGER NOT NULL REFERENCES buffers(id) ON DELETE CASCADE,
      idx INTEGER NOT NULL,
      byte_start INTEGER NOT NULL,
      byte_end INTEGER NOT NULL,
      line_start INTEGER NOT NULL,
      line_end INTEGER NOT NULL,
      content_hash BLOB NOT NULL
    );
    CREATE INDEX chunks_buffer ON chunks(buffer_id, idx);
    CREATE INDEX chunks_hash ON chunks(content_hash);
    CREATE TABLE embeddings (
      fingerprint TEXT NOT NULL,
      content_hash BLOB NOT NULL,
      dims INTEGER NOT NULL,
      vector BLOB NOT NULL,
      PRIMARY KEY (fingerprint, content_hash)
    );
    CREATE TABLE variables (
      scope TEXT NOT NULL,
      name TEXT NOT NULL,
      value TEXT NOT NULL,
      PRIMARY KEY (scope, name)
    );
    )sql",
};
constexpr int kMigrationCount = sizeof(kMigrations) / sizeof(kMigrations[0]);
static_assert(kMigrationCount == kSchemaVersion);

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

BufferInfo ReadBufferRow(const sql::Statement& s) {
  BufferInfo b;
  b.id = s.Int(0);
  b.name = s.Text(1);
  b.source = s.Text(2);
  b.size = static_cast<uint64_t>(s.Int(3));
  b.line_count = static_cast<uint64_t>(s.Int(4));
  b.content_hash = s.Text(5);
  b.chunker = s.Text(6);
  b.chunk_size = static_cast<uint64_t>(s.Int(7));
  b.overlap = static_cast<uint64_t>(s.Int(8));
  b.created_at = s.Int(9);
  b.updated_at = s.Int(10);
  b.chunk_count = s.Int(11);
  return b;
}

constexpr const char* kBufferColumns =
    "SELECT b.id, b.name, b.source, b.size, b.line_count, b.content_hash, b.chunker, b.chunk_size, "
    "b.overlap, "
    "b.created_at, b.updated_at, (SELECT count(*) FROM chunks c WHERE c.buffer_id = b.id) FROM buffers b ";

ChunkRecord ReadChunkRow(const sql::Statement& s) {
  ChunkRecord c;
  c.id = s.Int(0);
  c.buffer_id = s.Int(1);
  c.index = s.Int(2);
  c.start = static_cast<uint64_t>(s.Int(3));
  c.end = static_cast<uint64_t>(s.Int(4));
  c.line_start = static_cast<uint64_t>(s.Int(5));
  c.line_end = static_cast<uint64_t>(s.Int(6));
  c.hash = Hash128::FromBytes(s.Blob(7));
  return c;
}

constexpr const char* kChunkColumns =
    "SELECT id, buffer_id, idx, byte_start, byte_end, line_start, line_end, content_hash FROM chunks ";

int64_t TextRowId(int64_t buffer_id, uint64_t block) {
  return (buffer_id << 32) | static_cast<int64_t>(block);
}

std::string RandomId() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(Now()));
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(gen()),
                static_cast<unsigned long long>(gen()));
  return buf;
}

}  // namespace

namespace {

// Why the workspace file cannot be written (nor its folder, when SQLite has to create the -wal and -shm
// files there), or "" when it can.
std::string WhyNotWritable(const std::string& path) {
  namespace fs = std::filesystem;
  struct statvfs vfs {};
  if (::statvfs(path.c_str(), &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0) return "read-only file system";
  if (::access(path.c_str(), W_OK) != 0)
    return "no write permission on the file: " + std::string(std::strerror(errno));
  std::error_code ec;
  if (fs::exists(path + "-wal", ec) && fs::exists(path + "-shm", ec)) return "";
  std::string dir = fs::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    return "no write permission on its folder " + dir + ": " + std::string(std::strerror(errno));
  }
  return "";
}

IoError ReadOnlyError(const std::string& path, const std::string& why) {
  return IoError(
      "workspace " + path + " is read-only (" + why + ")",
      "read commands (list, show, peek, grep, search, status, chunk get/list) still work; to change it, "
      "make it writable or copy it somewhere writable and pass -d",
      ErrorType::kReadOnlyWorkspace);
}

// A path as an SQLite URI filename (https://sqlite.org/uri.html): '%', '?' and '#' percent-escaped.
std::string UriPath(const std::string& path) {
  std::string out = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::unique_ptr<Workspace> Workspace::Open(const std::string& path, Mode mode) {
  namespace fs = std::filesystem;
  std::error_code ec;
  bool exists = fs::exists(path, ec);
  if (!exists && mode != Mode::kCreate) {
    throw NotFound("RLM not initialized: no workspace at " + path,
                   "Run 'rlm init' to initialize the database (or pass -d/--db-path)",
                   ErrorType::kNotInitialized);
  }
  if (!exists) {
    fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) {
      fs::create_directories(parent, ec);
      if (ec) throw IoError("cannot create " + parent.string() + ": " + ec.message());
    }
  }
  if (exists && fs::is_directory(path, ec))
    throw InvalidInput(path + " is a directory, not a workspace file");
  const std::string why = exists ? WhyNotWritable(path) : "";
  if (!why.empty() && mode != Mode::kRead) throw ReadOnlyError(path, why);
  sqlite3* db = nullptr;
  if (!why.empty()) {
    struct stat wal {};
    const bool wal_has_data = ::stat((path + "-wal").c_str(), &wal) == 0 && wal.st_size > 0;
    const bool immutable = why == "read-only file system" && !wal_has_data;
    const std::string uri = UriPath(path) + (immutable ? "?immutable=1" : "?mode=ro");
    int rc = sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close(db);
      throw StorageError("cannot open the read-only workspace " + path + " (" + why + "): " + msg);
    }
    std::unique_ptr<Workspace> ws(new Workspace(path, db));
    ws->read_only_reason_ = why;
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    sqlite3_extended_result_codes(db, 1);
    try {
      ws->CheckSchemaVersion();
    } catch (const StorageError& e) {
      throw StorageError("cannot read the read-only workspace " + path + " (" + why + "): " + e.what(),
                         immutable ? e.suggestion()
                                   : "in WAL mode SQLite needs to create " + path +
                                         "-shm to read; make the folder writable or copy the workspace");
    }
    return ws;
  }
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (mode == Mode::kCreate ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    throw StorageError("cannot open workspace " + path + ": " + msg);
  }
  std::unique_ptr<Workspace> ws(new Workspace(path, db));
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  sqlite3_extended_result_codes(db, 1);
  try {
    sql::Exec(db, "PRAGMA foreign_keys = ON");
    sql::EnableWal(db, kBusyTimeoutMs);
    sql::Exec(db, "PRAGMA synchronous = NORMAL");
    ws->Migrate();
  } catch (const StorageError& e) {
    throw StorageError(std::string("cannot open workspace ") + path + ": " + e.what(), e.suggestion());
  }
  return ws;
}

Workspace::Workspace(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

Workspace::~Workspace() {
  sqlite3_close_v2(db_);
}

namespace {

// The schema version a workspace records: decimal digits, at most kSchemaVersion's width plus a few. A
// damaged or foreign value is a StorageError naming it, never an index into kMigrations.
int ParseSchemaVersion(const std::string& text, const std::string& path) {
  int version = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (text.empty() || text[0] == '-' || text[0] == '+' || ec != std::errc() ||
      end != text.data() + text.size()) {
    throw StorageError(
        "workspace " + path + " records schema version '" + text.substr(0, 40) +
            "', which is not a version number",
        "the file is damaged or was not written by rlm; restore it or create a new one with rlm init");
  }
  return version;
}

}  // namespace

void Workspace::CheckSchemaVersion() {
  sql::Statement s(db_, "SELECT value FROM meta WHERE key = 'schema_version'");
  const int version = s.Step() ? ParseSchemaVersion(s.Text(0), path_) : 0;
  if (version != kSchemaVersion) {
    throw StorageError("workspace " + path_ + " has schema version " + std::to_string(version) +
                           ", this rlm's is " + std::to_string(kSchemaVersion) +
                           ", and a read-only workspace cannot be migrated",
                       version > kSchemaVersion ? "upgrade rlm" : "open it once where it is writable");
  }
}

void Workspace::Migrate() {
  sql::Exec(db_, "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  auto version_of = [&]() {
    sql::Statement s(db_, "SELECT value FROM meta WHERE key = 'schema_version'");
    return s.Step() ? ParseSchemaVersion(s.Text(0), path_) : 0;
  };
  if (version_of() == kSchemaVersion) return;
  WriteTransaction tx(*this);
  int version = version_of();  // re-read under the write lock: another process may have migrated
  if (version > kSchemaVersion) {
    throw StorageError("workspace " + path_ + " has schema version " + std::to_string(version) +
                           ", newer than this rlm's (" + std::to_string(kSchemaVersion) + ")",
                       "upgrade rlm");
  }
  for (; version < kSchemaVersion; ++version) sql::Exec(db_, kMigrations[version]);
  SetMeta("schema_version", std::to_string(kSchemaVersion));
  if (!GetMeta("workspace_id")) SetMeta("workspace_id", RandomId());
  if (!GetMeta("generation")) SetMeta("generation", "0");
  tx.Commit();
}

// ---- transactions ---------------------------------------------------------------------------------------

Workspace::WriteTransaction::WriteTransaction(Workspace& ws) : ws_(ws) {
  if (ws.read_only()) throw ReadOnlyError(ws.path_, ws.read_only_reason_);
  sql::Exec(ws.db_, "BEGIN IMMEDIATE");
}

Workspace::WriteTransaction::~WriteTransaction() {
  if (!done_) sqlite3_exec(ws_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Workspace::WriteTransaction::Commit() {
  sql::Exec(ws_.db_, "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'");
  sql::Exec(ws_.db_, "COMMIT");
  done_ = true;
}

Workspace::ReadTransaction::ReadTransaction(Workspace& ws) : ws_(ws) {
  sql::Exec(ws.db_, "BEGIN");
  // A deferred transaction takes its snapshot at the first read.
  sql::Exec(ws.db_, "SELECT 1 FROM meta LIMIT 1");
}

Workspace::ReadTransaction::~ReadTransaction() {
  sqlite3_exec(ws_.db_, "COMMIT", nullptr, nullptr, nullptr);
}

// ---- meta -----------------------------------------------------------------------------------------------

std::optional<std::string> Workspace::GetMeta(std::string_view key) {
  sql::Statement s(db_, "SELECT value FROM meta WHERE key = ?");
  s.BindText(1, key);
  if (!s.Step()) return std::nullopt;
  return s.Text(0);
}

void Workspace::SetMeta(std::string_view key, std::string_view value) {
  sql::Statement s(
      db_, "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  s.BindText(1, key).BindText(2, value).Run();
}

void Workspace::CheckReplaceable(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return;  // absent (or a dangling link: only the link goes)
  auto refuse = [&](const std::string& what) {
    throw InvalidInput(path + " is " + what + ", not an rlm workspace; init --force deletes only workspaces",
                       "choose another --db-path, or remove the file yourself");
  };
  if (!S_ISREG(st.st_mode)) refuse("not a regular file");
  if (st.st_size == 0) return;
  std::string head;
  {
    InputFile file(path);
    file.ReadAt(0, 16, head);
  }
  if (head != std::string("SQLite format 3\0", 16)) refuse("not a SQLite database");
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  bool ours = false, readable = false;
  if (rc == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                           "('meta', 'buffers', 'chunks')",
                           -1, &stmt, nullptr) == SQLITE_OK) {
      if (sqlite3_step(stmt) == SQLITE_ROW) {
        readable = true;
        ours = sqlite3_column_int(stmt, 0) == 3;
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  if (readable && !ours) refuse("another program's SQLite database");
}

int64_t Workspace::Generation() {
  return std::stoll(GetMeta("generation").value_or("0"));
}

std::string Workspace::WorkspaceId() {
  return GetMeta("workspace_id").value_or("");
}

WorkspaceStatus Workspace::Status() {
  WorkspaceStatus st;
  ReadTransaction tx(*this);
  st.schema_version = ParseSchemaVersion(GetMeta("schema_version").value_or("0"), path_);
  st.generation = Generation();
  st.embedder = GetMeta("embedder").value_or("hash");
  {
    sql::Statement s(db_, "SELECT count(*), coalesce(sum(size), 0) FROM buffers");
    s.Step();
    st.buffers = s.Int(0);
    st.total_bytes = static_cast<uint64_t>(s.Int(1));
  }
  {
    sql::Statement s(db_, "SELECT count(*) FROM chunks");
    s.Step();
    st.chunks = s.Int(0);
  }
  if (auto fp = GetMeta("embedder_fingerprint")) {
    sql::Statement s(db_,
                     "SELECT count(*) FROM chunks c WHERE EXISTS (SELECT 1 FROM embeddings e "
                     "WHERE e.fingerprint = ? AND e.content_hash = c.content_hash)");
    s.BindText(1, *fp);
    s.Step();
    st.embedded_chunks = s.Int(0);
  }
  struct stat sb;
  if (::stat(path_.c_str(), &sb) == 0) st.db_bytes += static_cast<uint64_t>(sb.st_size);
  if (::stat((path_ + "-wal").c_str(), &sb) == 0) st.db_bytes += static_cast<uint64_t>(sb.st_size);
  return st;
}

void Workspace::Reset() {
  WriteTransaction tx(*this);
  sql::Exec(db_,
            "DELETE FROM chunks; DELETE FROM buffer_text; DELETE FROM buffers; DELETE FROM embeddings; "
            "DELETE FROM variables;");
  tx.Commit();
}

// ---- buffers ---------------------------------------------------------------------------------------------

bool IsBufferIdSpelling(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

void ValidateBufferName(std::string_view name) {
  if (name.empty()) throw InvalidInput("buffer name must not be empty");
  if (IsBufferIdSpelling(name)) {
    throw InvalidInput(
        "invalid buffer name '" + std::string(name) +
            "': buffer names cannot be all digits, they would be read as buffer ids",
        "choose a name with a letter or other non-digit in it, e.g. --name doc-" + std::string(name));
  }
}

std::optional<BufferInfo> Workspace::FindBuffer(std::string_view id_or_name) {
  // Digits are always an id (never a name, which InsertBuffer refuses), so a buffer's name never shadows
  // another buffer's id. A name from an older workspace that is all digits is reached through its id.
  if (IsBufferIdSpelling(id_or_name)) {
    int64_t id = 0;
    const auto [end, ec] = std::from_chars(id_or_name.data(), id_or_name.data() + id_or_name.size(), id);
    if (ec != std::errc() || end != id_or_name.data() + id_or_name.size()) return std::nullopt;  // > int64
    return GetBufferById(id);
  }
  sql::Statement s(db_, std::string(kBufferColumns) + "WHERE b.name = ?");
  s.BindText(1, id_or_name);
  if (s.Step()) return ReadBufferRow(s);
  return std::nullopt;
}

BufferInfo Workspace::GetBuffer(std::string_view id_or_name) {
  auto b = FindBuffer(id_or_name);
  if (!b) {
    // A workspace from before the rule may have a buffer named with these digits: say how to reach it.
    std::string named;
    if (IsBufferIdSpelling(id_or_name)) {
      sql::Statement s(db_, "SELECT id FROM buffers WHERE name = ?");
      s.BindText(1, id_or_name);
      if (s.Step()) {
        named = " (digits are read as a buffer id; the buffer named '" + std::string(id_or_name) +
                "' has id " + std::to_string(s.Int(0)) + ")";
      }
    }
    throw NotFound("buffer not found: " + std::string(id_or_name) + named,
                   "Run 'rlm list' to see available buffers", ErrorType::kBufferNotFound);
  }
  return *b;
}

std::optional<BufferInfo> Workspace::GetBufferById(int64_t id) {
  sql::Statement s(db_, std::string(kBufferColumns) + "WHERE b.id = ?");
  s.Bind(1, id);
  if (!s.Step()) return std::nullopt;
  return ReadBufferRow(s);
}

std::vector<BufferInfo> Workspace::ListBuffers() {
  sql::Statement s(db_, std::string(kBufferColumns) + "ORDER BY b.id");
  std::vector<BufferInfo> out;
  while (s.Step()) out.push_back(ReadBufferRow(s));
  return out;
}

void Workspace::CheckBufferNameFree(std::string_view name) {
  ValidateBufferName(name);
  sql::Statement s(db_, "SELECT 1 FROM buffers WHERE name = ?");
  s.BindText(1, name);
  if (s.Step()) {
    throw Conflict("a buffer named '" + std::string(name) + "' already exists",
                   "choose another --name, or use `rlm update-buffer` / `rlm delete` first");
  }
}

int64_t Workspace::InsertBuffer(const BufferInfo& b) {
  CheckBufferNameFree(b.name);
  int64_t now = Now();
  sql::Statement s(
      db_,
      "INSERT INTO buffers(name, source, size, line_count, content_hash, chunker, chunk_size, overlap, "
      "created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?)");
  s.BindText(1, b.name).BindText(2, b.source).Bind(3, static_cast<int64_t>(b.size));
  s.Bind(4, static_cast<int64_t>(b.line_count)).BindText(5, b.content_hash).BindText(6, b.chunker);
  s.Bind(7, static_cast<int64_t>(b.chunk_size)).Bind(8, static_cast<int64_t>(b.overlap));
  s.Bind(9, b.created_at ? b.created_at : now).Bind(10, now).Run();
  return sqlite3_last_insert_rowid(db_);
}

void Workspace::UpdateBuffer(const BufferInfo& b) {
  sql::Statement s(db_,
                   "UPDATE buffers SET name=?, source=?, size=?, line_count=?, content_hash=?, chunker=?, "
                   "chunk_size=?, overlap=?, updated_at=? WHERE id=?");
  s.BindText(1, b.name).BindText(2, b.source).Bind(3, static_cast<int64_t>(b.size));
  s.Bind(4, static_cast<int64_t>(b.line_count)).BindText(5, b.content_hash).BindText(6, b.chunker);
  s.Bind(7, static_cast<int64_t>(b.chunk_size)).Bind(8, static_cast<int64_t>(b.overlap));
  s.Bind(9, Now()).Bind(10, b.id).Run();
}

void Workspace::DeleteBuffer(int64_t id) {
  sql::Statement s(db_, "DELETE FROM buffers WHERE id = ?");
  s.Bind(1, id).Run();  // chunks and text cascade
  PruneEmbeddings();
}

// ---- text ------------------------------------------------------------------------------------------------

Workspace::TextWriter::TextWriter(Workspace& ws, int64_t buffer_id) : ws_(ws), buffer_id_(buffer_id) {}
Workspace::TextWriter::~TextWriter() = default;

void Workspace::TextWriter::Append(std::string_view data) {
  total_ += data.size();
  if (!pending_.empty()) {
    size_t take = std::min(data.size(), kTextBlockBytes - pending_.size());
    pending_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (pending_.size() < kTextBlockBytes) return;
    WriteBlock(pending_);
    pending_.clear();
  }
  while (data.size() >= kTextBlockBytes) {  // whole blocks go straight from the caller's memory
    WriteBlock(data.substr(0, kTextBlockBytes));
    data.remove_prefix(kTextBlockBytes);
  }
  pending_.assign(data);
}

void Workspace::TextWriter::Finish() {
  if (!pending_.empty()) WriteBlock(pending_);
  pending_.clear();
  pending_.shrink_to_fit();
}

void Workspace::TextWriter::WriteBlock(std::string_view block) {
  sql::Statement s(ws_.db_, "INSERT INTO buffer_text(id, buffer_id, data) VALUES(?, ?, ?)");
  s.Bind(1, TextRowId(buffer_id_, next_block_++)).Bind(2, buffer_id_).BindBlob(3, block, false).Run();
}

void Workspace::DeleteText(int64_t buffer_id) {
  sql::Statement s(db_, "DELETE FROM buffer_text WHERE buffer_id = ?");
  s.Bind(1, buffer_id).Run();
}

std::string Workspace::ReadText(int64_t buffer_id, uint64_t start, uint64_t end) {
  std::string out;
  if (end <= start) return out;
  out.reserve(end - start);
  for (uint64_t block = start / kTextBlockBytes; block * kTextBlockBytes < end; ++block) {
    sqlite3_blob* blob = nullptr;
    int rc = sqlite3_blob_open(db_, "main", "buffer_text", "data", TextRowId(buffer_id, block), 0, &blob);
    if (rc != SQLITE_OK) {
      sqlite3_blob_close(blob);
      break;  // past the end of the text
    }
    uint64_t block_start = block * kTextBlockBytes;
    uint64_t len = static_cast<uint64_t>(sqlite3_blob_bytes(blob));
    uint64_t from = std::max(start, block_start) - block_start;
    uint64_t to = std::min(end, block_start + len) - block_start;
    if (to > from) {
      size_t old = out.size();
      out.resize(old + (to - from));
      rc = sqlite3_blob_read(blob, out.data() + old, static_cast<int>(to - from), static_cast<int>(from));
      sqlite3_blob_close(blob);
      sql::Check(db_, rc, "read buffer text");
    } else {
      sqlite3_blob_close(blob);
    }
    if (len < kTextBlockBytes) break;
  }
  return out;
}

void Workspace::ForEachTextBlock(int64_t buffer_id, const std::function<void(std::string_view)>& fn) {
  sql::Statement s(db_, "SELECT data FROM buffer_text WHERE id >= ? AND id < ? ORDER BY id");
  s.Bind(1, TextRowId(buffer_id, 0)).Bind(2, TextRowId(buffer_id + 1, 0));
  while (s.Step()) fn(s.Blob(0));
}

void Workspace::ForEachChunkText(int64_t buffer_id, const std::vector<ChunkRecord>& chunks,
                                 uint64_t max_bytes,
                                 const std::function<void(size_t, std::string_view)>& fn) {
  std::string window;  // text bytes [window_start, window_start + window.size())
  uint64_t window_start = 0;
  size_t next = 0;
  auto drain = [&](bool at_end) {
    for (; next < chunks.size(); ++next) {
      const ChunkRecord& c = chunks[next];
      uint64_t want_end = c.start + std::min(c.end - c.start, max_bytes);
      uint64_t have_end = window_start + window.size();
      if (!at_end && want_end > have_end) return;
      uint64_t from = std::clamp(c.start, window_start, have_end);
      uint64_t to = std::clamp(want_end, from, have_end);
      fn(next, std::string_view(window).substr(from - window_start, to - from));
    }
  };
  ForEachTextBlock(buffer_id, [&](std::string_view block) {
    if (next < chunks.size() && chunks[next].start > window_start) {  // drop text no chunk still needs
      uint64_t drop = std::min<uint64_t>(chunks[next].start - window_start, window.size());
      window.erase(0, drop);
      window_start += drop;
    }
    window.append(block);
    drain(false);
  });
  drain(true);
}

// ---- chunks ----------------------------------------------------------------------------------------------

void Workspace::InsertChunks(std::span<ChunkRecord> chunks) {
  sql::Statement with_id(db_,
                         "INSERT INTO chunks(id, buffer_id, idx, byte_start, byte_end, line_start, line_end, "
                         "content_hash) VALUES(?,?,?,?,?,?,?,?)");
  sql::Statement no_id(db_,
                       "INSERT INTO chunks(buffer_id, idx, byte_start, byte_end, line_start, line_end, "
                       "content_hash) VALUES(?,?,?,?,?,?,?)");
  for (ChunkRecord& c : chunks) {
    std::string hash = c.hash.Bytes();
    sql::Statement& s = c.id != 0 ? with_id : no_id;
    const int o = c.id != 0 ? 1 : 0;  // column offset: the explicit id comes first
    if (c.id != 0) s.Bind(1, c.id);
    s.Bind(o + 1, c.buffer_id).Bind(o + 2, c.index).Bind(o + 3, static_cast<int64_t>(c.start));
    s.Bind(o + 4, static_cast<int64_t>(c.end)).Bind(o + 5, static_cast<int64_t>(c.line_start));
    s.Bind(o + 6, static_cast<int64_t>(c.line_end)).BindBlob(o + 7, hash, false);
    s.Run();
    if (c.id == 0) c.id = sqlite3_last_insert_rowid(db_);
  }
}

void Workspace::UpdateChunks(std::span<const ChunkRecord> chunks) {
  sql::Statement s(
      db_,
      "UPDATE chunks SET idx=?, byte_start=?, byte_end=?, line_start=?, line_end=?, content_hash=? "
      "WHERE id=?");
  for (const ChunkRecord& c : chunks) {
    std::string hash = c.hash.Bytes();
    s.Bind(1, c.index).Bind(2, static_cast<int64_t>(c.start)).Bind(3, static_cast<int64_t>(c.end));
    s.Bind(4, static_cast<int64_t>(c.line_start)).Bind(5, static_cast<int64_t>(c.line_end));
    s.BindBlob(6, hash, false).Bind(7, c.id).Run();
  }
}

void Workspace::DeleteChunks(std::span<const int64_t> ids) {
  sql::Statement s(db_, "DELETE FROM chunks WHERE id = ?");
  for (int64_t id : ids) s.Bind(1, id).Run();
}

std::vector<ChunkRecord> Workspace::ListChunks(int64_t buffer_id) {
  sql::Statement s(db_, std::string(kChunkColumns) + "WHERE buffer_id = ? ORDER BY idx");
  s.Bind(1, buffer_id);
  std::vector<ChunkRecord> out;
  while (s.Step()) out.push_back(ReadChunkRow(s));
  return out;
}

std::optional<ChunkRecord> Workspace::GetChunk(int64_t chunk_id) {
  sql::Statement s(db_, std::string(kChunkColumns) + "WHERE id = ?");
  s.Bind(1, chunk_id);
  if (!s.Step()) return std::nullopt;
  return ReadChunkRow(s);
}

std::vector<ChunkRecord> Workspace::AllChunks() {
  sql::Statement s(db_, std::string(kChunkColumns) + "ORDER BY buffer_id, idx");
  std::vector<ChunkRecord> out;
  while (s.Step()) out.push_back(ReadChunkRow(s));
  return out;
}

// ---- embeddings ------------------------------------------------------------------------------------------

std::vector<bool> Workspace::HasEmbeddings(std::string_view fingerprint, std::span<const Hash128> hashes) {
  sql::Statement s(db_, "SELECT 1 FROM embeddings WHERE fingerprint = ? AND content_hash = ?");
  std::vector<bool> out(hashes.size());
  for (size_t i = 0; i < hashes.size(); ++i) {
    std::string h = hashes[i].Bytes();
    s.BindText(1, fingerprint, false).BindBlob(2, h, false);
    out[i] = s.Step();
    s.Reset();
  }
  return out;
}

void Workspace::PutEmbeddings(std::string_view fingerprint, std::span<const Hash128> hashes,
                              const float* vectors, size_t dims) {
  sql::Statement s(
      db_,
      "INSERT INTO embeddings(fingerprint, content_hash, dims, vector) VALUES(?,?,?,?) "
      "ON CONFLICT(fingerprint, content_hash) DO UPDATE SET dims = excluded.dims, vector = excluded.vector");
  for (size_t i = 0; i < hashes.size(); ++i) {
    std::string h = hashes[i].Bytes();
    std::string_view v(reinterpret_cast<const char*>(vectors + i * dims), dims * sizeof(float));
    s.BindText(1, fingerprint, false)
        .BindBlob(2, h, false)
        .Bind(3, static_cast<int64_t>(dims))
        .BindBlob(4, v, false);
    s.Run();
  }
}

std::optional<std::vector<float>> Workspace::GetEmbedding(std::string_view fingerprint, const Hash128& hash) {
  sql::Statement s(db_, "SELECT vector FROM embeddings WHERE fingerprint = ? AND content_hash = ?");
  std::string h = hash.Bytes();
  s.BindText(1, fingerprint).BindBlob(2, h);
  if (!s.Step()) return std::nullopt;
  std::string_view b = s.Blob(0);
  std::vector<float> v(b.size() / sizeof(float));
  std::memcpy(v.data(), b.data(), v.size() * sizeof(float));
  return v;
}

void Workspace::ForEachEmbedding(std::string_view fingerprint,
                                 const std::function<void(const Hash128&, std::span<const float>)>& fn) {
  sql::Statement s(db_,
                   "SELECT e.content_hash, e.vector FROM embeddings e WHERE e.fingerprint = ? AND EXISTS "
                   "(SELECT 1 FROM chunks c WHERE c.content_hash = e.content_hash)");
  s.BindText(1, fingerprint);
  std::vector<float> tmp;
  while (s.Step()) {
    std::string_view b = s.Blob(1);
    tmp.resize(b.size() / sizeof(float));
    std::memcpy(tmp.data(), b.data(), tmp.size() * sizeof(float));
    fn(Hash128::FromBytes(s.Blob(0)), tmp);
  }
}

void Workspace::PruneEmbeddings() {
  sql::Exec(db_, "DELETE FROM embeddings WHERE content_hash NOT IN (SELECT content_hash FROM chunks)");
}

void Workspace::PruneEmbeddings(std::span<const Hash128> hashes) {
  sql::Statement s(db_,
                   "DELETE FROM embeddings WHERE content_hash = ?1 AND NOT EXISTS "
                   "(SELECT 1 FROM chunks WHERE content_hash = ?1)");
  for (const Hash128& hash : hashes) {
    std::string h = hash.Bytes();
    s.BindBlob(1, h, false).Run();
  }
}

// ---- variables -------------------------------------------------------------------------------------------

std::optional<std::string> Workspace::GetVar(std::string_view scope, std::string_view name) {
  sql::Statement s(db_, "SELECT value FROM variables WHERE scope = ? AND name = ?");
  s.BindText(1, scope).BindText(2, name);
  if (!s.Step()) return std::nullopt;
  return s.Text(0);
}

void Workspace::SetVar(std::string_view scope, std::string_view name, std::string_view value) {
  sql::Statement s(db_,
                   "INSERT INTO variables(scope, name, value) VALUES(?,?,?) "
                   "ON CONFLICT(scope, name) DO UPDATE SET value = excluded.value");
  s.BindText(1, scope).BindText(2, name).BindText(3, value).Run();
}

bool Workspace::DeleteVar(std::string_view scope, std::string_view name) {
  sql::Statement s(db_, "DELETE FROM variables WHERE scope = ? AND name = ?");
  s.BindText(1, scope).BindText(2, name).Run();
  return sqlite3_changes(db_) > 0;
}

}  // namespace rlm
