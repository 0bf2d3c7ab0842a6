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

}  // namespace rlm
