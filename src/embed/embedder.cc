#include "embed/embedder.h"

#include <tbb/parallel_for.h>

#include <algorithm>

namespace rlm {

void EmbedTexts(const Embedder& embedder, std::span<const std::string_view> texts, float* out) {
  const size_t dims = embedder.Dims();
  const size_t batch = std::max<size_t>(1, embedder.PreferredBatch());
  tbb::parallel_for(size_t{0}, (texts.size() + batch - 1) / batch, [&](size_t b) {
    const size_t from = b * batch, to = std::min(texts.size(), from + batch);
    embedder.Embed(texts.subspan(from, to - from), EmbedRole::kDocument, out + from * dims);
  });
}

}  // namespace rlm
