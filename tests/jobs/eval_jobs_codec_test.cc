// The codecs of the values workers and coordinators exchange through Redis (jobs/eval_jobs.h): what one
// encodes the other decodes to the same thing, and a forged or damaged value is an IoError, never
// undefined behaviour (issue 11: "overlap": 5e95 cast to size_t).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "jobs/eval_jobs.h"

namespace rlm {
namespace {

std::vector<RunVariant> Variants() {
  RunVariant bm25;
  bm25.name = "bm25";
  RunVariant hyb;
  hyb.name = "hyb";
  hyb.chunker = "fixed";
  hyb.chunk.size = 800;
  hyb.chunk.overlap = 100;
  hyb.retrieval.retrieval = RetrievalKind::kHybrid;
  hyb.retrieval.fusion = FusionKind::kRegistry;
  hyb.retrieval.registry.method = FusionMethod::kWsum;
  hyb.retrieval.registry.norm = FusionNorm::kZmuv;
  hyb.retrieval.registry.weights = {0.3, 0.7};
  return {bm25, hyb};
}

TEST(EvalJobsCodec, VariantsRoundTrip) {
  const std::vector<RunVariant> in = Variants();
  const std::vector<RunVariant> out = DecodeVariants(EncodeVariants(in));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].name, "hyb");
  EXPECT_EQ(out[1].chunk.overlap, 100u);
  EXPECT_EQ(out[1].retrieval.fusion, FusionKind::kRegistry);
  EXPECT_EQ(out[1].retrieval.registry.method, FusionMethod::kWsum);
  EXPECT_EQ(out[1].retrieval.registry.norm, FusionNorm::kZmuv);
  EXPECT_EQ(out[1].retrieval.registry.weights, (std::vector<double>{0.3, 0.7}));
  EXPECT_EQ(EncodeVariants(out), EncodeVariants(in));
}

TEST(EvalJobsCodec, ForgedNumbersAreIoErrors) {
  const std::string good = EncodeVariants(Variants());
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  };
  for (const auto& [from, to] :
       std::vector<std::pair<std::string, std::string>>{{"\"overlap\":100", "\"overlap\":5e95"},
                                                        {"\"overlap\":100", "\"overlap\":-3"},
                                                        {"\"size\":800", "\"size\":1.5"},
                                                        {"\"depth\":1000", "\"depth\":\"x\""},
                                                        {"\"retrieval\":2", "\"retrieval\":1e300"},
                                                        {"\"fusion\":4", "\"fusion\":-1"},
                                                        {"\"k1\":1.2", "\"k1\":\"a\""},
                                                        {"\"norm\":\"zmuv\"", "\"norm\":\"nope\""},
                                                        {"\"method\":\"wsum\"", "\"method\":\"probfuse\""}}) {
    const std::string forged = replace(from, to);
    EXPECT_THROW(DecodeVariants(forged), IoError) << to;
  }
}

}  // namespace
}  // namespace rlm
