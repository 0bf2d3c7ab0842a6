// Reading Hugging Face safetensors weights: one file (`model.safetensors`) or a sharded set
// (`model.safetensors.index.json` + `model-0000N-of-0000M.safetensors`). Files are memory-mapped; nothing is
// copied until a tensor is converted. Every header length, dtype, shape and offset is validated before any
// tensor byte is touched, so a corrupt or hostile file is an InvalidInput error naming the file and tensor,
// never an out-of-bounds read. The rules are the safetensors library's: the header is a JSON object of
// {"dtype","shape","data_offsets"} entries (plus an optional "__metadata__" of strings); tensor byte ranges
// are sorted, contiguous from 0, non-overlapping, end exactly at the end of the file, and each range is
// exactly numel * dtype size bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/file.h"

namespace rlm {

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

std::string_view DTypeName(DType dtype);
size_t DTypeSize(DType dtype);

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::string_view bytes;  // into the mapped file
  std::string_view file;   // the file it lives in (for messages)

  int64_t NumElements() const;
  std::string ShapeString() const;  // "[384, 1536]"
};

// The largest header the reader accepts (the safetensors library's own limit is 100 MB).
inline constexpr size_t kMaxSafetensorsHeader = 100u << 20;

// Parses and validates a safetensors image in memory. `origin` names it in errors. The returned tensors
// point into `image`. Throws InvalidInput.
std::vector<TensorInfo> ParseSafetensors(std::string_view image, std::string_view origin);

// A model's weights, from one or more mapped safetensors files.
class WeightFiles {
 public:
  // Opens `folder`/model.safetensors, or the shards listed by model.safetensors.index.json. NotFound when
  // neither exists; InvalidInput for any corruption or a tensor listed twice.
  static WeightFiles Open(const std::filesystem::path& folder);

  // nullptr when absent.
  const TensorInfo* Find(std::string_view name) const;
  const std::map<std::string, TensorInfo, std::less<>>& tensors() const { return tensors_; }
  const std::deque<std::string>& files() const { return paths_; }
  // The mapped bytes of each file, in files() order.
  std::vector<std::string_view> images() const;

 private:
  void Add(const std::filesystem::path& path);

  std::deque<std::string> paths_;  // a deque: TensorInfo::file views these strings, which must not move
  std::vector<std::unique_ptr<MappedFile>> maps_;
  std::map<std::string, TensorInfo, std::less<>> tensors_;
};

// Converts a floating-point tensor (F32, F16, BF16, F64) to float32 values, checking that it has `shape`.
// Throws InvalidInput naming the tensor when the dtype or shape is wrong.
std::vector<float> ToFloat32(const TensorInfo& t, const std::vector<int64_t>& shape);

// IEEE half and bfloat16 to float (exact).
float HalfToFloat(uint16_t h);
float BFloat16ToFloat(uint16_t b);

}  // namespace rlm
