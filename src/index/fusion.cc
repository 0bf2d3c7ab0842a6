#include "index/fusion.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"

namespace rlm {

std::vector<ScoredDoc> ReciprocalRankFusion(std::span<const std::vector<ScoredDoc>> lists, double k) {
  if (!std::isfinite(k) || k < 0) throw InvalidInput("RRF k must be a finite number >= 0");
  std::unordered_map<uint32_t, double> sums;
  std::vector<uint32_t> first_seen;  // every fused document once, in a deterministic order
  std::unordered_set<uint32_t> in_list;
  for (const std::vector<ScoredDoc>& list : lists) {
    in_list.clear();
    for (size_t i = 0; i < list.size(); ++i) {
      const uint32_t doc = list[i].doc;
      if (!in_list.insert(doc).second) continue;
      auto [it, inserted] = sums.try_emplace(doc, 0.0);
      if (inserted) first_seen.push_back(doc);
      it->second += 1.0 / (k + static_cast<double>(i + 1));
    }
  }
  std::vector<ScoredDoc> out;
  out.reserve(first_seen.size());
  for (uint32_t doc : first_seen) out.push_back({doc, static_cast<float>(sums[doc])});
  std::sort(out.begin(), out.end(), RanksBefore);
  return out;
}

}  // namespace rlm
