// Maximal marginal relevance re-ranking (Carbonell & Goldstein 1998): picks, one at a time, the candidate
// maximising  lambda * rel(d) - (1 - lambda) * max over picked s of cos(d, s),  where rel is the candidate's
// score min-max normalised over the candidates and cos the inner product of L2-normalised vectors.
#pragma once

#include <span>
#include <vector>

#include "index/dense.h"
#include "index/scored.h"

namespace rlm {

// Re-ranks `candidates` (any order) and returns the first `k` picks in pick order. Their scores are
// n - position (n = number returned), so the order survives any score-sorting consumer (a TREC run file).
// `vectors` holds a row for every candidate ordinal. Ties break on the lower ordinal. InvalidInput for
// lambda outside [0, 1] or an ordinal outside the matrix.
std::vector<ScoredDoc> MmrRerank(std::span<const ScoredDoc> candidates, const DenseMatrixView& vectors, double lambda,
                                 size_t k);

}  // namespace rlm
