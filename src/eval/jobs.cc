#include "eval/jobs.h"

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.h"

namespace rlm {

std::chrono::milliseconds JobRetryDelay(int attempt) {
  const int shift = std::clamp(attempt - 1, 0, 16);
  return std::chrono::milliseconds(std::min<int64_t>(int64_t{kJobBackoffMs} << shift, 60000));
}

size_t EmbedJobCount(size_t units) {
  return (units + kUnitsPerEmbedJob - 1) / kUnitsPerEmbedJob;
}

UnitRange EmbedJobUnits(size_t job, size_t units) {
  if (job >= EmbedJobCount(units)) {
    throw InvalidInput("embedding job " + std::to_string(job) + " is out of range (" + std::to_string(units) +
                       " units make " + std::to_string(EmbedJobCount(units)) + " jobs)");
  }
  const size_t begin = job * kUnitsPerEmbedJob;
  return UnitRange{begin, std::min(units, begin + kUnitsPerEmbedJob)};
}

JobResult RunQueryJob(const VariantRetriever& retriever, const Embedder* embedder, std::string_view query) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<float> qv;
  if (embedder != nullptr) {
    qv.resize(embedder->Dims());
    embedder->Embed(std::span(&query, 1), EmbedRole::kQuery, qv.data());
  }
  JobResult r;
  r.docs = retriever.Retrieve(query, qv);
  r.latency_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace rlm
