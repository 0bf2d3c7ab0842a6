// hash_embed_bench: throughput of the `hash` embedder (embed/hash_embedder.h, the default) on the chunks of
// one file, as `rlm load` would embed them. Run by bench/encoder.sh next to the transformer encoder.
//
// The file is read and split once with the semantic chunker (--size/--overlap, rlm's defaults 3000/500);
// then all chunks are embedded `--warmup` times untimed and `--reps` times timed, in Embed calls of
// PreferredBatch() texts, inside a tbb::task_arena of `--threads`. Only Embed is timed. MB/s counts the
// bytes of the chunks embedded (with overlap, more than the file: both are printed), 1 MB = 1e6 bytes.
//
// Usage: hash_embed_bench FILE [--dims 256] [--size 3000] [--overlap 500] [--threads 1] [--reps 5]
//                              [--warmup 1] [--json]
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "bench_util.h"
#include "chunk/chunker.h"
#include "core/file.h"
#include "core/utf8.h"
#include "embed/hash_embedder.h"

namespace {

struct Options {
  std::string file;
  size_t dims = rlm::HashEmbedder::kDefaultDims;
  size_t size = 3000;
  size_t overlap = 500;
  int threads = 1;
  int reps = 5;
  int warmup = 1;
  bool json = false;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "hash_embed_bench: %s\nusage: hash_embed_bench FILE [--dims N] [--size N] [--overlap N] "
               "[--threads N] [--reps N] [--warmup N] [--json]\n",
               why);
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&] { return rlm::bench::OptionValue(argc, argv, i, Usage); };
    if (a == "--dims") o.dims = static_cast<size_t>(value());
    else if (a == "--size") o.size = static_cast<size_t>(value());
    else if (a == "--overlap") o.overlap = static_cast<size_t>(value());
    else if (a == "--threads") o.threads = static_cast<int>(value());
    else if (a == "--reps") o.reps = static_cast<int>(value());
    else if (a == "--warmup") o.warmup = static_cast<int>(value());
    else if (a == "--json") o.json = true;
    else if (!a.empty() && a[0] == '-') Usage("unknown option");
    else o.file = std::string(a);
  }
  if (o.file.empty()) Usage("no input file");
  if (o.reps < 1 || o.threads < 1) Usage("--reps and --threads must be at least 1");
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  try {
    std::string text = rlm::ReadFile(o.file);
    text.erase(0, rlm::utf8::BomLength(text));
    if (auto bad = rlm::utf8::FindInvalid(text)) {
      std::fprintf(stderr, "hash_embed_bench: %s: invalid UTF-8 at byte %zu\n", o.file.c_str(), *bad);
      return 1;
    }
    rlm::ChunkOptions options;
    options.size = o.size;
    options.overlap = o.overlap;
    rlm::ValidateChunkOptions(options);
    std::vector<std::string_view> chunks;
    size_t chunk_bytes = 0;
    for (const rlm::ChunkSpan& s : rlm::MakeChunker("semantic")->Split(text, options)) {
      chunks.emplace_back(text.data() + s.start, s.end - s.start);
      chunk_bytes += s.end - s.start;
    }

    const rlm::HashEmbedder embedder(o.dims);
    const size_t batch = embedder.PreferredBatch();
    std::vector<float> out(batch * embedder.Dims());
    auto embed_all = [&] {
      for (size_t i = 0; i < chunks.size(); i += batch) {
        const size_t n = std::min(batch, chunks.size() - i);
        embedder.Embed(std::span<const std::string_view>(chunks).subspan(i, n), rlm::EmbedRole::kDocument,
                       out.data());
      }
    };
    std::vector<double> seconds;
    tbb::task_arena arena(o.threads);
    arena.execute([&] {
      for (int i = 0; i < o.warmup; ++i) embed_all();
      for (int i = 0; i < o.reps; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        embed_all();
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
    });
    const double med = rlm::bench::Median(seconds);
    const double best = *std::min_element(seconds.begin(), seconds.end());
    if (o.json) {
      std::printf(
          "{\"name\":\"rlm-hash\",\"fingerprint\":\"%s\",\"threads\":%d,\"file_bytes\":%zu,\"chunks\":%zu,"
          "\"chunk_bytes\":%zu,\"reps\":%d,\"median_seconds\":%.6f,\"min_seconds\":%.6f,\"mb_per_s\":%.2f,"
          "\"chunks_per_s\":%.1f}\n",
          embedder.Fingerprint().c_str(), o.threads, text.size(), chunks.size(), chunk_bytes, o.reps, med, best,
          chunk_bytes / 1e6 / med, chunks.size() / med);
      return 0;
    }
    std::printf("%s: %.2f MB in %zu chunks (%.2f MB with overlap), %s, %d threads, median of %d after %d warm-up\n",
                o.file.c_str(), text.size() / 1e6, chunks.size(), chunk_bytes / 1e6, embedder.Fingerprint().c_str(),
                o.threads, o.reps, o.warmup);
    std::printf("  %.1f MB/s of chunk text, %.0f chunks/s, %.1f ms per pass (best %.1f)\n", chunk_bytes / 1e6 / med,
                chunks.size() / med, med * 1e3, best * 1e3);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hash_embed_bench: %s\n", e.what());
    return 1;
  }
}
