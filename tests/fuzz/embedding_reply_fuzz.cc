// libFuzzer target: the HTTP embedders' reply decoder (OpenAI and Ollama formats), the outside input of
// `openai:` and `ollama:` embedders. The first byte picks the API, the input count (1-8) and whether the
// dimension is known; the rest is the reply body. Only rlm::Error may escape, and every accepted reply
// gives finite, unit-length (or zero) rows of the announced width.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "embed/http_embedder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string_view reply(reinterpret_cast<const char*>(data) + 1, size - 1);
  const rlm::HttpEmbedApi api = mode & 1 ? rlm::HttpEmbedApi::kOpenAi : rlm::HttpEmbedApi::kOllama;
  std::vector<size_t> inputs(1 + (mode >> 1) % 8);
  for (size_t i = 0; i < inputs.size(); ++i) inputs[i] = i;
  size_t dims = mode & 0x80 ? 3 : 0;
  try {
    std::vector<float> rows =
        rlm::DecodeEmbeddingReply(api, reply, inputs, &dims, [](const std::string& what) {
          throw rlm::InvalidInput(what, "", rlm::ErrorType::kBadEmbeddingReply);
        });
    if (dims == 0 || rows.size() != inputs.size() * dims) std::abort();
    for (size_t i = 0; i < inputs.size(); ++i) {
      double norm2 = 0;
      for (size_t j = 0; j < dims; ++j) {
        const float x = rows[i * dims + j];
        if (!std::isfinite(x)) std::abort();
        norm2 += static_cast<double>(x) * x;
      }
      if (norm2 != 0 && std::fabs(norm2 - 1) > 1e-3) std::abort();
    }
  } catch (const rlm::Error&) {
  }
  return 0;
}
