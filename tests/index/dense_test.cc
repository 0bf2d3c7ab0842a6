#include "index/dense.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"

namespace rlm {
namespace {

TEST(InnerProduct, MatchesADoublePrecisionDot) {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (size_t dims : {0, 1, 7, 15, 16, 17, 33, 256, 384, 1000}) {
    std::vector<float> a(dims), b(dims);
    double expected = 0, magnitude = 0;
    for (size_t i = 0; i < dims; ++i) {
      a[i] = normal(rng);
      b[i] = normal(rng);
      expected += static_cast<double>(a[i]) * b[i];
      magnitude += std::abs(static_cast<double>(a[i]) * b[i]);
    }
    EXPECT_NEAR(InnerProduct(a.data(), b.data(), dims), expected, 1e-5 * (1 + magnitude)) << dims;
  }
}

// The sequential reference: score every row, filter, threshold, sort by RanksBefore, cut at k.
std::vector<ScoredDoc> BruteForce(const std::vector<float>& m, size_t rows, size_t dims, const float* q,
                                  size_t k, float min_score, const DocFilter* filter) {
  std::vector<ScoredDoc> all;
  for (size_t r = 0; r < rows; ++r) {
    if (filter != nullptr && (*filter)[r] == 0) continue;
    const float s = InnerProduct(m.data() + r * dims, q, dims);
    if (s >= min_score) all.push_back({static_cast<uint32_t>(r), s});
  }
  std::sort(all.begin(), all.end(), RanksBefore);
  if (all.size() > k) all.resize(k);
  return all;
}

TEST(DenseTopK, EqualsSequentialBruteForce) {
  std::mt19937 rng(9);
  std::normal_distribution<float> normal;
  const float kNoThreshold = -std::numeric_limits<float>::infinity();
  for (size_t rows : {0, 1, 2, 7, 2047, 2048, 2049, 6000}) {
    for (size_t dims : {1, 3, 16, 37}) {
      std::vector<float> m(rows * dims);
      for (float& x : m) x = normal(rng);
      // Duplicate rows make exact ties; a NaN row must never rank.
      for (size_t r = 1; r < rows; r += 5) std::copy_n(m.begin(), dims, m.begin() + r * dims);
      if (rows > 3) m[3 * dims] = std::numeric_limits<float>::quiet_NaN();
      std::vector<float> q(dims);
      for (float& x : q) x = normal(rng);
      for (size_t k : {size_t{0}, size_t{1}, size_t{5}, rows + 3}) {
        for (float min_score : {kNoThreshold, 0.0f, 0.3f}) {
          for (int use_filter = 0; use_filter < 2; ++use_filter) {
            DocFilter filter(rows);
            size_t allowed = rows;
            if (use_filter) {
              allowed = 0;
              for (auto& f : filter) allowed += (f = rng() % 2);
            }
            const DocFilter* fp = use_filter ? &filter : nullptr;
            SearchStats stats;
            std::vector<ScoredDoc> got =
                DenseTopK({m.data(), rows, dims}, q.data(), k, min_score, fp, &stats);
            EXPECT_EQ(got, BruteForce(m, rows, dims, q.data(), k, min_score, fp))
                << rows << "x" << dims << " k=" << k << " min=" << min_score << " filter=" << use_filter;
            if (k > 0 && rows > 0) {
              EXPECT_EQ(stats.vectors_compared, allowed);
            }
          }
        }
      }
    }
  }
}

TEST(DenseTopK, RejectsBadArguments) {
  std::vector<float> m(4, 0.5f), q(2, 1.0f);
  DocFilter wrong(3, 1);
  EXPECT_THROW(DenseTopK({m.data(), 2, 2}, q.data(), 1, 0, &wrong), InvalidInput);
  EXPECT_THROW(DenseTopK({nullptr, 2, 2}, q.data(), 1, 0), InvalidInput);
  EXPECT_TRUE(DenseTopK({m.data(), 2, 2}, q.data(), 0, 0).empty());
}

}  // namespace
}  // namespace rlm
