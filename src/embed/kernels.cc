#include "embed/kernels.h"

#include <cblas.h>
#include <dlfcn.h>
#include <oneapi/dnnl/dnnl.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/error.h"

namespace rlm::kernels {
namespace {

// Cloned hot loops: GCC compiles one body per target and picks at load time with cpuid. Sanitizer and
// fuzz builds skip the clones (ifunc resolvers and sanitizers do not mix well); results are the same.
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__) && !defined(__clang__)
#define RLM_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define RLM_CLONES
#endif

// The elementwise loops work on Vec, 16 floats (one AVX-512 register, two AVX2 or four SSE registers), with
// GCC's vector extensions, and finish a row's last n % 16 values one float at a time through the same
// templates. They are not left to the auto-vectoriser: at -O2 (the release flags) GCC 12 vectorises no loop
// whose length is unknown, so plain loops ran one float at a time and GELU + softmax took a third of a
// MiniLM forward pass. FastExp/FastErf/Gelu run the same templates on `float`, so their tests cover the math.
// No Vec crosses a call (every helper below is always_inline), so GCC's note that 64-byte vectors change the
// calling convention of baseline x86-64 functions does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
using Vec = float __attribute__((vector_size(64), aligned(4)));
using IVec = int32_t __attribute__((vector_size(64), aligned(4)));
constexpr size_t kLanes = sizeof(Vec) / sizeof(float);

#define RLM_INLINE inline __attribute__((always_inline))

RLM_INLINE Vec Load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
RLM_INLINE void Store(float* p, const Vec& v) { std::memcpy(p, &v, sizeof v); }

template <class F>
RLM_INLINE F Splat(float x) {
  if constexpr (std::is_same_v<F, float>) {
    return x;
  } else {
    return F{} + x;
  }
}
template <class F>
RLM_INLINE F Min(F a, F b) {
  return a < b ? a : b;
}
template <class F>
RLM_INLINE F Max(F a, F b) {
  return a > b ? a : b;
}
RLM_INLINE int32_t ToInt(float x) { return static_cast<int32_t>(x); }
RLM_INLINE IVec ToInt(Vec x) { return __builtin_convertvector(x, IVec); }

RLM_INLINE float SumLanes(Vec v) {
  float s = 0;
  for (size_t k = 0; k < kLanes; ++k) s += v[k];
  return s;
}
RLM_INLINE float MaxLanes(Vec v) {
  float m = v[0];
  for (size_t k = 1; k < kLanes; ++k) m = std::max(m, v[k]);
  return m;
}

// exp(x) for float: range reduction x = n ln2 + r, |r| <= ln2/2, degree-6 polynomial (Cephes expf
// coefficients), scaled by 2^n through the exponent bits. Max relative error ~2 ulp on [-87, 88].
template <class F>
RLM_INLINE F ExpT(F x) {
  x = Min(Splat<F>(88.0f), Max(Splat<F>(-87.3365447505531f), x));
  // n = round(x / ln2): adding and subtracting 1.5 * 2^23 rounds to an integer (|x / ln2| < 2^22).
  const F n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  F r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  F p = Splat<F>(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  return p * std::bit_cast<F>((ToInt(n) + 127) << 23);
}

// erf(x) for float: a rational approximation on [-4, 4] (the one Eigen and TensorFlow use for float),
// erf(+-4) = +-1 in float. Max absolute error ~2e-7.
template <class F>
RLM_INLINE F ErfT(F x) {
  x = Min(Splat<F>(4.0f), Max(Splat<F>(-4.0f), x));
  const F x2 = x * x;
  F p = Splat<F>(-2.72614225801306e-10f);
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 + -2.10102402082508e-06f;
  p = p * x2 + -5.69250639462346e-05f;
  p = p * x2 + -7.34990630326855e-04f;
  p = p * x2 + -2.95459980854025e-03f;
  p = p * x2 + -1.60960333262415e-02f;
  p = p * x;
  F q = Splat<F>(-1.45660718464996e-05f);
  q = q * x2 + -2.13374055278905e-04f;
  q = q * x2 + -1.68282697438203e-03f;
  q = q * x2 + -7.37332916720468e-03f;
  q = q * x2 + -1.42647390514189e-02f;
  return p / q;
}

template <Activation A, class F>
RLM_INLINE F GeluT(F x) {
  if constexpr (A == Activation::kGeluErf) {
    return 0.5f * x * (1.0f + ErfT(x * 0.70710678118654752f));
  } else {
    // tanh(u) = 1 - 2 / (exp(2u) + 1)
    const F u = 0.7978845608028654f * (x + 0.044715f * x * x * x);
    const F t = 1.0f - 2.0f / (ExpT(2.0f * u) + 1.0f);
    return 0.5f * x * (1.0f + t);
  }
}

RLM_CLONES void BiasRows(float* c, size_t rows, size_t n, const float* bias) {
  for (size_t r = 0; r < rows; ++r) {
    float* row = c + r * n;
    size_t j = 0;
    for (; j + kLanes <= n; j += kLanes) Store(row + j, Load(row + j) + Load(bias + j));
    for (; j < n; ++j) row[j] += bias[j];
  }
}

template <Activation A>
RLM_INLINE void BiasGeluRow(float* row, size_t n, const float* bias) {
  size_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    Vec v = Load(row + j);
    if (bias != nullptr) v += Load(bias + j);
    Store(row + j, GeluT<A>(v));
  }
  for (; j < n; ++j) row[j] = GeluT<A>(row[j] + (bias ? bias[j] : 0.0f));
}

RLM_CLONES void BiasGeluRows(float* c, size_t rows, size_t n, const float* bias, Activation act) {
  for (size_t r = 0; r < rows; ++r) {
    if (act == Activation::kGeluErf) {
      BiasGeluRow<Activation::kGeluErf>(c + r * n, n, bias);
    } else {
      BiasGeluRow<Activation::kGeluTanh>(c + r * n, n, bias);
    }
  }
}

RLM_CLONES void LayerNormRow(float* x, const float* y, const float* bias, size_t n, const float* gamma,
                             const float* beta, float eps) {
  const size_t blocks = n - n % kLanes;
  Vec acc{};
  for (size_t j = 0; j < blocks; j += kLanes) {
    Vec v = Load(x + j);
    if (y != nullptr) {
      v += bias ? Load(y + j) + Load(bias + j) : Load(y + j);
      Store(x + j, v);
    }
    acc += v;
  }
  float sum = SumLanes(acc);
  for (size_t j = blocks; j < n; ++j) {
    if (y != nullptr) x[j] += y[j] + (bias ? bias[j] : 0.0f);
    sum += x[j];
  }
  const float mean = sum / static_cast<float>(n);
  acc = Vec{};
  for (size_t j = 0; j < blocks; j += kLanes) {
    const Vec d = Load(x + j) - mean;
    acc += d * d;
  }
  float sq = SumLanes(acc);
  for (size_t j = blocks; j < n; ++j) {
    const float d = x[j] - mean;
    sq += d * d;
  }
  const float inv = 1.0f / std::sqrt(sq / static_cast<float>(n) + eps);
  for (size_t j = 0; j < blocks; j += kLanes) {
    Store(x + j, (Load(x + j) - mean) * inv * Load(gamma + j) + Load(beta + j));
  }
  for (size_t j = blocks; j < n; ++j) x[j] = (x[j] - mean) * inv * gamma[j] + beta[j];
}

RLM_CLONES void SoftmaxRow(float* s, size_t n) {
  const size_t blocks = n - n % kLanes;
  float mx = s[0];
  if (blocks > 0) {
    Vec m = Load(s);
    for (size_t j = kLanes; j < blocks; j += kLanes) m = Max(m, Load(s + j));
    mx = MaxLanes(m);
  }
  for (size_t j = blocks; j < n; ++j) mx = std::max(mx, s[j]);
  Vec acc{};
  for (size_t j = 0; j < blocks; j += kLanes) {
    const Vec e = ExpT(Load(s + j) - mx);
    Store(s + j, e);
    acc += e;
  }
  float sum = SumLanes(acc);
  for (size_t j = blocks; j < n; ++j) {
    s[j] = ExpT(s[j] - mx);
    sum += s[j];
  }
  const float inv = 1.0f / sum;
  for (size_t j = 0; j < blocks; j += kLanes) Store(s + j, Load(s + j) * inv);
  for (size_t j = blocks; j < n; ++j) s[j] *= inv;
}

// Splits `m` rows into blocks for TBB: enough blocks to balance, none smaller than 16 rows.
size_t RowGrain(size_t m) {
  const size_t workers = static_cast<size_t>(std::max(1, tbb::this_task_arena::max_concurrency()));
  return std::max<size_t>(16, (m + 2 * workers - 1) / (2 * workers));
}

template <typename Epilogue>
void ParallelGemm(const float* a, size_t m, size_t k, const float* w, size_t n, float* c, Epilogue epilogue) {
  tbb::parallel_for(tbb::blocked_range<size_t>(0, m, RowGrain(m)), [&](const tbb::blocked_range<size_t>& r) {
    const size_t rows = r.size();
    Sgemm(true, static_cast<int>(rows), static_cast<int>(n), static_cast<int>(k), 1.0f, a + r.begin() * k,
          static_cast<int>(k), w, static_cast<int>(k), 0.0f, c + r.begin() * n, static_cast<int>(n));
    epilogue(c + r.begin() * n, rows);
  });
}

// One entry per GEMM library: loaded once, on first use, with dlopen (see kernels.h for why not linked).
struct GemmLibraryState {
  std::once_flag once;
  std::string error;  // empty once loaded
  bool loaded = false;
};
GemmLibraryState g_library_state[2];
decltype(&dnnl_sgemm) g_dnnl_sgemm = nullptr;
void (*g_omp_set_num_threads)(int) = nullptr;
decltype(&cblas_sgemm) g_cblas_sgemm = nullptr;
GemmLibrary g_default = GemmLibrary::kOneDnn;  // set by LoadGemm's call_once before any Sgemm

std::string DlError(const char* fallback) {
  const char* e = ::dlerror();
  return e != nullptr ? e : fallback;
}

std::string OpenOneDnn() {
  void* lib = ::dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return DlError("cannot open libdnnl.so.2");
  auto sgemm = reinterpret_cast<decltype(&dnnl_sgemm)>(::dlsym(lib, "dnnl_sgemm"));
  if (sgemm == nullptr) return "libdnnl.so.2 lacks dnnl_sgemm";
  // Debian's oneDNN runs on OpenMP (libgomp, loaded with it). Each calling thread is limited to one OpenMP
  // thread in Sgemm, so oneDNN never starts a team next to TBB's workers.
  void* gomp = ::dlopen("libgomp.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  auto set_threads = gomp != nullptr ? reinterpret_cast<void (*)(int)>(::dlsym(gomp, "omp_set_num_threads")) : nullptr;
  if (set_threads == nullptr) return "libdnnl.so.2 is not the OpenMP build (no libgomp omp_set_num_threads)";
  g_omp_set_num_threads = set_threads;
  g_dnnl_sgemm = sgemm;
  return {};
}

std::string OpenOpenBlas() {
  void* lib = ::dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return DlError("cannot open libopenblas.so.0");
  auto set_threads = reinterpret_cast<void (*)(int)>(::dlsym(lib, "openblas_set_num_threads"));
  auto sgemm = reinterpret_cast<decltype(&cblas_sgemm)>(::dlsym(lib, "cblas_sgemm"));
  if (set_threads == nullptr || sgemm == nullptr) {
    return "libopenblas.so.0 lacks cblas_sgemm or openblas_set_num_threads";
  }
  set_threads(1);
  g_cblas_sgemm = sgemm;
  return {};
}

}  // namespace

const char* GemmLibraryName(GemmLibrary library) {
  return library == GemmLibrary::kOneDnn ? "onednn" : "openblas";
}

bool LoadGemmLibrary(GemmLibrary library, std::string* why) {
  GemmLibraryState& state = g_library_state[static_cast<int>(library)];
  std::call_once(state.once, [&] {
    state.error = library == GemmLibrary::kOneDnn ? OpenOneDnn() : OpenOpenBlas();
    state.loaded = state.error.empty();  // published by call_once's synchronisation
  });
  if (!state.loaded && why != nullptr) *why = state.error;
  return state.loaded;
}

GemmLibrary LoadGemm() {
  static std::once_flag once;
  static std::string error;
  static bool ok = false;
  std::call_once(once, [] {
    const char* env = std::getenv("RLM_GEMM");
    const std::string_view want = env != nullptr ? env : "";
    std::string why;
    if (want == "onednn" || want == "openblas") {
      g_default = want == "onednn" ? GemmLibrary::kOneDnn : GemmLibrary::kOpenBlas;
      ok = LoadGemmLibrary(g_default, &why);
      if (!ok) error = "RLM_GEMM=" + std::string(want) + ": " + why;
    } else if (!want.empty()) {
      error = "RLM_GEMM must be onednn or openblas, not '" + std::string(want) + "'";
    } else {
      std::string why_openblas;
      if (LoadGemmLibrary(GemmLibrary::kOneDnn, &why)) {
        g_default = GemmLibrary::kOneDnn;
      } else if (LoadGemmLibrary(GemmLibrary::kOpenBlas, &why_openblas)) {
        g_default = GemmLibrary::kOpenBlas;
      } else {
        error = "neither oneDNN (" + why + ") nor OpenBLAS (" + why_openblas + ") could be loaded";
      }
      ok = error.empty();
    }
  });
  if (!ok) {
    throw IoError("no GEMM library for the transformer encoder: " + error,
                  "install libdnnl2 or libopenblas0 (scripts/setup installs both)");
  }
  return g_default;
}

void SgemmWith(GemmLibrary library, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
               const float* b, int ldb, float beta, float* c, int ldc) {
  if (library == GemmLibrary::kOneDnn) {
    // omp_set_num_threads sets the calling thread's own OpenMP setting, so once per thread is enough.
    thread_local const bool one_openmp_thread = (g_omp_set_num_threads(1), true);
    (void)one_openmp_thread;
    const dnnl_status_t status = g_dnnl_sgemm('N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if (status != dnnl_success) {
      throw InternalError("dnnl_sgemm failed with status " + std::to_string(static_cast<int>(status)) + " for " +
                          std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k));
    }
  } else {
    g_cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
                  beta, c, ldc);
  }
}

void Sgemm(bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
           float beta, float* c, int ldc) {
  SgemmWith(g_default, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void Linear(const float* a, size_t m, size_t k, const float* w, const float* bias, size_t n, float* c) {
  ParallelGemm(a, m, k, w, n, c, [&](float* rows, size_t count) {
    if (bias != nullptr) BiasRows(rows, count, n, bias);
  });
}

void LinearGelu(const float* a, size_t m, size_t k, const float* w, const float* bias, size_t n, Activation act,
                float* c) {
  ParallelGemm(a, m, k, w, n, c, [&](float* rows, size_t count) { BiasGeluRows(rows, count, n, bias, act); });
}

void ResidualLayerNorm(float* x, const float* y, const float* bias, size_t m, size_t n, const float* gamma,
                       const float* beta, float eps) {
  tbb::parallel_for(tbb::blocked_range<size_t>(0, m, RowGrain(m)), [&](const tbb::blocked_range<size_t>& r) {
    for (size_t i = r.begin(); i < r.end(); ++i) {
      LayerNormRow(x + i * n, y ? y + i * n : nullptr, bias, n, gamma, beta, eps);
    }
  });
}

void SoftmaxRows(float* s, size_t rows, size_t cols) {
  for (size_t i = 0; i < rows; ++i) SoftmaxRow(s + i * cols, cols);
}

float FastExp(float x) { return ExpT(x); }
float FastErf(float x) { return ErfT(x); }
float Gelu(float x, Activation act) {
  return act == Activation::kGeluErf ? GeluT<Activation::kGeluErf>(x) : GeluT<Activation::kGeluTanh>(x);
}

}  // namespace rlm::kernels
