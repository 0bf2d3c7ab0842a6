// Runs an evaluation on the job model: for each variant, embedding-batch jobs (unit vectors, through the
// ledger, so a vector is computed once per (embedder, text) in an output folder and, for models, once per
// machine through the embedding cache), then one job per (variant, query) on a TBB pool. Results go to the
// checkpoint ledger (eval/ledger.h) in batches; a re-run of the same run id resumes and recomputes only
// the jobs without a result. The job bodies, attempt limit and backoff are eval/jobs.h's: a job that throws
// is retried (kJobAttempts in all, waiting JobRetryDelay) and then
// recorded as failed with its error: failures are counted and reported, never scored as 0.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "chunk/chunker.h"
#include "core/progress.h"
#include "eval/ledger.h"
#include "eval/retriever.h"
#include "text/analyzer.h"

namespace rlm {

struct RunVariant {
  std::string name;
  std::string chunker;  // "" = whole documents
  ChunkOptions chunk;
  std::string embedder = "hash";
  RetrieverConfig retrieval;
};

// The corpus and queries as the runner sees them (documents as `title + " " + text`).
struct RunCorpus {
  std::vector<std::string> doc_ids;
  std::vector<std::string> doc_texts;
  std::vector<std::string> query_ids;
  std::vector<std::string> query_texts;
};

struct RunOptions {
  std::string run_id;
  std::string out_dir;                      // the ledger lives here
  size_t flush_every = 256;                 // results per ledger transaction
  const std::atomic<bool>* stop = nullptr;  // set (e.g. by SIGINT) to stop scheduling new jobs
  ProgressFn progress = nullptr;            // phases "embed <variant>", "query <variant>"
};

struct VariantRun {
  std::string name;
  std::vector<JobResult> results;  // one per query, in query order (missing when interrupted)
  size_t failed = 0;
  size_t resumed = 0;             // results taken from the ledger
  uint64_t vectors_computed = 0;  // units embedded by this run (0 when all came from the ledger/cache)
  double embed_seconds = 0;
  double index_seconds = 0;
  double query_seconds = 0;
};

struct RunOutcome {
  std::vector<VariantRun> variants;
  bool interrupted = false;
  std::string interruption;  // when interrupted, what is left and where (distributed runs; may be empty)
};

RunOutcome RunEvaluation(const RunCorpus& corpus, const std::vector<RunVariant>& variants,
                         const RunOptions& options);

}  // namespace rlm
