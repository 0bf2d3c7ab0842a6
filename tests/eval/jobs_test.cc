// The evaluation's job definitions (eval/jobs.h), shared by the in-process and the Redis executors.
#include "eval/jobs.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace rlm {
namespace {

TEST(EvalJobs, EmbeddingJobsCoverEveryUnitOnce) {
  for (size_t units : {size_t{0}, size_t{1}, kUnitsPerEmbedJob - 1, kUnitsPerEmbedJob, kUnitsPerEmbedJob + 1,
                       3 * kUnitsPerEmbedJob + 17}) {
    size_t next = 0;
    for (size_t job = 0; job < EmbedJobCount(units); ++job) {
      const UnitRange r = EmbedJobUnits(job, units);
      EXPECT_EQ(r.begin, next);
      EXPECT_GT(r.size(), 0u);
      EXPECT_LE(r.size(), kUnitsPerEmbedJob);
      next = r.end;
    }
    EXPECT_EQ(next, units) << units;
    EXPECT_THROW(EmbedJobUnits(EmbedJobCount(units), units), InvalidInput);
  }
}

TEST(EvalJobs, RetryDelayDoublesAndIsCapped) {
  EXPECT_EQ(JobRetryDelay(1).count(), kJobBackoffMs);
  EXPECT_EQ(JobRetryDelay(2).count(), 2 * kJobBackoffMs);
  EXPECT_EQ(JobRetryDelay(3).count(), 4 * kJobBackoffMs);
  EXPECT_EQ(JobRetryDelay(0).count(), kJobBackoffMs);
  EXPECT_EQ(JobRetryDelay(1000).count(), 60000);
}

}  // namespace
}  // namespace rlm
