#include "jobs/queue.h"

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "core/error.h"

namespace rlm {
namespace {

using Clock = std::chrono::steady_clock;

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Commits a batch of finished jobs atomically. ARGV: stream group stats delayed dead claims, then per job
// 8 values: action(done|retry|dead|reject) entry results_key job_id value due_ms delayed_member
// dead_fields_json. A rejected job goes to the dead-letter stream without a result.
constexpr const char* kCommitScript = R"lua(
local stream, group, stats, delayed, dead, claims = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
for i = 7, #ARGV, 8 do
  local action, entry, rkey, jid, value = ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4]
  -- Only a job still pending is committed: when two workers ran it (one stalled past the visibility
  -- timeout and the other took it over), the first to commit acknowledges it and the other's XACK is 0.
  local owned = redis.call('XACK', stream, group, entry)
  if owned == 1 then
    if action == 'done' then
      if rkey == '' or redis.call('HSETNX', rkey, jid, value) == 1 then
        redis.call('HINCRBY', stats, 'completed', 1)
      else
        redis.call('HINCRBY', stats, 'duplicates', 1)
      end
    elseif action == 'retry' then
      redis.call('ZADD', delayed, ARGV[i+5], ARGV[i+6])
      redis.call('HINCRBY', stats, 'retried', 1)
    elseif action == 'reject' then
      local d = cjson.decode(ARGV[i+7])
      redis.call('XADD', dead, '*', 'r', d[1], 'k', d[2], 'i', d[3], 'a', d[4], 'p', d[5], 'error', d[6])
    else
      local d = cjson.decode(ARGV[i+7])
      redis.call('XADD', dead, '*', 'r', d[1], 'k', d[2], 'i', d[3], 'a', d[4], 'p', d[5], 'error', d[6])
      if rkey == '' or redis.call('HSETNX', rkey, jid, value) == 1 then
        redis.call('HINCRBY', stats, 'dead', 1)
      end
    end
    redis.call('HDEL', claims, entry)
  end
end
return 1
)lua";

// ARGV: delayed stream now_ms limit stats
constexpr const char* kPromoteScript = R"lua(
local due = redis.call('ZRANGEBYSCORE', ARGV[1], '-inf', ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
for _, m in ipairs(due) do
  local j = cjson.decode(m)
  redis.call('XADD', ARGV[2], '*', 'r', j[1], 'k', j[2], 'i', j[3], 'a', j[4], 'p', j[5])
  redis.call('ZREM', ARGV[1], m)
end
return #due
)lua";

std::vector<std::string> XaddArgs(const std::string& stream, const Job& j) {
  return {"XADD", stream,   "*", "r", j.run, "k", j.kind, "i", j.id, "a", std::to_string(j.attempt),
          "p",    j.payload};
}

// The stream or its group is gone: deleted (`jobs purge --all`), or Redis restarted without its data. A
// blocked XREADGROUP whose stream is deleted is answered "UNBLOCKED the stream key no longer exists".
bool GroupLost(const RedisValue& r) {
  return r.IsError() && (r.str.rfind("NOGROUP", 0) == 0 || r.str.rfind("UNBLOCKED", 0) == 0);
}

std::string DefaultWorkerName() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  std::random_device rd;
  char nonce[9];
  std::snprintf(nonce, sizeof nonce, "%08x", rd());
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + nonce;
}

}  // namespace

void JobQueue::EnsureGroup(RedisClient& redis) const {
  RedisValue v = redis.Command({"XGROUP", "CREATE", Key("jobs"), kGroup, "0", "MKSTREAM"});
  if (v.IsError() && v.str.rfind("BUSYGROUP", 0) != 0) {
    throw IoError("cannot create the consumer group of " + Key("jobs") + " on " + redis.url().Redacted() +
                  ": " + v.str);
  }
}

void JobQueue::Publish(RedisClient& redis, const std::vector<Job>& jobs,
                       const std::vector<std::vector<std::string>>& extra) const {
  constexpr size_t kChunk = 2000;
  const std::string stream = Key("jobs");
  size_t begin = 0;
  do {
    const size_t end = std::min(jobs.size(), begin + kChunk);
    const bool last = end == jobs.size();
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back({"MULTI"});
    for (size_t i = begin; i < end; ++i) cmds.push_back(XaddArgs(stream, jobs[i]));
    if (end > begin) cmds.push_back({"HINCRBY", Key("stats"), "produced", std::to_string(end - begin)});
    if (last) cmds.insert(cmds.end(), extra.begin(), extra.end());
    cmds.push_back({"EXEC"});
    std::vector<RedisValue> replies = redis.Pipeline(cmds);
    const RedisValue& exec = replies.back();
    if (exec.type != RedisValue::Type::kArray) {
      throw IoError("publishing jobs to " + stream +
                    " failed: " + (exec.IsError() ? exec.str : "transaction aborted"));
    }
    for (const RedisValue& r : exec.elements) {
      if (r.IsError()) throw IoError("publishing jobs to " + stream + " failed: " + r.str);
    }
    begin = end;
  } while (begin < jobs.size());
}

std::vector<Job> DecodeEntries(const RedisValue& entries, std::vector<std::string>* bad) {
  std::vector<Job> jobs;
  if (entries.IsNil()) return jobs;
  for (const RedisValue& e : entries.Array("stream entries")) {
    const auto& pair = e.Array("a stream entry");
    if (pair.size() != 2)
      throw IoError("Redis reply: a stream entry has " + std::to_string(pair.size()) + " parts, not 2");
    const std::string& id = pair[0].String("a stream entry id");
    if (pair[1].IsNil()) {  // deleted while pending (XAUTOCLAIM reports these separately; XREADGROUP as nil)
      if (bad) bad->push_back(id);
      continue;
    }
    const auto& fields = pair[1].Array("stream entry fields");
    Job j;
    j.entry = id;
    bool has_kind = false, has_id = false, ok = fields.size() % 2 == 0;
    for (size_t f = 0; ok && f + 1 < fields.size(); f += 2) {
      if (fields[f].type != RedisValue::Type::kString || fields[f + 1].type != RedisValue::Type::kString) {
        ok = false;
        break;
      }
      const std::string& name = fields[f].str;
      const std::string& value = fields[f + 1].str;
      if (name == "r") {
        j.run = value;
      } else if (name == "k") {
        j.kind = value;
        has_kind = true;
      } else if (name == "i") {
        j.id = value;
        has_id = true;
      } else if (name == "p") {
        j.payload = value;
      } else if (name == "a") {
        int a = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), a);
        if (ec != std::errc() || p != value.data() + value.size() || a < 1) ok = false;
        j.attempt = a;
      }
    }
    if (!ok || !has_kind || !has_id) {
      if (bad) bad->push_back(id);
      continue;
    }
    jobs.push_back(std::move(j));
  }
  return jobs;
}

int64_t UnixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string DeadJobValue(int attempts, std::string_view error) {
  return "!" + std::to_string(attempts) + "\t" + std::string(error);
}

bool ParseDeadJobValue(std::string_view value, int* attempts, std::string* error) {
  if (value.empty() || value[0] != '!') return false;
  const size_t tab = value.find('\t');
  if (tab == std::string_view::npos) return false;
  int a = 0;
  auto [p, ec] = std::from_chars(value.data() + 1, value.data() + tab, a);
  if (ec != std::errc() || p != value.data() + tab) return false;
  *attempts = a;
  *error = std::string(value.substr(tab + 1));
  return true;
}

void TrimAcknowledged(RedisClient& redis, const JobQueue& queue) {
  const std::string stream = queue.Key("jobs");
  std::vector<RedisValue> r =
      redis.Pipeline({{"XINFO", "GROUPS", stream}, {"XPENDING", stream, JobQueue::kGroup}});
  if (r[0].IsError() || r[1].IsError()) return;  // no stream or group yet
  std::string last_delivered;
  for (const RedisValue& g : r[0].Array("XINFO GROUPS")) {
    const auto& kv = g.Array("an XINFO group");
    bool ours = false;
    std::string last;
    for (size_t i = 0; i + 1 < kv.size(); i += 2) {
      if (kv[i].type != RedisValue::Type::kString && kv[i].type != RedisValue::Type::kStatus) continue;
      if (kv[i].str == "name")
        ours = kv[i + 1].type == RedisValue::Type::kString && kv[i + 1].str == JobQueue::kGroup;
      if (kv[i].str == "last-delivered-id") last = kv[i + 1].String("last-delivered-id");
    }
    if (ours) last_delivered = last;
  }
  if (last_delivered.empty() || last_delivered == "0-0") return;
  std::string min_id = last_delivered;  // everything before it was delivered ...
  const auto& pending = r[1].Array("XPENDING");
  if (pending.size() >= 2 && pending[0].Integer("XPENDING count") > 0) {
    min_id = pending[1].String("XPENDING first id");  // ... and everything before this one acknowledged
  }
  redis.Command({"XTRIM", stream, "MINID", "~", min_id});
}

int64_t PromoteDelayed(RedisClient& redis, const JobQueue& queue, size_t limit) {
  RedisValue v = redis.Command({"EVAL", kPromoteScript, "0", queue.Key("delayed"), queue.Key("jobs"),
                                std::to_string(UnixMillis()), std::to_string(limit)});
  if (v.IsError()) throw IoError("moving due retries back to " + queue.Key("jobs") + " failed: " + v.str);
  return v.Integer("the promote script");
}

namespace {

// `concurrency` threads that run the jobs of one batch (plain threads, not TBB's: jobs may wait on I/O, and
// handlers use TBB inside). Run(n, fn) calls fn(0..n-1) across the threads and returns when all are done.
class JobPool {
 public:
  explicit JobPool(size_t concurrency) {
    for (size_t t = 0; t < std::max<size_t>(1, concurrency); ++t) threads_.emplace_back([this] { Serve(); });
  }
  ~JobPool() {
    {
      std::lock_guard lock(mu_);
      quit_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  void Run(size_t n, const std::function<void(size_t)>& fn) {
    std::unique_lock lock(mu_);
    fn_ = &fn;
    n_ = n;
    next_ = 0;
    finished_ = 0;
    ++generation_;
    wake_.notify_all();
    done_.wait(lock, [&] { return finished_ == n_; });
    fn_ = nullptr;
  }

 private:
  void Serve() {
    uint64_t seen = 0;
    std::unique_lock lock(mu_);
    for (;;) {
      wake_.wait(lock, [&] { return quit_ || (generation_ != seen && next_ < n_); });
      if (quit_) return;
      while (next_ < n_) {
        const size_t i = next_++;
        const std::function<void(size_t)>* fn = fn_;
        lock.unlock();
        (*fn)(i);
        lock.lock();
        if (++finished_ == n_) done_.notify_one();
      }
      seen = generation_;
    }
  }

  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(size_t)>* fn_ = nullptr;
  size_t n_ = 0, next_ = 0, finished_ = 0;
  uint64_t generation_ = 0;
  bool quit_ = false;
};

class Worker {
 public:
  Worker(const RedisUrl& url, const JobQueue& queue, const WorkerOptions& options, const JobHandler& handler,
         WorkerStats* stats)
      : url_(url),
        queue_(queue),
        o_(options),
        handler_(handler),
        stats_(stats ? stats : &own_stats_),
        name_(options.name.empty() ? DefaultWorkerName() : options.name),
        rng_(std::random_device{}()) {}

  void Run() {
    RedisOptions ro;
    ro.stop = o_.stop;
    std::thread heartbeat;
    try {
      RedisClient redis(url_, ro);
      queue_.EnsureGroup(redis);
      heartbeat = std::thread([this] { Heartbeat(); });
      Loop(redis);
      StopHeartbeat(heartbeat);
      try {
        redis.Command({"HDEL", queue_.Key("workers"), name_});
      } catch (const Error& e) {  // only the heartbeat is lost; it ages out
        if (e.error_type() == ErrorType::kInterrupted) stats_->stopped_unreachable = true;
      }
    } catch (const Error& e) {
      StopHeartbeat(heartbeat);
      // Stopped while waiting for an unreachable Redis: leave now; the jobs in hand stay pending.
      if (e.error_type() == ErrorType::kInterrupted && Stopped()) {
        stats_->stopped_unreachable = true;
        std::lock_guard lock(mu_);
        stats_->uncommitted += in_flight_.size();
        return;
      }
      throw;
    } catch (...) {
      StopHeartbeat(heartbeat);
      throw;
    }
  }

 private:
  bool Stopped() const { return o_.stop && o_.stop->load(std::memory_order_relaxed); }

  void Loop(RedisClient& redis) {
    const size_t batch = std::max<size_t>(1, o_.concurrency * std::max<size_t>(1, o_.prefetch));
    const std::string stream = queue_.Key("jobs");
    auto last_maintenance = Clock::now() - std::chrono::hours(1);
    auto idle_since = Clock::now();
    std::string autoclaim_cursor = "0-0";
    while (!Stopped()) {
      if (o_.max_jobs && stats_->handled.load() >= o_.max_jobs) return;
      std::vector<Job> jobs;
      std::vector<std::string> bad;
      bool reclaimed = false;
      // Maintenance a few times per visibility period: due retries back into the stream, then jobs of dead
      // or stalled workers.
      const auto every = std::chrono::milliseconds(std::max(50, std::min(o_.visibility_ms / 4, 1000)));
      if (Clock::now() - last_maintenance >= every) {
        last_maintenance = Clock::now();
        PromoteDelayed(redis, queue_);
        TrimAcknowledged(redis, queue_);
        RedisValue r =
            redis.Command({"XAUTOCLAIM", stream, JobQueue::kGroup, name_, std::to_string(o_.visibility_ms),
                           autoclaim_cursor, "COUNT", std::to_string(batch)});
        if (GroupLost(r)) {
          queue_.EnsureGroup(redis);
          autoclaim_cursor = "0-0";
          continue;
        }
        if (r.IsError()) throw IoError("XAUTOCLAIM on " + stream + " failed: " + r.str);
        const auto& parts = r.Array("XAUTOCLAIM");
        if (parts.size() < 2) throw IoError("Redis reply to XAUTOCLAIM: expected 2 or 3 parts");
        autoclaim_cursor = parts[0].String("the XAUTOCLAIM cursor");
        jobs = DecodeEntries(parts[1], &bad);
        if (parts.size() >= 3 && parts[2].type == RedisValue::Type::kArray) {
          for (const RedisValue& id : parts[2].elements) {
            if (id.type == RedisValue::Type::kString) bad.push_back(id.str);
          }
        }
        reclaimed = !jobs.empty();
      }
      if (jobs.empty() && bad.empty()) {
        RedisValue r =
            redis.Command({"XREADGROUP", "GROUP", JobQueue::kGroup, name_, "COUNT", std::to_string(batch),
                           "BLOCK", std::to_string(o_.block_ms), "STREAMS", stream, ">"});
        if (GroupLost(r)) {
          queue_.EnsureGroup(redis);
          continue;
        }
        if (r.IsError()) throw IoError("XREADGROUP on " + stream + " failed: " + r.str);
        if (!r.IsNil()) {
          for (const RedisValue& s : r.Array("XREADGROUP")) {
            const auto& kv = s.Array("an XREADGROUP stream");
            if (kv.size() != 2)
              throw IoError("Redis reply to XREADGROUP: a stream has " + std::to_string(kv.size()) +
                            " parts");
            std::vector<Job> got = DecodeEntries(kv[1], &bad);
            jobs.insert(jobs.end(), std::make_move_iterator(got.begin()), std::make_move_iterator(got.end()));
          }
        }
      }
      if (!bad.empty()) DropBad(redis, bad);
      if (jobs.empty()) {
        if (o_.idle_exit_ms > 0 && Clock::now() - idle_since > std::chrono::milliseconds(o_.idle_exit_ms))
          return;
        continue;
      }
      idle_since = Clock::now();
      if (reclaimed) {
        stats_->reclaimed += jobs.size();
        jobs = CountClaims(redis, std::move(jobs));
      }
      Process(redis, jobs);
    }
  }

  // Malformed or vanished entries: acknowledged and removed so they are not delivered again, and kept in
  // the dead-letter stream for the operator.
  void DropBad(RedisClient& redis, const std::vector<std::string>& ids) {
    std::vector<std::vector<std::string>> cmds;
    for (const std::string& id : ids) {
      cmds.push_back(
          {"XADD", queue_.Key("dead"), "*", "entry", id, "error", "malformed or deleted job entry"});
      cmds.push_back({"XACK", queue_.Key("jobs"), JobQueue::kGroup, id});
      cmds.push_back({"XDEL", queue_.Key("jobs"), id});
    }
    redis.Pipeline(cmds);
  }

  // Counts how often each reclaimed entry was taken over; one taken over max_attempts times (its workers
  // keep dying on it) is finished as dead instead of being run again.
  std::vector<Job> CountClaims(RedisClient& redis, std::vector<Job> jobs) {
    std::vector<std::vector<std::string>> cmds;
    for (const Job& j : jobs) cmds.push_back({"HINCRBY", queue_.Key("claims"), j.entry, "1"});
    std::vector<RedisValue> counts = redis.Pipeline(cmds);
    cmds.clear();
    cmds.push_back({"HINCRBY", queue_.Key("stats"), "reclaimed", std::to_string(jobs.size())});
    redis.Pipeline(cmds);
    std::vector<Job> run;
    std::vector<std::pair<Job, JobOutcome>> dead;
    for (size_t i = 0; i < jobs.size(); ++i) {
      const int64_t n = counts[i].IsError() ? 0 : counts[i].Integer("HINCRBY claims");
      if (n >= o_.max_attempts) {
        jobs[i].attempt = std::max<int>(jobs[i].attempt, static_cast<int>(n));
        dead.push_back({std::move(jobs[i]), JobOutcome{false, "",
                                                       "abandoned " + std::to_string(n) +
                                                           " times: the workers running it died or "
                                                           "stalled past the visibility timeout"}});
      } else {
        run.push_back(std::move(jobs[i]));
      }
    }
    if (!dead.empty()) Commit(redis, dead, /*force_dead=*/true);
    return run;
  }

  void Process(RedisClient& redis, std::vector<Job>& jobs) {
    {
      std::lock_guard lock(mu_);
      in_flight_.clear();
      for (const Job& j : jobs) in_flight_.push_back(j.entry);
    }
    std::vector<std::pair<Job, JobOutcome>> done(jobs.size());
    pool_.Run(jobs.size(), [&](size_t i) {
      JobOutcome out;
      try {
        out = handler_(jobs[i]);
      } catch (const std::exception& e) {
        out.ok = false;
        out.error = e.what();
      }
      if (out.rejected) {
        stats_->rejected++;
      } else if (!out.ok) {
        stats_->failed++;
      }
      done[i] = {std::move(jobs[i]), std::move(out)};
    });
    Commit(redis, done, false);
    stats_->handled += done.size();
    std::lock_guard lock(mu_);
    in_flight_.clear();
  }

  void Commit(RedisClient& redis, const std::vector<std::pair<Job, JobOutcome>>& done, bool force_dead) {
    std::vector<std::string> args = {"EVAL",
                                     kCommitScript,
                                     "0",
                                     queue_.Key("jobs"),
                                     JobQueue::kGroup,
                                     queue_.Key("stats"),
                                     queue_.Key("delayed"),
                                     queue_.Key("dead"),
                                     queue_.Key("claims")};
    for (const auto& [job, out] : done) {
      const std::string rkey = job.run.empty() ? "" : queue_.ResultsKey(job.run, job.kind);
      std::string action, value, due, member, dead;
      if (out.rejected && !force_dead) {
        action = "reject";
        dead = Dump(nlohmann::json::array(
            {job.run, job.kind, job.id, std::to_string(job.attempt), job.payload, out.error}));
      } else if (out.ok && !force_dead) {
        action = "done";
        value = out.value;
      } else if (!force_dead && job.attempt < o_.max_attempts) {
        action = "retry";
        const double base = double(o_.backoff_ms) * double(int64_t{1} << std::min(job.attempt - 1, 20));
        std::uniform_real_distribution<double> jitter(0.75, 1.25);
        double wait;
        {
          std::lock_guard lock(mu_);
          wait = base * jitter(rng_);
        }
        due = std::to_string(UnixMillis() + static_cast<int64_t>(wait));
        member = Dump(
            nlohmann::json::array({job.run, job.kind, job.id, std::to_string(job.attempt + 1), job.payload}));
      } else {
        action = "dead";
        value = DeadJobValue(job.attempt, out.error);
        dead = Dump(nlohmann::json::array(
            {job.run, job.kind, job.id, std::to_string(job.attempt), job.payload, out.error}));
      }
      args.insert(args.end(), {action, job.entry, rkey, job.id, value, due, member, dead});
    }
    RedisValue r = redis.Command(args);
    if (r.IsError()) throw IoError("committing " + std::to_string(done.size()) + " jobs failed: " + r.str);
  }

  void Heartbeat() {
    std::unique_ptr<RedisClient> redis;
    const auto every = std::chrono::milliseconds(std::max(20, o_.visibility_ms / 3));
    std::unique_lock lock(mu_);
    while (!quit_) {
      std::vector<std::string> ids = in_flight_;
      lock.unlock();
      try {
        if (!redis) {
          RedisOptions ro;
          ro.reconnect_deadline_ms = 2000;
          ro.stop = &heartbeat_stop_;
          redis = std::make_unique<RedisClient>(url_, ro);
        }
        std::vector<std::vector<std::string>> cmds;
        cmds.push_back({"HSET", queue_.Key("workers"), name_, std::to_string(UnixMillis())});
        if (!ids.empty()) {
          // Re-claiming its own entries with min-idle 0 resets their idle time: long jobs are not stolen.
          std::vector<std::string> claim = {"XCLAIM", queue_.Key("jobs"), JobQueue::kGroup, name_, "0"};
          claim.insert(claim.end(), ids.begin(), ids.end());
          claim.push_back("JUSTID");
          cmds.push_back(std::move(claim));
        }
        redis->Pipeline(cmds);
      } catch (const Error&) {
        redis.reset();  // the main loop reports a lasting outage; here we just try again next beat
      }
      lock.lock();
      cv_.wait_for(lock, every, [this] { return quit_; });
    }
  }

  void StopHeartbeat(std::thread& t) {
    if (!t.joinable()) return;
    {
      std::lock_guard lock(mu_);
      quit_ = true;
    }
    heartbeat_stop_ = true;  // a heartbeat waiting for an unreachable Redis gives up at once
    cv_.notify_all();
    t.join();
  }

  const RedisUrl& url_;
  const JobQueue& queue_;
  const WorkerOptions& o_;
  const JobHandler& handler_;
  WorkerStats own_stats_;
  WorkerStats* stats_;
  std::string name_;
  JobPool pool_{o_.concurrency};
  std::mutex mu_;
  std::condition_variable cv_;
  bool quit_ = false;
  std::atomic<bool> heartbeat_stop_{false};
  std::vector<std::string> in_flight_;
  std::minstd_rand rng_;
};

}  // namespace

void RunWorker(const RedisUrl& url, const JobQueue& queue, const WorkerOptions& options,
               const JobHandler& handler, WorkerStats* stats) {
  Worker(url, queue, options, handler, stats).Run();
}

}  // namespace rlm
