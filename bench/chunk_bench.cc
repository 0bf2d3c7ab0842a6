// chunk_bench: throughput of rlm's chunkers on one file, the C++ half of bench/chunk.sh (the peer, LangChain's
// RecursiveCharacterTextSplitter, is bench/node/langchain_split.mjs, run by the same script).
//
// The file is read into memory once and validated as UTF-8; then each chunker splits it `--warmup` times
// untimed and `--reps` times timed, and the median is reported (MB/s with 1 MB = 1e6 bytes of input).
// Only Split() is timed: no file reading, no storage, no embedding. Each row runs inside a tbb::task_arena of
// its thread count, so "parallel" at 2 threads vs "semantic" (always one thread) is the parallel speed-up.
// (An arena, not tbb::global_control: after a global limit of 1, raising it again did not bring TBB's
// workers back in time for millisecond-long splits, and "2 threads" measured as 1.)
//
// Usage: chunk_bench FILE [--size 3000] [--overlap 500] [--reps 9] [--warmup 2] [--threads 2] [--json]
//   --json prints one JSON object per line (one per row) instead of the table.
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

namespace {

struct Options {
  std::string file;
  size_t size = 3000;
  size_t overlap = 500;
  int reps = 9;
  int warmup = 2;
  int threads = 2;
  bool json = false;
};

struct Row {
  std::string name;
  int threads = 1;
  size_t chunks = 0;
  size_t max_chunk_bytes = 0;
  double median_seconds = 0;
  double min_seconds = 0;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "chunk_bench: %s\nusage: chunk_bench FILE [--size N] [--overlap N] [--reps N] [--warmup N] "
               "[--threads N] [--json]\n",
               why);
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&] { return rlm::bench::OptionValue(argc, argv, i, Usage); };
    if (a == "--size") o.size = static_cast<size_t>(value());
    else if (a == "--overlap") o.overlap = static_cast<size_t>(value());
    else if (a == "--reps") o.reps = static_cast<int>(value());
    else if (a == "--warmup") o.warmup = static_cast<int>(value());
    else if (a == "--threads") o.threads = static_cast<int>(value());
    else if (a == "--json") o.json = true;
    else if (!a.empty() && a[0] == '-') Usage("unknown option");
    else o.file = std::string(a);
  }
  if (o.file.empty()) Usage("no input file");
  if (o.reps < 1 || o.threads < 1) Usage("--reps and --threads must be at least 1");
  return o;
}

// Runs in the caller's task arena: the parallel chunker's TBB work uses that arena's threads.
Row MeasureInArena(std::string_view chunker_name, int threads, std::string_view text, const Options& o) {
  auto chunker = rlm::MakeChunker(chunker_name);
  rlm::ChunkOptions options;
  options.size = o.size;
  options.overlap = o.overlap;
  rlm::ValidateChunkOptions(options);

  std::vector<rlm::ChunkSpan> spans;
  for (int i = 0; i < o.warmup; ++i) spans = chunker->Split(text, options);
  std::vector<double> seconds;
  for (int i = 0; i < o.reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    spans = chunker->Split(text, options);
    auto t1 = std::chrono::steady_clock::now();
    seconds.push_back(std::chrono::duration<double>(t1 - t0).count());
  }
  Row row;
  row.name = std::string(chunker_name);
  row.threads = threads;
  row.chunks = spans.size();
  for (const auto& s : spans) row.max_chunk_bytes = std::max(row.max_chunk_bytes, s.end - s.start);
  row.median_seconds = rlm::bench::Median(seconds);
  row.min_seconds = *std::min_element(seconds.begin(), seconds.end());
  return row;
}

Row Measure(std::string_view chunker_name, int threads, std::string_view text, const Options& o) {
  Row row;
  tbb::task_arena arena(threads);
  arena.execute([&] { row = MeasureInArena(chunker_name, threads, text, o); });
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  try {
    std::string text = rlm::ReadFile(o.file);
    text.erase(0, rlm::utf8::BomLength(text));
    if (auto bad = rlm::utf8::FindInvalid(text)) {
      std::fprintf(stderr, "chunk_bench: %s: invalid UTF-8 at byte %zu\n", o.file.c_str(), *bad);
      return 1;
    }
    std::vector<Row> rows;
    rows.push_back(Measure("semantic", 1, text, o));
    rows.push_back(Measure("parallel", 1, text, o));
    if (o.threads > 1) rows.push_back(Measure("parallel", o.threads, text, o));

    const double mb = static_cast<double>(text.size()) / 1e6;
    if (o.json) {
      for (const Row& r : rows) {
        std::printf(
            "{\"name\":\"rlm-%s\",\"impl\":\"rlm::MakeChunker(\\\"%s\\\")\",\"threads\":%d,\"bytes\":%zu,"
            "\"size\":%zu,\"overlap\":%zu,\"reps\":%d,\"chunks\":%zu,\"max_chunk_bytes\":%zu,"
            "\"median_seconds\":%.6f,\"min_seconds\":%.6f,\"mb_per_s\":%.2f}\n",
            r.name.c_str(), r.name.c_str(), r.threads, text.size(), o.size, o.overlap, o.reps, r.chunks,
            r.max_chunk_bytes, r.median_seconds, r.min_seconds, mb / r.median_seconds);
      }
      return 0;
    }
    std::printf("file: %s (%.2f MB), size %zu, overlap %zu (bytes), median of %d after %d warm-up\n\n",
                o.file.c_str(), mb, o.size, o.overlap, o.reps, o.warmup);
    std::printf("| chunker | threads | chunks | max chunk (B) | median ms | MB/s |\n");
    std::printf("|---|---:|---:|---:|---:|---:|\n");
    for (const Row& r : rows) {
      std::printf("| rlm %s | %d | %zu | %zu | %.1f | %.1f |\n", r.name.c_str(), r.threads, r.chunks,
                  r.max_chunk_bytes, r.median_seconds * 1e3, mb / r.median_seconds);
    }
    if (rows.size() > 2) {
      std::printf("\nparallel (%d threads) vs semantic (1 thread): %.2fx\n", o.threads,
                  rows[0].median_seconds / rows[2].median_seconds);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chunk_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
