// The numeric kernels of the encoder forward pass: a row-parallel GEMM on OpenBLAS, and the elementwise
// steps around it (bias, GELU, residual + LayerNorm, softmax), written as plain loops the compiler
// vectorises, cloned for AVX-512, AVX2 and baseline x86-64 and chosen at load time (target_clones).
// Parallelism is TBB's alone: OpenBLAS runs single-threaded inside TBB tasks, so the two pools never
// oversubscribe the cores.
#pragma once

#include <cstddef>
#include <string>

#include "embed/model_folder.h"

namespace rlm::kernels {

// Loads OpenBLAS (libopenblas.so.0, Debian's default pthread build) on first use and makes it
// single-threaded. It is loaded lazily rather than linked because that build starts a spinning thread per
// core the moment it is loaded, which cost every command (eval metrics: 24% of its cycles) whether or not it
// multiplies a matrix. (Debian's serial build cannot be used instead: it is not safe to call from several
// threads at once, and the encoder calls it from every TBB task.) Called by the encoder before its first
// GEMM; throws IoError when the library is missing.
void LoadBlas();

// cblas_sgemm of the loaded OpenBLAS (LoadBlas() must have succeeded).
void Sgemm(bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
           float beta, float* c, int ldc);

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
