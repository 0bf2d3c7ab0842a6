// Evaluation runs on the Redis job queue (jobs/queue.h): the coordinator side of `rlm eval run --redis` and
// the job handler of `rlm worker`.
//
// A run's inputs travel through Redis as content-addressed blobs (<p>blob:<xxh3-128 hex>): the corpus and
// queries (binary, EncodeCorpus) and the variants (JSON). <p>run:<run id> is a hash naming them, with the
// phases already published; <p>runs is the set of known runs. Jobs:
// The job bodies are eval/jobs.h's; this file only ships inputs and schedules them:
//   embed  id "<variant>:<batch>"  payload "<variant> <batch>": embeds kUnitsPerEmbedJob units and stores the
//          vectors at <p>vec:<hash of embedder fingerprint + the units' text hashes>; a batch already there
//          (another variant with the same units and embedder, an earlier run) is not computed again.
//   query  id "<variant>:<query>"  payload the same: retrieves one query; the result is EncodeJobResult.
// Workers build each variant's index once per process from the blobs and the stored vectors.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "eval/runner.h"
#include "jobs/queue.h"
#include "jobs/redis.h"

namespace rlm {

// Codecs. The decoders validate everything and throw IoError naming what is wrong (they read Redis values
// another process wrote).
std::string EncodeCorpus(const RunCorpus& corpus);
RunCorpus DecodeCorpus(std::string_view blob);
std::string EncodeVariants(const std::vector<RunVariant>& variants);
std::vector<RunVariant> DecodeVariants(std::string_view json_text);
// The ranking, latency and attempts of a finished query job (variant and query id are the job's).
std::string EncodeJobResult(const JobResult& result);
JobResult DecodeJobResult(std::string_view value);

struct DistributedOptions {
  RedisUrl url;
  std::string prefix = "rlm:";
  uint64_t max_ship_bytes = uint64_t{256} << 20;  // per blob; Redis itself accepts at most 512 MB per value
  int poll_ms = 50;
};

// Publishes the run's blobs and jobs (each phase once: a re-run with the same run id follows the jobs
// already there), follows the workers' progress, and returns the outcome a local RunEvaluation would.
// When Redis loses the run while it is followed (its description or the job stream vanish: a restart
// without persistence, FLUSHALL, `jobs purge`), the inputs are stored again and the jobs without a result
// published again, from the embedding phase on. Stops following (interrupted) when options.stop is set, at
// once even while Redis is unreachable; outcome.interruption then says what is left of the run in Redis.
RunOutcome RunDistributed(const RunCorpus& corpus, const std::vector<RunVariant>& variants,
                          const RunOptions& options, const DistributedOptions& distributed);

// The job handler of `rlm worker`: thread-safe; loads a run's inputs on first use (cached on disk in
// `blob_dir` by hash, when not empty) and keeps the built indexes in memory. A job that is not one of its
// run's (id and payload disagree, out of range, a run Redis does not describe) is rejected
// (JobOutcome::rejected): dead-lettered without a result, so a forged entry cannot write into a run.
class EvalJobHandler {
 public:
  // `stop` (may be null) cuts short the handler's waits for an unreachable Redis (RedisOptions::stop).
  EvalJobHandler(RedisUrl url, JobQueue queue, std::string blob_dir, const std::atomic<bool>* stop = nullptr);
  ~EvalJobHandler();
  JobOutcome operator()(const Job& job);

  struct Counters {
    std::atomic<uint64_t> batches_computed{0};  // embedding jobs that embedded their units
    std::atomic<uint64_t> batches_reused{0};    // embedding jobs whose vectors were already in Redis
  };
  const Counters& counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Content-addressed blobs: Put stores `data` (unless present) and returns its hash; Get fetches and verifies
// it, through `cache_dir` when not empty. Put throws InvalidInput past `max_bytes`.
std::string PutBlob(RedisClient& redis, const JobQueue& queue, std::string_view data, uint64_t max_bytes,
                    std::string_view what);
std::string GetBlob(RedisClient& redis, const JobQueue& queue, const std::string& hash,
                    const std::string& cache_dir);

}  // namespace rlm
