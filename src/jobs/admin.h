// Operating the Redis job queue: `rlm jobs status|retry|purge|bench`.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "jobs/queue.h"
#include "jobs/redis.h"

namespace rlm {

struct RunProgress {
  std::string run;
  int64_t queries = 0, variants = 0;  // as published
  int64_t embed_done = 0;             // embedding batches with a result
  int64_t query_done = 0;             // query jobs with a result (of queries * variants)
  bool finished = false;              // the coordinator collected the results
};

struct WorkerBeat {
  std::string name;
  int64_t age_ms = 0;  // since its last heartbeat
  bool live() const { return age_ms < kWorkerGoneMs; }
};

struct QueueStatus {
  int64_t queued = 0;   // in the stream, not yet delivered
  int64_t running = 0;  // delivered, not yet acknowledged (XPENDING)
  int64_t delayed = 0;  // waiting for a retry
  int64_t dead = 0;     // entries in the dead-letter stream
  // Counters since the queue was created: produced completed retried dead reclaimed duplicates.
  std::vector<std::pair<std::string, int64_t>> counters;
  std::vector<WorkerBeat> workers;
  std::vector<RunProgress> runs;

  int64_t live_workers() const {
    return std::count_if(workers.begin(), workers.end(), [](const WorkerBeat& w) { return w.live(); });
  }
};

QueueStatus ReadQueueStatus(RedisClient& redis, const JobQueue& queue);

// The status in Prometheus' text exposition format (rlm_jobs_* gauges and counters).
std::string PrometheusText(const QueueStatus& status);

// Moves dead-lettered jobs (of `run`, or all when empty) back into the stream with fresh attempts, and
// forgets their recorded failure so their new result counts. Returns how many.
size_t RetryDead(RedisClient& redis, const JobQueue& queue, const std::string& run);

// Deletes the dead-letter stream; with `run`, that run's description and results instead; with `all`,
// every key of the queue (jobs, runs, blobs, vectors, counters). Returns the number of keys deleted.
size_t PurgeQueue(RedisClient& redis, const JobQueue& queue, const std::string& run, bool all);

struct QueueBenchResult {
  size_t jobs = 0, concurrency = 0;
  double produce_per_s = 0, consume_per_s = 0;
};

// No-op jobs through the real queue code, on keys of their own (deleted afterwards): `jobs` XADDed in
// pipelined batches, then consumed by one worker running `concurrency` at once.
QueueBenchResult BenchQueue(const RedisUrl& url, size_t jobs, size_t concurrency);

}  // namespace rlm
