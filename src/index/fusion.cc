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

namespace {

// One list's normalised scores, first occurrence of each document only.
std::vector<std::pair<uint32_t, double>> Normalised(const std::vector<ScoredDoc>& list, ScoreNorm norm) {
  std::vector<std::pair<uint32_t, double>> out;
  std::unordered_set<uint32_t> seen;
  for (const ScoredDoc& d : list) {
    if (seen.insert(d.doc).second) out.emplace_back(d.doc, static_cast<double>(d.score));
  }
  if (out.empty() || norm == ScoreNorm::kNone) return out;
  if (norm == ScoreNorm::kMinMax) {
    double lo = out[0].second, hi = out[0].second;
    for (const auto& [doc, s] : out) {
      lo = std::min(lo, s);
      hi = std::max(hi, s);
    }
    for (auto& [doc, s] : out) s = hi > lo ? (s - lo) / (hi - lo) : 1.0;
    return out;
  }
  double mean = 0;
  for (const auto& [doc, s] : out) mean += s;
  mean /= static_cast<double>(out.size());
  double var = 0;
  for (const auto& [doc, s] : out) var += (s - mean) * (s - mean);
  const double sd = std::sqrt(var / static_cast<double>(out.size()));
  for (auto& [doc, s] : out) s = sd > 0 ? (s - mean) / sd : 0.0;
  return out;
}

}  // namespace

std::vector<ScoredDoc> FuseScores(std::span<const std::vector<ScoredDoc>> lists, ScoreFusion fusion, ScoreNorm norm,
                                  std::span<const double> weights) {
  if (fusion == ScoreFusion::kWeighted) {
    if (weights.size() != lists.size()) {
      throw InvalidInput("weighted fusion needs one weight per list (" + std::to_string(lists.size()) + ")");
    }
    for (double w : weights) {
      if (!std::isfinite(w)) throw InvalidInput("fusion weights must be finite numbers");
    }
  }
  std::unordered_map<uint32_t, std::pair<double, int>> acc;  // sum, lists containing the document
  std::vector<uint32_t> first_seen;
  std::vector<double> floor(lists.size(), 0.0);  // the lowest normalised score of each list
  std::vector<std::unordered_set<uint32_t>> members(lists.size());
  for (size_t i = 0; i < lists.size(); ++i) {
    const auto normalised = Normalised(lists[i], norm);
    const double w = fusion == ScoreFusion::kWeighted ? weights[i] : 1.0;
    if (!normalised.empty()) floor[i] = normalised[0].second;
    for (const auto& [doc, s] : normalised) {
      floor[i] = std::min(floor[i], s);
      auto [it, inserted] = acc.try_emplace(doc, 0.0, 0);
      if (inserted) first_seen.push_back(doc);
      it->second.first += w * s;
      it->second.second += 1;
      members[i].insert(doc);
    }
  }
  if (fusion == ScoreFusion::kWeighted) {
    for (size_t i = 0; i < lists.size(); ++i) {
      if (members[i].empty()) continue;
      for (uint32_t doc : first_seen) {
        if (!members[i].count(doc)) acc[doc].first += weights[i] * floor[i];
      }
    }
  }
  std::vector<ScoredDoc> out;
  out.reserve(first_seen.size());
  for (uint32_t doc : first_seen) {
    const auto& [sum, count] = acc[doc];
    const double score = fusion == ScoreFusion::kCombMnz ? sum * count : sum;
    out.push_back({doc, static_cast<float>(score)});
  }
  std::sort(out.begin(), out.end(), RanksBefore);
  return out;
}

}  // namespace rlm
