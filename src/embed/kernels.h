// The numeric kernels of the encoder forward pass: a row-parallel GEMM on OpenBLAS, and the elementwise
// steps around it (bias, GELU, residual + LayerNorm, softmax), written as plain loops the compiler
// vectorises, cloned for AVX-512, AVX2 and baseline x86-64 and chosen at load time (target_clones).
// Parallelism is TBB's alone: OpenBLAS runs single-threaded inside TBB tasks, so the two pools never
// oversubscribe the cores.
#pragma once

#include <cstddef>

#include "embed/model_folder.h"

namespace rlm::kernels {

// Makes OpenBLAS single-threaded (once per process). Called by the encoder before its first GEMM.
void UseSingleThreadedBlas();

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
