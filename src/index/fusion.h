// Rank fusion of several ranked lists over the same document ordinals.
#pragma once

#include <span>
#include <vector>

#include "index/scored.h"

namespace rlm {

// Reciprocal rank fusion (Cormack et al. 2009): score(d) = sum over lists containing d of 1 / (k + rank),
// rank starting at 1. Returns every document of any list, ordered by RanksBefore (ties: lower ordinal).
// Sums are taken in double, list by list, then rounded to float before ranking. A document repeated
// within one list counts only at its first (best) rank. Throws InvalidInput when k is negative or not finite.
std::vector<ScoredDoc> ReciprocalRankFusion(std::span<const std::vector<ScoredDoc>> lists, double k = 60.0);

// Score normalisation applied to each list before score-based fusion.
//   kMinMax: (s - min) / (max - min), 1 for every document when max == min;
//   kZScore: (s - mean) / sd (population sd), 0 for every document when sd == 0;
//   kNone:   the raw score.
enum class ScoreNorm { kNone, kMinMax, kZScore };

// Score-based fusion of lists over the same ordinals, after normalising each list:
//   kWeighted: sum over lists of weight[i] * norm_i(d), where a document missing from list i gets that
//              list's lowest normalised score (so absence is never rewarded above the worst retrieved);
//   kCombSum:  sum of norm_i(d) over the lists containing d;
//   kCombMnz:  CombSUM times the number of lists containing d.
// Returns every document of any list ordered by RanksBefore. `weights` must have one finite entry per list
// for kWeighted (ignored otherwise); InvalidInput otherwise. A document repeated within one list counts
// once, with its first score.
enum class ScoreFusion { kWeighted, kCombSum, kCombMnz };
std::vector<ScoredDoc> FuseScores(std::span<const std::vector<ScoredDoc>> lists, ScoreFusion fusion, ScoreNorm norm,
                                  std::span<const double> weights = {});

}  // namespace rlm
