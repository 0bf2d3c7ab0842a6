#include "eval/runner.h"

#include <tbb/parallel_for.h>

#include <chrono>
#include <thread>

#include "core/error.h"
#include "embed/embedder.h"
#include "eval/jobs.h"

namespace rlm {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

bool Stopped(const RunOptions& o) {
  return o.stop != nullptr && o.stop->load(std::memory_order_relaxed);
}

// Unit vectors for one variant: from the ledger when present, else embedded in batches (each batch is an
// embedding job, stored as soon as it is done). Returns early (incomplete) when the run is stopped.
std::vector<float> UnitVectors(const CorpusUnits& units, const Embedder& embedder, Ledger& ledger,
                               const RunOptions& options, const std::string& phase, uint64_t* computed) {
  const size_t dims = embedder.Dims();
  const std::string fp = embedder.Fingerprint();
  std::vector<float> vectors(units.texts.size() * dims);
  std::vector<Hash128> keys(units.texts.size());
  tbb::parallel_for(size_t{0}, keys.size(), [&](size_t i) { keys[i] = ContentHash(units.texts[i]); });
  const uint64_t before = embedder.counters().texts.load();
  size_t done = 0;
  for (size_t job = 0; job < EmbedJobCount(keys.size()); ++job) {
    if (Stopped(options)) break;
    const UnitRange range = EmbedJobUnits(job, keys.size());
    const size_t begin = range.begin, n = range.size();
    std::span<const Hash128> job_keys(keys.data() + begin, n);
    float* out = vectors.data() + begin * dims;
    std::vector<bool> found;
    ledger.LookupVectors(fp, dims, job_keys, out, found);
    std::vector<std::string_view> texts;
    std::vector<Hash128> miss_keys;
    std::vector<size_t> miss_rows;
    for (size_t i = 0; i < n; ++i) {
      if (found[i]) continue;
      texts.push_back(units.texts[begin + i]);
      miss_keys.push_back(job_keys[i]);
      miss_rows.push_back(i);
    }
    if (!texts.empty()) {
      std::vector<float> rows(texts.size() * dims);
      EmbedTexts(embedder, texts, rows.data());
      for (size_t m = 0; m < miss_rows.size(); ++m) {
        std::copy(rows.begin() + m * dims, rows.begin() + (m + 1) * dims, out + miss_rows[m] * dims);
      }
      ledger.StoreVectors(fp, dims, miss_keys, rows.data());
    }
    done += n;
    if (options.progress) options.progress(phase, done, keys.size());
  }
  *computed = embedder.counters().texts.load() - before;
  return vectors;
}

}  // namespace

RunOutcome RunEvaluation(const RunCorpus& corpus, const std::vector<RunVariant>& variants,
                         const RunOptions& options) {
  if (corpus.doc_ids.size() != corpus.doc_texts.size() ||
      corpus.query_ids.size() != corpus.query_texts.size()) {
    throw InternalError("corpus ids and texts differ in length");
  }
  Ledger ledger(options.out_dir);
  auto recorded = ledger.LoadResults(options.run_id);
  RunOutcome outcome;
  for (const RunVariant& v : variants) {
    VariantRun run;
    run.name = v.name;
    auto& done = recorded[v.name];
    std::vector<size_t> todo;
    for (size_t q = 0; q < corpus.query_ids.size(); ++q) {
      if (!done.count(corpus.query_ids[q])) todo.push_back(q);
    }
    run.resumed = corpus.query_ids.size() - todo.size();

    std::unique_ptr<Embedder> embedder;
    std::vector<float> vectors;
    size_t dims = 0;  // of the unit vectors
    auto t0 = Clock::now();
    const CorpusUnits units = SplitCorpus(corpus.doc_texts, v.chunker, v.chunk);
    if (v.retrieval.NeedsVectors() && !todo.empty()) {
      embedder = MakeEmbedder(v.embedder);
      dims = embedder->Dims();
      vectors = UnitVectors(units, *embedder, ledger, options, "embed " + v.name, &run.vectors_computed);
    }
    run.embed_seconds = Since(t0);

    if (!todo.empty() && !Stopped(options)) {
      t0 = Clock::now();
      const VariantRetriever retriever(v.retrieval, units, std::move(vectors), dims);
      run.index_seconds = Since(t0);
      t0 = Clock::now();
      std::atomic<size_t> finished{0};
      std::vector<JobResult> fresh(todo.size());  // slot t: job t's result; query_id empty if never run
      tbb::parallel_for(size_t{0}, todo.size(), [&](size_t t) {
        if (Stopped(options)) return;
        const size_t q = todo[t];
        JobResult r;
        r.variant = v.name;
        r.query_id = corpus.query_ids[q];
        for (r.attempts = 1;; ++r.attempts) {
          try {
            JobResult done = RunQueryJob(retriever, embedder.get(), corpus.query_texts[q]);
            r.docs = std::move(done.docs);
            r.latency_us = done.latency_us;
            r.ok = true;
            r.error.clear();
            break;
          } catch (const std::exception& e) {
            r.ok = false;
            r.error = e.what();
            r.docs.clear();
            if (r.attempts >= kJobAttempts) break;
            std::this_thread::sleep_for(JobRetryDelay(r.attempts));
          }
        }
        ledger.Append(options.run_id, r);
        if (ledger.pending() >= options.flush_every) ledger.Flush();
        fresh[t] = std::move(r);
        const size_t n = finished.fetch_add(1) + 1;
        if (options.progress) options.progress("query " + v.name, n, todo.size());
      });
      ledger.Flush();
      run.query_seconds = Since(t0);
      for (JobResult& r : fresh) {
        if (!r.query_id.empty()) done[r.query_id] = std::move(r);
      }
    }
    for (size_t q = 0; q < corpus.query_ids.size(); ++q) {
      auto it = done.find(corpus.query_ids[q]);
      if (it == done.end()) continue;
      if (!it->second.ok) ++run.failed;
      run.results.push_back(it->second);
    }
    outcome.variants.push_back(std::move(run));
    if (Stopped(options)) {
      outcome.interrupted = true;
      break;
    }
  }
  return outcome;
}

}  // namespace rlm
