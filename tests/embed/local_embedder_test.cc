// `local:` end to end: text -> tokenizer -> encoder -> pooled vector, against torch's reference for the
// fixture models; long-text truncation and windows; the embedding cache in front of it (a second run
// computes nothing); the registry spec forms.
#include "embed/local_embedder.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file.h"
#include "embed/cached_embedder.h"
#include "embed/model_fixture.h"
#include "embed/safetensors.h"

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
      for (size_t j = 0; j < e.Dims(); ++j)
        max_abs = std::max(max_abs, std::abs(double(out[r * e.Dims() + j]) - want[j]));
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

std::vector<float> EmbedOne(const LocalEmbedder& e, const std::string& text, EmbedRole role) {
  std::vector<float> v(e.Dims());
  const std::string_view one[] = {text};
  e.Embed(one, role, v.data());
  return v;
}

// The ":p<hash of the prompts>" part of a local fingerprint (its name part differs with the folder name).
std::string PromptsHash(const std::string& fingerprint) {
  const size_t p = fingerprint.find(":p");
  return p == std::string::npos ? "" : fingerprint.substr(p, 10);
}

// The materialized tiny-bert under another folder name: the family's prefixes are chosen by name.
fs::path CopyModelAs(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / "local-prompts" / name;
  fs::remove_all(dir);
  fs::create_directories(dir.parent_path());
  fs::copy(Materialized("tiny-bert"), dir, fs::copy_options::recursive);
  return dir;
}

// Query/document prefixes: e5's "query: "/"passage: " and bge's English query instruction by folder name,
// config_sentence_transformers.json's prompts over both. The same weights without prefixes are the oracle:
// a prefixed embedding of x must be, bit for bit, the unprefixed embedding of prefix + x.
TEST(LocalEmbedder, QueryAndDocumentPrefixes) {
  const LocalEmbedder plain(ReadModelFolder(Materialized("tiny-bert")), LongTextMode::kTruncate);
  EXPECT_EQ(plain.folder().query_prefix, "");
  EXPECT_EQ(plain.folder().document_prefix, "");
  const std::string x = "the quick brown fox jumps over the lazy dog";
  EXPECT_EQ(EmbedOne(plain, x, EmbedRole::kQuery), EmbedOne(plain, x, EmbedRole::kDocument));
  auto plain_doc = [&](const std::string& text) { return EmbedOne(plain, text, EmbedRole::kDocument); };

  {
    SCOPED_TRACE("multilingual-e5-small");
    const LocalEmbedder e5(ReadModelFolder(CopyModelAs("multilingual-e5-small")), LongTextMode::kTruncate);
    EXPECT_EQ(e5.folder().query_prefix, "query: ");
    EXPECT_EQ(e5.folder().document_prefix, "passage: ");
    EXPECT_EQ(EmbedOne(e5, x, EmbedRole::kQuery), plain_doc("query: " + x));
    EXPECT_EQ(EmbedOne(e5, x, EmbedRole::kDocument), plain_doc("passage: " + x));
    EXPECT_NE(EmbedOne(e5, x, EmbedRole::kQuery), EmbedOne(e5, x, EmbedRole::kDocument));
    EXPECT_NE(PromptsHash(e5.Fingerprint()), PromptsHash(plain.Fingerprint()));  // cached apart
  }
  {
    SCOPED_TRACE("bge-small-en-v1.5");
    const std::string instruction = "Represent this sentence for searching relevant passages: ";
    const LocalEmbedder bge(ReadModelFolder(CopyModelAs("bge-small-en-v1.5")), LongTextMode::kTruncate);
    EXPECT_EQ(bge.folder().query_prefix, instruction);
    EXPECT_EQ(bge.folder().document_prefix, "");
    EXPECT_EQ(EmbedOne(bge, x, EmbedRole::kQuery), EmbedOne(bge, instruction + x, EmbedRole::kDocument));
    EXPECT_EQ(EmbedOne(bge, x, EmbedRole::kDocument), plain_doc(x));
    EXPECT_NE(EmbedOne(bge, x, EmbedRole::kQuery), plain_doc(x));
  }
  {
    SCOPED_TRACE("bge-m3");  // multilingual BGE takes no instruction
    const ModelFolder m3 = ReadModelFolder(CopyModelAs("bge-m3"));
    EXPECT_EQ(m3.query_prefix, "");
    EXPECT_EQ(m3.document_prefix, "");
  }
  {
    SCOPED_TRACE("config_sentence_transformers.json");
    const fs::path dir = CopyModelAs("multilingual-e5-custom");
    std::ofstream(dir / "config_sentence_transformers.json")
        << R"({"__version__": {"sentence_transformers": "3.0.1"}, "prompts": {"query": "search_query: ",)"
        << R"( "document": "search_document: "}, "default_prompt_name": null})";
    const LocalEmbedder custom(ReadModelFolder(dir), LongTextMode::kTruncate);
    EXPECT_EQ(custom.folder().query_prefix, "search_query: ");  // over e5's by-name prefixes
    EXPECT_EQ(custom.folder().document_prefix, "search_document: ");
    EXPECT_EQ(EmbedOne(custom, x, EmbedRole::kQuery), plain_doc("search_query: " + x));
    EXPECT_EQ(EmbedOne(custom, x, EmbedRole::kDocument), plain_doc("search_document: " + x));
  }
}

// Splits dir/model.safetensors into model-00001-of-00002.safetensors and model-00002-of-00002.safetensors
// (tensors by name, half in each) plus model.safetensors.index.json, as transformers' save_pretrained does
// with a max_shard_size, and removes the single file.
void ShardWeights(const fs::path& dir) {
  const std::string image = ReadFile((dir / "model.safetensors").string());
  std::vector<TensorInfo> tensors = ParseSafetensors(image, "model.safetensors");
  std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  size_t total = 0;
  const size_t half = tensors.size() / 2;
  for (int shard = 1; shard <= 2; ++shard) {
    const std::string file = "model-0000" + std::to_string(shard) + "-of-00002.safetensors";
    nlohmann::json header = {{"__metadata__", {{"format", "pt"}}}};
    std::string data;
    for (size_t i = shard == 1 ? 0 : half; i < (shard == 1 ? half : tensors.size()); ++i) {
      const TensorInfo& t = tensors[i];
      header[t.name] = {{"dtype", std::string(DTypeName(t.dtype))},
                        {"shape", t.shape},
                        {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
      data.append(t.bytes);
      index["weight_map"][t.name] = file;
    }
    total += data.size();
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string out(8, '\0');
    for (int b = 0; b < 8; ++b) out[b] = static_cast<char>((text.size() >> (8 * b)) & 0xFF);
    std::ofstream(dir / file, std::ios::binary) << out << text << data;
  }
  index["metadata"]["total_size"] = total;
  std::ofstream(dir / "model.safetensors.index.json") << index.dump(2);
  fs::remove(dir / "model.safetensors");
}

// A sharded model (model.safetensors.index.json) gives the same vectors, bit for bit, as its single file.
TEST(LocalEmbedder, ShardedWeightsGiveIdenticalVectors) {
  std::vector<std::string> texts;
  for (int i = 0; i < 20; ++i) texts.push_back("document " + std::to_string(i) + " about quick brown foxes");
  texts.push_back("short");
  const std::vector<std::string_view> views(texts.begin(), texts.end());
  for (const char* model : {"tiny-bert", "tiny-bert-prefixed"}) {  // F32 in place; F16 with bert. names
    SCOPED_TRACE(model);
    const fs::path single = Materialized(model);
    const fs::path sharded = fs::path(::testing::TempDir()) / (std::string("local-sharded-") + model);
    fs::remove_all(sharded);
    fs::copy(single, sharded, fs::copy_options::recursive);
    ShardWeights(sharded);
    ASSERT_FALSE(fs::exists(sharded / "model.safetensors"));
    const LocalEmbedder a(ReadModelFolder(single), LongTextMode::kTruncate);
    const LocalEmbedder b(ReadModelFolder(sharded), LongTextMode::kTruncate);
    ASSERT_EQ(b.encoder().weights().files().size(), 2u);
    EXPECT_EQ(b.encoder().weights().tensors().size(), a.encoder().weights().tensors().size());
    std::vector<float> va(views.size() * a.Dims()), vb(views.size() * b.Dims());
    a.Embed(views, EmbedRole::kDocument, va.data());
    b.Embed(views, EmbedRole::kDocument, vb.data());
    ASSERT_EQ(va.size(), vb.size());
    EXPECT_EQ(std::memcmp(va.data(), vb.data(), va.size() * sizeof(float)), 0);
  }
}

// Writes `value` over element `index` of the F32 tensor `name` in dir/model.safetensors.
void PatchF32(const fs::path& dir, const std::string& name, size_t index, float value) {
  std::string bytes = ReadFile((dir / "model.safetensors").string());
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  const auto header = nlohmann::json::parse(bytes.substr(8, header_len));
  ASSERT_EQ(header.at(name).at("dtype"), "F32");
  const size_t at = 8 + header_len + header.at(name).at("data_offsets")[0].get<size_t>() + index * 4;
  std::memcpy(bytes.data() + at, &value, 4);
  std::ofstream(dir / "model.safetensors", std::ios::binary | std::ios::trunc) << bytes;
}

// A model whose weights hold a NaN or an infinity computes non-finite vectors: refused with an error naming
// the model and the text, as the HTTP providers' non-finite replies are, never returned (and stored).
TEST(LocalEmbedder, NonFiniteWeightsAreRefused) {
  for (const float bad : {std::nanf(""), INFINITY}) {
    SCOPED_TRACE(bad);
    const fs::path dir = fs::path(::testing::TempDir()) / "local-nonfinite";
    fs::remove_all(dir);
    fs::copy(Materialized("tiny-bert"), dir, fs::copy_options::recursive);
    PatchF32(dir, "embeddings.LayerNorm.bias", 3, bad);
    const LocalEmbedder e(ReadModelFolder(dir), LongTextMode::kTruncate);
    const std::vector<std::string_view> texts = {"first text", "second text"};
    std::vector<float> out(texts.size() * e.Dims(), 0.5f);
    try {
      e.Embed(texts, EmbedRole::kDocument, out.data());
      ADD_FAILURE() << "non-finite vectors were returned, e.g. " << out[3];
    } catch (const InvalidInput& err) {
      const std::string what = err.what();
      EXPECT_NE(what.find("local model 'local-nonfinite' (" + dir.string() + ")"), std::string::npos) << what;
      EXPECT_NE(what.find("non-finite embedding"), std::string::npos) << what;
      EXPECT_NE(what.find("for text 0 of 2"), std::string::npos) << what;
      EXPECT_EQ(err.type(), "InvalidModel");
    }
  }
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
