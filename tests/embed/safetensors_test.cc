// The safetensors reader: valid files, sharded sets, dtype conversion, and every corruption the format
// allows (each must be an InvalidInput naming the file, never a crash or an out-of-bounds read).
#include "embed/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "core/error.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;

std::string Image(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + header + data;
}

std::string Floats(std::initializer_list<float> values) {
  std::string s;
  for (float f : values) s.append(reinterpret_cast<const char*>(&f), 4);
  return s;
}

void ExpectCorrupt(const std::string& image, const std::string& fragment) {
  try {
    ParseSafetensors(image, "m.safetensors");
    ADD_FAILURE() << "accepted a corrupt image; expected: " << fragment;
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("m.safetensors"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Safetensors, ParsesValidImage) {
  const std::string img = Image(
      R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
      R"("a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}})",
      Floats({1, 2, 3, 4}));
  const auto tensors = ParseSafetensors(img, "m.safetensors");
  ASSERT_EQ(tensors.size(), 2u);
  const TensorInfo& a = tensors[0].name == "a" ? tensors[0] : tensors[1];
  EXPECT_EQ(a.ShapeString(), "[1, 2]");
  EXPECT_EQ(ToFloat32(a, {1, 2}), (std::vector<float>{1, 2}));
  EXPECT_THROW(ToFloat32(a, {2}), InvalidInput);  // wrong shape named
}

TEST(Safetensors, RejectsEveryCorruption) {
  const std::string data = Floats({1, 2});
  auto one = [&](const std::string& entry) { return Image("{\"t\":" + entry + "}", data); };
  ExpectCorrupt("1234", "shorter than");
  ExpectCorrupt(Image("{}", "").substr(0, 9) + std::string(1, '{'), "not valid JSON");  // "{{": JSON cut
  std::string huge = Image("{}", "");
  huge[5] = 1;  // header length 2^40
  ExpectCorrupt(huge, "exceeds");
  std::string past = Image("{}", "");
  past[0] = 100;
  ExpectCorrupt(past, "past the end");
  ExpectCorrupt(Image("not json", ""), "not valid JSON");
  ExpectCorrupt(Image("[1,2]", ""), "not a JSON object");
  ExpectCorrupt(one(R"({"dtype":"F99","shape":[2],"data_offsets":[0,8]})"), "unsupported dtype");
  ExpectCorrupt(one(R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})"), "shape");
  ExpectCorrupt(one(R"({"dtype":"F32","shape":[2.5],"data_offsets":[0,8]})"), "shape");
  ExpectCorrupt(one(R"({"dtype":"F32","shape":[2],"data_offsets":[0,80]})"), "outside");
  ExpectCorrupt(one(R"({"dtype":"F32","shape":[2],"data_offsets":[8,0]})"), "outside");
  ExpectCorrupt(one(R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})"), "need 12");
  ExpectCorrupt(one(R"({"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,8]})"), "large");
  ExpectCorrupt(one(R"({"dtype":"F32","shape":[1],"data_offsets":[0,4]})"), "trailing");
  ExpectCorrupt(one(R"({"dtype":"F32","shape":[2]})"), "data_offsets");
  ExpectCorrupt(one(R"({"shape":[2],"data_offsets":[0,8]})"), "dtype");
  ExpectCorrupt(one("7"), "not an object");
  ExpectCorrupt(Image(R"({"__metadata__":{"k":1},"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data),
                "__metadata__.k");
  // Overlap and gap between two tensors.
  ExpectCorrupt(Image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                      R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                      data),
                "overlap");
  ExpectCorrupt(Image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                      R"("b":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}})",
                      data),
                "gap");
}

// IEEE binary16 decoded independently of the reader: (-1)^s * 2^(e-15) * (1 + m/1024), subnormals
// 2^-14 * m/1024, e = 31 infinities and NaNs.
float ReferenceHalf(uint16_t h) {
  const int e = (h >> 10) & 0x1F;
  const int m = h & 0x3FF;
  const float sign = (h & 0x8000) ? -1.0f : 1.0f;
  if (e == 0x1F) return m == 0 ? sign * std::numeric_limits<float>::infinity() : std::nanf("");
  if (e == 0) return sign * std::ldexp(static_cast<float>(m), -24);
  return sign * std::ldexp(static_cast<float>(1024 + m), e - 25);
}

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

TEST(Safetensors, HalfAndBFloat16AreExact) {
  EXPECT_EQ(HalfToFloat(0x3C00), 1.0f);
  EXPECT_EQ(HalfToFloat(0xC000), -2.0f);
  EXPECT_EQ(HalfToFloat(0x7BFF), 65504.0f);
  EXPECT_EQ(HalfToFloat(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(HalfToFloat(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_EQ(BFloat16ToFloat(0x3F80), 1.0f);
  EXPECT_EQ(BFloat16ToFloat(0xC0A0), -5.0f);
  // Every one of the 65536 bit patterns, through the per-value functions and through ToFloat32 on a tensor
  // holding all of them (the path the encoder uses).
  std::string f16_bytes, bf16_bytes;
  for (uint32_t i = 0; i < 0x10000; ++i) {
    const char le[2] = {static_cast<char>(i & 0xFF), static_cast<char>(i >> 8)};
    f16_bytes.append(le, 2);
    bf16_bytes.append(le, 2);
  }
  const std::string img = Image(R"({"b":{"dtype":"BF16","shape":[256,256],"data_offsets":[0,131072]},)"
                                R"("h":{"dtype":"F16","shape":[65536],"data_offsets":[131072,262144]}})",
                                bf16_bytes + f16_bytes);
  const auto tensors = ParseSafetensors(img, "m.safetensors");
  ASSERT_EQ(tensors.size(), 2u);
  const TensorInfo& bt = tensors[0].name == "b" ? tensors[0] : tensors[1];
  const TensorInfo& ht = tensors[0].name == "h" ? tensors[0] : tensors[1];
  const std::vector<float> half_tensor = ToFloat32(ht, {65536});
  const std::vector<float> bf16_tensor = ToFloat32(bt, {256, 256});
  size_t nans = 0;
  for (uint32_t i = 0; i < 0x10000; ++i) {
    const auto h = static_cast<uint16_t>(i);
    const float got = HalfToFloat(h);
    ASSERT_EQ(Bits(half_tensor[i]), Bits(got)) << std::hex << i;
    const float want = ReferenceHalf(h);
    if (std::isnan(want)) {
      // NaN keeps its sign and payload, as the widening conversion of IEEE 754 (and torch/numpy) does.
      ASSERT_TRUE(std::isnan(got)) << std::hex << i;
      ASSERT_EQ(Bits(got), ((i & 0x8000u) << 16) | 0x7F800000u | ((i & 0x3FFu) << 13)) << std::hex << i;
      ++nans;
    } else {
      ASSERT_EQ(Bits(got), Bits(want)) << std::hex << i << " " << got << " vs " << want;  // -0.0 included
    }
    // BF16 is exactly the top 16 bits of a float32.
    ASSERT_EQ(Bits(BFloat16ToFloat(h)), i << 16) << std::hex << i;
    ASSERT_EQ(Bits(bf16_tensor[i]), i << 16) << std::hex << i;
  }
  EXPECT_EQ(nans, 2u * 1023u);
}

class WeightFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / "weightfiles";
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void Write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
  }
  fs::path dir_;
};

TEST_F(WeightFilesTest, OpensShardedSets) {
  Write("model-00001-of-00002.safetensors",
        Image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", Floats({1})));
  Write("model-00002-of-00002.safetensors",
        Image(R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", Floats({2})));
  Write("model.safetensors.index.json", R"({"metadata":{},"weight_map":{"a":"model-00001-of-00002.safetensors",
        "b":"model-00002-of-00002.safetensors"}})");
  const WeightFiles w = WeightFiles::Open(dir_);
  ASSERT_NE(w.Find("a"), nullptr);
  ASSERT_NE(w.Find("b"), nullptr);
  EXPECT_EQ(ToFloat32(*w.Find("b"), {1}), std::vector<float>{2});
  EXPECT_EQ(w.Find("c"), nullptr);
  EXPECT_EQ(w.files().size(), 2u);

  // A tensor mapped to the wrong shard, a path outside the folder, a tensor in two shards.
  Write("model.safetensors.index.json", R"({"weight_map":{"a":"model-00002-of-00002.safetensors"}})");
  EXPECT_THROW(WeightFiles::Open(dir_), InvalidInput);
  Write("model.safetensors.index.json", R"({"weight_map":{"a":"../model-00001-of-00002.safetensors"}})");
  EXPECT_THROW(WeightFiles::Open(dir_), InvalidInput);
  Write("model-00002-of-00002.safetensors",
        Image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", Floats({2})));
  Write("model.safetensors.index.json", R"({"weight_map":{"a":"model-00001-of-00002.safetensors",
        "b":"model-00002-of-00002.safetensors"}})");
  EXPECT_THROW(WeightFiles::Open(dir_), InvalidInput);
  Write("model.safetensors.index.json", "{");
  EXPECT_THROW(WeightFiles::Open(dir_), InvalidInput);
}

TEST_F(WeightFilesTest, MissingWeightsAreNotFound) {
  EXPECT_THROW(WeightFiles::Open(dir_), NotFound);
}

TEST_F(WeightFilesTest, TruncatedFileIsAnError) {
  const std::string full = Image(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", Floats({1, 2, 3, 4}));
  for (size_t cut : {size_t{0}, size_t{4}, size_t{8}, size_t{20}, full.size() - 1}) {
    Write("model.safetensors", full.substr(0, cut));
    EXPECT_THROW(WeightFiles::Open(dir_), InvalidInput) << cut;
  }
}

// The real all-MiniLM-L6-v2 header (weights absent): it parses up to the data check, which must fail
// cleanly because the data section is missing.
TEST(Safetensors, RealHeaderWithoutWeightsIsRejected) {
  const fs::path models = fs::path(RLM_SOURCE_DIR) / "../shared/data/models/all-MiniLM-L6-v2";
  if (!fs::exists(models)) GTEST_SKIP() << "../shared/data is absent; real model header not checked";
  for (const char* name : {"model.safetensors.HEADER_ONLY", "model.safetensors.TRUNCATED_851968_of_90868376_bytes"}) {
    const MappedFile map((models / name).string());
    try {
      ParseSafetensors(map.view(), name);
      ADD_FAILURE() << name << " accepted";
    } catch (const InvalidInput& e) {
      EXPECT_NE(std::string(e.what()).find("outside"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace rlm
