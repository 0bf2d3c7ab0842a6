// A thin RAII layer over the SQLite C API: a connection and prepared statements that throw StorageError
// (with SQLite's message) on failure. Used only inside src/store.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rlm::sql {

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Bind by 1-based index. Text and blobs are copied only when `copy` is true; otherwise they must outlive
  // the next Step()/Reset().
  Statement& Bind(int i, int64_t v);
  Statement& Bind(int i, double v);
  Statement& BindText(int i, std::string_view v, bool copy = true);
  Statement& BindBlob(int i, std::string_view v, bool copy = true);
  Statement& BindNull(int i);

  // Returns true when a row is available, false when done. Throws StorageError on error.
  bool Step();
  // Runs to completion (for statements without rows).
  void Run();
  void Reset();

  int64_t Int(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;
  std::string_view Blob(int col) const;  // valid until the next Step/Reset
  bool IsNull(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Throws StorageError with sqlite3_errmsg when rc is not SQLITE_OK/ROW/DONE.
void Check(sqlite3* db, int rc, std::string_view what);
void Exec(sqlite3* db, std::string_view sql);

// Switches the database to WAL mode. Switching a new file takes an exclusive lock, and SQLite skips the busy
// handler (returning SQLITE_BUSY at once) when several connections race to do it, so this retries for up to
// `timeout_ms`. A file already in WAL mode needs no lock.
void EnableWal(sqlite3* db, int timeout_ms);

}  // namespace rlm::sql
