// The checkpoint ledger of evaluation runs: one SQLite file in the run's output folder
// (`<out>/ledger.sqlite`, WAL). It holds
//   - unit vectors, keyed by (embedder fingerprint, content hash): embedding jobs write them, so a re-run,
//     or a run that changes only fusion, re-ranking or depth, embeds nothing;
//   - query job results, keyed by (run id, variant, query id): the ranked documents, latency, attempts and
//     the error of a failed job. Rows are appended, never rewritten by a second writer (a job's key is
//     written once; a retry after a failure replaces only that job's row).
// Writes are committed in batches (Append + Flush), so a kill -9 loses at most the unflushed batch; a
// re-run recomputes exactly the jobs without a row.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/hash.h"
#include "index/scored.h"

namespace rlm {

struct JobResult {
  std::string variant;
  std::string query_id;
  bool ok = true;
  int attempts = 1;
  std::string error;           // when !ok
  int64_t latency_us = 0;      // of the successful attempt
  std::vector<ScoredDoc> docs;  // ranked document ordinals and scores
};

class Ledger {
 public:
  // Opens or creates `<dir>/ledger.sqlite` (creating `dir`). Throws IoError / StorageError naming the file.
  explicit Ledger(const std::string& dir);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  const std::string& path() const { return path_; }

  // Vectors: rows for the keys found (found[i]); returns the hit count. Store commits at once.
  size_t LookupVectors(std::string_view fingerprint, size_t dims, std::span<const Hash128> keys, float* out,
                       std::vector<bool>& found);
  void StoreVectors(std::string_view fingerprint, size_t dims, std::span<const Hash128> keys, const float* rows);

  // Results of `run_id` already recorded, by variant then query id.
  std::unordered_map<std::string, std::unordered_map<std::string, JobResult>> LoadResults(std::string_view run_id);
  // Buffers a result; Flush (or the destructor) commits buffered results in one transaction. Thread-safe.
  void Append(std::string_view run_id, JobResult result);
  void Flush();
  size_t pending() const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
  mutable std::mutex mu_;
  std::string pending_run_;
  std::vector<JobResult> pending_;
};

}  // namespace rlm
