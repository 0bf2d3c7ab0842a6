// `local:<folder>`: a transformer encoder from a Hugging Face model folder, run in-process
// (embed/encoder.h) with the folder's tokenizer (embed/tokenizer.h), pooling and prompts.
//
// Texts are tokenized in parallel, sorted by token count and cut into batches of at most
// kBatchTokens tokens, so sequences of similar length run together and no work is spent on padding
// (the encoder packs sequences). A text longer than the model's max_seq_length is truncated (counted in
// counters().truncated_*) or, in window mode, embedded as consecutive windows whose pooled vectors are
// averaged (weighted by tokens) and re-normalised.
#pragma once

#include <memory>
#include <string>

#include "embed/embedder.h"
#include "embed/encoder.h"
#include "embed/model_folder.h"
#include "embed/tokenizer.h"

namespace rlm {

enum class LongTextMode { kTruncate, kWindow };

class LocalEmbedder : public Embedder {
 public:
  static constexpr size_t kBatchTokens = 4096;

  LocalEmbedder(const ModelFolder& folder, LongTextMode mode);

  std::string Fingerprint() const override { return fingerprint_; }
  size_t Dims() const override { return encoder_->Dims(); }
  void Embed(std::span<const std::string_view> texts, EmbedRole role, float* out) const override;
  bool Cacheable() const override { return true; }
  size_t PreferredBatch() const override { return 512; }

  const ModelFolder& folder() const { return folder_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const Encoder& encoder() const { return *encoder_; }
  // Tokens per sequence, special tokens included.
  size_t MaxTokens() const { return max_tokens_; }

 private:
  ModelFolder folder_;
  LongTextMode mode_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::unique_ptr<Encoder> encoder_;
  size_t max_tokens_ = 0;
  std::string fingerprint_;
};

// A hash of everything that decides the vectors: config.json, the weight files' bytes, the tokenizer.
std::string ModelFilesHash(const ModelFolder& folder, const WeightFiles& weights, const Tokenizer& tokenizer);

}  // namespace rlm
