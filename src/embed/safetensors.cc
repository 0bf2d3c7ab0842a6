#include "embed/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace rlm {
namespace {

using nlohmann::json;

struct DTypeRow {
  std::string_view name;
  DType dtype;
  size_t size;
};
constexpr DTypeRow kDTypes[] = {
    {"F64", DType::kF64, 8}, {"F32", DType::kF32, 4}, {"F16", DType::kF16, 2},  {"BF16", DType::kBF16, 2},
    {"I64", DType::kI64, 8}, {"I32", DType::kI32, 4}, {"I16", DType::kI16, 2},  {"I8", DType::kI8, 1},
    {"U8", DType::kU8, 1},   {"BOOL", DType::kBool, 1},
};

[[noreturn]] void Corrupt(std::string_view origin, const std::string& what) {
  throw InvalidInput(std::string(origin) + ": invalid safetensors file: " + what,
                     "the file is corrupt or truncated; download the model again", ErrorType::kInvalidModel);
}

uint64_t ReadU64LE(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

std::string_view DTypeName(DType dtype) {
  for (const DTypeRow& row : kDTypes) {
    if (row.dtype == dtype) return row.name;
  }
  return "?";
}

size_t DTypeSize(DType dtype) {
  for (const DTypeRow& row : kDTypes) {
    if (row.dtype == dtype) return row.size;
  }
  return 0;
}

int64_t TensorInfo::NumElements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // validated by the parser not to overflow
  return n;
}

std::string TensorInfo::ShapeString() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::vector<TensorInfo> ParseSafetensors(std::string_view image, std::string_view origin) {
  if (image.size() < 8) Corrupt(origin, "shorter than the 8-byte header length");
  const uint64_t header_len = ReadU64LE(image.data());
  if (header_len > kMaxSafetensorsHeader) {
    Corrupt(origin, "header length " + std::to_string(header_len) + " exceeds the 100 MB limit");
  }
  if (header_len > image.size() - 8) {
    Corrupt(origin, "header length " + std::to_string(header_len) + " runs past the end of the file (" +
                        std::to_string(image.size()) + " bytes)");
  }
  const std::string_view header = image.substr(8, header_len);
  const std::string_view data = image.substr(8 + header_len);
  json root;
  try {
    root = json::parse(header.begin(), header.end());
  } catch (const json::exception& e) {
    Corrupt(origin, std::string("header is not valid JSON: ") + e.what());
  }
  if (!root.is_object()) Corrupt(origin, "header is not a JSON object");

  std::vector<TensorInfo> tensors;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // parallel to tensors
  for (const auto& [name, entry] : root.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) Corrupt(origin, "__metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string()) Corrupt(origin, "__metadata__." + key + " is not a string");
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!entry.is_object()) Corrupt(origin, where + " is not an object");
    const auto dtype_it = entry.find("dtype");
    const auto shape_it = entry.find("shape");
    const auto offsets_it = entry.find("data_offsets");
    if (dtype_it == entry.end() || !dtype_it->is_string()) Corrupt(origin, where + " has no string 'dtype'");
    if (shape_it == entry.end() || !shape_it->is_array()) Corrupt(origin, where + " has no array 'shape'");
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2) {
      Corrupt(origin, where + " has no [begin, end] 'data_offsets'");
    }
    TensorInfo t;
    t.name = name;
    t.file = origin;
    const std::string dtype = dtype_it->get<std::string>();
    const DTypeRow* row = nullptr;
    for (const DTypeRow& r : kDTypes) {
      if (r.name == dtype) row = &r;
    }
    if (row == nullptr) Corrupt(origin, where + " has unsupported dtype '" + dtype + "'");
    t.dtype = row->dtype;
    uint64_t numel = 1;
    for (const json& d : *shape_it) {
      if (!d.is_number_unsigned()) Corrupt(origin, where + " has a shape entry that is not a non-negative integer");
      const uint64_t dim = d.get<uint64_t>();
      if (dim > (uint64_t{1} << 40) || (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / 16 / dim)) {
        Corrupt(origin, where + " has an impossibly large shape");
      }
      numel *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    const json& b = (*offsets_it)[0];
    const json& e = (*offsets_it)[1];
    if (!b.is_number_unsigned() || !e.is_number_unsigned()) {
      Corrupt(origin, where + " has data_offsets that are not non-negative integers");
    }
    const uint64_t begin = b.get<uint64_t>();
    const uint64_t end = e.get<uint64_t>();
    if (begin > end || end > data.size()) {
      Corrupt(origin, where + " has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                          "] outside the " + std::to_string(data.size()) + "-byte data section");
    }
    if (end - begin != numel * row->size) {
      Corrupt(origin, where + " is " + std::to_string(end - begin) + " bytes but its dtype " + dtype +
                          " and shape " + t.ShapeString() + " need " + std::to_string(numel * row->size));
    }
    t.bytes = data.substr(begin, end - begin);
    tensors.push_back(std::move(t));
    ranges.emplace_back(begin, end);
  }

  // Contiguous, non-overlapping, covering the data section exactly (the safetensors library's rule).
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ranges[a] < ranges[b]; });
  uint64_t expected = 0;
  for (size_t i : order) {
    if (ranges[i].first != expected) {
      Corrupt(origin, "tensor '" + tensors[i].name + "' starts at byte " + std::to_string(ranges[i].first) +
                          " but the previous tensor ends at " + std::to_string(expected) +
                          (ranges[i].first < expected ? " (overlap)" : " (gap)"));
    }
    expected = ranges[i].second;
  }
  if (expected != data.size()) {
    Corrupt(origin, "tensors end at byte " + std::to_string(expected) + " of a " + std::to_string(data.size()) +
                        "-byte data section (trailing bytes or truncation)");
  }
  return tensors;
}

WeightFiles WeightFiles::Open(const std::filesystem::path& folder) {
  WeightFiles w;
  const std::filesystem::path single = folder / "model.safetensors";
  const std::filesystem::path index = folder / "model.safetensors.index.json";
  if (std::filesystem::exists(single)) {
    w.Add(single);
    return w;
  }
  if (!std::filesystem::exists(index)) {
    throw NotFound("no model.safetensors or model.safetensors.index.json in " + folder.string(),
                   "the folder must hold a Hugging Face model's safetensors weights (pytorch_model.bin is not read)",
                   ErrorType::kModelNotFound);
  }
  json root;
  try {
    root = json::parse(ReadFile(index.string()));
  } catch (const json::exception& e) {
    throw InvalidInput(index.string() + ": not valid JSON: " + e.what());
  }
  const auto map = root.find("weight_map");
  if (!root.is_object() || map == root.end() || !map->is_object() || map->empty()) {
    throw InvalidInput(index.string() + ": missing or empty 'weight_map' object");
  }
  std::vector<std::string> shards;
  for (const auto& [tensor, file] : map->items()) {
    if (!file.is_string()) throw InvalidInput(index.string() + ": weight_map['" + tensor + "'] is not a string");
    const std::string name = file.get<std::string>();
    if (name.empty() || name.find('/') != std::string::npos || name.find('\\') != std::string::npos ||
        name == "." || name == "..") {
      throw InvalidInput(index.string() + ": weight_map['" + tensor + "'] names '" + name +
                         "', which is not a file in the model folder");
    }
    if (std::find(shards.begin(), shards.end(), name) == shards.end()) shards.push_back(name);
  }
  std::sort(shards.begin(), shards.end());
  for (const std::string& shard : shards) w.Add(folder / shard);
  for (const auto& [tensor, file] : map->items()) {
    const TensorInfo* t = w.Find(tensor);
    if (t == nullptr || t->file != (folder / file.get<std::string>()).string()) {
      throw InvalidInput(index.string() + ": tensor '" + tensor + "' is not in " + file.get<std::string>());
    }
  }
  return w;
}

void WeightFiles::Add(const std::filesystem::path& path) {
  paths_.push_back(path.string());
  maps_.push_back(std::make_unique<MappedFile>(path.string()));
  const std::string& origin = paths_.back();
  for (TensorInfo& t : ParseSafetensors(maps_.back()->view(), origin)) {
    const std::string name = t.name;
    if (tensors_.count(name) != 0) {
      throw InvalidInput(path.string() + ": tensor '" + name + "' also appears in " + std::string(tensors_[name].file));
    }
    tensors_.emplace(name, std::move(t));
  }
}

std::vector<std::string_view> WeightFiles::images() const {
  std::vector<std::string_view> out;
  for (const auto& map : maps_) out.push_back(map->view());
  return out;
}

const TensorInfo* WeightFiles::Find(std::string_view name) const {
  const auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;
  uint32_t bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);  // inf / nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {  // subnormal: normalise
    exp = 113;
    while ((mant & 0x400u) == 0) {
      mant <<= 1;
      --exp;
    }
    bits = sign | (exp << 23) | ((mant & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float BFloat16ToFloat(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

std::vector<float> ToFloat32(const TensorInfo& t, const std::vector<int64_t>& shape) {
  if (t.shape != shape) {
    std::string want = "[";
    for (size_t i = 0; i < shape.size(); ++i) want += (i ? ", " : "") + std::to_string(shape[i]);
    throw InvalidInput(std::string(t.file) + ": tensor '" + t.name + "' has shape " + t.ShapeString() +
                           ", expected " + want + "]",
                       "config.json does not match the weights", ErrorType::kInvalidModel);
  }
  const size_t n = static_cast<size_t>(t.NumElements());
  std::vector<float> out(n);
  const char* p = t.bytes.data();
  switch (t.dtype) {
    case DType::kF32:
      std::memcpy(out.data(), p, n * 4);
      break;
    case DType::kF64:
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, p + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      break;
    case DType::kF16:
    case DType::kBF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = t.dtype == DType::kF16 ? HalfToFloat(h) : BFloat16ToFloat(h);
      }
      break;
    default:
      throw InvalidInput(std::string(t.file) + ": tensor '" + t.name + "' has dtype " +
                             std::string(DTypeName(t.dtype)) + "; F32, F16, BF16 or F64 expected",
                         "", ErrorType::kInvalidModel);
  }
  return out;
}

}  // namespace rlm
