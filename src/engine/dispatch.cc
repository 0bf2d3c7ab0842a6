#include "engine/dispatch.h"

#include <algorithm>

#include "core/error.h"

namespace rlm {

void ValidateDispatchOptions(const DispatchOptions& options) {
  if (options.batch_size == 0) {
    throw InvalidInput("--batch-size must be at least 1", "use --batch-size N with N >= 1",
                       ErrorType::kInvalidArgument);
  }
  if (options.workers && *options.workers == 0) {
    throw InvalidInput("--workers must be at least 1", "use --workers N with N >= 1", ErrorType::kInvalidArgument);
  }
}

size_t EffectiveBatchSize(size_t n, const DispatchOptions& options) {
  ValidateDispatchOptions(options);
  if (!options.workers) return options.batch_size;
  size_t w = *options.workers;
  return std::max<size_t>(1, n / w + (n % w != 0));
}

std::vector<DispatchBatch> MakeBatches(std::span<const int64_t> chunk_ids, size_t batch_size) {
  if (batch_size == 0) throw InvalidInput("batch size must be at least 1", "", ErrorType::kInvalidArgument);
  std::vector<DispatchBatch> batches;
  for (size_t from = 0; from < chunk_ids.size(); from += batch_size) {
    size_t to = std::min(chunk_ids.size(), from + batch_size);
    batches.push_back(
        {batches.size(), std::vector<int64_t>(chunk_ids.begin() + from, chunk_ids.begin() + to)});
  }
  return batches;
}

DispatchPlan PlanDispatch(Workspace& ws, std::string_view id_or_name, const DispatchOptions& options) {
  ValidateDispatchOptions(options);
  DispatchPlan plan;
  std::vector<ChunkRecord> chunks;
  {
    Workspace::ReadTransaction snapshot(ws);
    plan.buffer = ws.GetBuffer(id_or_name);
    chunks = ws.ListChunks(plan.buffer.id);
  }
  plan.buffer_chunks = chunks.size();
  if (chunks.empty()) {
    plan.batch_size = EffectiveBatchSize(0, options);
    return plan;
  }
  if (options.query) {
    SearchOptions so;
    so.query = *options.query;
    so.top_k = chunks.size();
    so.threshold = options.threshold;
    so.mode = options.mode;
    so.rrf_k = options.rrf_k;
    so.buffer_ids = {plan.buffer.id};
    for (const SearchHit& h : Search(ws, so).hits) plan.chunk_ids.push_back(h.chunk_id);
  } else {
    plan.chunk_ids.reserve(chunks.size());
    for (const ChunkRecord& c : chunks) plan.chunk_ids.push_back(c.id);
  }
  plan.batch_size = EffectiveBatchSize(plan.chunk_ids.size(), options);
  plan.batches = MakeBatches(plan.chunk_ids, plan.batch_size);
  return plan;
}

}  // namespace rlm
