#include "embed/local_embedder.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"

namespace rlm {

std::string ModelFilesHash(const ModelFolder& folder, const WeightFiles& weights,
                           const Tokenizer& tokenizer) {
  ContentHasher h;
  h.Update(ReadFile((folder.path / "config.json").string()));
  for (const std::string_view file : weights.images()) h.Update(file);
  h.Update(tokenizer.Fingerprint());
  return h.Finish().Hex().substr(0, 16);
}

LocalEmbedder::LocalEmbedder(const ModelFolder& folder, LongTextMode mode)
    : folder_(folder), mode_(mode), tokenizer_(LoadTokenizer(folder.path)), encoder_(Encoder::Load(folder)) {
  max_tokens_ = std::min(folder_.max_seq_length, encoder_->MaxSequence());
  if (max_tokens_ <= tokenizer_->NumSpecialTokens()) {
    throw InvalidInput(folder_.path.string() + ": max_seq_length " + std::to_string(max_tokens_) +
                           " leaves no room for text",
                       "", ErrorType::kInvalidModel);
  }
  if (tokenizer_->VocabSize() > folder_.config.vocab_size) {
    throw InvalidInput(
        folder_.path.string() + ": the tokenizer has " + std::to_string(tokenizer_->VocabSize()) +
            " tokens but the model's vocab_size is " + std::to_string(folder_.config.vocab_size),
        "", ErrorType::kInvalidModel);
  }
  std::string prompts = folder_.query_prefix + '\x1f' + folder_.document_prefix;
  fingerprint_ = "local:" + folder_.name + ":" + ModelFilesHash(folder_, encoder_->weights(), *tokenizer_) +
                 ":" + std::string(PoolingName(folder_.pooling)) + ":t" + std::to_string(max_tokens_) + ":d" +
                 std::to_string(Dims()) + ":p" + ContentHash(prompts).Hex().substr(0, 8) +
                 (mode_ == LongTextMode::kWindow ? ":window" : "");
}

void LocalEmbedder::Embed(std::span<const std::string_view> texts, EmbedRole role, float* out) const {
  const size_t dims = Dims();
  const std::string& prefix = role == EmbedRole::kQuery ? folder_.query_prefix : folder_.document_prefix;
  const size_t window = max_tokens_ - tokenizer_->NumSpecialTokens();

  // 1. Tokenize in parallel; cut each text into one (truncated) or several (window mode) sequences.
  std::vector<std::vector<std::vector<int32_t>>> per_text(texts.size());
  std::vector<size_t> dropped(texts.size(), 0);
  tbb::parallel_for(size_t{0}, texts.size(), [&](size_t i) {
    const std::vector<int32_t> ids = prefix.empty() ? tokenizer_->Tokenize(texts[i])
                                                    : tokenizer_->Tokenize(prefix + std::string(texts[i]));
    const size_t n = ids.size();
    if (n <= window || mode_ == LongTextMode::kTruncate) {
      const size_t keep = std::min(n, window);
      dropped[i] = n - keep;
      per_text[i].push_back(tokenizer_->WithSpecialTokens(std::span(ids).first(keep)));
    } else {
      for (size_t start = 0; start < n; start += window) {
        per_text[i].push_back(
            tokenizer_->WithSpecialTokens(std::span(ids).subspan(start, std::min(window, n - start))));
      }
    }
  });

  // 2. Sequences sorted by length, batched by token budget.
  struct Seq {
    size_t text;
    const std::vector<int32_t>* ids;
  };
  std::vector<Seq> seqs;
  for (size_t i = 0; i < texts.size(); ++i) {
    for (const auto& ids : per_text[i]) seqs.push_back({i, &ids});
  }
  std::stable_sort(seqs.begin(), seqs.end(),
                   [](const Seq& a, const Seq& b) { return a.ids->size() < b.ids->size(); });

  std::vector<float> sum(texts.size() * dims, 0.0f);
  std::vector<float> rows;
  for (size_t begin = 0; begin < seqs.size();) {
    size_t end = begin;
    size_t tokens = 0;
    while (end < seqs.size() && (end == begin || tokens + seqs[end].ids->size() <= kBatchTokens)) {
      tokens += seqs[end].ids->size();
      ++end;
    }
    std::vector<std::span<const int32_t>> batch;
    for (size_t s = begin; s < end; ++s) batch.emplace_back(*seqs[s].ids);
    rows.resize(batch.size() * dims);
    encoder_->Encode(batch, folder_.pooling, /*normalize=*/true, rows.data());
    for (size_t s = begin; s < end; ++s) {
      // Windows are averaged weighted by their token count.
      const float weight =
          per_text[seqs[s].text].size() == 1 ? 1.0f : static_cast<float>(seqs[s].ids->size());
      float* dst = sum.data() + seqs[s].text * dims;
      const float* src = rows.data() + (s - begin) * dims;
      for (size_t j = 0; j < dims; ++j) dst[j] += weight * src[j];
    }
    begin = end;
  }

  // 3. Re-normalise texts made of several windows; publish. A NaN or infinity (weights holding them, or a
  // float overflow in the forward pass) is refused as the HTTP providers' non-finite replies are: it would
  // be stored and poison every cosine of every search.
  for (size_t i = 0; i < texts.size(); ++i) {
    float* v = sum.data() + i * dims;
    for (size_t j = 0; j < dims; ++j) {
      if (!std::isfinite(v[j])) {
        throw InvalidInput(
            "local model '" + folder_.name + "' (" + folder_.path.string() +
                ") computed a non-finite embedding (element " + std::to_string(j) + " is " +
                (std::isnan(v[j]) ? "NaN" : "infinite") + ") for text " + std::to_string(i) + " of " +
                std::to_string(texts.size()),
            "the model's weights hold NaN or infinite values, or overflow float32: re-download "
            "or re-convert the model",
            ErrorType::kInvalidModel);
      }
    }
    if (per_text[i].size() > 1) {
      double norm = 0;
      for (size_t j = 0; j < dims; ++j) norm += static_cast<double>(v[j]) * v[j];
      const float inv = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f;
      for (size_t j = 0; j < dims; ++j) v[j] *= inv;
      counters_.windowed_texts.fetch_add(1, std::memory_order_relaxed);
    }
    if (dropped[i] > 0) {
      counters_.truncated_texts.fetch_add(1, std::memory_order_relaxed);
      counters_.truncated_tokens.fetch_add(dropped[i], std::memory_order_relaxed);
    }
  }
  counters_.texts.fetch_add(texts.size(), std::memory_order_relaxed);
  std::copy(sum.begin(), sum.end(), out);
}

}  // namespace rlm
