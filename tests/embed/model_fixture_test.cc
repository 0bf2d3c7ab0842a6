// Checks the model-fixture materializer against tools/gen_models.py: the PRNG, the dtype rounding, the
// safetensors layout (byte for byte against the committed tiny-bert file) and every fixture's per-tensor
// checksums, read back with a minimal safetensors reader independent of the project's loader.
#include "model_fixture.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/hash.h"

namespace rlm::test {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

const char* const kModels[] = {"tiny-bert", "tiny-bert-prefixed", "tiny-bert-bf16", "tiny-bert-lasttoken",
                               "minilm-shaped", "tiny-xlmr", "tiny-xlmr-prefixed"};

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

json ReadJsonFile(const fs::path& p) {
  return json::parse(ReadAll(p));
}

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("rlm_model_fixture_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

// Minimal safetensors reader: header JSON plus the raw bytes of each tensor.
struct StTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  size_t begin = 0, end = 0;
};
struct StFile {
  std::string bytes;
  size_t data_start = 0;
  std::vector<std::pair<std::string, StTensor>> tensors;  // in header order
  std::string_view Data(const StTensor& t) const {
    return std::string_view(bytes).substr(data_start + t.begin, t.end - t.begin);
  }
};

StFile ReadSafetensors(const fs::path& p) {
  StFile f;
  f.bytes = ReadAll(p);
  EXPECT_GE(f.bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(f.bytes[i])) << (8 * i);
  EXPECT_EQ(n % 8, 0u);
  f.data_start = 8 + n;
  // ordered_json keeps the header's key order, which is the data order.
  const auto header = nlohmann::ordered_json::parse(f.bytes.substr(8, n));
  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      EXPECT_EQ(v, nlohmann::ordered_json({{"format", "pt"}}));
      continue;
    }
    StTensor t;
    t.dtype = v.at("dtype").get<std::string>();
    t.shape = v.at("shape").get<std::vector<int64_t>>();
    t.begin = v.at("data_offsets")[0].get<size_t>();
    t.end = v.at("data_offsets")[1].get<size_t>();
    f.tensors.emplace_back(name, t);
  }
  return f;
}

double ElementValue(const std::string& dtype, const char* p) {
  if (dtype == "F32") {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  if (dtype == "I64") {
    int64_t v;
    std::memcpy(&v, p, 8);
    return static_cast<double>(v);
  }
  uint16_t h;
  std::memcpy(&h, p, 2);
  if (dtype == "BF16") return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
  // F16 -> double, independent of FloatToF16.
  const int exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  const double mag = exp == 0 ? std::ldexp(mant, -24) : std::ldexp(1024 + mant, exp - 25);
  return (h & 0x8000) ? -mag : mag;
}

TEST(ModelFixture, PrngIsSplitmix64) {
  // Reference outputs of splitmix64 seeded with 1234567.
  EXPECT_EQ(Mix64(1234567 + 1 * 0x9E3779B97F4A7C15ULL), 6457827717110365317ULL);
  EXPECT_EQ(Mix64(1234567 + 2 * 0x9E3779B97F4A7C15ULL), 3203168211198807973ULL);
  EXPECT_EQ(Mix64(1234567 + 3 * 0x9E3779B97F4A7C15ULL), 9817491932198370423ULL);
  EXPECT_EQ(Fnv1a64(""), 14695981039346656037ULL);
  EXPECT_EQ(Fnv1a64("embeddings.word_embeddings.weight"), 218538766349141872ULL);
  // Values printed by tools/gen_models.py (uniform_f32).
  const uint64_t seed = Mix64(1001 ^ Fnv1a64("embeddings.word_embeddings.weight"));
  EXPECT_EQ(seed, 15482593855602800826ULL);
  EXPECT_EQ(RecipeValue(seed, 0, 0.5, 0.0), 0.47860658f);
  EXPECT_EQ(RecipeValue(seed, 1, 0.5, 0.0), -0.31960052f);
  EXPECT_EQ(RecipeValue(seed, 2, 0.125, 1.0), 1.0756474f);
}

TEST(ModelFixture, HalfPrecisionRoundsToNearestEven) {
  EXPECT_EQ(FloatToF16(1.0f), 0x3C00);
  EXPECT_EQ(FloatToF16(-2.0f), 0xC000);
  EXPECT_EQ(FloatToF16(0.1f), 0x2E66);
  EXPECT_EQ(FloatToF16(65504.0f), 0x7BFF);
  EXPECT_EQ(FloatToF16(65519.0f), 0x7BFF);
  EXPECT_EQ(FloatToF16(65520.0f), 0x7C00);
  EXPECT_EQ(FloatToF16(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(FloatToF16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToF16(std::ldexp(1.0f, -25)), 0x0000);  // tie -> even (0)
  EXPECT_EQ(FloatToF16(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 units, tie -> even (2)
  EXPECT_EQ(FloatToF16(std::ldexp(1.0f, -26)), 0x0000);
  EXPECT_EQ(FloatToF16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);                          // tie -> even
  EXPECT_EQ(FloatToF16(1.0f + std::ldexp(3.0f, -11)), 0x3C02);                          // tie -> even
  EXPECT_EQ(FloatToF16(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3C01);  // above tie
  EXPECT_EQ(FloatToF16(std::ldexp(2047.0f, -25)), 0x0400);  // subnormal rounding up into the normals
  EXPECT_EQ(FloatToBf16(1.0f), 0x3F80);
  EXPECT_EQ(FloatToBf16(std::bit_cast<float>(0x3F808000u)), 0x3F80);  // tie -> even
  EXPECT_EQ(FloatToBf16(std::bit_cast<float>(0x3F818000u)), 0x3F82);  // tie -> even
  EXPECT_EQ(FloatToBf16(std::bit_cast<float>(0x3F808001u)), 0x3F81);
}

TEST(ModelFixture, TinyBertIsByteIdenticalToPythonOutput) {
  TempDir tmp;
  const fs::path fixture = ModelFixtureDir("tiny-bert");
  ASSERT_EQ(MaterializeModel(fixture, tmp.path()), tmp.path());
  const std::string ours = ReadAll(tmp.path() / "model.safetensors");
  const std::string python = ReadAll(fixture / "model.safetensors");
  ASSERT_FALSE(python.empty());
  EXPECT_EQ(ours.size(), python.size());
  EXPECT_TRUE(ours == python) << "materialized tiny-bert differs from tools/gen_models.py's file";
  // The rest of the folder is copied; recipe and references are not.
  for (const char* f :
       {"config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "modules.json", "sentence_bert_config.json", "1_Pooling/config.json"})
    EXPECT_TRUE(fs::exists(tmp.path() / f)) << f;
  EXPECT_FALSE(fs::exists(tmp.path() / "weights.json"));
  EXPECT_FALSE(fs::exists(tmp.path() / "reference.json"));
}

// minilm-shaped commits no tokenizer: MaterializeModel copies the real one from the shared data folder.
TEST(ModelFixture, MinilmShapedGetsTheSharedTokenizer) {
  const char* env = std::getenv("RLM_SHARED_DATA");
  const fs::path shared = fs::path(env && *env ? env : "/work/shared/data") / "models/all-MiniLM-L6-v2";
  if (!fs::exists(shared / "vocab.txt")) GTEST_SKIP() << "no " << shared;
  TempDir tmp;
  MaterializeModel(ModelFixtureDir("minilm-shaped"), tmp.path());
  for (const char* f : {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
    EXPECT_EQ(fs::file_size(tmp.path() / f), fs::file_size(shared / f)) << f;
  EXPECT_FALSE(fs::exists(tmp.path() / "external_files.json"));
}

// Every fixture: the materialized file holds exactly the recipe's tensors, laid out like the safetensors
// library does (descending dtype, then name; contiguous), with the recipe's checksums.
TEST(ModelFixture, MaterializedTensorsMatchRecipes) {
  for (const char* model : kModels) {
    SCOPED_TRACE(model);
    const fs::path fixture = ModelFixtureDir(model);
    ASSERT_TRUE(fs::exists(fixture / "weights.json"));
    TempDir tmp;
    MaterializeModel(fixture, tmp.path());
    const json recipe = ReadJsonFile(fixture / "weights.json");
    const StFile st = ReadSafetensors(tmp.path() / "model.safetensors");
    ASSERT_EQ(st.tensors.size(), recipe.at("tensors").size());
    std::map<std::string, const StTensor*> by_name;
    for (const auto& [name, t] : st.tensors) by_name[name] = &t;
    size_t expected_begin = 0;
    for (const auto& [name, t] : st.tensors) {
      EXPECT_EQ(t.begin, expected_begin) << name;
      expected_begin = t.end;
    }
    EXPECT_EQ(st.data_start + expected_begin, st.bytes.size());
    for (const json& r : recipe.at("tensors")) {
      const std::string name = r.at("name").get<std::string>();
      SCOPED_TRACE(name);
      ASSERT_TRUE(by_name.count(name));
      const StTensor& t = *by_name[name];
      EXPECT_EQ(t.dtype, r.at("dtype").get<std::string>());
      EXPECT_EQ(t.shape, r.at("shape").get<std::vector<int64_t>>());
      const std::string_view data = st.Data(t);
      EXPECT_EQ(ContentHash(data).Hex(), r.at("xxh3_128").get<std::string>());
      const size_t width = t.dtype == "F32" ? 4 : t.dtype == "I64" ? 8 : 2;
      long double sum = 0, abs_sum = 0;
      for (size_t i = 0; i < data.size(); i += width) {
        const double v = ElementValue(t.dtype, data.data() + i);
        sum += v;
        abs_sum += std::fabs(v);
      }
      EXPECT_NEAR(static_cast<double>(sum), r.at("sum").get<double>(),
                  1e-12 * static_cast<double>(abs_sum) + 1e-12);
    }
  }
}

// reference.json parses and is consistent: one embedding per row of the hidden size, masks 1...1 0...0, every
// row framed by the model's first/last special ids, and batched rows equal their one-at-a-time runs.
TEST(ModelFixture, ReferencesAreConsistent) {
  for (const char* model : kModels) {
    SCOPED_TRACE(model);
    const fs::path fixture = ModelFixtureDir(model);
    const ModelReference ref = LoadReference(fixture);
    EXPECT_EQ(ref.model, model);
    const json config = ReadJsonFile(fixture / "config.json");
    const size_t hidden = config.at("hidden_size").get<size_t>();
    const int32_t pad = config.at("pad_token_id").get<int32_t>();
    ASSERT_GE(ref.cases.size(), 6u);
    std::map<std::string, const ReferenceCase*> by_name;
    for (const ReferenceCase& c : ref.cases) {
      SCOPED_TRACE(c.name);
      by_name[c.name] = &c;
      ASSERT_EQ(c.input_ids.size(), c.attention_mask.size());
      ASSERT_EQ(c.input_ids.size(), c.embeddings.size());
      EXPECT_EQ(c.first_token_hidden.size(), hidden);
      for (size_t r = 0; r < c.input_ids.size(); ++r) {
        const auto& ids = c.input_ids[r];
        const auto& mask = c.attention_mask[r];
        ASSERT_EQ(ids.size(), mask.size());
        EXPECT_EQ(c.embeddings[r].size(), hidden);
        size_t len = 0;
        while (len < mask.size() && mask[len] == 1) ++len;
        for (size_t i = len; i < mask.size(); ++i) {
          EXPECT_EQ(mask[i], 0);
          EXPECT_EQ(ids[i], pad);
        }
        for (size_t i = 0; i < len; ++i) EXPECT_NE(ids[i], pad);
        if (!c.texts.empty()) {
          EXPECT_EQ(c.texts.size(), c.input_ids.size());
        }
        if (ref.normalize) {
          double n = 0;
          for (float v : c.embeddings[r]) n += static_cast<double>(v) * v;
          EXPECT_NEAR(n, 1.0, 1e-6);
        }
      }
    }
    ASSERT_TRUE(by_name.count("batch4"));
    const ReferenceCase& batch = *by_name["batch4"];
    ASSERT_EQ(batch.input_ids.size(), 4u);
    for (size_t r = 0; r < 4; ++r) {
      const std::string alone_name = "batch4_row" + std::to_string(r) + "_alone";
      ASSERT_TRUE(by_name.count(alone_name));
      const ReferenceCase& alone = *by_name[alone_name];
      for (size_t i = 0; i < hidden; ++i) EXPECT_NEAR(alone.embeddings[0][i], batch.embeddings[r][i], 1e-6);
    }
  }
}

}  // namespace
}  // namespace rlm::test
