// The jobs of an evaluation, defined once. An evaluation is two kinds of idempotent jobs:
//   embed   the unit vectors of one batch of kUnitsPerEmbedJob units of a variant (EmbedJobUnits, then
//           EmbedTexts from embed/embedder.h on those units' texts);
//   query   one query of one variant against the variant's built retriever (RunQueryJob).
// Both executors only schedule them: eval/runner.h (in process: TBB, checkpoints in the SQLite ledger) and
// jobs/eval_jobs.h (Redis Streams workers). Both use the same attempt limit and backoff (JobRetryDelay):
// a job that throws is retried up to kJobAttempts attempts in all, then recorded as failed with its error.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string_view>

#include "embed/embedder.h"
#include "eval/ledger.h"
#include "eval/retriever.h"

namespace rlm {

inline constexpr size_t kUnitsPerEmbedJob = 1024;  // units per embedding job
inline constexpr int kJobAttempts = 3;             // attempts of a job before it is a failure
inline constexpr int kJobBackoffMs = 200;          // the wait after attempt n is kJobBackoffMs * 2^(n-1)

// The wait before retrying a job whose `attempt` (1-based) failed: kJobBackoffMs * 2^(attempt - 1), at
// most a minute. The Redis queue adds +-25% jitter to it (jobs/queue.h).
std::chrono::milliseconds JobRetryDelay(int attempt);

struct UnitRange {
  size_t begin = 0, end = 0;
  size_t size() const { return end - begin; }
};

// How many embedding jobs cover `units` units, and the units of job `job`. EmbedJobUnits throws
// InvalidInput for a job past the last.
size_t EmbedJobCount(size_t units);
UnitRange EmbedJobUnits(size_t job, size_t units);

// The query job: embeds `query` (query role) when `embedder` is given and retrieves with `retriever`; the
// result carries the ranking and the latency of both steps. Throws what they throw (the executor retries).
// Thread-safe when the retriever and the embedder are.
JobResult RunQueryJob(const VariantRetriever& retriever, const Embedder* embedder, std::string_view query);

}  // namespace rlm
