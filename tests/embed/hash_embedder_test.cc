#include "embed/hash_embedder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "embed/embedder.h"

namespace rlm {
namespace {

std::vector<float> EmbedText(const Embedder& e, std::string_view text,
                             EmbedRole role = EmbedRole::kDocument) {
  std::vector<float> v(e.Dims());
  std::string_view texts[] = {text};
  e.Embed(texts, role, v.data());
  return v;
}

double Dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return s;
}

TEST(HashEmbedder, DeterministicAndNormalised) {
  HashEmbedder e;
  EXPECT_EQ(e.Dims(), 256u);
  const std::vector<float> a = EmbedText(e, "Retrieval of relevant documents for a query");
  const std::vector<float> b = EmbedText(e, "Retrieval of relevant documents for a query");
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
  EXPECT_NEAR(Dot(a, a), 1.0, 1e-5);
  EXPECT_NEAR(Dot(EmbedText(e, "x"), EmbedText(e, "x")), 1.0, 1e-5);
  EXPECT_NEAR(Dot(EmbedText(e, "naïve café 東京"), EmbedText(e, "naïve café 東京")), 1.0, 1e-5);
}

// Pinned output: if this changes, the algorithm changed, and kVersion (hence the fingerprint) must change
// with it so cached vectors are not mixed.
TEST(HashEmbedder, GoldenVector) {
  HashEmbedder e(8);
  const std::vector<float> v = EmbedText(e, "Hello, world! Hello again.");
  const std::vector<float> golden = {-0.23706974f, 0.17202601f, -0.23706974f, 0.57574081f,
                                     0.23706974f,  0.40139395f, 0.23706974f,  -0.50299525f};
  ASSERT_EQ(v.size(), golden.size());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(v[i], golden[i], 1e-6) << i;
  EXPECT_EQ(e.Fingerprint(), "hash-v1:d8:w+c3:unicode1+fold+stop+porter+max64");
}

TEST(HashEmbedder, TextsWithoutWordsGiveTheZeroVector) {
  HashEmbedder e;
  for (std::string_view text : {"", "   \n", "!!! 😀 ---", "the and of it"}) {
    const std::vector<float> v = EmbedText(e, text);
    EXPECT_EQ(Dot(v, v), 0.0) << text;
  }
}

TEST(HashEmbedder, SimilarTextsAreCloser) {
  HashEmbedder e;
  const auto base = EmbedText(e, "The cat sat on the mat");
  const auto near = EmbedText(e, "A cat was sitting on a mat");
  const auto far = EmbedText(e, "Quantum chromodynamics on a lattice");
  EXPECT_GT(Dot(base, near), Dot(base, far) + 0.2);
  // Character 3-grams connect inflections and typos the stemmer does not.
  const auto word = EmbedText(e, "vaccination");
  EXPECT_GT(Dot(word, EmbedText(e, "vacination")), Dot(word, EmbedText(e, "immunology")) + 0.2);
}

TEST(HashEmbedder, RoleDoesNotMatterAndBatchesMatchSingles) {
  HashEmbedder e(64);
  std::vector<std::string> texts;
  for (int i = 0; i < 100; ++i)
    texts.push_back("document number " + std::to_string(i) + " about topic " + std::to_string(i % 7));
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<float> batch(texts.size() * e.Dims()), queries(texts.size() * e.Dims());
  e.Embed(views, EmbedRole::kDocument, batch.data());
  e.Embed(views, EmbedRole::kQuery, queries.data());
  EXPECT_EQ(batch, queries);
  for (size_t i = 0; i < texts.size(); ++i) {
    std::vector<float> one(e.Dims());
    e.EmbedOne(texts[i], one.data());
    EXPECT_EQ(0, std::memcmp(one.data(), batch.data() + i * e.Dims(), e.Dims() * sizeof(float)));
  }
  e.Embed(std::span<const std::string_view>(), EmbedRole::kQuery, nullptr);  // nothing to do
}

TEST(HashEmbedder, DimsAndFingerprint) {
  HashEmbedder small(64);
  EXPECT_EQ(small.Dims(), 64u);
  EXPECT_EQ(HashEmbedder().Fingerprint(), "hash-v1:d256:w+c3:unicode1+fold+stop+porter+max64");
  EXPECT_NE(small.Fingerprint(), HashEmbedder().Fingerprint());
  EXPECT_EQ(
      EmbedText(HashEmbedder(1), "anything at all")[0] * EmbedText(HashEmbedder(1), "anything at all")[0],
      1.0f);
  EXPECT_THROW(HashEmbedder(0), InvalidInput);
  EXPECT_THROW(HashEmbedder(HashEmbedder::kMaxDims + 1), InvalidInput);
}

TEST(EmbedderRegistry, MakesHashEmbedders) {
  EXPECT_EQ(MakeEmbedder("hash")->Dims(), 256u);
  EXPECT_EQ(MakeEmbedder("hash:1024")->Dims(), 1024u);
  EXPECT_EQ(MakeEmbedder("hash:64")->Fingerprint(), HashEmbedder(64).Fingerprint());
  for (std::string_view bad :
       {"hash:", "hash:0", "hash:abc", "hash:12x", "hash:-5", "hash:70000", "hash:64:1"}) {
    EXPECT_THROW(MakeEmbedder(bad), InvalidInput) << bad;
  }
  const std::vector<std::string> kinds = EmbedderKinds();
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "hash"), kinds.end());
}

TEST(EmbedderRegistry, UnknownSpecListsTheKinds) {
  for (std::string_view bad : {"bogus", "", "HASH", "openai-ish:model"}) {
    try {
      MakeEmbedder(bad);
      ADD_FAILURE() << bad;
    } catch (const InvalidInput& e) {
      EXPECT_NE(std::string(e.what()).find("known kinds: hash"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace rlm
