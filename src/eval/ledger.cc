#include "eval/ledger.h"

#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "store/sqlite.h"

namespace rlm {
namespace {

std::string PackDocs(const std::vector<ScoredDoc>& docs) {
  std::string blob(docs.size() * 8, '\0');
  for (size_t i = 0; i < docs.size(); ++i) {
    std::memcpy(blob.data() + 8 * i, &docs[i].doc, 4);
    std::memcpy(blob.data() + 8 * i + 4, &docs[i].score, 4);
  }
  return blob;
}

std::vector<ScoredDoc> UnpackDocs(std::string_view blob) {
  std::vector<ScoredDoc> docs(blob.size() / 8);
  for (size_t i = 0; i < docs.size(); ++i) {
    std::memcpy(&docs[i].doc, blob.data() + 8 * i, 4);
    std::memcpy(&docs[i].score, blob.data() + 8 * i + 4, 4);
  }
  return docs;
}

}  // namespace

Ledger::Ledger(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw IoError("cannot create " + dir + ": " + ec.message());
  path_ = (std::filesystem::path(dir) / "ledger.sqlite").string();
  if (sqlite3_open(path_.c_str(), &db_) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StorageError(path_ + ": " + msg);
  }
  try {
    sqlite3_busy_timeout(db_, 60000);
    sql::Exec(db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    sql::Exec(db_,
              "CREATE TABLE IF NOT EXISTS vectors(fingerprint TEXT NOT NULL, hash BLOB NOT NULL, vector BLOB NOT NULL,"
              " PRIMARY KEY(fingerprint, hash)) WITHOUT ROWID;"
              "CREATE TABLE IF NOT EXISTS results(run_id TEXT NOT NULL, variant TEXT NOT NULL, query_id TEXT NOT NULL,"
              " ok INTEGER NOT NULL, attempts INTEGER NOT NULL, error TEXT, latency_us INTEGER NOT NULL,"
              " docs BLOB NOT NULL, PRIMARY KEY(run_id, variant, query_id)) WITHOUT ROWID;");
  } catch (const Error& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw StorageError(path_ + ": " + e.what(), "the ledger is damaged or not a ledger: delete it to start over");
  }
}

Ledger::~Ledger() {
  try {
    Flush();
  } catch (...) {  // a destructor must not throw; the batch is recomputed by the next run
  }
  sqlite3_close(db_);
}

size_t Ledger::LookupVectors(std::string_view fingerprint, size_t dims, std::span<const Hash128> keys, float* out,
                             std::vector<bool>& found) {
  std::lock_guard lock(mu_);
  found.assign(keys.size(), false);
  sql::Statement st(db_, "SELECT vector FROM vectors WHERE fingerprint = ?1 AND hash = ?2");
  size_t hits = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    st.Reset();
    st.BindText(1, fingerprint, false).BindBlob(2, keys[i].Bytes());
    if (!st.Step()) continue;
    const std::string_view v = st.Blob(0);
    if (v.size() != dims * sizeof(float)) continue;
    std::memcpy(out + i * dims, v.data(), v.size());
    found[i] = true;
    ++hits;
  }
  return hits;
}

void Ledger::StoreVectors(std::string_view fingerprint, size_t dims, std::span<const Hash128> keys,
                          const float* rows) {
  std::lock_guard lock(mu_);
  sql::Exec(db_, "BEGIN IMMEDIATE");
  try {
    sql::Statement st(db_, "INSERT OR REPLACE INTO vectors(fingerprint, hash, vector) VALUES(?1, ?2, ?3)");
    for (size_t i = 0; i < keys.size(); ++i) {
      st.Reset();
      st.BindText(1, fingerprint, false)
          .BindBlob(2, keys[i].Bytes())
          .BindBlob(3, std::string_view(reinterpret_cast<const char*>(rows + i * dims), dims * sizeof(float)), false);
      st.Run();
    }
    sql::Exec(db_, "COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

std::unordered_map<std::string, std::unordered_map<std::string, JobResult>> Ledger::LoadResults(
    std::string_view run_id) {
  std::lock_guard lock(mu_);
  std::unordered_map<std::string, std::unordered_map<std::string, JobResult>> out;
  sql::Statement st(db_,
                    "SELECT variant, query_id, ok, attempts, error, latency_us, docs FROM results WHERE run_id = ?1");
  st.BindText(1, run_id, false);
  while (st.Step()) {
    JobResult r;
    r.variant = st.Text(0);
    r.query_id = st.Text(1);
    r.ok = st.Int(2) != 0;
    r.attempts = static_cast<int>(st.Int(3));
    r.error = st.IsNull(4) ? "" : st.Text(4);
    r.latency_us = st.Int(5);
    r.docs = UnpackDocs(st.Blob(6));
    out[r.variant][r.query_id] = std::move(r);
  }
  return out;
}

void Ledger::Append(std::string_view run_id, JobResult result) {
  std::lock_guard lock(mu_);
  pending_run_ = run_id;
  pending_.push_back(std::move(result));
}

size_t Ledger::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

void Ledger::Flush() {
  std::lock_guard lock(mu_);
  if (pending_.empty()) return;
  sql::Exec(db_, "BEGIN IMMEDIATE");
  try {
    sql::Statement st(db_,
                      "INSERT OR REPLACE INTO results(run_id, variant, query_id, ok, attempts, error, latency_us, docs)"
                      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    for (const JobResult& r : pending_) {
      st.Reset();
      st.BindText(1, pending_run_, false).BindText(2, r.variant, false).BindText(3, r.query_id, false);
      st.Bind(4, static_cast<int64_t>(r.ok)).Bind(5, static_cast<int64_t>(r.attempts));
      if (r.ok) {
        st.BindNull(6);
      } else {
        st.BindText(6, r.error, false);
      }
      st.Bind(7, r.latency_us).BindBlob(8, PackDocs(r.docs));
      st.Run();
    }
    sql::Exec(db_, "COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
  pending_.clear();
}

}  // namespace rlm
