// Dispatch: splits a buffer's chunks into batches for parallel subagents (the `dispatch` command). The
// chunks are either all of the buffer's, in index order, or those a search restricted to the buffer
// returns, in rank order. The plan only names chunk ids; each subagent fetches its chunks itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/search.h"
#include "store/workspace.h"

namespace rlm {

struct DispatchOptions {
  size_t batch_size = 10;
  // When set, the batch size is ceil(chunks / workers): one batch per worker (overrides batch_size).
  std::optional<size_t> workers;
  // When set, only chunks matching the query are dispatched, most relevant first.
  std::optional<std::string> query;
  SearchMode mode = SearchMode::kHybrid;
  double threshold = 0.3;
  double rrf_k = 60.0;
};

struct DispatchBatch {
  size_t index = 0;  // 0-based
  std::vector<int64_t> chunk_ids;
};

struct DispatchPlan {
  BufferInfo buffer;
  size_t buffer_chunks = 0;        // chunks of the buffer (before any query filter)
  std::vector<int64_t> chunk_ids;  // the dispatched chunks, in batch order
  size_t batch_size = 0;           // the effective batch size
  std::vector<DispatchBatch> batches;
};

// Throws InvalidInput when batch_size is 0 or workers is 0.
void ValidateDispatchOptions(const DispatchOptions& options);

// The batch size used for `n` chunks: ceil(n / workers) (at least 1) when workers is set, else batch_size.
// Throws InvalidInput like ValidateDispatchOptions.
size_t EffectiveBatchSize(size_t n, const DispatchOptions& options);

// Consecutive batches of at most `batch_size` ids (the last may be shorter); none for no ids.
// Throws InvalidInput for a batch size of 0.
std::vector<DispatchBatch> MakeBatches(std::span<const int64_t> chunk_ids, size_t batch_size);

// Plans the dispatch of buffer `id_or_name`. With a query, the search is restricted to the buffer before
// ranking (top_k = the buffer's chunk count), so no matching chunk of the buffer is lost to other buffers.
// A buffer without chunks, or a query matching none, gives a plan with no batches. Throws NotFound for an
// unknown buffer and InvalidInput for bad options (checked before the workspace is read).
DispatchPlan PlanDispatch(Workspace& ws, std::string_view id_or_name, const DispatchOptions& options);

}  // namespace rlm
