// `local:` end to end: text -> tokenizer -> encoder -> pooled vector, against torch's reference for the
// fixture models; long-text truncation and windows; the embedding cache in front of it (a second run
// computes nothing); the registry spec forms.
#include "embed/local_embedder.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/file.h"
#include "embed/cached_embedder.h"
#include "embed/model_fixture.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;

fs::path Materialized(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("local-" + name);
  if (!fs::exists(dir / "model.safetensors")) {
    fs::remove_all(dir);
    test::MaterializeModel(test::ModelFixtureDir(name), dir);
  }
  return dir;
}

double Cosine(const float* a, const float* b, size_t n) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < n; ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  return dot / std::sqrt(na * nb);
}

class LocalTexts : public ::testing::TestWithParam<std::string> {};

TEST_P(LocalTexts, TextsMatchTorch) {
  const fs::path dir = Materialized(GetParam());
  if (!fs::exists(dir / "tokenizer.json") && !fs::exists(dir / "vocab.txt") &&
      !fs::exists(dir / "sentencepiece.bpe.model")) {
    GTEST_SKIP() << "the tokenizer of " << GetParam() << " comes from ../shared/data, which is absent";
  }
  const test::ModelReference ref = test::LoadReference(test::ModelFixtureDir(GetParam()));
  const LocalEmbedder e(ReadModelFolder(dir), LongTextMode::kTruncate);
  size_t checked = 0;
  for (const test::ReferenceCase& c : ref.cases) {
    if (c.texts.empty()) continue;
    // The reference ids are what our tokenizer must produce.
    for (size_t r = 0; r < c.texts.size(); ++r) {
      std::vector<int32_t> want;
      for (size_t i = 0; i < c.input_ids[r].size(); ++i) {
        if (c.attention_mask[r][i]) want.push_back(c.input_ids[r][i]);
      }
      EXPECT_EQ(e.tokenizer().Encode(c.texts[r], 0).ids, want) << c.texts[r];
    }
    std::vector<std::string_view> views(c.texts.begin(), c.texts.end());
    std::vector<float> out(views.size() * e.Dims());
    e.Embed(views, EmbedRole::kDocument, out.data());
    for (size_t r = 0; r < views.size(); ++r) {
      std::vector<float> want = c.embeddings[r];
      if (!ref.normalize) {  // rlm always L2-normalises; compare directions
        double n = 0;
        for (float x : want) n += static_cast<double>(x) * x;
        for (float& x : want) x = static_cast<float>(x / std::sqrt(n));
      }
      EXPECT_GE(Cosine(out.data() + r * e.Dims(), want.data(), e.Dims()), 0.99999) << c.texts[r];
      double max_abs = 0;
      for (size_t j = 0; j < e.Dims(); ++j) max_abs = std::max(max_abs, std::abs(double(out[r * e.Dims() + j]) - want[j]));
      EXPECT_LE(max_abs, 1e-4) << c.texts[r];
      ++checked;
    }
  }
  EXPECT_GT(checked, 0u);
}

INSTANTIATE_TEST_SUITE_P(Models, LocalTexts,
                         ::testing::Values("tiny-bert", "tiny-bert-lasttoken", "minilm-shaped", "tiny-xlmr"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(LocalEmbedder, LongTextsAreTruncatedOrWindowedNeverSilently) {
  const ModelFolder folder = ReadModelFolder(Materialized("tiny-bert"));
  const LocalEmbedder truncating(folder, LongTextMode::kTruncate);
  const LocalEmbedder windowing(folder, LongTextMode::kWindow);
  EXPECT_NE(truncating.Fingerprint(), windowing.Fingerprint());
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += "the quick brown fox jumps over the lazy dog ";
  const std::string_view texts[] = {long_text, "short text", ""};
  const size_t d = truncating.Dims();
  std::vector<float> a(3 * d), b(3 * d);
  truncating.Embed(texts, EmbedRole::kDocument, a.data());
  windowing.Embed(texts, EmbedRole::kDocument, b.data());
  EXPECT_EQ(truncating.counters().truncated_texts.load(), 1u);
  EXPECT_GT(truncating.counters().truncated_tokens.load(), 1000u);
  EXPECT_EQ(windowing.counters().truncated_texts.load(), 0u);
  EXPECT_EQ(windowing.counters().windowed_texts.load(), 1u);
  // The short texts are identical either way; the long one differs (windows see all of it).
  EXPECT_GT(Cosine(a.data() + d, b.data() + d, d), 0.999999);
  EXPECT_LT(Cosine(a.data(), b.data(), d), 0.99999);
  for (size_t j = 0; j < 3 * d; ++j) ASSERT_TRUE(std::isfinite(a[j]) && std::isfinite(b[j]));
  // 1 MB of text in one chunk: truncated, counted, finite.
  std::string huge;
  while (huge.size() < (1 << 20)) huge += "x ";  // 1 MB, 512k one-letter words
  const std::string_view one[] = {huge};
  truncating.Embed(one, EmbedRole::kDocument, a.data());
  EXPECT_EQ(truncating.counters().truncated_texts.load(), 2u);
}

TEST(LocalEmbedder, CacheServesTheSecondRun) {
  const fs::path cache_dir = fs::path(::testing::TempDir()) / "local-cache";
  fs::remove_all(cache_dir);
  const ModelFolder folder = ReadModelFolder(Materialized("tiny-bert"));
  std::vector<std::string> texts;
  for (int i = 0; i < 50; ++i) texts.push_back("document number " + std::to_string(i) + " about foxes");
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<float> first(texts.size() * 32), second(texts.size() * 32), query(32);
  {
    CachedEmbedder e(std::make_unique<LocalEmbedder>(folder, LongTextMode::kTruncate),
                     EmbeddingCache::Open(cache_dir.string()));
    e.Embed(views, EmbedRole::kDocument, first.data());
    EXPECT_EQ(e.counters().texts.load(), 50u);
    EXPECT_EQ(e.counters().cache_hits.load(), 0u);
  }
  {
    CachedEmbedder e(std::make_unique<LocalEmbedder>(folder, LongTextMode::kTruncate),
                     EmbeddingCache::Open(cache_dir.string()));
    e.Embed(views, EmbedRole::kDocument, second.data());
    EXPECT_EQ(e.counters().texts.load(), 0u);  // nothing computed
    EXPECT_EQ(e.counters().cache_hits.load(), 50u);
    EXPECT_EQ(first, second);  // bit-identical
    // The same text as a query is another key (models may prefix queries).
    e.Embed(std::span(views).first(1), EmbedRole::kQuery, query.data());
    EXPECT_EQ(e.counters().texts.load(), 1u);
    EXPECT_TRUE(e.warning().empty()) << e.warning();
  }
}

TEST(LocalEmbedder, RegistrySpecs) {
  const fs::path dir = Materialized("tiny-bert");
  ::setenv("RLM_CACHE", "off", 1);
  auto plain = MakeEmbedder("local:" + dir.string());
  auto window = MakeEmbedder("local:" + dir.string() + ":window");
  ::unsetenv("RLM_CACHE");
  EXPECT_EQ(plain->Dims(), 32u);
  EXPECT_NE(plain->Fingerprint(), window->Fingerprint());
  EXPECT_EQ(plain->Fingerprint().rfind("local:local-tiny-bert:", 0), 0u) << plain->Fingerprint();
  EXPECT_THROW(MakeEmbedder("local:/no/such/model"), NotFound);
  EXPECT_THROW(MakeEmbedder("local:"), InvalidInput);
}

TEST(LocalEmbedder, BadModelFoldersAreClearErrors) {
  const fs::path dir = fs::path(::testing::TempDir()) / "local-bad";
  fs::remove_all(dir);
  fs::copy(Materialized("tiny-bert"), dir, fs::copy_options::recursive);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name, std::ios::binary | std::ios::trunc) << text;
  };
  // Unsupported architecture.
  const std::string config = ReadFile((dir / "config.json").string());
  write("config.json", std::string(config).replace(config.find("\"bert\""), 6, "\"gpt2\""));
  EXPECT_THROW(ReadModelFolder(dir), InvalidInput);
  // A shape the weights do not have.
  std::string wrong = config;
  wrong.replace(wrong.find("\"intermediate_size\": 64"), 23, "\"intermediate_size\": 65");
  write("config.json", wrong);
  try {
    LocalEmbedder e(ReadModelFolder(dir), LongTextMode::kTruncate);
    ADD_FAILURE() << "accepted a config that does not match the weights";
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("intermediate.dense.weight"), std::string::npos) << e.what();
  }
  write("config.json", config);
  // Missing tokenizer files.
  fs::remove(dir / "tokenizer.json");
  fs::remove(dir / "vocab.txt");
  EXPECT_THROW(LocalEmbedder(ReadModelFolder(dir), LongTextMode::kTruncate), NotFound);
  // Truncated weights.
  fs::copy(Materialized("tiny-bert") / "vocab.txt", dir / "vocab.txt");
  const std::string weights = ReadFile((dir / "model.safetensors").string());
  write("model.safetensors", weights.substr(0, weights.size() / 2));
  EXPECT_THROW(LocalEmbedder(ReadModelFolder(dir), LongTextMode::kTruncate), InvalidInput);
  // No config.json at all.
  fs::remove(dir / "config.json");
  EXPECT_THROW(ReadModelFolder(dir), NotFound);
}

}  // namespace
}  // namespace rlm
