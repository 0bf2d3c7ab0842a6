#include "index/dense.h"

#include <oneapi/tbb/parallel_for.h>

#include <algorithm>

#include "core/error.h"

namespace rlm {
namespace {

// Rows per parallel task: large enough that scheduling is noise next to the dot products.
constexpr size_t kBlockRows = 2048;

// Keeps the k best of the rows offered to it; the heap's front is the worst kept.
class TopK {
 public:
  explicit TopK(size_t k) : k_(k) {}
  void Offer(ScoredDoc cand) {
    if (heap_.size() < k_) {
      heap_.push_back(cand);
      std::push_heap(heap_.begin(), heap_.end(), RanksBefore);
    } else if (RanksBefore(cand, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), RanksBefore);
      heap_.back() = cand;
      std::push_heap(heap_.begin(), heap_.end(), RanksBefore);
    }
  }
  std::vector<ScoredDoc>& items() { return heap_; }

 private:
  size_t k_;
  std::vector<ScoredDoc> heap_;
};

// Scores rows [begin, end) into `top`; returns the number of dot products computed.
size_t ScanRows(const DenseMatrixView& m, const float* query, size_t begin, size_t end, float min_score,
                const uint8_t* allow, TopK& top) {
  size_t compared = 0;
  for (size_t r = begin; r < end; ++r) {
    if (allow != nullptr && allow[r] == 0) continue;
    const float s = InnerProduct(m.data + r * m.dims, query, m.dims);
    ++compared;
    if (s >= min_score) top.Offer({static_cast<uint32_t>(r), s});
  }
  return compared;
}

}  // namespace

float InnerProduct(const float* __restrict a, const float* __restrict b, size_t dims) {
  // Sixteen independent lanes, written out so GCC's SLP vectoriser keeps four packed accumulators in
  // registers without -ffast-math; the fixed summation order gives every caller identical scores.
  float a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
  float a8 = 0, a9 = 0, a10 = 0, a11 = 0, a12 = 0, a13 = 0, a14 = 0, a15 = 0;
  size_t i = 0;
  for (; i + 16 <= dims; i += 16) {
    const float* __restrict x = a + i;
    const float* __restrict y = b + i;
    a0 += x[0] * y[0];
    a1 += x[1] * y[1];
    a2 += x[2] * y[2];
    a3 += x[3] * y[3];
    a4 += x[4] * y[4];
    a5 += x[5] * y[5];
    a6 += x[6] * y[6];
    a7 += x[7] * y[7];
    a8 += x[8] * y[8];
    a9 += x[9] * y[9];
    a10 += x[10] * y[10];
    a11 += x[11] * y[11];
    a12 += x[12] * y[12];
    a13 += x[13] * y[13];
    a14 += x[14] * y[14];
    a15 += x[15] * y[15];
  }
  float tail = 0;
  for (; i < dims; ++i) tail += a[i] * b[i];
  const float s0 = (a0 + a8) + (a4 + a12), s1 = (a1 + a9) + (a5 + a13);
  const float s2 = (a2 + a10) + (a6 + a14), s3 = (a3 + a11) + (a7 + a15);
  return ((s0 + s2) + (s1 + s3)) + tail;
}

std::vector<ScoredDoc> DenseTopK(const DenseMatrixView& matrix, const float* query, size_t k, float min_score,
                                 const DocFilter* filter, SearchStats* stats) {
  if (filter != nullptr && filter->size() != matrix.rows) {
    throw InvalidInput("document filter has " + std::to_string(filter->size()) + " entries for " +
                       std::to_string(matrix.rows) + " vectors");
  }
  if (matrix.rows > UINT32_MAX) throw InvalidInput("dense index exceeds 2^32 vectors");
  if (k == 0 || matrix.rows == 0) return {};
  if (matrix.dims > 0 && (matrix.data == nullptr || query == nullptr)) {
    throw InvalidInput("dense search without a matrix or a query vector");
  }
  const uint8_t* allow = filter != nullptr ? filter->data() : nullptr;

  // Each block keeps its own top k; RanksBefore is a total order (doc ordinals are distinct), so merging
  // the blocks' lists gives the same answer however the rows were split.
  const size_t num_blocks = (matrix.rows + kBlockRows - 1) / kBlockRows;
  std::vector<std::vector<ScoredDoc>> block_top(num_blocks);
  std::vector<size_t> block_compared(num_blocks, 0);
  auto run_block = [&](size_t blk) {
    TopK top(k);
    const size_t begin = blk * kBlockRows, end = std::min(matrix.rows, begin + kBlockRows);
    block_compared[blk] = ScanRows(matrix, query, begin, end, min_score, allow, top);
    block_top[blk] = std::move(top.items());
  };
  if (num_blocks == 1) {
    run_block(0);
  } else {
    tbb::parallel_for(size_t{0}, num_blocks, run_block);
  }

  TopK merged(k);
  size_t compared = 0;
  for (size_t blk = 0; blk < num_blocks; ++blk) {
    compared += block_compared[blk];
    for (const ScoredDoc& d : block_top[blk]) merged.Offer(d);
  }
  std::vector<ScoredDoc>& out = merged.items();
  std::sort_heap(out.begin(), out.end(), RanksBefore);
  if (stats != nullptr) {
    stats->vectors_compared += compared;
    stats->docs_scored += compared;
  }
  return std::move(out);
}

}  // namespace rlm
