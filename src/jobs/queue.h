// A reliable job queue on Redis Streams (the distributed executor of SPEC's job model).
//
// Keys (prefix "rlm:" for real runs; `rlm jobs bench` uses its own prefix):
//   <p>jobs                 stream of queued jobs, fields r (run) k (kind) i (job id) a (attempt) p (payload)
//   <p>jobs  group "workers"  the consumer group; each worker is a consumer named host:pid:nonce
//   <p>delayed              zset: jobs waiting to be retried, scored by the time they are due (ms)
//   <p>dead                 stream: jobs that failed max_attempts times, with their error and attempts
//   <p>claims               hash entry id -> times the entry was taken from a dead or stalled worker
//   <p>stats                hash of counters: produced completed retried dead reclaimed duplicates
//   <p>workers              hash worker name -> last heartbeat (ms since the epoch)
//   <p>run:<run>:<kind>     hash job id -> result: written with HSETNX, so a duplicate never counts twice
//
// The path of a job: Publish XADDs it. A worker XREADGROUPs a batch, runs the jobs in parallel and commits
// the batch in one Lua script: per job XACK, then either (done) HSETNX its result, or (failed, attempts
// left) ZADD it to <p>delayed with exponential backoff, or (failed max_attempts times) XADD it to <p>dead
// and record the failure as its result. Acknowledged entries are trimmed from the stream in bulk
// (TrimAcknowledged, XTRIM MINID) rather than deleted one by one. Workers move due delayed jobs back into the
// stream. A job whose worker died stays pending in the group; after the visibility timeout any worker takes
// it over with XAUTOCLAIM (long jobs are kept alive by a heartbeat thread that re-claims them for their own
// worker). Every step is idempotent, so a crash anywhere (worker, coordinator, Redis with appendonly) loses
// nothing.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "jobs/redis.h"

namespace rlm {

struct Job {
  std::string run;  // "" for jobs without a stored result (bench no-ops)
  std::string kind;
  std::string id;  // unique within (run, kind): the result's field
  std::string payload;
  int attempt = 1;
  std::string entry = {};  // the stream entry id, set on delivery
};

struct JobOutcome {
  bool ok = true;
  std::string value;  // the result (ok)
  std::string error;  // why it failed (!ok)
  // The job itself is invalid (forged, or of a run Redis no longer holds): it is dead-lettered at once with
  // `error` and records no result, so it cannot stand in for one of the run's jobs.
  bool rejected = false;
};

class JobQueue {
 public:
  static constexpr const char* kGroup = "workers";

  explicit JobQueue(std::string prefix = "rlm:") : prefix_(std::move(prefix)) {}

  std::string Key(std::string_view name) const { return prefix_ + std::string(name); }
  std::string ResultsKey(std::string_view run, std::string_view kind) const {
    return prefix_ + "run:" + std::string(run) + ":" + std::string(kind);
  }
  const std::string& prefix() const { return prefix_; }

  // Creates the stream and its consumer group when missing (reading from the stream's start).
  void EnsureGroup(RedisClient& redis) const;
  // XADDs the jobs in pipelined chunks; `extra` commands (e.g. a run's "published" flag) go in the same
  // MULTI/EXEC as the last chunk.
  void Publish(RedisClient& redis, const std::vector<Job>& jobs,
               const std::vector<std::vector<std::string>>& extra = {}) const;

 private:
  std::string prefix_;
};

struct WorkerOptions {
  size_t concurrency = 5;     // jobs run at once (a TBB arena of this many threads)
  size_t prefetch = 4;        // batch = concurrency * prefetch jobs per XREADGROUP
  int visibility_ms = 30000;  // a pending job idle this long is taken over from its worker
  int max_attempts = 3;       // then the dead-letter stream
  int backoff_ms = 200;       // retry n waits backoff_ms * 2^(n-1), +-25% jitter
  int block_ms = 500;         // XREADGROUP BLOCK
  std::string name;           // consumer name; empty: host:pid:nonce
  const std::atomic<bool>* stop = nullptr;
  // Leave when this many jobs have been handled (0: never), or when the queue has stayed empty for
  // idle_exit_ms (0: never). Used by `rlm jobs bench` and tests.
  uint64_t max_jobs = 0;
  int idle_exit_ms = 0;
};

struct WorkerStats {
  std::atomic<uint64_t> handled{0};    // committed jobs (done, retried or dead)
  std::atomic<uint64_t> failed{0};     // handler failures (each attempt)
  std::atomic<uint64_t> reclaimed{0};  // taken over from other workers
  std::atomic<uint64_t> rejected{0};   // invalid jobs dead-lettered without a result
  // Stopped while Redis was unreachable: the jobs in hand (uncommitted) stay pending in the group and other
  // workers take them over after the visibility timeout.
  std::atomic<bool> stopped_unreachable{false};
  std::atomic<uint64_t> uncommitted{0};
};

using JobHandler = std::function<JobOutcome(const Job&)>;

// Serves jobs until stopped. The handler runs concurrently on up to `concurrency` threads; an exception
// from it is a failed attempt with the exception's message. Throws IoError when Redis stays unreachable
// past the client's reconnect deadline; returns promptly when stopped while it is unreachable (then
// stats->stopped_unreachable is set). A stream or group deleted under the worker (`jobs purge --all`, a
// Redis restarted without its data) is created again and serving goes on.
void RunWorker(const RedisUrl& url, const JobQueue& queue, const WorkerOptions& options,
               const JobHandler& handler, WorkerStats* stats = nullptr);

// A worker whose last heartbeat is older than this is presumed gone (it was killed; a worker that stops
// cleanly removes itself from <p>workers).
inline constexpr int64_t kWorkerGoneMs = 60000;

// Milliseconds since the Unix epoch: the clock of due times, heartbeats and run timestamps (shared by every
// process, unlike steady_clock).
int64_t UnixMillis();

// The result recorded for a job that ended in the dead-letter stream: "!<attempts>\t<error>". Handlers
// results must not start with '!'.
std::string DeadJobValue(int attempts, std::string_view error);
bool ParseDeadJobValue(std::string_view value, int* attempts, std::string* error);

// Moves due delayed jobs back into the stream (at most `limit`); returns how many.
int64_t PromoteDelayed(RedisClient& redis, const JobQueue& queue, size_t limit = 1000);

// Trims the stream's acknowledged entries: those before both the group's last delivered entry and its
// oldest pending one. Workers call it as part of their maintenance.
void TrimAcknowledged(RedisClient& redis, const JobQueue& queue);

// Decodes an XREADGROUP/XRANGE entry list ([[id, [field, value, ...]], ...]) into jobs. Entries whose
// fields are missing or malformed are returned in `bad` (their ids) instead of throwing, so one bad entry
// cannot stop a worker. Throws IoError when the reply's shape is wrong.
std::vector<Job> DecodeEntries(const RedisValue& entries, std::vector<std::string>* bad);

}  // namespace rlm
