#include "jobs/admin.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <random>

#include "core/error.h"

namespace rlm {
namespace {

using Clock = std::chrono::steady_clock;


std::map<std::string, std::string> HashOf(const RedisValue& v, std::string_view what) {
  std::map<std::string, std::string> out;
  const auto& kv = v.Array(what);
  for (size_t i = 0; i + 1 < kv.size(); i += 2) out[kv[i].String(what)] = kv[i + 1].String(what);
  return out;
}

int64_t ToInt(const std::string& s) {
  RedisValue v;
  v.type = RedisValue::Type::kString;
  v.str = s;
  return v.Integer("a counter");
}

// Every key under the queue's prefix (SCAN, so a large database is not blocked).
std::vector<std::string> KeysUnder(RedisClient& redis, const std::string& pattern) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  do {
    RedisValue r = redis.Command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
    const auto& parts = r.Array("SCAN");
    if (parts.size() != 2) throw IoError("Redis reply to SCAN: expected 2 parts");
    cursor = parts[0].String("the SCAN cursor");
    for (const RedisValue& k : parts[1].Array("SCAN keys")) keys.push_back(k.String("a key"));
  } while (cursor != "0");
  return keys;
}

size_t Unlink(RedisClient& redis, const std::vector<std::string>& keys) {
  size_t n = 0;
  for (size_t i = 0; i < keys.size(); i += 500) {
    std::vector<std::string> cmd = {"UNLINK"};
    cmd.insert(cmd.end(), keys.begin() + i, keys.begin() + std::min(keys.size(), i + 500));
    n += static_cast<size_t>(redis.CommandOk(cmd).Integer("UNLINK"));
  }
  return n;
}

}  // namespace

QueueStatus ReadQueueStatus(RedisClient& redis, const JobQueue& q) {
  QueueStatus s;
  std::vector<RedisValue> r = redis.Pipeline({{"XINFO", "GROUPS", q.Key("jobs")},
                                              {"XPENDING", q.Key("jobs"), JobQueue::kGroup},
                                              {"ZCARD", q.Key("delayed")},
                                              {"XLEN", q.Key("dead")},
                                              {"HGETALL", q.Key("stats")},
                                              {"HGETALL", q.Key("workers")},
                                              {"SMEMBERS", q.Key("runs")}});
  // Queued: the group's lag (entries not yet delivered, Redis >= 7). No stream or group yet: nothing queued.
  if (!r[0].IsError()) {
    for (const RedisValue& g : r[0].Array("XINFO GROUPS")) {
      std::map<std::string, const RedisValue*> f;
      const auto& kv = g.Array("an XINFO group");
      for (size_t i = 0; i + 1 < kv.size(); i += 2) f[kv[i].str] = &kv[i + 1];
      if (f.count("name") && f["name"]->str == JobQueue::kGroup && f.count("lag") && !f["lag"]->IsNil()) {
        s.queued = f["lag"]->Integer("XINFO lag");
      }
    }
  }
  if (r[1].type == RedisValue::Type::kArray && !r[1].elements.empty()) {
    s.running = r[1].elements[0].Integer("XPENDING");
  }
  s.delayed = r[2].Integer("ZCARD");
  s.dead = r[3].Integer("XLEN");
  std::map<std::string, std::string> stats = HashOf(r[4], "HGETALL stats");
  for (const char* name : {"produced", "completed", "retried", "dead", "reclaimed", "duplicates"}) {
    s.counters.push_back({name, stats.count(name) ? ToInt(stats[name]) : 0});
  }
  const int64_t now = UnixMillis();
  for (const auto& [name, beat] : HashOf(r[5], "HGETALL workers")) s.workers.push_back({name, now - ToInt(beat)});
  std::vector<std::string> runs;
  for (const RedisValue& v : r[6].Array("SMEMBERS runs")) runs.push_back(v.String("a run id"));
  std::sort(runs.begin(), runs.end());
  for (const std::string& run : runs) {
    std::vector<RedisValue> x = redis.Pipeline({{"HGETALL", q.Key("run:") + run},
                                                {"HLEN", q.ResultsKey(run, "embed")},
                                                {"HLEN", q.ResultsKey(run, "query")}});
    std::map<std::string, std::string> meta = HashOf(x[0], "HGETALL run");
    RunProgress p;
    p.run = run;
    if (meta.count("queries")) p.queries = ToInt(meta["queries"]);
    if (meta.count("variant_count")) p.variants = ToInt(meta["variant_count"]);
    p.embed_done = x[1].Integer("HLEN");
    p.query_done = x[2].Integer("HLEN");
    p.finished = meta.count("finished_ms") > 0;
    s.runs.push_back(p);
  }
  return s;
}

std::string PrometheusText(const QueueStatus& s) {
  std::string out;
  auto gauge = [&](const std::string& name, const std::string& help, int64_t v) {
    out += "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " + std::to_string(v) + "\n";
  };
  gauge("rlm_jobs_queued", "Jobs in the stream not yet delivered to a worker.", s.queued);
  gauge("rlm_jobs_running", "Jobs delivered to a worker and not yet acknowledged.", s.running);
  gauge("rlm_jobs_delayed", "Failed jobs waiting for their retry.", s.delayed);
  gauge("rlm_jobs_dead_letter", "Entries in the dead-letter stream.", s.dead);
  gauge("rlm_jobs_workers", "Workers whose last heartbeat is under a minute old.",
        s.live_workers());
  out += "# HELP rlm_jobs_total Jobs by what happened to them, since the queue was created.\n";
  out += "# TYPE rlm_jobs_total counter\n";
  for (const auto& [name, v] : s.counters) out += "rlm_jobs_total{event=\"" + name + "\"} " + std::to_string(v) + "\n";
  return out;
}

size_t RetryDead(RedisClient& redis, const JobQueue& q, const std::string& run) {
  size_t moved = 0;
  std::string start = "-";
  for (;;) {
    RedisValue r = redis.Command({"XRANGE", q.Key("dead"), start, "+", "COUNT", "500"});
    const auto& entries = r.Array("XRANGE dead");
    if (entries.empty()) break;
    std::vector<std::vector<std::string>> cmds;
    for (const RedisValue& e : entries) {
      const auto& pair = e.Array("a dead-letter entry");
      if (pair.size() != 2) continue;
      const std::string& id = pair[0].String("an entry id");
      start = "(" + id;
      std::map<std::string, std::string> f = HashOf(pair[1], "dead-letter fields");
      if (!f.count("k") || !f.count("i")) continue;  // a malformed entry kept for inspection
      if (!run.empty() && f["r"] != run) continue;
      if (!f["r"].empty()) cmds.push_back({"HDEL", q.ResultsKey(f["r"], f["k"]), f["i"]});
      cmds.push_back({"XADD", q.Key("jobs"), "*", "r", f["r"], "k", f["k"], "i", f["i"], "a", "1", "p", f["p"]});
      cmds.push_back({"XDEL", q.Key("dead"), id});
      ++moved;
    }
    if (!cmds.empty()) {
      cmds.insert(cmds.begin(), {"MULTI"});
      cmds.push_back({"EXEC"});
      redis.Pipeline(cmds);
    }
  }
  return moved;
}

size_t PurgeQueue(RedisClient& redis, const JobQueue& q, const std::string& run, bool all) {
  if (all) return Unlink(redis, KeysUnder(redis, q.prefix() + "*"));
  if (!run.empty()) {
    std::vector<std::string> keys = KeysUnder(redis, q.Key("run:") + run + "*");
    redis.Command({"SREM", q.Key("runs"), run});
    return Unlink(redis, keys);
  }
  return Unlink(redis, {q.Key("dead")});
}

QueueBenchResult BenchQueue(const RedisUrl& url, size_t jobs, size_t concurrency) {
  if (jobs == 0 || concurrency == 0) throw InvalidInput("jobs bench needs --jobs and --concurrency of at least 1");
  std::random_device rd;
  const JobQueue queue("rlm:bench:" + std::to_string(rd()) + ":");
  RedisClient redis(url);
  QueueBenchResult out;
  out.jobs = jobs;
  out.concurrency = concurrency;
  try {
    queue.EnsureGroup(redis);
    std::vector<Job> batch(jobs);
    for (size_t i = 0; i < jobs; ++i) {
      batch[i].kind = "noop";
      batch[i].id = std::to_string(i);
    }
    auto t0 = Clock::now();
    queue.Publish(redis, batch);
    out.produce_per_s = double(jobs) / std::chrono::duration<double>(Clock::now() - t0).count();

    WorkerOptions o;
    o.concurrency = concurrency;
    o.max_jobs = jobs;
    o.idle_exit_ms = 5000;  // a bug that loses jobs ends the bench instead of hanging it
    o.block_ms = 100;
    WorkerStats stats;
    t0 = Clock::now();
    RunWorker(url, queue, o, [](const Job&) { return JobOutcome{true, "", ""}; }, &stats);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    if (stats.handled.load() != jobs) {
      throw InternalError("jobs bench: " + std::to_string(stats.handled.load()) + " of " + std::to_string(jobs) +
                          " jobs were consumed");
    }
    out.consume_per_s = double(jobs) / secs;
  } catch (...) {
    PurgeQueue(redis, queue, "", true);
    throw;
  }
  PurgeQueue(redis, queue, "", true);
  return out;
}

}  // namespace rlm
