// Distributed runs: `rlm worker --redis URL` serves evaluation jobs; `rlm jobs status|retry|purge|bench
// --redis URL` operates the queue (jobs/queue.h, jobs/admin.h). The URL may come from $RLM_REDIS_URL and the
// password from --redis-password-file (cli/redis_flags.h); the password is never printed.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cli/context.h"
#include "cli/redis_flags.h"
#include "core/error.h"
#include "embed/embedding_cache.h"
#include "eval/jobs.h"
#include "jobs/admin.h"
#include "jobs/eval_jobs.h"
#include "jobs/queue.h"

namespace rlm::cli {
namespace {

struct WorkerArgs {
  RedisFlags redis;
  size_t concurrency = 5;
  int visibility_ms = 30000;
  int max_attempts = kJobAttempts;
  std::string blob_dir;
  double idle_exit_s = 0;
};

void RunWorkerCommand(Context& ctx, const WorkerArgs& a) {
  const RedisUrl url = ResolveRedisUrl(ctx, a.redis);
  if (a.concurrency == 0) throw UsageError("--concurrency must be at least 1");
  if (a.max_attempts < 1) throw UsageError("--max-attempts must be at least 1");
  if (a.visibility_ms < 100) throw UsageError("--visibility-ms must be at least 100");
  const std::string blob_dir = a.blob_dir.empty()
                                   ? (std::filesystem::path(EmbeddingCache::DefaultDir()) / "blobs").string()
                                   : a.blob_dir;
  const JobQueue queue;
  // Installed first: the handler's and the worker's waits for an unreachable Redis end on SIGINT/SIGTERM.
  std::optional<StopOnSignals> signals(std::in_place);
  EvalJobHandler handler(url, queue, blob_dir, &signals->flag());
  WorkerOptions o;
  o.concurrency = a.concurrency;
  o.visibility_ms = a.visibility_ms;
  o.max_attempts = a.max_attempts;
  o.backoff_ms = kJobBackoffMs;  // the evaluation jobs' backoff (eval/jobs.h), as in-process runs retry
  o.idle_exit_ms = static_cast<int>(a.idle_exit_s * 1000);
  WorkerStats stats;
  ctx.Note("worker serving " + url.Redacted() + " with concurrency " + std::to_string(a.concurrency) +
           " (Ctrl-C finishes the jobs in hand and leaves)");
  o.stop = &signals->flag();
  RunWorker(
      url, queue, o, [&handler](const Job& j) { return handler(j); }, &stats);
  signals.reset();
  if (stats.stopped_unreachable) {
    ctx.Note("Redis at " + url.Redacted() + " is unreachable: " + std::to_string(stats.uncommitted.load()) +
             " jobs in hand were not committed; they stay pending and other workers take them over");
  }
  const json summary = {{"handled", stats.handled.load()},
                        {"failed_attempts", stats.failed.load()},
                        {"rejected", stats.rejected.load()},
                        {"reclaimed", stats.reclaimed.load()},
                        {"embedding_batches_computed", handler.counters().batches_computed.load()},
                        {"embedding_batches_reused", handler.counters().batches_reused.load()}};
  if (ctx.json_mode()) {
    ctx.Emit(summary);
  } else {
    ctx.Note("worker stopped: " + std::to_string(stats.handled.load()) + " jobs handled, " +
             std::to_string(stats.failed.load()) + " failed attempts, " +
             std::to_string(stats.reclaimed.load()) + " taken over from other workers; embedding batches: " +
             std::to_string(handler.counters().batches_computed.load()) + " computed, " +
             std::to_string(handler.counters().batches_reused.load()) + " found in Redis");
  }
}

struct JobsArgs {
  RedisFlags redis;
  std::string run;
  bool all = false;
  bool prometheus = false;
  size_t jobs = 100000;
  size_t concurrency = 5;
};

void Status(Context& ctx, const JobsArgs& a) {
  RedisClient redis(ResolveRedisUrl(ctx, a.redis));
  const QueueStatus s = ReadQueueStatus(redis, JobQueue());
  if (a.prometheus) {
    ctx.Print(PrometheusText(s));
    return;
  }
  json counters = json::object();
  for (const auto& [name, v] : s.counters) counters[name] = v;
  json workers = json::array();
  for (const WorkerBeat& w : s.workers) {
    workers.push_back({{"name", w.name}, {"last_seen_ms", w.age_ms}, {"live", w.live()}});
  }
  json runs = json::array();
  for (const RunProgress& p : s.runs) {
    runs.push_back({{"run", p.run},
                    {"queries", p.queries},
                    {"variants", p.variants},
                    {"query_jobs_done", p.query_done},
                    {"query_jobs_total", p.queries * p.variants},
                    {"embed_jobs_done", p.embed_done},
                    {"finished", p.finished}});
  }
  if (ctx.json_mode()) {
    ctx.Emit({{"redis", redis.url().Redacted()},
              {"queued", s.queued},
              {"running", s.running},
              {"delayed", s.delayed},
              {"dead", s.dead},
              {"counters", counters},
              {"workers", workers},
              {"runs", runs}});
    return;
  }
  std::string out = "Redis " + redis.url().Redacted() + "\n";
  out += "  queued " + std::to_string(s.queued) + ", running " + std::to_string(s.running) +
         ", waiting to retry " + std::to_string(s.delayed) + ", dead-lettered " + std::to_string(s.dead) +
         "\n  since created:";
  for (const auto& [name, v] : s.counters) out += " " + name + " " + std::to_string(v);
  out += "\n  workers: " + std::to_string(s.live_workers()) + " live\n";
  for (const WorkerBeat& w : s.workers) {
    out += "    " + w.name + " (last heartbeat " + std::to_string(w.age_ms / 1000) + " s ago" +
           (w.live() ? "" : ", presumed gone") + ")\n";
  }
  for (const RunProgress& p : s.runs) {
    out += "  run " + p.run + ": " + std::to_string(p.query_done) + "/" +
           std::to_string(p.queries * p.variants) + " query jobs" + (p.finished ? ", finished" : "") + "\n";
  }
  ctx.Print(out);
}

void Retry(Context& ctx, const JobsArgs& a) {
  RedisClient redis(ResolveRedisUrl(ctx, a.redis));
  const size_t n = RetryDead(redis, JobQueue(), a.run);
  if (ctx.json_mode()) {
    ctx.Emit({{"requeued", n}});
  } else {
    ctx.Line("requeued " + std::to_string(n) + " dead-lettered jobs");
  }
}

void Purge(Context& ctx, const JobsArgs& a) {
  if (a.all && !a.run.empty()) throw UsageError("give --all or --run, not both");
  RedisClient redis(ResolveRedisUrl(ctx, a.redis));
  const size_t n = PurgeQueue(redis, JobQueue(), a.run, a.all);
  if (ctx.json_mode()) {
    ctx.Emit({{"deleted_keys", n}});
  } else {
    ctx.Line("deleted " + std::to_string(n) + " keys");
  }
}

void Bench(Context& ctx, const JobsArgs& a) {
  const QueueBenchResult r = BenchQueue(ResolveRedisUrl(ctx, a.redis), a.jobs, a.concurrency);
  if (ctx.json_mode()) {
    ctx.Emit({{"jobs", r.jobs},
              {"concurrency", r.concurrency},
              {"produce_per_s", static_cast<int64_t>(r.produce_per_s)},
              {"consume_per_s", static_cast<int64_t>(r.consume_per_s)}});
  } else {
    ctx.Line(std::to_string(r.jobs) + " no-op jobs, concurrency " + std::to_string(r.concurrency) +
             ": produced " + std::to_string(static_cast<int64_t>(r.produce_per_s)) + "/s, consumed " +
             std::to_string(static_cast<int64_t>(r.consume_per_s)) + "/s");
  }
}

}  // namespace

void RegisterJobsCommands(CLI::App& app, Context& ctx) {
  auto w = std::make_shared<WorkerArgs>();
  CLI::App* worker =
      app.add_subcommand("worker", "Serve the jobs of distributed evaluation runs (Redis Streams)");
  AddRedisFlags(worker, w->redis, /*from_environment=*/true);
  worker->add_option("--concurrency", w->concurrency, "Jobs run at once")->capture_default_str();
  worker
      ->add_option("--visibility-ms", w->visibility_ms,
                   "A job idle this long in a dead or stalled worker is taken over")
      ->capture_default_str();
  worker->add_option("--max-attempts", w->max_attempts, "Attempts before the dead-letter stream")
      ->capture_default_str();
  worker->add_option("--blob-dir", w->blob_dir, "Local cache of the runs' inputs [$RLM_CACHE_DIR/blobs]");
  worker->add_option("--exit-when-idle", w->idle_exit_s,
                     "Leave after this many seconds without jobs (0: never)");
  OnRun(worker, ctx, [&ctx, w] { RunWorkerCommand(ctx, *w); });

  auto a = std::make_shared<JobsArgs>();
  CLI::App* jobs = app.add_subcommand("jobs", "The Redis job queue: status, retry, purge, bench");
  jobs->require_subcommand(1);
  CLI::App* status = jobs->add_subcommand("status", "Queued, running, retried and dead jobs; workers; runs");
  AddRedisFlags(status, a->redis, /*from_environment=*/true);
  status->add_flag("--prometheus", a->prometheus, "Print the counters in Prometheus' text format");
  OnRun(status, ctx, [&ctx, a] { Status(ctx, *a); });
  CLI::App* retry = jobs->add_subcommand("retry", "Put dead-lettered jobs back in the queue");
  AddRedisFlags(retry, a->redis, /*from_environment=*/true);
  retry->add_option("--run", a->run, "Only the jobs of this run");
  OnRun(retry, ctx, [&ctx, a] { Retry(ctx, *a); });
  CLI::App* purge = jobs->add_subcommand("purge", "Delete the dead-letter stream (or a run, or everything)");
  AddRedisFlags(purge, a->redis, /*from_environment=*/true);
  purge->add_option("--run", a->run, "Delete this run's description and results instead");
  purge->add_flag("--all", a->all, "Delete every key of the queue: jobs, runs, blobs, vectors, counters");
  OnRun(purge, ctx, [&ctx, a] { Purge(ctx, *a); });
  CLI::App* bench = jobs->add_subcommand("bench", "Measure the queue with no-op jobs");
  AddRedisFlags(bench, a->redis, /*from_environment=*/true);
  bench->add_option("--jobs", a->jobs, "Jobs")->capture_default_str();
  bench->add_option("--concurrency", a->concurrency, "Jobs run at once by the consumer")
      ->capture_default_str();
  OnRun(bench, ctx, [&ctx, a] { Bench(ctx, *a); });
}

}  // namespace rlm::cli
