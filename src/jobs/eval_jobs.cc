#include "jobs/eval_jobs.h"

#include <tbb/parallel_for.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "embed/embedder.h"
#include "eval/jobs.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

// ---- little binary writer/reader --------------------------------------------------------------------

void PutU32(std::string& s, uint32_t v) {
  s.append(reinterpret_cast<const char*>(&v), 4);
}
void PutU64(std::string& s, uint64_t v) {
  s.append(reinterpret_cast<const char*>(&v), 8);
}
void PutStr(std::string& s, std::string_view v) {
  PutU64(s, v.size());
  s.append(v);
}

class Reader {
 public:
  Reader(std::string_view data, const char* what) : data_(data), what_(what) {}
  uint32_t U32() { return Fixed<uint32_t>(); }
  uint64_t U64() { return Fixed<uint64_t>(); }
  float F32() { return Fixed<float>(); }
  std::string_view Str() {
    const uint64_t n = U64();
    if (n > data_.size() - pos_) Fail("a string runs past the end");
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view Raw(size_t n) {
    if (n > data_.size() - pos_) Fail("truncated");
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  void End() const {
    if (pos_ != data_.size()) Fail(std::to_string(data_.size() - pos_) + " bytes after the end");
  }
  size_t left() const { return data_.size() - pos_; }
  [[noreturn]] void Fail(const std::string& msg) const {
    throw IoError(std::string(what_) + " is corrupt: " + msg);
  }

 private:
  template <class T>
  T Fixed() {
    if (sizeof(T) > data_.size() - pos_) Fail("truncated");
    T v;
    std::memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string_view data_;
  size_t pos_ = 0;
  const char* what_;
};

constexpr std::string_view kCorpusMagic = "rlm-corpus-1";
constexpr std::string_view kResultMagic = "R1";

// "<a> <b>" -> {a, b}
std::pair<size_t, size_t> ParsePair(std::string_view payload) {
  const size_t sp = payload.find(' ');
  size_t a = 0, b = 0;
  bool ok = sp != std::string_view::npos;
  if (ok) {
    auto [p1, e1] = std::from_chars(payload.data(), payload.data() + sp, a);
    auto [p2, e2] = std::from_chars(payload.data() + sp + 1, payload.data() + payload.size(), b);
    ok = e1 == std::errc() && p1 == payload.data() + sp && e2 == std::errc() &&
         p2 == payload.data() + payload.size();
  }
  if (!ok) throw InvalidInput("malformed job payload '" + std::string(payload.substr(0, 40)) + "'");
  return {a, b};
}

// The Redis key of one embedding batch's vectors: the embedder's fingerprint and the units' texts.
std::string VectorKey(const JobQueue& q, const Embedder& embedder, const CorpusUnits& units, size_t batch) {
  const UnitRange range = EmbedJobUnits(batch, units.texts.size());
  std::string key_material = embedder.Fingerprint() + "\n" + std::to_string(embedder.Dims()) + "\n";
  for (size_t u = range.begin; u < range.end; ++u) key_material += ContentHash(units.texts[u]).Bytes();
  return q.Key("vec:") + ContentHash(key_material).Hex();
}

// Workers whose heartbeat (HVALS of <p>workers) is recent.
int64_t LiveWorkers(const RedisValue& beats) {
  const int64_t now = UnixMillis();
  int64_t n = 0;
  for (const RedisValue& b : beats.Array("HVALS workers"))
    n += now - b.Integer("a heartbeat") < kWorkerGoneMs;
  return n;
}

size_t Batches(const CorpusUnits& units) {
  return EmbedJobCount(units.texts.size());
}

// Calls fn(field, value) for every field of the hash at `key` (HSCAN: bounded replies however large).
template <class Fn>
void ScanHash(RedisClient& redis, const std::string& key, Fn fn) {
  std::string cursor = "0";
  do {
    RedisValue r = redis.Command({"HSCAN", key, cursor, "COUNT", "1000"});
    const auto& parts = r.Array("HSCAN");
    if (parts.size() != 2) throw IoError("Redis reply to HSCAN: expected 2 parts");
    cursor = parts[0].String("the HSCAN cursor");
    const auto& kv = parts[1].Array("HSCAN fields");
    for (size_t i = 0; i + 1 < kv.size(); i += 2)
      fn(kv[i].String("a result's job id"), kv[i + 1].String("a result"));
  } while (cursor != "0");
}

// The job ids that have a result in `key`.
std::set<std::string> ResultIds(RedisClient& redis, const std::string& key) {
  std::set<std::string> ids;
  ScanHash(redis, key, [&](const std::string& id, const std::string&) { ids.insert(id); });
  return ids;
}

// What an interrupted run leaves in Redis, said as it is: its jobs still queued, nothing (Redis lost or
// purged the run), or unknown (Redis is unreachable).
std::string DescribeWhatIsLeft(RedisClient& redis, const JobQueue& queue, const std::string& run,
                               const std::string& kind, size_t total) {
  const std::string where = "Redis at " + redis.url().Redacted();
  const std::string phase = kind == "embed" ? "embedding" : "query";
  try {
    std::vector<RedisValue> r =
        redis.Pipeline({{"HMGET", queue.Key("run:") + run, "corpus", kind + "_published"},
                        {"HLEN", queue.ResultsKey(run, kind)}});
    const auto& f = r[0].Array("HMGET run");
    if (f.size() != 2 || f[0].IsNil()) {
      return where + " no longer holds run " + run +
             " (its data was lost or purged): nothing of it is left queued there";
    }
    if (f[1].IsNil()) {
      return "run " + run + " is described in " + where + " but none of its " + phase +
             " jobs is queued there";
    }
    const size_t done = std::min<size_t>(static_cast<size_t>(r[1].Integer("HLEN")), total);
    return "run " + run + ": " + std::to_string(done) + " of " + std::to_string(total) + " " + phase +
           " jobs done; the other " + std::to_string(total - done) + " stay queued in " + where +
           " and the workers go on";
  } catch (const Error&) {
    return where + " is unreachable: what is left of run " + run + " there is unknown";
  }
}

// A job of a run whose description is not in Redis (purged, or lost with the rest of Redis's data).
struct RunNotDescribed : NotFound {
  using NotFound::NotFound;
};

}  // namespace

// ---- codecs -----------------------------------------------------------------------------------------

std::string EncodeCorpus(const RunCorpus& c) {
  std::string s(kCorpusMagic);
  PutU64(s, c.doc_ids.size());
  for (size_t i = 0; i < c.doc_ids.size(); ++i) {
    PutStr(s, c.doc_ids[i]);
    PutStr(s, c.doc_texts[i]);
  }
  PutU64(s, c.query_ids.size());
  for (size_t i = 0; i < c.query_ids.size(); ++i) {
    PutStr(s, c.query_ids[i]);
    PutStr(s, c.query_texts[i]);
  }
  return s;
}

RunCorpus DecodeCorpus(std::string_view blob) {
  Reader r(blob, "the corpus blob");
  if (r.Raw(std::min(blob.size(), kCorpusMagic.size())) != kCorpusMagic) r.Fail("not an rlm corpus");
  RunCorpus c;
  const uint64_t docs = r.U64();
  if (docs > r.left() / 16) r.Fail("document count " + std::to_string(docs) + " exceeds the data");
  for (uint64_t i = 0; i < docs; ++i) {
    c.doc_ids.emplace_back(r.Str());
    c.doc_texts.emplace_back(r.Str());
  }
  const uint64_t queries = r.U64();
  if (queries > r.left() / 16) r.Fail("query count " + std::to_string(queries) + " exceeds the data");
  for (uint64_t i = 0; i < queries; ++i) {
    c.query_ids.emplace_back(r.Str());
    c.query_texts.emplace_back(r.Str());
  }
  r.End();
  return c;
}

std::string EncodeVariants(const std::vector<RunVariant>& variants) {
  json a = json::array();
  for (const RunVariant& v : variants) {
    const RetrieverConfig& c = v.retrieval;
    a.push_back({{"name", v.name},
                 {"chunker", v.chunker},
                 {"size", v.chunk.size},
                 {"overlap", v.chunk.overlap},
                 {"embedder", v.embedder},
                 {"retrieval", static_cast<int>(c.retrieval)},
                 {"k1", c.bm25.k1},
                 {"b", c.bm25.b},
                 {"stem", c.analyzer.stem},
                 {"stopwords", c.analyzer.stopwords},
                 {"max_token_bytes", c.analyzer.max_token_bytes},
                 {"fusion", static_cast<int>(c.fusion)},
                 {"rrf_k", c.rrf_k},
                 {"alpha", c.alpha},
                 {"norm", static_cast<int>(c.norm)},
                 {"rerank", static_cast<int>(c.rerank)},
                 {"lambda", c.mmr_lambda},
                 {"aggregate", static_cast<int>(c.aggregate)},
                 {"depth", c.depth}});
    if (c.fusion == FusionKind::kRegistry) {
      json params = json::object();
      for (const FusionParamInfo* p : FusionMethodOf(c.registry.method).params) {
        params[p->name] = c.registry.params.*(p->field);
      }
      a.back()["registry"] = {{"method", FusionMethodOf(c.registry.method).name},
                              {"norm", FusionNormOf(c.registry.norm).name},
                              {"weights", c.registry.weights},
                              {"params", params}};
    }
  }
  return json{{"version", 1}, {"variants", a}}.dump();
}

std::vector<RunVariant> DecodeVariants(std::string_view text) {
  std::vector<RunVariant> out;
  try {
    const json j = json::parse(text);
    if (!j.at("version").is_number_unsigned() || j.at("version").get<uint64_t>() != 1) {
      throw IoError("the variants blob has an unknown version");
    }
    // Numbers are checked before any conversion: a float or a huge value cast to an integer is undefined.
    auto whole = [](const json& x, const char* key, uint64_t hi) {
      const json& v = x.at(key);
      if (!v.is_number_unsigned() || v.get<uint64_t>() > hi) {
        throw IoError(std::string("the variants blob: bad ") + key + " " + v.dump().substr(0, 40));
      }
      return v.get<uint64_t>();
    };
    auto in_range = [&](const json& x, const char* key, int hi) {
      return static_cast<int>(whole(x, key, hi));
    };
    auto real = [](const json& x, const char* key) {
      const json& v = x.at(key);
      if (!v.is_number() || !std::isfinite(v.get<double>())) {
        throw IoError(std::string("the variants blob: bad ") + key + " " + v.dump().substr(0, 40));
      }
      return v.get<double>();
    };
    for (const json& x : j.at("variants")) {
      RunVariant v;
      v.name = x.at("name").get<std::string>();
      v.chunker = x.at("chunker").get<std::string>();
      v.chunk.size = whole(x, "size", SIZE_MAX >> 1);
      v.chunk.overlap = whole(x, "overlap", SIZE_MAX >> 1);
      v.embedder = x.at("embedder").get<std::string>();
      RetrieverConfig& c = v.retrieval;
      c.retrieval = static_cast<RetrievalKind>(in_range(x, "retrieval", 2));
      c.bm25.k1 = real(x, "k1");
      c.bm25.b = real(x, "b");
      c.analyzer.stem = x.at("stem").get<bool>();
      c.analyzer.stopwords = x.at("stopwords").get<bool>();
      c.analyzer.max_token_bytes = whole(x, "max_token_bytes", SIZE_MAX >> 1);
      c.fusion = static_cast<FusionKind>(in_range(x, "fusion", 4));
      if (c.fusion == FusionKind::kRegistry) {
        const json& f = x.at("registry");
        const FusionMethodInfo& method = FindFusionMethod(f.at("method").get<std::string>());
        c.registry.method = method.method;
        c.registry.norm = FindFusionNorm(f.at("norm").get<std::string>()).norm;
        c.registry.weights = f.at("weights").get<std::vector<double>>();
        for (const auto& [name, value] : f.at("params").items()) {
          if (!value.is_number()) throw IoError("the variants blob: bad fusion parameter " + name);
          SetFusionParam(method, name, value.get<double>(), c.registry.params);
        }
        CheckFusionSpec(c.registry, 2, nullptr);
        if (method.needs_training) throw IoError("the variants blob names a supervised fusion");
      }
      c.rrf_k = real(x, "rrf_k");
      c.alpha = real(x, "alpha");
      c.norm = static_cast<ScoreNorm>(in_range(x, "norm", 2));
      c.rerank = static_cast<RerankKind>(in_range(x, "rerank", 1));
      c.mmr_lambda = real(x, "lambda");
      c.aggregate = static_cast<AggregateKind>(in_range(x, "aggregate", 2));
      c.depth = whole(x, "depth", SIZE_MAX >> 1);
      out.push_back(std::move(v));
    }
  } catch (const json::exception& e) {
    throw IoError(std::string("the variants blob is corrupt: ") + e.what());
  } catch (const InvalidInput& e) {  // a fusion setting the registry refuses
    throw IoError(std::string("the variants blob is corrupt: ") + e.what());
  }
  return out;
}

std::string EncodeJobResult(const JobResult& r) {
  std::string s(kResultMagic);
  PutU32(s, static_cast<uint32_t>(r.attempts));
  PutU64(s, static_cast<uint64_t>(r.latency_us));
  PutU64(s, r.docs.size());
  for (const ScoredDoc& d : r.docs) {
    PutU32(s, d.doc);
    s.append(reinterpret_cast<const char*>(&d.score), 4);
  }
  return s;
}

JobResult DecodeJobResult(std::string_view value) {
  JobResult r;
  int attempts = 0;
  std::string error;
  if (ParseDeadJobValue(value, &attempts, &error)) {
    r.ok = false;
    r.attempts = attempts;
    r.error = error;
    return r;
  }
  Reader in(value, "a query job's result");
  if (in.Raw(std::min(value.size(), kResultMagic.size())) != kResultMagic) in.Fail("unknown format");
  r.attempts = static_cast<int>(in.U32());
  r.latency_us = static_cast<int64_t>(in.U64());
  const uint64_t n = in.U64();
  if (n != in.left() / 8 || in.left() % 8 != 0) in.Fail("document count does not match its size");
  r.docs.resize(n);
  for (ScoredDoc& d : r.docs) {
    d.doc = in.U32();
    d.score = in.F32();
  }
  in.End();
  return r;
}

// ---- blobs ------------------------------------------------------------------------------------------

std::string PutBlob(RedisClient& redis, const JobQueue& queue, std::string_view data, uint64_t max_bytes,
                    std::string_view what) {
  if (data.size() > max_bytes) {
    throw InvalidInput(
        std::string(what) + " is " + std::to_string(data.size() >> 20) + " MB, over the " +
            std::to_string(max_bytes >> 20) + " MB that may be shipped through Redis",
        "raise --max-ship-mb (Redis accepts values up to 512 MB), or evaluate a smaller corpus",
        ErrorType::kTooLargeToShip);
  }
  const std::string hash = ContentHash(data).Hex();
  const std::string key = queue.Key("blob:") + hash;
  if (redis.Command({"EXISTS", key}).Integer("EXISTS") == 0) {
    redis.CommandOk({"SET", key, std::string(data), "NX"});
  }
  return hash;
}

std::string GetBlob(RedisClient& redis, const JobQueue& queue, const std::string& hash,
                    const std::string& cache_dir) {
  const fs::path cached = cache_dir.empty() ? fs::path() : fs::path(cache_dir) / hash;
  if (!cache_dir.empty()) {
    std::ifstream in(cached, std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      std::string data = ss.str();
      if (ContentHash(data).Hex() == hash) return data;  // else damaged: fetch again
    }
  }
  RedisValue v = redis.Command({"GET", queue.Key("blob:") + hash});
  if (v.IsNil()) {
    throw NotFound("blob " + hash + " is not in Redis at " + redis.url().Redacted(),
                   "the run's inputs were purged; start the run again with rlm eval run --redis");
  }
  std::string data = v.String("GET blob");
  if (ContentHash(data).Hex() != hash) throw IoError("blob " + hash + " in Redis does not match its hash");
  if (!cache_dir.empty()) {
    std::error_code ec;
    fs::create_directories(cache_dir, ec);
    try {
      WriteFileAtomic(cached.string(), data);
    } catch (const Error&) {  // a cache: failing to keep it only costs a fetch next time
    }
  }
  return data;
}

// ---- coordinator ------------------------------------------------------------------------------------

RunOutcome RunDistributed(const RunCorpus& corpus, const std::vector<RunVariant>& variants,
                          const RunOptions& options, const DistributedOptions& d) {
  auto stopped = [&] { return options.stop && options.stop->load(std::memory_order_relaxed); };
  RedisOptions ro;
  ro.stop = options.stop;
  RedisClient redis(d.url, ro);
  const JobQueue queue(d.prefix);
  const std::string& run = options.run_id;
  const std::string meta = queue.Key("run:") + run;
  const std::string corpus_blob = EncodeCorpus(corpus);
  const std::string variants_blob = EncodeVariants(variants);
  // Stores the run's inputs and description: at the start, and again when Redis lost them.
  auto store_run = [&] {
    queue.EnsureGroup(redis);
    const std::string corpus_hash = PutBlob(redis, queue, corpus_blob, d.max_ship_bytes, "the corpus");
    const std::string variants_hash = PutBlob(redis, queue, variants_blob, d.max_ship_bytes, "the variants");
    redis.Pipeline(
        {{"HSET", meta, "corpus", corpus_hash, "variants", variants_hash, "queries",
          std::to_string(corpus.query_ids.size()), "variant_count", std::to_string(variants.size())},
         {"HSETNX", meta, "created_ms", std::to_string(UnixMillis())},
         {"SADD", queue.Key("runs"), run}});
  };

  RunOutcome outcome;
  outcome.variants.resize(variants.size());
  for (size_t v = 0; v < variants.size(); ++v) outcome.variants[v].name = variants[v].name;
  // The phase being followed, for the report of an interruption.
  std::string kind = "embed";
  size_t total = 0;
  auto interrupted = [&] {
    outcome.interrupted = true;
    outcome.interruption = DescribeWhatIsLeft(redis, queue, run, kind, total);
    return outcome;
  };

  // Phase 1: embedding batches of the variants that need vectors, once per (embedder, chunking): variants
  // that differ only in retrieval settings share the same vectors (their <p>vec: keys are equal).
  std::vector<Job> embed_jobs;
  std::vector<size_t> embeds_for(variants.size());  // variant -> the variant whose embedding jobs it uses
  std::map<std::string, size_t> first_with;
  for (size_t v = 0; v < variants.size(); ++v) {
    if (!variants[v].retrieval.NeedsVectors()) continue;
    const std::string signature = variants[v].embedder + "\n" + variants[v].chunker + "\n" +
                                  std::to_string(variants[v].chunk.size) + "\n" +
                                  std::to_string(variants[v].chunk.overlap);
    embeds_for[v] = first_with.emplace(signature, v).first->second;
    if (embeds_for[v] != v) continue;
    const CorpusUnits units = SplitCorpus(corpus.doc_texts, variants[v].chunker, variants[v].chunk);
    for (size_t b = 0; b < Batches(units); ++b) {
      const std::string p = std::to_string(v) + " " + std::to_string(b);
      embed_jobs.push_back({run, "embed", std::to_string(v) + ":" + std::to_string(b), p});
    }
  }

  // Publishes a phase's jobs that have no result yet (all of them the first time) with the phase's flag:
  // when the flag is missing, or always when Redis lost the run (`again`).
  auto publish = [&](const std::vector<Job>& jobs, bool again) {
    if (!again && !redis.Command({"HGET", meta, kind + "_published"}).IsNil()) return;
    const std::set<std::string> done = ResultIds(redis, queue.ResultsKey(run, kind));
    std::vector<Job> missing;
    for (const Job& j : jobs) {
      if (!done.count(j.id)) missing.push_back(j);
    }
    queue.Publish(redis, missing, {{"HSET", meta, kind + "_published", "1"}});
  };

  // Follows one phase: polls the count of results until every job has one, or the run vanishes from Redis
  // (its description or flag gone, or the stream gone with nothing waiting to retry).
  enum class Followed { kDone, kStopped, kLost };
  auto follow = [&](const std::vector<Job>& jobs, const std::string& phase, double* seconds) {
    const std::string results = queue.ResultsKey(run, kind);
    const auto t0 = Clock::now();
    auto last_check = Clock::now() - std::chrono::hours(1);
    for (;;) {
      if (stopped()) return Followed::kStopped;
      std::vector<RedisValue> r = redis.Pipeline({{"HLEN", results},
                                                  {"XPENDING", queue.Key("jobs"), JobQueue::kGroup},
                                                  {"ZCARD", queue.Key("delayed")},
                                                  {"HGET", queue.Key("stats"), "dead"},
                                                  {"HVALS", queue.Key("workers")},
                                                  {"HMGET", meta, "corpus", kind + "_published"},
                                                  {"EXISTS", queue.Key("jobs")}});
      const size_t done = static_cast<size_t>(r[0].Integer("HLEN"));
      const int64_t delayed = r[2].Integer("ZCARD");
      if (options.progress) {
        int64_t running = 0;  // XPENDING's summary: [count, first id, last id, consumers]
        if (r[1].type == RedisValue::Type::kArray && !r[1].elements.empty() &&
            r[1].elements[0].type == RedisValue::Type::kInteger) {
          running = r[1].elements[0].integer;
        }
        options.progress(phase + " | " + std::to_string(running) + " running, " + std::to_string(delayed) +
                             " waiting to retry, " + (r[3].IsNil() ? "0" : r[3].str) + " dead, " +
                             std::to_string(LiveWorkers(r[4])) + " workers",
                         done, jobs.size());
      }
      const auto& described = r[5].Array("HMGET run");
      const bool lost = described.size() != 2 || described[0].IsNil() || described[1].IsNil() ||
                        (r[6].Integer("EXISTS") == 0 && delayed == 0 && done < jobs.size());
      if (lost) return Followed::kLost;
      // HLEN counts every field; the phase is done when each of its jobs has a result (checked at most once
      // a second, in case something else wrote into the hash).
      if (done >= jobs.size() && Clock::now() - last_check >= std::chrono::seconds(1)) {
        last_check = Clock::now();
        const std::set<std::string> ids = ResultIds(redis, results);
        if (std::all_of(jobs.begin(), jobs.end(), [&](const Job& j) { return ids.count(j.id) > 0; })) {
          *seconds = std::chrono::duration<double>(Clock::now() - t0).count();
          return Followed::kDone;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(d.poll_ms));
    }
  };

  try {
    store_run();
    // Each pass publishes what is missing and follows both phases; a pass that finds the run lost from
    // Redis stores it again and starts over from the embedding phase (the vectors were lost too).
    for (bool again = false;; again = true) {
      kind = "embed";
      total = embed_jobs.size();
      if (again) store_run();
      publish(embed_jobs, again);
      double embed_seconds = 0;
      Followed f = follow(embed_jobs, "embed (redis)", &embed_seconds);
      if (f == Followed::kStopped) return interrupted();
      if (f == Followed::kLost) continue;
      // A variant whose embedding failed cannot run: its queries fail with that error.
      std::vector<std::string> variant_error(variants.size());
      for (const Job& j : embed_jobs) {
        RedisValue r = redis.Command({"HGET", queue.ResultsKey(run, "embed"), j.id});
        int attempts = 0;
        std::string error;
        if (!r.IsNil() && ParseDeadJobValue(r.String("HGET embed result"), &attempts, &error)) {
          variant_error[ParsePair(j.payload).first] = "embedding batch " + j.id + " failed: " + error;
        }
      }
      for (size_t v = 0; v < variants.size(); ++v) {
        if (variants[v].retrieval.NeedsVectors() && variant_error[v].empty())
          variant_error[v] = variant_error[embeds_for[v]];
      }

      // Phase 2: one job per (variant, query).
      std::vector<Job> query_jobs;
      for (size_t v = 0; v < variants.size(); ++v) {
        if (!variant_error[v].empty()) continue;
        for (size_t q = 0; q < corpus.query_ids.size(); ++q) {
          const std::string id = std::to_string(v) + ":" + std::to_string(q);
          query_jobs.push_back({run, "query", id, std::to_string(v) + " " + std::to_string(q)});
        }
      }
      kind = "query";
      total = query_jobs.size();
      publish(query_jobs, again);
      double query_seconds = 0;
      f = follow(query_jobs, "query (redis)", &query_seconds);
      if (f == Followed::kStopped) return interrupted();
      if (f == Followed::kLost) continue;

      // Collect every result (HSCAN: bounded replies however large the run). Fields that are not one of the
      // run's jobs are ignored; a result missing now (Redis lost them since) means another pass.
      std::vector<std::vector<std::optional<JobResult>>> got(
          variants.size(), std::vector<std::optional<JobResult>>(corpus.query_ids.size()));
      ScanHash(redis, queue.ResultsKey(run, "query"), [&](const std::string& id, const std::string& value) {
        const size_t colon = id.find(':');
        if (colon == std::string::npos) return;
        size_t v = 0, q = 0;
        auto [p1, e1] = std::from_chars(id.data(), id.data() + colon, v);
        auto [p2, e2] = std::from_chars(id.data() + colon + 1, id.data() + id.size(), q);
        if (e1 != std::errc() || p1 != id.data() + colon || e2 != std::errc() ||
            p2 != id.data() + id.size() || v >= variants.size() || q >= corpus.query_ids.size()) {
          return;
        }
        got[v][q] = DecodeJobResult(value);
      });
      bool complete = true;
      for (size_t v = 0; v < variants.size() && complete; ++v) {
        if (!variant_error[v].empty()) continue;
        for (size_t q = 0; q < corpus.query_ids.size() && complete; ++q) complete = got[v][q].has_value();
      }
      if (!complete) continue;

      for (size_t v = 0; v < variants.size(); ++v) {
        VariantRun& out = outcome.variants[v];
        out.embed_seconds = variants[v].retrieval.NeedsVectors() ? embed_seconds : 0;
        out.query_seconds = query_seconds;
        for (size_t q = 0; q < corpus.query_ids.size(); ++q) {
          JobResult r;
          if (!variant_error[v].empty()) {
            r.ok = false;
            r.error = variant_error[v];
          } else {
            r = std::move(*got[v][q]);
          }
          r.variant = variants[v].name;
          r.query_id = corpus.query_ids[q];
          if (!r.ok) ++out.failed;
          out.results.push_back(std::move(r));
        }
      }
      break;
    }
    redis.Command({"HSET", meta, "finished_ms", std::to_string(UnixMillis())});
  } catch (const Error& e) {
    // Stopped while waiting for an unreachable Redis.
    if (e.error_type() == ErrorType::kInterrupted && stopped()) return interrupted();
    throw;
  }
  return outcome;
}

// ---- worker -----------------------------------------------------------------------------------------

namespace {

struct VariantState {
  // Guards `retriever`. A failed build is not kept: vectors missing now (Redis lost them; the coordinator
  // has them computed again) may be there for the next attempt.
  std::mutex build_mu;
  std::unique_ptr<CorpusUnits> units;
  std::unique_ptr<Embedder> embedder;
  std::unique_ptr<VariantRetriever> retriever;
};

struct LoadedRun {
  RunCorpus corpus;
  std::vector<RunVariant> variants;
  std::vector<std::unique_ptr<VariantState>> states;
  std::mutex mu;  // guards lazily created units/embedders for embed jobs
};

}  // namespace

struct EvalJobHandler::Impl {
  RedisUrl url;
  JobQueue queue;
  std::string blob_dir;
  const std::atomic<bool>* stop = nullptr;
  EvalJobHandler::Counters counters;
  std::mutex mu;
  // The runs this worker has loaded, most recently used last; at most kKeptRuns stay in memory (a job in
  // flight keeps its run alive through its shared_ptr).
  static constexpr size_t kKeptRuns = 4;
  std::vector<std::pair<std::string, std::shared_ptr<LoadedRun>>> runs;
  // One connection per thread that runs jobs (hiredis connections are not thread-safe).
  std::mutex clients_mu;
  std::map<std::thread::id, std::unique_ptr<RedisClient>> clients;

  RedisClient& Client() {
    std::lock_guard lock(clients_mu);
    auto& c = clients[std::this_thread::get_id()];
    if (!c) {
      RedisOptions o;
      o.stop = stop;
      c = std::make_unique<RedisClient>(url, o);
    }
    return *c;
  }

  std::shared_ptr<LoadedRun> Run(const std::string& run_id) {
    {
      std::lock_guard lock(mu);
      for (size_t i = 0; i < runs.size(); ++i) {
        if (runs[i].first != run_id) continue;
        std::rotate(runs.begin() + static_cast<std::ptrdiff_t>(i),
                    runs.begin() + static_cast<std::ptrdiff_t>(i) + 1, runs.end());
        return runs.back().second;
      }
    }
    // Load outside the lock (it may take a while); two threads loading the same run both succeed, the
    // first stored wins.
    RedisClient& redis = Client();
    RedisValue meta = redis.Command({"HGETALL", queue.Key("run:") + run_id});
    std::map<std::string, std::string> fields;
    const auto& kv = meta.Array("HGETALL run");
    for (size_t i = 0; i + 1 < kv.size(); i += 2) fields[kv[i].String("field")] = kv[i + 1].String("value");
    if (!fields.count("corpus") || !fields.count("variants")) {
      throw RunNotDescribed("run " + run_id + " is not described in Redis (" + queue.Key("run:") + run_id +
                            ")");
    }
    auto loaded = std::make_shared<LoadedRun>();
    loaded->corpus = DecodeCorpus(GetBlob(redis, queue, fields["corpus"], blob_dir));
    loaded->variants = DecodeVariants(GetBlob(redis, queue, fields["variants"], blob_dir));
    for (size_t i = 0; i < loaded->variants.size(); ++i)
      loaded->states.push_back(std::make_unique<VariantState>());
    std::lock_guard lock(mu);
    for (const auto& [id, run] : runs) {
      if (id == run_id) return run;  // another thread loaded it meanwhile
    }
    runs.emplace_back(run_id, loaded);
    if (runs.size() > kKeptRuns) runs.erase(runs.begin());
    return loaded;
  }

  // Units and embedder of a variant (created once).
  void Prepare(LoadedRun& run, size_t v) {
    std::lock_guard lock(run.mu);
    VariantState& s = *run.states[v];
    if (!s.units) {
      s.units = std::make_unique<CorpusUnits>(
          SplitCorpus(run.corpus.doc_texts, run.variants[v].chunker, run.variants[v].chunk));
    }
    if (!s.embedder && run.variants[v].retrieval.NeedsVectors())
      s.embedder = MakeEmbedder(run.variants[v].embedder);
  }

  std::string Embed(LoadedRun& run, size_t v, size_t batch) {
    Prepare(run, v);
    VariantState& s = *run.states[v];
    const UnitRange range = EmbedJobUnits(batch, s.units->texts.size());
    RedisClient& redis = Client();
    const std::string key = VectorKey(queue, *s.embedder, *s.units, batch);
    if (redis.Command({"EXISTS", key}).Integer("EXISTS") != 0) {
      ++counters.batches_reused;
    } else {
      ++counters.batches_computed;
      std::vector<float> rows(range.size() * s.embedder->Dims());
      EmbedTexts(*s.embedder, std::span(s.units->texts).subspan(range.begin, range.size()), rows.data());
      redis.CommandOk(
          {"SET", key, std::string(reinterpret_cast<const char*>(rows.data()), rows.size() * sizeof(float))});
    }
    return key;
  }

  VariantRetriever& Retriever(LoadedRun& run, size_t v) {
    VariantState& s = *run.states[v];
    std::lock_guard build_lock(s.build_mu);
    if (!s.retriever) {
      {
        Prepare(run, v);
        std::vector<float> vectors;
        size_t dims = 0;
        if (s.embedder) {
          dims = s.embedder->Dims();
          vectors.resize(s.units->texts.size() * dims);
          RedisClient& redis = Client();
          for (size_t b = 0; b < Batches(*s.units); ++b) {
            const std::string key = VectorKey(queue, *s.embedder, *s.units, b);
            RedisValue r = redis.Command({"GET", key});
            if (r.IsNil())
              throw NotFound("the vectors of embedding batch " + std::to_string(b) + " are missing (" + key +
                             ")");
            const std::string& bytes = r.String("GET vectors");
            const UnitRange range = EmbedJobUnits(b, s.units->texts.size());
            if (bytes.size() != range.size() * dims * sizeof(float)) {
              throw IoError("the vectors at " + key + " have the wrong size");
            }
            std::memcpy(vectors.data() + range.begin * dims, bytes.data(), bytes.size());
          }
        }
        s.retriever =
            std::make_unique<VariantRetriever>(run.variants[v].retrieval, *s.units, std::move(vectors), dims);
      }
    }
    return *s.retriever;
  }

  JobOutcome Query(LoadedRun& run, size_t v, size_t q) {
    if (q >= run.corpus.query_ids.size()) throw InvalidInput("query " + std::to_string(q) + " out of range");
    const VariantRetriever& retriever = Retriever(run, v);
    const JobResult r = RunQueryJob(retriever, run.states[v]->embedder.get(), run.corpus.query_texts[q]);
    return {true, EncodeJobResult(r), ""};
  }
};

EvalJobHandler::EvalJobHandler(RedisUrl url, JobQueue queue, std::string blob_dir,
                               const std::atomic<bool>* stop)
    : impl_(std::make_unique<Impl>()) {
  impl_->stop = stop;
  impl_->url = std::move(url);
  impl_->queue = std::move(queue);
  impl_->blob_dir = std::move(blob_dir);
}

EvalJobHandler::~EvalJobHandler() = default;

const EvalJobHandler::Counters& EvalJobHandler::counters() const {
  return impl_->counters;
}

JobOutcome EvalJobHandler::operator()(const Job& job) {
  // Fault injection for drills and tests: RLM_FAIL_JOBS=<job id>[,<job id>...] makes those jobs fail.
  if (const char* fail = std::getenv("RLM_FAIL_JOBS")) {
    std::string_view list = fail;
    for (size_t start = 0; start <= list.size();) {
      const size_t comma = std::min(list.find(',', start), list.size());
      if (list.substr(start, comma - start) == job.kind + "/" + job.id) {
        throw InvalidInput("injected failure (RLM_FAIL_JOBS) of " + job.kind + " job " + job.id);
      }
      start = comma + 1;
    }
  }
  auto reject = [&](const std::string& why) {
    JobOutcome out;
    out.ok = false;
    out.rejected = true;
    out.error = "not a job of run " + job.run + ": " + why;
    return out;
  };
  if (job.kind != "embed" && job.kind != "query") return reject("unknown job kind '" + job.kind + "'");
  // The id names the job's result: it must be "<v>:<x>" for the payload "<v> <x>", or a forged entry could
  // record its result as another job's.
  size_t v = 0, x = 0;
  try {
    std::tie(v, x) = ParsePair(job.payload);
  } catch (const InvalidInput&) {
    return reject("malformed payload '" + job.payload.substr(0, 40) + "'");
  }
  if (job.id != std::to_string(v) + ":" + std::to_string(x)) {
    return reject("job id '" + job.id.substr(0, 40) + "' does not match its payload '" +
                  job.payload.substr(0, 40) + "'");
  }
  std::shared_ptr<LoadedRun> run;
  try {
    run = impl_->Run(job.run);
  } catch (const RunNotDescribed& e) {
    return reject(e.what());
  }
  if (v >= run->variants.size()) return reject("variant " + std::to_string(v) + " out of range");
  if (job.kind == "embed") {
    if (!run->variants[v].retrieval.NeedsVectors())
      return reject("variant " + std::to_string(v) + " has no vectors");
    impl_->Prepare(*run, v);
    if (x >= Batches(*run->states[v]->units))
      return reject("embedding batch " + std::to_string(x) + " out of range");
    return {true, impl_->Embed(*run, v, x), ""};
  }
  if (x >= run->corpus.query_ids.size()) return reject("query " + std::to_string(x) + " out of range");
  return impl_->Query(*run, v, x);
}

}  // namespace rlm
