// The shared embedding cache: `cache stats` and `cache prune [--max-bytes N|SIZE] [--fingerprint F]
// [--vacuum]`. Both work on EmbeddingCache::DefaultDir() ($RLM_CACHE_DIR, $XDG_CACHE_HOME/rlm or
// ~/.cache/rlm) whatever $RLM_CACHE says (it only decides whether the pipeline uses the cache), and neither
// creates a cache that does not exist yet.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cli/context.h"
#include "core/error.h"
#include "embed/embedding_cache.h"

namespace rlm::cli {

namespace {

struct PruneArgs {
  std::string max_bytes;
  std::string fingerprint;
  bool vacuum = false;
};

// The cache in the default directory, or nullptr when its file does not exist (nothing to report or prune).
std::unique_ptr<EmbeddingCache> OpenExistingCache(std::string* path) {
  const std::string dir = EmbeddingCache::DefaultDir();
  *path = (std::filesystem::path(dir) / EmbeddingCache::kFileName).string();
  std::error_code ec;
  if (!std::filesystem::exists(*path, ec)) return nullptr;
  return EmbeddingCache::Open(dir);
}

json StatsJson(const EmbeddingCacheStats& st, bool exists) {
  json fps = json::array();
  for (const auto& f : st.fingerprints) {
    fps.push_back(json{{"fingerprint", f.fingerprint}, {"entries", f.entries}, {"bytes", f.bytes}});
  }
  return json{{"path", st.path},
              {"exists", exists},
              {"enabled", EmbeddingCache::Enabled()},
              {"entries", st.entries},
              {"bytes", st.bytes},
              {"max_bytes", st.max_bytes},
              {"file_bytes", st.file_bytes},
              {"fingerprints", fps}};
}

void RunStats(Context& ctx) {
  std::string path;
  auto cache = OpenExistingCache(&path);
  EmbeddingCacheStats st;
  if (cache) {
    st = cache->Stats();
  } else {
    st.path = path;
    st.max_bytes = EmbeddingCache::DefaultMaxBytes();  // what the cache will get when it is created
  }
  if (ctx.json_mode()) {
    ctx.Emit(StatsJson(st, cache != nullptr));
    return;
  }
  std::string out = "Embedding cache: " + st.path + (cache ? "" : " (not created yet)") + "\n";
  if (!EmbeddingCache::Enabled()) out += "  Disabled:      RLM_CACHE=off\n";
  out += "  Entries:       " + std::to_string(st.entries) + "\n";
  out += "  Vectors:       " + HumanBytes(st.bytes) + " of " + HumanBytes(st.max_bytes) + "\n";
  out += "  File size:     " + HumanBytes(st.file_bytes) + "\n";
  for (const auto& f : st.fingerprints) {
    out +=
        "  " + f.fingerprint + ": " + std::to_string(f.entries) + " entries, " + HumanBytes(f.bytes) + "\n";
  }
  ctx.Print(out);
}

void RunPrune(Context& ctx, const PruneArgs& a) {
  EmbeddingCachePrune p;
  if (!a.max_bytes.empty()) {
    p.max_bytes = ParseByteSize(a.max_bytes);
    if (!p.max_bytes) {
      throw UsageError("--max-bytes: not a byte size: " + a.max_bytes + " (use e.g. 1000000, 500MB or 2GiB)");
    }
  }
  if (!a.fingerprint.empty()) p.fingerprint = a.fingerprint;
  p.vacuum = a.vacuum;

  std::string path;
  auto cache = OpenExistingCache(&path);
  EmbeddingCachePruneResult r;
  EmbeddingCacheStats st;
  st.path = path;
  if (cache) {
    r = cache->Prune(p);
    st = cache->Stats();
  }
  if (ctx.json_mode()) {
    ctx.Emit(json{{"action", "prune"},
                  {"path", st.path},
                  {"removed_entries", r.removed_entries},
                  {"removed_bytes", r.removed_bytes},
                  {"entries", st.entries},
                  {"bytes", st.bytes},
                  {"vacuumed", r.vacuumed},
                  {"file_bytes_before", r.file_bytes_before},
                  {"file_bytes_after", r.file_bytes_after},
                  {"success", true}});
    return;
  }
  if (!cache) {
    ctx.Line("No embedding cache at " + path + "; nothing to prune.");
    return;
  }
  std::string out = "Removed " + std::to_string(r.removed_entries) + " entries (" +
                    HumanBytes(r.removed_bytes) + "); " + std::to_string(st.entries) + " entries (" +
                    HumanBytes(st.bytes) + ") remain.\n";
  if (r.vacuumed) {
    out += "File size: " + HumanBytes(r.file_bytes_before) + " -> " + HumanBytes(r.file_bytes_after) + "\n";
  } else if (r.removed_entries > 0) {
    out += "File size stays " + HumanBytes(r.file_bytes_after) +
           " (freed pages are reused by later stores; --vacuum shrinks the file)\n";
  }
  ctx.Print(out);
}

}  // namespace

void RegisterCacheCommands(CLI::App& app, Context& ctx) {
  CLI::App* cache = app.add_subcommand("cache", "The shared embedding cache: stats, prune");
  cache->require_subcommand(1);

  CLI::App* stats = cache->add_subcommand("stats", "Entries, sizes and fingerprints of the embedding cache");
  OnRun(stats, ctx, [&ctx] { RunStats(ctx); });

  auto args = std::make_shared<PruneArgs>();
  CLI::App* prune = cache->add_subcommand(
      "prune",
      "Evict least recently used vectors down to a size (default: the cap) and/or drop a fingerprint");
  prune->add_option("--max-bytes", args->max_bytes, "Keep at most this much: bytes or a size such as 500MB");
  prune->add_option("--fingerprint", args->fingerprint, "Drop every vector of this embedder fingerprint");
  prune->add_flag("--vacuum", args->vacuum,
                  "Then rebuild the file so it shrinks on disk (slow for large caches)");
  OnRun(prune, ctx, [&ctx, args] { RunPrune(ctx, *args); });
}

}  // namespace rlm::cli
