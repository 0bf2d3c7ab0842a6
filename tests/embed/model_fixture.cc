#include "model_fixture.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"

namespace rlm::test {
namespace fs = std::filesystem;
using nlohmann::json;

static_assert(std::endian::native == std::endian::little, "safetensors is little-endian; so is this writer");

namespace {

constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ULL;

struct TensorRecipe {
  std::string name;
  std::string dtype;  // F32, F16, BF16, I64
  std::vector<int64_t> shape;
  std::string init;  // "uniform" or "arange"
  double scale = 0;
  double offset = 0;
  size_t count = 1;
  size_t ElementSize() const { return dtype == "F32" ? 4 : dtype == "I64" ? 8 : 2; }
  size_t Bytes() const { return count * ElementSize(); }
};

// The safetensors library's order: descending dtype (its Rust enum order), then name.
int DtypeRank(const std::string& dtype) {
  static const std::map<std::string, int> kRank = {{"F16", 7}, {"BF16", 8}, {"F32", 11}, {"I64", 13}};
  auto it = kRank.find(dtype);
  if (it == kRank.end()) throw InvalidInput("weights.json: unsupported dtype " + dtype);
  return it->second;
}

json ReadJson(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot open " + path.string());
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw InvalidInput(path.string() + ": " + e.what());
  }
}

std::vector<TensorRecipe> ParseRecipe(const json& j, uint64_t* seed) {
  try {
    *seed = j.at("seed").get<uint64_t>();
    std::vector<TensorRecipe> out;
    for (const json& t : j.at("tensors")) {
      TensorRecipe r;
      r.name = t.at("name").get<std::string>();
      r.dtype = t.at("dtype").get<std::string>();
      r.shape = t.at("shape").get<std::vector<int64_t>>();
      r.init = t.at("init").get<std::string>();
      for (int64_t d : r.shape) r.count *= static_cast<size_t>(d);
      DtypeRank(r.dtype);
      for (char c : r.name) {
        if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20 ||
            static_cast<unsigned char>(c) > 0x7E)
          throw InvalidInput("weights.json: tensor name needs JSON escaping: " + r.name);
      }
      if (r.init == "uniform") {
        r.scale = t.at("scale").get<double>();
        r.offset = t.at("offset").get<double>();
        int exp = 0;
        if (!(r.scale > 0) || std::frexp(r.scale, &exp) != 0.5)
          throw InvalidInput("weights.json: scale of " + r.name + " is not a power of two");
        if (r.dtype == "I64") throw InvalidInput("weights.json: uniform I64 tensor " + r.name);
      } else if (r.init == "arange") {
        if (r.dtype != "I64") throw InvalidInput("weights.json: arange tensor " + r.name + " is not I64");
      } else {
        throw InvalidInput("weights.json: unknown init " + r.init + " of " + r.name);
      }
      out.push_back(std::move(r));
    }
    std::sort(out.begin(), out.end(), [](const TensorRecipe& a, const TensorRecipe& b) {
      int ra = DtypeRank(a.dtype), rb = DtypeRank(b.dtype);
      return ra != rb ? ra > rb : a.name < b.name;
    });
    return out;
  } catch (const json::exception& e) {
    throw InvalidInput(std::string("weights.json: ") + e.what());
  }
}

// serde_json's compact form, as the safetensors library writes it, padded with spaces to a multiple of 8.
std::string SafetensorsHeader(const std::vector<TensorRecipe>& tensors) {
  std::ostringstream h;
  h << R"({"__metadata__":{"format":"pt"})";
  size_t offset = 0;
  for (const TensorRecipe& t : tensors) {
    h << ",\"" << t.name << "\":{\"dtype\":\"" << t.dtype << "\",\"shape\":[";
    for (size_t i = 0; i < t.shape.size(); ++i) h << (i ? "," : "") << t.shape[i];
    h << "],\"data_offsets\":[" << offset << "," << offset + t.Bytes() << "]}";
    offset += t.Bytes();
  }
  h << "}";
  std::string header = h.str();
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
  return out + header;
}

// The stored bytes of one tensor.
std::string TensorBytes(const TensorRecipe& t, uint64_t model_seed) {
  std::string out(t.Bytes(), '\0');
  char* p = out.data();
  if (t.init == "arange") {
    for (size_t i = 0; i < t.count; ++i) {
      int64_t v = static_cast<int64_t>(i);
      std::memcpy(p + 8 * i, &v, 8);
    }
    return out;
  }
  const uint64_t seed = Mix64(model_seed ^ Fnv1a64(t.name));
  for (size_t i = 0; i < t.count; ++i) {
    const float v = RecipeValue(seed, i, t.scale, t.offset);
    if (t.dtype == "F32") {
      std::memcpy(p + 4 * i, &v, 4);
    } else {
      const uint16_t h = t.dtype == "F16" ? FloatToF16(v) : FloatToBf16(v);
      std::memcpy(p + 2 * i, &h, 2);
    }
  }
  return out;
}

void CopyTree(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const fs::directory_entry& e : fs::directory_iterator(from)) {
    const std::string name = e.path().filename().string();
    if (name == "weights.json" || name == "reference.json" || name == "external_files.json" ||
        name == "model.safetensors")
      continue;
    if (e.is_directory()) {
      fs::copy(e.path(), to / name, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    } else {
      fs::copy_file(e.path(), to / name, fs::copy_options::overwrite_existing);
    }
  }
}

void CopyExternalFiles(const fs::path& fixture_dir, const fs::path& out_dir) {
  const fs::path spec_path = fixture_dir / "external_files.json";
  if (!fs::exists(spec_path)) return;
  const json spec = ReadJson(spec_path);
  const char* env = std::getenv("RLM_SHARED_DATA");
  const fs::path root = env && *env ? fs::path(env) : fs::path("/work/shared/data");
  try {
    const fs::path dir = root / spec.at("dir").get<std::string>();
    for (const json& f : spec.at("files")) {
      const fs::path src = dir / f.get<std::string>();
      if (fs::exists(src)) fs::copy_file(src, out_dir / src.filename(), fs::copy_options::overwrite_existing);
    }
  } catch (const json::exception& e) {
    throw InvalidInput(spec_path.string() + ": " + e.what());
  }
}

}  // namespace

fs::path ModelFixtureDir(std::string_view name) {
  return fs::path(RLM_SOURCE_DIR) / "tests" / "fixtures" / "models" / std::string(name);
}

uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ULL;
  return h;
}

uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

float RecipeValue(uint64_t tensor_seed, uint64_t i, double scale, double offset) {
  const uint64_t x = Mix64(tensor_seed + (i + 1) * kGamma);
  const int32_t k = static_cast<int32_t>(x >> 40) - (1 << 23);
  // Exact: |k| < 2^23 fits a float, and scale / 2^23 is a power of two. Only the offset add rounds, so FMA
  // contraction could not change the result either.
  float v = static_cast<float>(k) * static_cast<float>(scale / 8388608.0);
  if (offset != 0) v = v + static_cast<float>(offset);
  return v;
}

uint16_t FloatToF16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t ax = x & 0x7FFFFFFF;
  if (ax > 0x7F800000) return sign | 0x7E00;   // NaN
  if (ax >= 0x477FF000) return sign | 0x7C00;  // >= 65520 rounds to infinity
  const uint32_t e = ax >> 23;
  if (e >= 113) {  // normal half (>= 2^-14)
    uint32_t h = (ax >> 13) - (112u << 10);
    const uint32_t rest = ax & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  if (e < 102) return sign;                       // < 2^-25 rounds to zero
  const uint32_t m = (ax & 0x7FFFFF) | 0x800000;  // value = m * 2^(e-150); units of 2^-24: shift by 126-e
  const int shift = 126 - static_cast<int>(e);    // 14..24
  uint32_t n = m >> shift;
  const uint32_t rest = m & ((1u << shift) - 1), half = 1u << (shift - 1);
  if (rest > half || (rest == half && (n & 1))) ++n;
  return static_cast<uint16_t>(sign | n);
}

uint16_t FloatToBf16(float f) {
  const uint64_t u = std::bit_cast<uint32_t>(f);
  return static_cast<uint16_t>((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

fs::path MaterializeModel(const fs::path& fixture_dir, const fs::path& out_dir) {
  uint64_t seed = 0;
  const std::vector<TensorRecipe> tensors = ParseRecipe(ReadJson(fixture_dir / "weights.json"), &seed);
  CopyTree(fixture_dir, out_dir);
  CopyExternalFiles(fixture_dir, out_dir);
  const fs::path path = out_dir / "model.safetensors";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw IoError("cannot create " + path.string());
  const std::string header = SafetensorsHeader(tensors);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const TensorRecipe& t : tensors) {
    const std::string bytes = TensorBytes(t, seed);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  out.close();
  if (!out) throw IoError("cannot write " + path.string());
  return out_dir;
}

ModelReference LoadReference(const fs::path& fixture_dir) {
  const fs::path path = fixture_dir / "reference.json";
  const json j = ReadJson(path);
  ModelReference ref;
  try {
    ref.model = j.at("model").get<std::string>();
    ref.dtype = j.at("dtype").get<std::string>();
    ref.pooling = j.at("pooling").get<std::string>();
    ref.normalize = j.at("normalize").get<bool>();
    for (const json& c : j.at("cases")) {
      ReferenceCase rc;
      rc.name = c.at("name").get<std::string>();
      if (c.contains("texts")) rc.texts = c.at("texts").get<std::vector<std::string>>();
      rc.input_ids = c.at("input_ids").get<std::vector<std::vector<int32_t>>>();
      rc.attention_mask = c.at("attention_mask").get<std::vector<std::vector<int32_t>>>();
      rc.embeddings = c.at("embeddings").get<std::vector<std::vector<float>>>();
      rc.first_token_hidden = c.at("last_hidden_state_first_row_first_token").get<std::vector<float>>();
      ref.cases.push_back(std::move(rc));
    }
  } catch (const json::exception& e) {
    throw InvalidInput(path.string() + ": " + e.what());
  }
  return ref;
}

}  // namespace rlm::test
