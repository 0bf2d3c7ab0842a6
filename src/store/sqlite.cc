#include "store/sqlite.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/error.h"

namespace rlm::sql {

namespace {

// For the errors that are about the file rather than the SQL (disk full, I/O error, read-only, cannot
// open), SQLite's message does not say which file: "database or disk is full". Appends the database file
// and the OS error, and returns a suggestion for a full disk.
std::string NameTheFile(sqlite3* db, int rc, std::string* suggestion) {
  const int primary = rc & 0xff;
  if (db == nullptr || (primary != SQLITE_FULL && primary != SQLITE_IOERR && primary != SQLITE_CANTOPEN &&
                        primary != SQLITE_READONLY)) {
    return "";
  }
  const char* file = sqlite3_db_filename(db, "main");
  if (file == nullptr || *file == '\0') return "";
  std::string out = std::string(" (") + file;
  const int err = sqlite3_system_errno(db);
  if (err != 0) out += std::string(": ") + std::strerror(err);
  out += ")";
  if (primary == SQLITE_FULL || err == ENOSPC || err == EDQUOT) {
    *suggestion = std::string("free space on the file system that holds ") + file;
  } else if (primary == SQLITE_READONLY || err == EROFS || err == EACCES) {
    *suggestion =
        "the workspace is read-only here: read commands work, writes need write access to the "
        "file and its folder";
  }
  return out;
}

}  // namespace

void Check(sqlite3* db, int rc, std::string_view what) {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
  std::string msg = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  std::string suggestion;
  msg += NameTheFile(db, rc, &suggestion);
  if (!suggestion.empty()) throw StorageError(msg, suggestion);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    throw StorageError(msg, "another rlm process held the workspace too long; retry");
  }
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) {
    throw StorageError(msg, "the workspace file is damaged or not an rlm workspace");
  }
  throw StorageError(msg);
}

void Exec(sqlite3* db, std::string_view sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    if (rc == SQLITE_BUSY) throw StorageError("database busy: " + msg, "retry");
    std::string suggestion;
    msg += NameTheFile(db, rc, &suggestion);
    throw StorageError(msg, suggestion);
  }
}

void EnableWal(sqlite3* db, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &stmt, nullptr);
    if (rc == SQLITE_OK) rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) {
      Check(db, rc, "PRAGMA journal_mode = WAL");
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  Check(db, sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr), "prepare");
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement& Statement::Bind(int i, int64_t v) {
  Check(db_, sqlite3_bind_int64(stmt_, i, v), "bind");
  return *this;
}
Statement& Statement::Bind(int i, double v) {
  Check(db_, sqlite3_bind_double(stmt_, i, v), "bind");
  return *this;
}
Statement& Statement::BindText(int i, std::string_view v, bool copy) {
  Check(
      db_,
      sqlite3_bind_text64(stmt_, i, v.data(), v.size(), copy ? SQLITE_TRANSIENT : SQLITE_STATIC, SQLITE_UTF8),
      "bind");
  return *this;
}
Statement& Statement::BindBlob(int i, std::string_view v, bool copy) {
  Check(db_, sqlite3_bind_blob64(stmt_, i, v.data(), v.size(), copy ? SQLITE_TRANSIENT : SQLITE_STATIC),
        "bind");
  return *this;
}
Statement& Statement::BindNull(int i) {
  Check(db_, sqlite3_bind_null(stmt_, i), "bind");
  return *this;
}

bool Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Check(db_, rc, "step");
  return false;
}

void Statement::Run() {
  while (Step()) {
  }
  Reset();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::Int(int col) const {
  return sqlite3_column_int64(stmt_, col);
}
double Statement::Double(int col) const {
  return sqlite3_column_double(stmt_, col);
}
std::string Statement::Text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}
std::string_view Statement::Blob(int col) const {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string_view();
}
bool Statement::IsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

}  // namespace rlm::sql
