// The encoder's scalar approximations against libm, and the row kernels against plain loops.
#include "embed/kernels.h"

#include <gtest/gtest.h>
#include <tbb/parallel_for.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace rlm::kernels {
namespace {

TEST(Kernels, FastExpMatchesLibm) {
  double worst = 0;
  for (float x = -87.0f; x <= 0.0f; x += 0.001f) {
    const double want = std::exp(static_cast<double>(x));
    worst = std::max(worst, std::abs(FastExp(x) - want) / want);
  }
  EXPECT_LT(worst, 5e-7);  // a few float ulps
  EXPECT_EQ(FastExp(-1000.0f), FastExp(-87.3365447505531f));  // clamped, no NaN, no denormal trap
  EXPECT_GT(FastExp(-87.3f), 0.0f);
}

TEST(Kernels, FastErfAndGeluMatchLibm) {
  double worst_erf = 0, worst_gelu = 0, worst_tanh = 0;
  for (float x = -10.0f; x <= 10.0f; x += 0.0005f) {
    worst_erf = std::max(worst_erf, std::abs(FastErf(x) - std::erf(static_cast<double>(x))));
    const double xd = x;
    const double gelu = 0.5 * xd * (1.0 + std::erf(xd / std::sqrt(2.0)));
    worst_gelu = std::max(worst_gelu, std::abs(Gelu(x, Activation::kGeluErf) - gelu) / std::max(1.0, std::abs(xd)));
    const double tanh_gelu = 0.5 * xd * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (xd + 0.044715 * xd * xd * xd)));
    worst_tanh =
        std::max(worst_tanh, std::abs(Gelu(x, Activation::kGeluTanh) - tanh_gelu) / std::max(1.0, std::abs(xd)));
  }
  EXPECT_LT(worst_erf, 1e-6);
  EXPECT_LT(worst_gelu, 1e-6);
  EXPECT_LT(worst_tanh, 1e-6);
}

// Both GEMM libraries against a double-precision loop, on the encoder's call shapes: B transposed (Linear,
// QK^T) and not (scores x V), row strides wider than the row (the per-head slices), alpha and beta.
TEST(Kernels, EachGemmLibraryMatchesAPlainLoop) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-1, 1);
  for (const GemmLibrary library : {GemmLibrary::kOneDnn, GemmLibrary::kOpenBlas}) {
    std::string why;
    ASSERT_TRUE(LoadGemmLibrary(library, &why)) << GemmLibraryName(library) << ": " << why;
    for (const bool trans_b : {true, false}) {
      const int m = 37, n = 29, k = 33, lda = k + 5, ldb = (trans_b ? k : n) + 3, ldc = n + 2;
      const float alpha = 0.75f, beta = 0.5f;
      std::vector<float> a(static_cast<size_t>(m) * lda), b(static_cast<size_t>(trans_b ? n : k) * ldb),
          c(static_cast<size_t>(m) * ldc);
      for (auto* v : {&a, &b, &c}) {
        for (float& x : *v) x = u(rng);
      }
      const std::vector<float> c0 = c;
      SgemmWith(library, trans_b, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
      double worst = 0;
      for (int i = 0; i < m; ++i) {
        for (int j = 0; j < n; ++j) {
          double dot = 0;
          for (int t = 0; t < k; ++t) dot += static_cast<double>(a[i * lda + t]) * (trans_b ? b[j * ldb + t] : b[t * ldb + j]);
          worst = std::max(worst, std::abs(c[i * ldc + j] - (alpha * dot + beta * c0[i * ldc + j])));
        }
        for (int j = n; j < ldc; ++j) EXPECT_EQ(c[i * ldc + j], c0[i * ldc + j]) << "wrote past column n";
      }
      EXPECT_LT(worst, 1e-4) << GemmLibraryName(library) << (trans_b ? " B^T" : " B");

      // beta = 0 must not read C: the encoder reuses buffers that may hold anything, NaN included.
      std::vector<float> d(c.size(), std::nanf(""));
      SgemmWith(library, trans_b, m, n, k, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, d.data(), ldc);
      for (int i = 0; i < m; ++i) {
        for (int j = 0; j < n; ++j) ASSERT_TRUE(std::isfinite(d[i * ldc + j])) << GemmLibraryName(library);
      }
    }
  }
}

// The encoder calls the GEMM from every TBB task at once (Debian's serial OpenBLAS failed exactly this):
// products computed concurrently must equal the same products computed one at a time, bit for bit.
TEST(Kernels, EachGemmLibraryIsSafeToCallFromManyThreads) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1, 1);
  const int m = 96, n = 384, k = 384, jobs = 48;
  std::vector<std::vector<float>> as(jobs, std::vector<float>(static_cast<size_t>(m) * k));
  std::vector<float> w(static_cast<size_t>(n) * k);
  for (auto& a : as) {
    for (float& x : a) x = u(rng);
  }
  for (float& x : w) x = u(rng);
  for (const GemmLibrary library : {GemmLibrary::kOneDnn, GemmLibrary::kOpenBlas}) {
    ASSERT_TRUE(LoadGemmLibrary(library, nullptr)) << GemmLibraryName(library);
    std::vector<std::vector<float>> serial(jobs, std::vector<float>(static_cast<size_t>(m) * n));
    auto parallel = serial;
    for (int j = 0; j < jobs; ++j) {
      SgemmWith(library, true, m, n, k, 1.0f, as[j].data(), k, w.data(), k, 0.0f, serial[j].data(), n);
    }
    for (int round = 0; round < 3; ++round) {
      tbb::parallel_for(0, jobs, [&](int j) {
        SgemmWith(library, true, m, n, k, 1.0f, as[j].data(), k, w.data(), k, 0.0f, parallel[j].data(), n);
      });
      for (int j = 0; j < jobs; ++j) ASSERT_EQ(parallel[j], serial[j]) << GemmLibraryName(library) << " job " << j;
    }
  }
}

TEST(Kernels, LinearAndLayerNormMatchPlainLoops) {
  LoadGemm();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1, 1);
  const size_t m = 203, k = 37, n = 53;  // odd sizes: row blocks of uneven length
  std::vector<float> a(m * k), w(n * k), b(n), c(m * n), gamma(n), beta(n);
  for (auto* v : {&a, &w, &b, &gamma, &beta}) {
    for (float& x : *v) x = u(rng);
  }
  Linear(a.data(), m, k, w.data(), b.data(), n, c.data());
  double worst = 0;
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < n; ++j) {
      double want = b[j];
      for (size_t t = 0; t < k; ++t) want += static_cast<double>(a[i * k + t]) * w[j * k + t];
      worst = std::max(worst, std::abs(c[i * n + j] - want));
    }
  }
  EXPECT_LT(worst, 1e-4);

  std::vector<float> x = c, y(m * n);
  for (float& v : y) v = u(rng);
  ResidualLayerNorm(x.data(), y.data(), b.data(), m, n, gamma.data(), beta.data(), 1e-12f);
  worst = 0;
  for (size_t i = 0; i < m; ++i) {
    std::vector<double> s(n);
    double mean = 0, var = 0;
    for (size_t j = 0; j < n; ++j) mean += s[j] = static_cast<double>(c[i * n + j]) + y[i * n + j] + b[j];
    mean /= n;
    for (size_t j = 0; j < n; ++j) var += (s[j] - mean) * (s[j] - mean);
    var /= n;
    for (size_t j = 0; j < n; ++j) {
      const double want = (s[j] - mean) / std::sqrt(var + 1e-12) * gamma[j] + beta[j];
      worst = std::max(worst, std::abs(x[i * n + j] - want));
    }
  }
  EXPECT_LT(worst, 1e-4);
}

TEST(Kernels, SoftmaxRowsSumToOne) {
  std::vector<float> s = {1, 2, 3, -1000, 0, 0, 0, 0, 50, 50, 50, 50};
  SoftmaxRows(s.data(), 3, 4);
  for (size_t r = 0; r < 3; ++r) {
    double sum = 0;
    for (size_t j = 0; j < 4; ++j) sum += s[r * 4 + j];
    EXPECT_NEAR(sum, 1.0, 1e-6);
  }
  EXPECT_NEAR(s[2], std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0)), 1e-6);
  EXPECT_LT(s[3], 1e-37f);  // exp clamps at the smallest normal float, never NaN
  EXPECT_NEAR(s[4], 0.25, 1e-7);
}

}  // namespace
}  // namespace rlm::kernels
