// Exact dense retrieval: inner products of a query against a contiguous row-major matrix of L2-normalised
// vectors (so the product is the cosine similarity), in parallel over row blocks with TBB.
#pragma once

#include <cstddef>
#include <vector>

#include "index/scored.h"

namespace rlm {

struct DenseMatrixView {
  const float* data = nullptr;  // rows * dims floats
  size_t rows = 0;
  size_t dims = 0;
};

// The inner product DenseTopK uses (sixteen interleaved partial sums, added pairwise at the end), so a caller
// can reproduce its scores bit for bit.
float InnerProduct(const float* a, const float* b, size_t dims);

// The top `k` rows by inner product with `query` (dims floats), ordered by RanksBefore, keeping only rows
// with score >= min_score (a NaN score never qualifies) and allowed by `filter` (applied before ranking;
// filter->size() must equal rows, else InvalidInput). The result does not depend on the thread count.
std::vector<ScoredDoc> DenseTopK(const DenseMatrixView& matrix, const float* query, size_t k, float min_score,
                                 const DocFilter* filter = nullptr, SearchStats* stats = nullptr);

}  // namespace rlm
