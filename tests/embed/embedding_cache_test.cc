#include "embed/embedding_cache.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/hash.h"
#include "embed/cached_embedder.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;

Hash128 Key(uint64_t i) {
  return ContentHash("text number " + std::to_string(i));
}

std::vector<Hash128> Keys(uint64_t begin, uint64_t end) {
  std::vector<Hash128> keys;
  for (uint64_t i = begin; i < end; ++i) keys.push_back(Key(i));
  return keys;
}

// The vector "embedded" for a key: a pure function of the key and dims, so any row read back can be
// checked without remembering what was stored.
void VectorFor(const Hash128& key, size_t dims, float* out) {
  uint64_t x = key.hi ^ (key.lo * 0x9E3779B97F4A7C15ULL) ^ dims;
  for (size_t j = 0; j < dims; ++j) {
    x += 0x9E3779B97F4A7C15ULL;  // splitmix64
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    out[j] = static_cast<float>(static_cast<double>(z >> 11) / 9007199254740992.0 * 2.0 - 1.0);
  }
}

std::vector<float> Rows(std::span<const Hash128> keys, size_t dims) {
  std::vector<float> rows(keys.size() * dims);
  for (size_t i = 0; i < keys.size(); ++i) VectorFor(keys[i], dims, rows.data() + i * dims);
  return rows;
}

// Looks up `keys`; returns which were found, and fails the test when a found row is not the key's vector.
std::vector<bool> LookupChecked(EmbeddingCache& cache, std::string_view fp, size_t dims,
                                std::span<const Hash128> keys) {
  std::vector<float> out(keys.size() * dims);
  std::vector<bool> found;
  size_t hits = cache.Lookup(fp, dims, keys, out.data(), found);
  EXPECT_EQ(found.size(), keys.size());
  size_t counted = 0;
  std::vector<float> want(dims);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!found[i]) continue;
    ++counted;
    VectorFor(keys[i], dims, want.data());
    EXPECT_EQ(std::memcmp(want.data(), out.data() + i * dims, dims * sizeof(float)), 0) << "row " << i;
  }
  EXPECT_EQ(hits, counted);
  return found;
}

EmbeddingCacheOptions Options(std::optional<uint64_t> max_bytes, int64_t touch_interval_ms = 60'000) {
  EmbeddingCacheOptions o;
  o.max_bytes = max_bytes;
  o.touch_interval_ms = touch_interval_ms;
  return o;
}

EmbeddingCachePrune PruneSpec(std::optional<uint64_t> max_bytes, std::optional<std::string> fingerprint = {},
                              bool vacuum = false) {
  EmbeddingCachePrune p;
  p.max_bytes = max_bytes;
  p.fingerprint = std::move(fingerprint);
  p.vacuum = vacuum;
  return p;
}

size_t CountTrue(const std::vector<bool>& v) {
  return static_cast<size_t>(std::count(v.begin(), v.end(), true));
}

// The first column of the first row of `query`, run with a separate connection.
std::string RawQuery(const std::string& path, const char* query) {
  sqlite3* db = nullptr;
  std::string result = "cannot open";
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, query, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
      result = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    } else {
      result = sqlite3_errmsg(db);
    }
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return result;
}

// Every entry has its vector and every vector its entry.
std::string Orphans(const std::string& path) {
  return RawQuery(path,
                  "SELECT (SELECT count(*) FROM entries WHERE id NOT IN (SELECT id FROM vectors)) || ' ' || "
                  "(SELECT count(*) FROM vectors WHERE id NOT IN (SELECT id FROM entries))");
}

// Sets (or unsets, with nullptr) an environment variable for the scope of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class EmbeddingCacheTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rlm-cache-" + std::to_string(::getpid()) + "-" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_, ec);
  }
  std::unique_ptr<EmbeddingCache> OpenCache(EmbeddingCacheOptions o = {}) {
    return EmbeddingCache::Open(dir_.string(), o);
  }
  fs::path dir_;
};

constexpr char kFp[] = "hash-v1:d384:test";

TEST_F(EmbeddingCacheTest, RoundTripIsBitExactAndMissesAreUntouched) {
  auto cache = OpenCache();
  EXPECT_EQ(cache->path(), (dir_ / "embeddings.sqlite").string());
  EXPECT_TRUE(fs::exists(cache->path()));
  const size_t dims = 384;
  std::vector<Hash128> keys = Keys(0, 200);
  std::vector<float> rows = Rows(keys, dims);
  // Values whose bits a text round trip or a double conversion would lose.
  rows[0] = -0.0f;
  rows[1] = std::numeric_limits<float>::denorm_min();
  rows[2] = std::numeric_limits<float>::infinity();
  rows[3] = std::numeric_limits<float>::quiet_NaN();
  rows[4] = 0.1f;
  cache->Store(kFp, dims, keys, rows.data());

  // Stored keys interleaved with never-stored ones.
  std::vector<Hash128> query;
  for (uint64_t i = 0; i < 200; ++i) {
    query.push_back(Key(i));
    query.push_back(Key(100000 + i));
  }
  std::vector<float> out(query.size() * dims, 42.0f);
  std::vector<bool> found;
  EXPECT_EQ(cache->Lookup(kFp, dims, query, out.data(), found), 200u);
  for (size_t q = 0; q < query.size(); ++q) {
    if (q % 2 == 0) {
      ASSERT_TRUE(found[q]);
      EXPECT_EQ(std::memcmp(out.data() + q * dims, rows.data() + (q / 2) * dims, dims * sizeof(float)), 0);
    } else {
      ASSERT_FALSE(found[q]);
      for (size_t j = 0; j < dims; ++j) ASSERT_EQ(out[q * dims + j], 42.0f) << "a miss row was written";
    }
  }
  // Empty batches are no-ops.
  EXPECT_EQ(cache->Lookup(kFp, dims, {}, nullptr, found), 0u);
  EXPECT_TRUE(found.empty());
  cache->Store(kFp, dims, {}, nullptr);

  // Reopening (a new process would) sees the same rows.
  cache.reset();
  cache = OpenCache();
  EXPECT_EQ(CountTrue(LookupChecked(*cache, kFp, dims, Keys(5, 200))), 195u);
}

TEST_F(EmbeddingCacheTest, MissesOnEmptyCacheAndUnknownFingerprint) {
  auto cache = OpenCache();
  std::vector<Hash128> keys = Keys(0, 10);
  std::vector<float> out(10 * 8);
  std::vector<bool> found{true, true};
  EXPECT_EQ(cache->Lookup("nobody", 8, keys, out.data(), found), 0u);
  EXPECT_EQ(found, std::vector<bool>(10, false));
  EXPECT_THROW(cache->Lookup("nobody", 0, keys, out.data(), found), InvalidInput);
  EXPECT_THROW(cache->Store("nobody", 0, keys, out.data()), InvalidInput);
}

TEST_F(EmbeddingCacheTest, FingerprintsAreIsolated) {
  auto cache = OpenCache();
  std::vector<Hash128> keys = Keys(0, 50);
  std::vector<float> a = Rows(keys, 16), b(a.size());
  for (size_t i = 0; i < a.size(); ++i) b[i] = -a[i] + 0.5f;
  cache->Store("model-a", 16, keys, a.data());
  cache->Store("model-b", 16, keys, b.data());
  std::vector<float> out(a.size());
  std::vector<bool> found;
  ASSERT_EQ(cache->Lookup("model-a", 16, keys, out.data(), found), 50u);
  EXPECT_EQ(std::memcmp(out.data(), a.data(), a.size() * sizeof(float)), 0);
  ASSERT_EQ(cache->Lookup("model-b", 16, keys, out.data(), found), 50u);
  EXPECT_EQ(std::memcmp(out.data(), b.data(), b.size() * sizeof(float)), 0);
  EXPECT_EQ(cache->Lookup("model-c", 16, keys, out.data(), found), 0u);
  // A fingerprint that is a prefix of another is a different fingerprint.
  EXPECT_EQ(cache->Lookup("model-", 16, keys, out.data(), found), 0u);
}

TEST_F(EmbeddingCacheTest, DimsMismatchIsAMissAndStoreReplacesTheRow) {
  auto cache = OpenCache();
  std::vector<Hash128> keys = Keys(0, 1);
  cache->Store(kFp, 8, keys, Rows(keys, 8).data());
  EXPECT_EQ(CountTrue(LookupChecked(*cache, kFp, 16, keys)), 0u);
  EXPECT_EQ(CountTrue(LookupChecked(*cache, kFp, 8, keys)), 1u);
  cache->Store(kFp, 16, keys, Rows(keys, 16).data());
  EXPECT_EQ(CountTrue(LookupChecked(*cache, kFp, 16, keys)), 1u);
  EXPECT_EQ(CountTrue(LookupChecked(*cache, kFp, 8, keys)), 0u);
  EmbeddingCacheStats st = cache->Stats();
  EXPECT_EQ(st.entries, 1u);
  EXPECT_EQ(st.bytes, 16 * sizeof(float));
}

TEST_F(EmbeddingCacheTest, StatsEqualWhatWasStored) {
  auto cache = OpenCache(Options(123456789));
  std::vector<Hash128> a = Keys(0, 10), b = Keys(100, 105);
  cache->Store("b-model", 8, b, Rows(b, 8).data());
  cache->Store("a-model", 4, a, Rows(a, 4).data());
  // Overwriting existing keys (same dims) changes nothing in the counts; growing dims adds the difference.
  std::vector<Hash128> again = Keys(0, 3);
  cache->Store("a-model", 4, again, Rows(again, 4).data());
  std::vector<Hash128> grown = Keys(3, 4);
  cache->Store("a-model", 6, grown, Rows(grown, 6).data());
  EmbeddingCacheStats st = cache->Stats();
  EXPECT_EQ(st.path, cache->path());
  EXPECT_EQ(st.max_bytes, 123456789u);
  EXPECT_EQ(st.entries, 15u);
  EXPECT_EQ(st.bytes, 9 * 16 + 1 * 24 + 5 * 32u);
  EXPECT_GT(st.file_bytes, 0u);
  ASSERT_EQ(st.fingerprints.size(), 2u);
  EXPECT_EQ(st.fingerprints[0].fingerprint, "a-model");
  EXPECT_EQ(st.fingerprints[0].entries, 10u);
  EXPECT_EQ(st.fingerprints[0].bytes, 9 * 16 + 24u);
  EXPECT_EQ(st.fingerprints[1].fingerprint, "b-model");
  EXPECT_EQ(st.fingerprints[1].entries, 5u);
  EXPECT_EQ(st.fingerprints[1].bytes, 5 * 32u);
}

TEST_F(EmbeddingCacheTest, EvictsLeastRecentlyUsedBeyondTheCap) {
  const size_t dims = 16, entry = dims * sizeof(float);
  auto cache = OpenCache(Options(10 * entry, 0));
  for (uint64_t i = 0; i < 10; ++i) {  // one batch per key: ten distinct ages, key 0 the oldest
    std::vector<Hash128> k = Keys(i, i + 1);
    cache->Store(kFp, dims, k, Rows(k, dims).data());
  }
  EXPECT_EQ(cache->Stats().entries, 10u);
  std::vector<Hash128> oldest = Keys(0, 1);
  EXPECT_EQ(CountTrue(LookupChecked(*cache, kFp, dims, oldest)), 1u);  // now the most recently used
  std::vector<Hash128> k10 = Keys(10, 11);
  cache->Store(kFp, dims, k10, Rows(k10, dims).data());
  std::vector<bool> found = LookupChecked(*cache, kFp, dims, Keys(0, 11));
  EXPECT_TRUE(found[0]) << "a looked-up entry must survive";
  EXPECT_FALSE(found[1]) << "the least recently used entry must go";
  EXPECT_EQ(CountTrue(found), 10u);

  // The lookup above stamped all survivors alike; give them distinct ages (2 oldest, 0 newest). A batch of
  // four then evicts 2..5.
  for (uint64_t i : {2, 3, 4, 5, 6, 7, 8, 9, 10, 0}) {
    std::vector<Hash128> k = Keys(i, i + 1);
    LookupChecked(*cache, kFp, dims, k);
  }
  std::vector<Hash128> batch = Keys(11, 15);
  cache->Store(kFp, dims, batch, Rows(batch, dims).data());
  found = LookupChecked(*cache, kFp, dims, Keys(0, 15));
  std::vector<bool> want = {true, false, false, false, false, false, true, true,
                            true, true,  true,  true,  true,  true,  true};
  EXPECT_EQ(found, want);
  EmbeddingCacheStats st = cache->Stats();
  EXPECT_EQ(st.entries, 10u);
  EXPECT_EQ(st.bytes, 10 * entry);
}

TEST_F(EmbeddingCacheTest, LookupTouchIsRateLimited) {
  const size_t dims = 4, entry = dims * sizeof(float);
  auto cache = OpenCache(Options(2 * entry));  // default interval: a fresh hit is not re-stamped
  for (uint64_t i = 0; i < 2; ++i) {
    std::vector<Hash128> k = Keys(i, i + 1);
    cache->Store(kFp, dims, k, Rows(k, dims).data());
  }
  LookupChecked(*cache, kFp, dims, Keys(0, 1));
  std::vector<Hash128> k2 = Keys(2, 3);
  cache->Store(kFp, dims, k2, Rows(k2, dims).data());
  std::vector<bool> found = LookupChecked(*cache, kFp, dims, Keys(0, 3));
  EXPECT_EQ(found, (std::vector<bool>{false, true, true}));
}

TEST_F(EmbeddingCacheTest, ABatchLargerThanTheCapKeepsItsNewestRows) {
  auto cache = OpenCache(Options(5 * 16));
  std::vector<Hash128> keys = Keys(0, 8);
  cache->Store(kFp, 4, keys, Rows(keys, 4).data());
  EmbeddingCacheStats st = cache->Stats();
  EXPECT_EQ(st.entries, 5u);
  EXPECT_EQ(st.bytes, 80u);
  EXPECT_EQ(CountTrue(LookupChecked(*cache, kFp, 4, keys)), 5u);
}

TEST_F(EmbeddingCacheTest, PruneToSizeByFingerprintAndVacuum) {
  const size_t dims = 256, entry = dims * sizeof(float);
  auto cache = OpenCache();
  for (uint64_t b = 0; b < 10; ++b) {  // ten batches, oldest first
    std::vector<Hash128> k = Keys(b * 100, b * 100 + 100);
    cache->Store(kFp, dims, k, Rows(k, dims).data());
  }
  std::vector<Hash128> other = Keys(5000, 5100);
  cache->Store("other", dims, other, Rows(other, dims).data());
  ASSERT_EQ(cache->Stats().entries, 1100u);

  EmbeddingCachePruneResult r = cache->Prune(PruneSpec(700 * entry));
  EXPECT_EQ(r.removed_entries, 400u);
  EXPECT_EQ(r.removed_bytes, 400 * entry);
  EXPECT_FALSE(r.vacuumed);
  EXPECT_EQ(CountTrue(LookupChecked(*cache, kFp, dims, Keys(0, 400))), 0u) << "the oldest batches go first";
  EXPECT_EQ(CountTrue(LookupChecked(*cache, kFp, dims, Keys(400, 1000))), 600u);
  EXPECT_EQ(cache->Stats().bytes, 700 * entry);

  r = cache->Prune(PruneSpec(std::nullopt, "other"));
  EXPECT_EQ(r.removed_entries, 100u);
  EXPECT_EQ(r.removed_bytes, 100 * entry);
  EXPECT_EQ(CountTrue(LookupChecked(*cache, "other", dims, other)), 0u);
  EmbeddingCacheStats st = cache->Stats();
  EXPECT_EQ(st.entries, 600u);
  ASSERT_EQ(st.fingerprints.size(), 1u);
  EXPECT_EQ(st.fingerprints[0].fingerprint, kFp);

  r = cache->Prune(PruneSpec(std::nullopt, "never-stored"));
  EXPECT_EQ(r.removed_entries, 0u);

  r = cache->Prune(PruneSpec(100 * entry, std::nullopt, true));
  EXPECT_EQ(r.removed_entries, 500u);
  EXPECT_TRUE(r.vacuumed);
  EXPECT_LT(r.file_bytes_after, r.file_bytes_before);
  EXPECT_EQ(CountTrue(LookupChecked(*cache, kFp, dims, Keys(900, 1000))), 100u);

  EXPECT_EQ(Orphans(cache->path()), "0 0");

  cache->Clear();
  EXPECT_EQ(Orphans(cache->path()), "0 0");
  st = cache->Stats();
  EXPECT_EQ(st.entries, 0u);
  EXPECT_EQ(st.bytes, 0u);
  EXPECT_TRUE(st.fingerprints.empty());
  EXPECT_EQ(CountTrue(LookupChecked(*cache, kFp, dims, Keys(900, 1000))), 0u);
  // Still usable after Clear.
  cache->Store(kFp, dims, other, Rows(other, dims).data());
  EXPECT_EQ(cache->Stats().entries, 100u);
}

TEST(EmbeddingCacheConfig, ParseByteSize) {
  EXPECT_EQ(ParseByteSize("4096"), 4096u);
  EXPECT_EQ(ParseByteSize(" 500MB "), 500u << 20);
  EXPECT_EQ(ParseByteSize("500 mib"), 500u << 20);
  EXPECT_EQ(ParseByteSize("2G"), uint64_t{2} << 30);
  EXPECT_EQ(ParseByteSize("1.5GiB"), uint64_t{3} << 29);
  EXPECT_EQ(ParseByteSize("1kb"), 1024u);
  EXPECT_EQ(ParseByteSize("0"), 0u);
  EXPECT_EQ(ParseByteSize("7B"), 7u);
  EXPECT_EQ(ParseByteSize(""), std::nullopt);
  EXPECT_EQ(ParseByteSize("MB"), std::nullopt);
  EXPECT_EQ(ParseByteSize("-1"), std::nullopt);
  EXPECT_EQ(ParseByteSize("12 parsecs"), std::nullopt);
  EXPECT_EQ(ParseByteSize("1.2.3"), std::nullopt);
  EXPECT_EQ(ParseByteSize("99999999999999999999"), std::nullopt);
  EXPECT_EQ(ParseByteSize("99999999TB"), std::nullopt);
}

TEST(EmbeddingCacheConfig, DefaultDirAndEnabled) {
  {
    ScopedEnv a("RLM_CACHE_DIR", "/x/cache"), b("XDG_CACHE_HOME", "/xdg"), c("HOME", "/home/u");
    EXPECT_EQ(EmbeddingCache::DefaultDir(), "/x/cache");
  }
  {
    ScopedEnv a("RLM_CACHE_DIR", nullptr), b("XDG_CACHE_HOME", "/xdg"), c("HOME", "/home/u");
    EXPECT_EQ(EmbeddingCache::DefaultDir(), "/xdg/rlm");
  }
  {
    ScopedEnv a("RLM_CACHE_DIR", ""), b("XDG_CACHE_HOME", "relative"), c("HOME", "/home/u");
    EXPECT_EQ(EmbeddingCache::DefaultDir(), "/home/u/.cache/rlm");
  }
  {
    ScopedEnv a("RLM_CACHE_DIR", nullptr), b("XDG_CACHE_HOME", nullptr), c("HOME", nullptr);
    EXPECT_THROW(EmbeddingCache::DefaultDir(), IoError);
  }
  for (const char* off : {"off", "OFF", "0", "false", "no"}) {
    ScopedEnv e("RLM_CACHE", off);
    EXPECT_FALSE(EmbeddingCache::Enabled()) << off;
    std::string warning = "stale";
    EXPECT_EQ(EmbeddingCache::OpenDefaultOrWarn(&warning), nullptr);
    EXPECT_EQ(warning, "");
  }
  for (const char* on : {"on", "1", ""}) {
    ScopedEnv e("RLM_CACHE", on);
    EXPECT_TRUE(EmbeddingCache::Enabled()) << on;
  }
  ScopedEnv e("RLM_CACHE", nullptr);
  EXPECT_TRUE(EmbeddingCache::Enabled());
}

TEST_F(EmbeddingCacheTest, CapFromEnvironmentOrOption) {
  {
    ScopedEnv e("RLM_CACHE_MAX_BYTES", nullptr);
    EXPECT_EQ(OpenCache()->max_bytes(), EmbeddingCache::kDefaultMaxBytes);
  }
  {
    ScopedEnv e("RLM_CACHE_MAX_BYTES", "3KB");
    EXPECT_EQ(OpenCache()->max_bytes(), 3072u);
    EXPECT_EQ(OpenCache(Options(10))->max_bytes(), 10u) << "the option wins over the environment";
  }
  {
    ScopedEnv e("RLM_CACHE_MAX_BYTES", "lots");
    try {
      OpenCache();
      FAIL() << "expected InvalidInput";
    } catch (const InvalidInput& err) {
      EXPECT_NE(std::string(err.what()).find("RLM_CACHE_MAX_BYTES"), std::string::npos);
    }
  }
}

TEST_F(EmbeddingCacheTest, OpenDefaultUsesTheEnvironment) {
  ScopedEnv on("RLM_CACHE", nullptr), d("RLM_CACHE_DIR", dir_.c_str());
  std::string warning;
  auto cache = EmbeddingCache::OpenDefaultOrWarn(&warning);
  ASSERT_NE(cache, nullptr) << warning;
  EXPECT_EQ(warning, "");
  EXPECT_EQ(cache->path(), (dir_ / "embeddings.sqlite").string());
}

TEST_F(EmbeddingCacheTest, TwoThreadsShareOneObjectOrUseTwo) {
  const size_t dims = 64, batches = 40, per = 25;
  for (bool shared : {true, false}) {
    const std::string fp = shared ? "shared" : "separate";
    auto common = OpenCache();
    std::atomic<int> errors{0};
    auto work = [&](uint64_t base) {
      try {
        std::unique_ptr<EmbeddingCache> own;
        if (!shared) own = OpenCache();
        EmbeddingCache& cache = shared ? *common : *own;
        for (uint64_t b = 0; b < batches; ++b) {
          std::vector<Hash128> k = Keys(base + b * per, base + (b + 1) * per);
          cache.Store(fp, dims, k, Rows(k, dims).data());
          // Our own keys so far must all be there; the other thread's are checked for content only.
          if (CountTrue(LookupChecked(cache, fp, dims, Keys(base, base + (b + 1) * per))) != (b + 1) * per) {
            ++errors;
          }
          LookupChecked(cache, fp, dims, Keys(base ^ 100000, (base ^ 100000) + batches * per));
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++errors;
      }
    };
    std::thread t1(work, 0), t2(work, 100000);
    t1.join();
    t2.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(CountTrue(LookupChecked(*common, fp, dims, Keys(0, batches * per))), batches * per);
    EXPECT_EQ(CountTrue(LookupChecked(*common, fp, dims, Keys(100000, 100000 + batches * per))),
              batches * per);
  }
}

// Runs `child` in a forked process; returns the pid. The child exits 0 when `child` returns true.
template <class F>
pid_t Fork(F child) {
  pid_t pid = ::fork();
  if (pid == 0) {
    bool ok = false;
    try {
      ok = child();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "child %d: %s\n", ::getpid(), e.what());
    }
    ::_exit(ok ? 0 : 1);
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(EmbeddingCacheTest, TwoProcessesStoreAndLookUpConcurrently) {
  const size_t dims = 128, batches = 40, per = 50;
  OpenCache();  // schema exists before the children race; they must also cope without it (next test)
  auto child = [&](uint64_t base, uint64_t other) {
    return [=, this] {
      auto cache = OpenCache(Options(std::nullopt, 0));  // every lookup writes too: maximal contention
      for (uint64_t b = 0; b < batches; ++b) {
        std::vector<Hash128> k = Keys(base + b * per, base + (b + 1) * per);
        cache->Store(kFp, dims, k, Rows(k, dims).data());
        std::vector<Hash128> mine = Keys(base, base + (b + 1) * per);
        std::vector<float> out(mine.size() * dims), want(dims);
        std::vector<bool> found;
        if (cache->Lookup(kFp, dims, mine, out.data(), found) != mine.size()) return false;
        for (size_t i = 0; i < mine.size(); ++i) {
          VectorFor(mine[i], dims, want.data());
          if (std::memcmp(want.data(), out.data() + i * dims, dims * sizeof(float)) != 0) return false;
        }
        std::vector<Hash128> theirs = Keys(other, other + batches * per);
        out.resize(theirs.size() * dims);
        cache->Lookup(kFp, dims, theirs, out.data(), found);
      }
      return true;
    };
  };
  pid_t a = Fork(child(0, 100000)), b = Fork(child(100000, 0));
  EXPECT_EQ(WaitExit(a), 0);
  EXPECT_EQ(WaitExit(b), 0);
  auto cache = OpenCache();
  EXPECT_EQ(CountTrue(LookupChecked(*cache, kFp, dims, Keys(0, batches * per))), batches * per);
  EXPECT_EQ(CountTrue(LookupChecked(*cache, kFp, dims, Keys(100000, 100000 + batches * per))), batches * per);
  EXPECT_EQ(cache->Stats().entries, 2 * batches * per);
}

TEST_F(EmbeddingCacheTest, ProcessesRacingToCreateTheCache) {
  std::vector<pid_t> pids;
  for (uint64_t p = 0; p < 4; ++p) {
    pids.push_back(Fork([&, p] {
      auto cache = OpenCache();
      std::vector<Hash128> k = Keys(p * 10, p * 10 + 10);
      cache->Store(kFp, 8, k, Rows(k, 8).data());
      return true;
    }));
  }
  for (pid_t pid : pids) EXPECT_EQ(WaitExit(pid), 0);
  EXPECT_EQ(OpenCache()->Stats().entries, 40u);
}

TEST_F(EmbeddingCacheTest, KillDuringStoreLeavesWholeBatchesOnly) {
  const size_t dims = 384, per = 400;
  std::mt19937 rng(7);
  for (int round = 0; round < 3; ++round) {
    fs::remove_all(dir_);
    OpenCache();
    pid_t pid = Fork([&] {
      auto cache = OpenCache();
      for (uint64_t b = 0;; ++b) {  // until killed
        std::vector<Hash128> k = Keys(b * per, (b + 1) * per);
        cache->Store(kFp, dims, k, Rows(k, dims).data());
      }
      return true;
    });
    // Let a few batches commit, then kill at a random moment (most of the time is spent inside Store).
    {
      auto cache = OpenCache();
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (cache->Stats().entries < 3 * per && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    EXPECT_EQ(WaitExit(pid), 128 + SIGKILL);

    auto cache = OpenCache();
    EmbeddingCacheStats st = cache->Stats();
    ASSERT_GE(st.entries, 3 * per);
    ASSERT_EQ(st.entries % per, 0u) << "a batch is stored whole or not at all";
    const uint64_t stored_batches = st.entries / per;
    for (uint64_t b = 0; b < stored_batches + 2; ++b) {
      size_t hits = CountTrue(LookupChecked(*cache, kFp, dims, Keys(b * per, (b + 1) * per)));
      EXPECT_EQ(hits, b < stored_batches ? per : 0u) << "round " << round << " batch " << b;
    }
    EXPECT_EQ(st.bytes, st.entries * dims * sizeof(float));
    cache.reset();
    const std::string path = (dir_ / "embeddings.sqlite").string();
    EXPECT_EQ(RawQuery(path, "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(Orphans(path), "0 0");
  }
}

// Opening must fail with an error naming the file and suggesting to delete it.
void ExpectDeleteSuggestion(const fs::path& dir) {
  const std::string path = (dir / "embeddings.sqlite").string();
  try {
    EmbeddingCache::Open(dir.string());
    FAIL() << "expected StorageError";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(e.suggestion().find("delete " + path), std::string::npos) << e.suggestion();
  }
  ScopedEnv on("RLM_CACHE", nullptr), d("RLM_CACHE_DIR", dir.c_str());
  std::string warning;
  EXPECT_EQ(EmbeddingCache::OpenDefaultOrWarn(&warning), nullptr);
  EXPECT_NE(warning.find("embedding cache disabled"), std::string::npos) << warning;
  EXPECT_NE(warning.find(path), std::string::npos) << warning;
}

TEST_F(EmbeddingCacheTest, GarbageFileIsAClearError) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "embeddings.sqlite", std::ios::binary) << std::string(70000, '\x5a') << "garbage";
  ExpectDeleteSuggestion(dir_);
}

TEST_F(EmbeddingCacheTest, DamagedSchemaIsAClearError) {
  {
    auto cache = OpenCache();
    std::vector<Hash128> k = Keys(0, 100);
    cache->Store(kFp, 64, k, Rows(k, 64).data());
  }
  {
    // Keep the 100-byte header, wreck the rest of page 1 (the schema).
    std::fstream f(dir_ / "embeddings.sqlite", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f << std::string(8000, '\xff');
  }
  ExpectDeleteSuggestion(dir_);
}

TEST_F(EmbeddingCacheTest, ForeignSqliteFileIsAClearError) {
  fs::create_directories(dir_);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "embeddings.sqlite").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE notes(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  ExpectDeleteSuggestion(dir_);
}

TEST_F(EmbeddingCacheTest, NewerSchemaIsAClearError) {
  OpenCache();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "embeddings.sqlite").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value = '99' WHERE key = 'schema_version'", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  try {
    OpenCache();
    FAIL() << "expected StorageError";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST_F(EmbeddingCacheTest, UnwritableDirectoryIsAClearError) {
  // A directory below a regular file cannot be created, even by root.
  fs::create_directories(dir_);
  std::ofstream(dir_ / "file") << "x";
  const fs::path below = dir_ / "file" / "cache";
  try {
    EmbeddingCache::Open(below.string());
    FAIL() << "expected IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(below.string()), std::string::npos) << e.what();
    EXPECT_NE(e.suggestion().find("RLM_CACHE"), std::string::npos);
  }
  {
    ScopedEnv on("RLM_CACHE", nullptr), d("RLM_CACHE_DIR", below.c_str());
    std::string warning;
    EXPECT_EQ(EmbeddingCache::OpenDefaultOrWarn(&warning), nullptr);
    EXPECT_NE(warning.find(below.string()), std::string::npos) << warning;
  }
  if (::geteuid() == 0) return;  // root writes to read-only directories; the rest needs an ordinary user
  const fs::path ro = dir_ / "ro";
  fs::create_directories(ro);
  fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  EXPECT_THROW(EmbeddingCache::Open(ro.string()), IoError);
  fs::permissions(ro, fs::perms::owner_all);
}

// An inner embedder that fails on demand, the way a provider fails in the middle of a call: it writes some
// rows first, then throws.
class FlakyEmbedder : public Embedder {
 public:
  static constexpr size_t kDims = 4;
  std::string Fingerprint() const override { return "flaky:d4"; }
  size_t Dims() const override { return kDims; }
  bool Cacheable() const override { return true; }
  void Embed(std::span<const std::string_view> texts, EmbedRole, float* out) const override {
    for (size_t i = 0; i < texts.size(); ++i) {
      for (size_t j = 0; j < kDims; ++j) out[i * kDims + j] = 0.5f;
      if (fail && i + 1 == (texts.size() + 1) / 2) throw IoError("flaky: the provider went away");
    }
    counters_.texts.fetch_add(texts.size());
  }
  std::atomic<bool> fail{false};
};

TEST_F(EmbeddingCacheTest, FailingInnerEmbedderStoresNothing) {
  const std::string used = (dir_ / "used").string(), empty = (dir_ / "empty").string();
  auto entries = [](const std::string& dir) { return EmbeddingCache::Open(dir)->Stats().entries; };
  auto owned = std::make_unique<FlakyEmbedder>();
  FlakyEmbedder& inner = *owned;
  CachedEmbedder cached(std::move(owned), EmbeddingCache::Open(used));

  const std::vector<std::string_view> first = {"alpha", "beta"};
  std::vector<float> out(first.size() * FlakyEmbedder::kDims, 7.0f);
  cached.Embed(first, EmbedRole::kDocument, out.data());
  ASSERT_EQ(entries(used), 2u);

  // Two cached texts and three new ones: the inner embedder fails on the new ones. Nothing of the failed
  // call reaches the cache or the output.
  inner.fail = true;
  const std::vector<std::string_view> texts = {"alpha", "gamma", "beta", "delta", "epsilon"};
  out.assign(texts.size() * FlakyEmbedder::kDims, 7.0f);
  EXPECT_THROW(cached.Embed(texts, EmbedRole::kDocument, out.data()), IoError);
  EXPECT_EQ(entries(used), 2u);
  for (float x : out) ASSERT_EQ(x, 7.0f) << "output written by a failed call";
  EXPECT_TRUE(cached.warning().empty()) << cached.warning();

  // The same on an empty cache: no entry at all.
  auto failing = std::make_unique<FlakyEmbedder>();
  failing->fail = true;
  CachedEmbedder fresh(std::move(failing), EmbeddingCache::Open(empty));
  EXPECT_THROW(fresh.Embed(texts, EmbedRole::kDocument, out.data()), IoError);
  EXPECT_EQ(entries(empty), 0u);

  // Once the provider is back, the failed texts are computed (none was remembered), and then stored.
  inner.fail = false;
  const uint64_t before = inner.counters().texts.load();
  cached.Embed(texts, EmbedRole::kDocument, out.data());
  EXPECT_EQ(inner.counters().texts.load() - before, 3u);
  EXPECT_EQ(entries(used), 5u);
}

}  // namespace
}  // namespace rlm
