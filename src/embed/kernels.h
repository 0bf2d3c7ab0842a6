// The numeric kernels of the encoder forward pass: a row-parallel GEMM on oneDNN or OpenBLAS, and the elementwise
// steps around it (bias, GELU, residual + LayerNorm, softmax), written as plain loops the compiler
// vectorises, cloned for AVX-512, AVX2 and baseline x86-64 and chosen at load time (target_clones).
// Parallelism is TBB's alone: the GEMM library runs single-threaded inside TBB tasks, so two pools never
// oversubscribe the cores.
#pragma once

#include <cstddef>
#include <string>

#include "embed/model_folder.h"

namespace rlm::kernels {

enum class GemmLibrary { kOneDnn, kOpenBlas };

// The GEMM libraries are loaded with dlopen on first use, not linked: Debian's default OpenBLAS (pthread
// build) starts a spinning thread per core the moment it is loaded, which cost every command (eval metrics:
// 24% of its cycles) whether or not it multiplies a matrix, and oneDNN pulls in OpenMP and OpenCL. Each is
// limited to one thread per calling thread (openblas_set_num_threads(1); omp_set_num_threads(1) in each
// thread that calls oneDNN), so TBB is the only pool and --threads bounds everything. (Debian's serial
// OpenBLAS cannot be used: it is not safe to call from several threads at once.)
//
// LoadGemm picks the encoder's library once per process: RLM_GEMM=onednn|openblas if set, otherwise oneDNN
// (measured 11-14% faster end to end here, docs/benchmarks.md section 6) and OpenBLAS when oneDNN is
// missing. Throws IoError when nothing can be loaded. Called by the encoder before its first GEMM.
GemmLibrary LoadGemm();
const char* GemmLibraryName(GemmLibrary library);

// Loads one library (once); false with the reason in *why when it cannot. For tests and benchmarks that
// compare the two.
bool LoadGemmLibrary(GemmLibrary library, std::string* why);

// C[M,N] = alpha * A[M,K] * op(B) + beta * C, row-major, op(B) = B[K,N] or (trans_b) B[N,K]^T, on the library
// LoadGemm chose (Sgemm) or on a given loaded one (SgemmWith).
void Sgemm(bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
           float beta, float* c, int ldc);
void SgemmWith(GemmLibrary library, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
               const float* b, int ldb, float beta, float* c, int ldc);

// C[M,N] = A[M,K] * W[N,K]^T (+ bias[N]), where W is a PyTorch Linear weight (out x in, row-major).
// Rows of A are split across TBB tasks. `bias` may be null.
void Linear(const float* a, size_t m, size_t k, const float* w, const float* bias, size_t n, float* c);

// C = act(A W^T + bias): the intermediate layer, with the activation applied while the rows are hot.
void LinearGelu(const float* a, size_t m, size_t k, const float* w, const float* bias, size_t n, Activation act,
                float* c);

// x[r] = LayerNorm(x[r] + y[r] + bias) * gamma + beta for each of `m` rows of `n` values.
// `y` and `bias` may be null.
void ResidualLayerNorm(float* x, const float* y, const float* bias, size_t m, size_t n, const float* gamma,
                       const float* beta, float eps);

// In-place softmax of each of `rows` rows of `cols` values.
void SoftmaxRows(float* s, size_t rows, size_t cols);

// The scalar functions the kernels use, exposed for tests against libm.
float FastExp(float x);
float FastErf(float x);
float Gelu(float x, Activation act);

}  // namespace rlm::kernels
