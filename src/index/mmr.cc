#include "index/mmr.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace rlm {

std::vector<ScoredDoc> MmrRerank(std::span<const ScoredDoc> candidates, const DenseMatrixView& vectors, double lambda,
                                 size_t k) {
  if (!(lambda >= 0 && lambda <= 1)) throw InvalidInput("MMR lambda must be between 0 and 1");
  std::vector<ScoredDoc> pool(candidates.begin(), candidates.end());
  std::sort(pool.begin(), pool.end(), RanksBefore);
  for (const ScoredDoc& c : pool) {
    if (c.doc >= vectors.rows) throw InvalidInput("MMR candidate " + std::to_string(c.doc) + " has no vector");
  }
  const size_t n = std::min(k, pool.size());
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const ScoredDoc& c : pool) {
    lo = std::min(lo, static_cast<double>(c.score));
    hi = std::max(hi, static_cast<double>(c.score));
  }
  std::vector<double> rel(pool.size());
  for (size_t i = 0; i < pool.size(); ++i) rel[i] = hi > lo ? (pool[i].score - lo) / (hi - lo) : 1.0;
  // max_sim[i]: the largest similarity of candidate i to anything picked so far.
  std::vector<double> max_sim(pool.size(), -std::numeric_limits<double>::infinity());
  std::vector<bool> picked(pool.size(), false);
  std::vector<ScoredDoc> out;
  out.reserve(n);
  for (size_t step = 0; step < n; ++step) {
    size_t best = pool.size();
    double best_value = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < pool.size(); ++i) {
      if (picked[i]) continue;
      const double diversity = step == 0 ? 0.0 : max_sim[i];
      const double value = lambda * rel[i] - (1 - lambda) * diversity;
      if (value > best_value || (value == best_value && best < pool.size() && pool[i].doc < pool[best].doc)) {
        best = i;
        best_value = value;
      }
    }
    picked[best] = true;
    out.push_back({pool[best].doc, static_cast<float>(n - step)});
    const float* chosen = vectors.data + static_cast<size_t>(pool[best].doc) * vectors.dims;
    for (size_t i = 0; i < pool.size(); ++i) {
      if (picked[i]) continue;
      const double sim = InnerProduct(vectors.data + static_cast<size_t>(pool[i].doc) * vectors.dims, chosen,
                                      vectors.dims);
      max_sim[i] = std::max(max_sim[i], sim);
    }
  }
  return out;
}

}  // namespace rlm
