// The transformer encoder forward pass for BERT-family and XLM-RoBERTa models: embeddings + LayerNorm,
// post-LayerNorm self-attention blocks with exact (erf) or tanh GELU, then pooling and L2 normalisation.
//
// Sequences are packed, not padded: the token rows of all sequences of a batch are stacked into one
// [tokens x hidden] matrix for every per-token layer (projections, feed-forward, LayerNorm), and attention
// runs per sequence over its own tokens only. This is exactly what an attention mask computes (a masked key
// gets weight exp(-inf) = 0; padded query rows never reach a real token) without spending any work on
// padding.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "embed/model_folder.h"
#include "embed/safetensors.h"

namespace rlm {

class Encoder {
 public:
  // Binds the folder's weights: F32 tensors are used in place from the memory map, F16/BF16 are converted
  // to F32 once, and each layer's query/key/value weights are copied into one stacked matrix (Layer::qkv).
  // Tensor names may carry a "bert."/"roberta."/"model." prefix. Throws InvalidInput naming the file and
  // tensor for a missing tensor or a wrong shape/dtype, NotFound when there are no weights.
  static std::unique_ptr<Encoder> Load(const ModelFolder& folder);

  const EncoderConfig& config() const { return config_; }
  const WeightFiles& weights() const { return weights_; }
  size_t Dims() const { return config_.hidden; }
  // The most token ids one sequence may have (special tokens included).
  size_t MaxSequence() const;

  // Encodes sequences of token ids (special tokens included, each 1..MaxSequence() ids, each id below
  // vocab_size) as one packed batch and writes one pooled row of Dims() floats per sequence, L2-normalised
  // when `normalize`. Parallel inside (TBB). Throws InvalidInput for an empty/too long sequence or a bad id.
  void Encode(std::span<const std::span<const int32_t>> sequences, Pooling pooling, bool normalize,
              float* out) const;

  // The final hidden states [tokens x Dims()] of the packed batch (for tests and debugging).
  std::vector<float> HiddenStates(std::span<const std::span<const int32_t>> sequences) const;

 private:
  struct Linear {
    const float* w = nullptr;  // [out, in]
    const float* b = nullptr;  // [out]
  };
  struct Norm {
    const float* gamma = nullptr;
    const float* beta = nullptr;
  };
  struct Layer {
    // Query, key and value weights stacked into one [3*hidden, hidden] copy (and their biases into one
    // [3*hidden]), so one GEMM computes all three: one pass over the activations instead of three.
    Linear qkv;
    Linear attn_out, ffn_in, ffn_out;
    Norm attn_norm, ffn_norm;
  };

  // The activations of one forward pass. Kept between calls (see TakeScratch) so that a batch does not fault
  // in fresh pages for them every time (~60 MB for 4096 tokens of a MiniLM, ~13k page faults, ~3% of a pass).
  struct Scratch {
    std::vector<float> x, qkv, ctx, tmp, inter;
  };

  explicit Encoder(const ModelFolder& folder);
  const float* Bind(const std::string& name, std::vector<int64_t> shape);
  void Check(std::span<const std::span<const int32_t>> sequences) const;
  // Runs the layers; the final hidden states [tokens x hidden] are the first rows of scratch.x. Returns the
  // row of each sequence's first token, then the token count (offsets[sequences.size()]).
  std::vector<size_t> Forward(std::span<const std::span<const int32_t>> sequences, Scratch& scratch) const;
  // A kept Scratch, or a new one; callers give it back with KeepScratch, which keeps at most two (one per
  // concurrent caller is typical) and frees the rest.
  std::unique_ptr<Scratch> TakeScratch() const;
  void KeepScratch(std::unique_ptr<Scratch> scratch) const;

  EncoderConfig config_;
  WeightFiles weights_;
  std::string prefix_;
  std::vector<std::vector<float>> owned_;  // converted (non-F32 or unaligned) tensors, stacked QKV weights
  const float* word_ = nullptr;
  const float* position_ = nullptr;
  const float* token_type_ = nullptr;
  Norm embed_norm_;
  std::vector<Layer> layers_;
  mutable std::mutex scratch_mutex_;
  mutable std::vector<std::unique_ptr<Scratch>> kept_scratch_;
};

}  // namespace rlm
