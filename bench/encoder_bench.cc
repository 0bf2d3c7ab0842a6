// encoder_bench: throughput of rlm's transformer encoder (embed/encoder.h) on fixed token batches, the C++
// half of bench/encoder.sh (the peer, ONNX Runtime on the same model's model.onnx, is
// bench/node/ort_encoder.mjs, run by the same script on the same batches).
//
// The batches are deterministic: `--batches` batches of `--batch` sequences of exactly `--seq` ids each,
// [CLS]=101 first, [SEP]=102 last, the rest uniform in [1000, 30000) from splitmix64(--seed). Every sequence
// has full length, so neither side pads. `--write-tokens FILE` writes them for the peer (little-endian
// int32: batches, batch, seq, then batches*batch*seq ids) and exits.
//
// Timed: Encoder::Encode (packed batch, mean pooling, L2 normalisation) `--warmup` times untimed and
// `--reps` times timed, batch i % batches at iteration i; the median is reported. Pooling is ~0.01% of the
// work; ONNX Runtime's graph ends at last_hidden_state.
//
// FLOPs per batch, counted exactly (multiply-adds count 2):
//   layers * [ 2 * tokens * (4*H*H + 2*H*I)      Q, K, V and output projections; FFN in and out
//              + sequences * 2 * 2 * seq*seq*H ] Q K^T scores and scores x V, over all heads
// with tokens = batch * seq, H = hidden, I = intermediate. Biases, softmax, GELU, LayerNorm and the
// embedding lookup are O(tokens * H) and not counted.
//
// `--check FILE` compares the hidden states of batch 0 with the peer's last_hidden_state for it (float32,
// tokens x H, as bench/node/ort_encoder.mjs --dump writes it): max |diff| and the lowest cosine of the
// mean-pooled rows, so a speed-up is never one of unequal work.
// The encoder runs on the GEMM library LoadGemm picks (oneDNN unless RLM_GEMM=openblas).
// `--peak` also times one big single-threaded sgemm (the per-core peak this build can reach; without MODEL_DIR
// on each library) and prints the AVX-512 paper peak from the clock in /proc/cpuinfo.
//
// Usage: encoder_bench [MODEL_DIR] [--seq 128] [--batch 32] [--batches 4] [--seed 1] [--threads 1]
//                      [--reps 5] [--warmup 1] [--check FILE] [--peak] [--json] [--write-tokens FILE]
#include <tbb/global_control.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bench_util.h"
#include "embed/encoder.h"
#include "embed/kernels.h"
#include "embed/model_folder.h"

namespace {

struct Options {
  std::string model;
  size_t seq = 128;
  size_t batch = 32;
  size_t batches = 4;
  uint64_t seed = 1;
  int threads = 1;
  int reps = 5;
  int warmup = 1;
  std::string check;
  std::string write_tokens;
  bool peak = false;
  bool json = false;
};

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "encoder_bench: %s\nusage: encoder_bench MODEL_DIR [--seq N] [--batch N] [--batches N] [--seed N] "
               "[--threads N] [--reps N] [--warmup N] [--check FILE] [--peak] [--json] [--write-tokens FILE]\n",
               why);
  std::exit(2);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto text = [&] { return std::string(rlm::bench::OptionText(argc, argv, i, Usage)); };
    auto value = [&] { return rlm::bench::OptionValue(argc, argv, i, Usage); };
    if (a == "--seq") o.seq = static_cast<size_t>(value());
    else if (a == "--batch") o.batch = static_cast<size_t>(value());
    else if (a == "--batches") o.batches = static_cast<size_t>(value());
    else if (a == "--seed") o.seed = static_cast<uint64_t>(value());
    else if (a == "--threads") o.threads = static_cast<int>(value());
    else if (a == "--reps") o.reps = static_cast<int>(value());
    else if (a == "--warmup") o.warmup = static_cast<int>(value());
    else if (a == "--check") o.check = text();
    else if (a == "--write-tokens") o.write_tokens = text();
    else if (a == "--peak") o.peak = true;
    else if (a == "--json") o.json = true;
    else if (!a.empty() && a[0] == '-') Usage("unknown option");
    else o.model = std::string(a);
  }
  if (o.model.empty() && o.write_tokens.empty() && !o.peak) Usage("no model folder");
  if (o.reps < 1 || o.threads < 1 || o.batch < 1 || o.batches < 1 || o.seq < 2) {
    Usage("--reps, --threads, --batch and --batches must be at least 1, --seq at least 2");
  }
  return o;
}

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// All ids, batch-major: [batches][batch][seq].
std::vector<int32_t> MakeTokens(const Options& o) {
  std::vector<int32_t> ids(o.batches * o.batch * o.seq);
  uint64_t state = o.seed;
  for (size_t s = 0; s < o.batches * o.batch; ++s) {
    int32_t* row = ids.data() + s * o.seq;
    row[0] = 101;
    for (size_t i = 1; i + 1 < o.seq; ++i) row[i] = static_cast<int32_t>(1000 + SplitMix64(state) % 29000);
    row[o.seq - 1] = 102;
  }
  return ids;
}

void WriteTokens(const std::string& path, const Options& o, const std::vector<int32_t>& ids) {
  std::ofstream f(path, std::ios::binary);
  const int32_t header[3] = {static_cast<int32_t>(o.batches), static_cast<int32_t>(o.batch),
                             static_cast<int32_t>(o.seq)};
  f.write(reinterpret_cast<const char*>(header), sizeof header);
  f.write(reinterpret_cast<const char*>(ids.data()), static_cast<std::streamsize>(ids.size() * sizeof(int32_t)));
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::vector<float> ReadFloats(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw std::runtime_error("cannot read " + path);
  const auto bytes = static_cast<size_t>(f.tellg());
  std::vector<float> v(bytes / sizeof(float));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  return v;
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// GFLOP/s of one single-threaded n x n x n sgemm on `library`, best of 3 (the kernels make every library
// single-threaded); 0 when the library cannot be loaded.
double SgemmGflops(rlm::kernels::GemmLibrary library, size_t n) {
  if (!rlm::kernels::LoadGemmLibrary(library, nullptr)) return 0;
  std::vector<float> a(n * n, 0.5f), b(n * n, 0.25f), c(n * n);
  const int ni = static_cast<int>(n);
  double best = 1e30;
  for (int i = 0; i < 4; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    rlm::kernels::SgemmWith(library, true, ni, ni, ni, 1.0f, a.data(), ni, b.data(), ni, 0.0f, c.data(), ni);
    if (i > 0) best = std::min(best, Seconds(t0));
  }
  return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) / best / 1e9;
}

double CpuMhz() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("cpu MHz", 0) == 0) return std::atof(line.substr(line.find(':') + 1).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  try {
    const std::vector<int32_t> ids = MakeTokens(o);
    if (!o.write_tokens.empty()) {
      WriteTokens(o.write_tokens, o, ids);
      return 0;
    }
    const double mhz = CpuMhz();
    const double paper_core = mhz * 1e-3 * 2 * 16 * 2;  // 2 FMA units x 16 floats x 2 flops x GHz
    if (o.model.empty()) {  // --peak alone: each library's single-core sgemm, and the best of them
      using rlm::kernels::GemmLibrary;
      const double onednn = SgemmGflops(GemmLibrary::kOneDnn, 2048);
      const double openblas = SgemmGflops(GemmLibrary::kOpenBlas, 2048);
      if (o.json) {
        std::printf("{\"name\":\"peak\",\"cpu_mhz\":%.0f,\"paper_core_gflops\":%.2f,\"sgemm_core_gflops\":%.2f,"
                    "\"onednn_core_gflops\":%.2f,\"openblas_core_gflops\":%.2f}\n",
                    mhz, paper_core, std::max(onednn, openblas), onednn, openblas);
      } else {
        std::printf("paper peak per core: %.0f GFLOP/s (AVX-512: 2 FMA x 16 floats x 2 flops x %.0f MHz)\n",
                    paper_core, mhz);
        std::printf("measured peak per core (single-threaded sgemm 2048^3): oneDNN %.1f, OpenBLAS %.1f GFLOP/s\n",
                    onednn, openblas);
      }
      return 0;
    }
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, static_cast<size_t>(o.threads));
    const rlm::ModelFolder folder = rlm::ReadModelFolder(o.model);
    const auto encoder = rlm::Encoder::Load(folder);  // loads the GEMM library (RLM_GEMM picks one)
    const char* gemm = rlm::kernels::GemmLibraryName(rlm::kernels::LoadGemm());
    const rlm::EncoderConfig& c = encoder->config();
    const size_t h = c.hidden;

    std::vector<std::vector<std::span<const int32_t>>> batches(o.batches);
    for (size_t b = 0; b < o.batches; ++b) {
      for (size_t s = 0; s < o.batch; ++s) batches[b].emplace_back(ids.data() + (b * o.batch + s) * o.seq, o.seq);
    }

    const double tokens = static_cast<double>(o.batch * o.seq);
    const double flops =
        static_cast<double>(c.layers) *
        (2.0 * tokens * (4.0 * h * h + 2.0 * h * c.intermediate) +
         static_cast<double>(o.batch) * 4.0 * static_cast<double>(o.seq) * static_cast<double>(o.seq) * h);

    // Fidelity against the peer on batch 0.
    double max_abs = -1, min_cos = -1;
    if (!o.check.empty()) {
      const std::vector<float> ours = encoder->HiddenStates(batches[0]);
      const std::vector<float> peer = ReadFloats(o.check);
      if (peer.size() != ours.size()) {
        std::fprintf(stderr, "encoder_bench: %s has %zu floats, expected %zu (tokens x hidden)\n", o.check.c_str(),
                     peer.size(), ours.size());
        return 1;
      }
      max_abs = 0;
      min_cos = 1;
      for (size_t i = 0; i < ours.size(); ++i) max_abs = std::max(max_abs, std::fabs(double(ours[i]) - peer[i]));
      for (size_t s = 0; s < o.batch; ++s) {
        double dot = 0, na = 0, nb = 0;
        for (size_t j = 0; j < h; ++j) {
          double a = 0, b = 0;
          for (size_t i = 0; i < o.seq; ++i) {
            a += ours[(s * o.seq + i) * h + j];
            b += peer[(s * o.seq + i) * h + j];
          }
          dot += a * b;
          na += a * a;
          nb += b * b;
        }
        min_cos = std::min(min_cos, dot / std::sqrt(na * nb));
      }
    }

    std::vector<float> out(o.batch * h);
    for (int i = 0; i < o.warmup; ++i) encoder->Encode(batches[i % o.batches], rlm::Pooling::kMean, true, out.data());
    std::vector<double> seconds;
    for (int i = 0; i < o.reps; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      encoder->Encode(batches[i % o.batches], rlm::Pooling::kMean, true, out.data());
      seconds.push_back(Seconds(t0));
    }
    const double med = rlm::bench::Median(seconds);
    const double best = *std::min_element(seconds.begin(), seconds.end());

    const double sgemm_core = o.peak ? SgemmGflops(rlm::kernels::LoadGemm(), 2048) : 0;

    if (o.json) {
      std::printf(
          "{\"name\":\"rlm-encoder\",\"gemm\":\"%s\",\"threads\":%d,\"seq\":%zu,\"batch\":%zu,\"reps\":%d,\"median_seconds\":%.6f,"
          "\"min_seconds\":%.6f,\"sentences_per_s\":%.3f,\"ms_per_batch\":%.3f,\"gflop_per_batch\":%.4f,"
          "\"gflops\":%.2f,\"max_abs_diff\":%.3g,\"min_cosine\":%.9f,\"sgemm_core_gflops\":%.2f,"
          "\"paper_core_gflops\":%.2f}\n",
          gemm, o.threads, o.seq, o.batch, o.reps, med, best, o.batch / med, med * 1e3, flops / 1e9, flops / med / 1e9,
          max_abs, min_cos, sgemm_core, paper_core);
      return 0;
    }
    std::printf("model %s: %zu layers, hidden %zu, intermediate %zu, %zu heads\n", o.model.c_str(), c.layers, h,
                c.intermediate, c.heads);
    std::printf("batch %zu x seq %zu, %d threads, %s, median of %d after %d warm-up\n", o.batch, o.seq, o.threads,
                gemm, o.reps, o.warmup);
    std::printf("  %.1f sentences/s, %.1f ms/batch (best %.1f), %.2f GFLOP/batch, %.1f GFLOP/s\n", o.batch / med,
                med * 1e3, best * 1e3, flops / 1e9, flops / med / 1e9);
    if (max_abs >= 0) std::printf("  vs %s: max |diff| %.3g, lowest mean-pooled cosine %.9f\n", o.check.c_str(), max_abs,
                                  min_cos);
    std::printf("  paper peak per core: %.0f GFLOP/s (AVX-512: 2 FMA x 16 floats x 2 flops x %.0f MHz)\n", paper_core,
                mhz);
    if (o.peak) std::printf("  measured peak per core: %.1f GFLOP/s (single-threaded %s sgemm 2048^3)\n", sgemm_core, gemm);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "encoder_bench: %s\n", e.what());
    return 1;
  }
}
