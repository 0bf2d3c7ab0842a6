// libFuzzer target: the safetensors header parser and conversion of every tensor it accepts. Any byte
// read outside the input is an ASan report; anything thrown but rlm::Error is a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "embed/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view image(reinterpret_cast<const char*>(data), size);
  try {
    for (const rlm::TensorInfo& t : rlm::ParseSafetensors(image, "fuzz.safetensors")) {
      if (t.NumElements() <= (1 << 20)) {
        try {
          (void)rlm::ToFloat32(t, t.shape);
        } catch (const rlm::InvalidInput&) {  // integer dtypes
        }
      }
    }
  } catch (const rlm::Error&) {
  }
  return 0;
}
