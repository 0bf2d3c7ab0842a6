#include "embed/encoder.h"

#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "embed/kernels.h"

namespace rlm {
namespace {

struct Packed {
  size_t tokens = 0;
  std::vector<size_t> offsets;  // row of each sequence's first token; offsets.back() == tokens
};

Packed Pack(std::span<const std::span<const int32_t>> sequences) {
  Packed p;
  p.offsets.reserve(sequences.size() + 1);
  for (const auto& s : sequences) {
    p.offsets.push_back(p.tokens);
    p.tokens += s.size();
  }
  p.offsets.push_back(p.tokens);
  return p;
}

// Grows `v` to at least n floats (never shrinks it, so a kept buffer is not zero-filled again) and returns
// it.
float* Grow(std::vector<float>& v, size_t n) {
  if (v.size() < n) v.resize(n);
  return v.data();
}

}  // namespace

Encoder::Encoder(const ModelFolder& folder)
    : config_(folder.config), weights_(WeightFiles::Open(folder.path)) {}

std::unique_ptr<Encoder> Encoder::Load(const ModelFolder& folder) {
  std::unique_ptr<Encoder> e(new Encoder(folder));
  const EncoderConfig& c = e->config_;
  for (const char* prefix : {"", "bert.", "roberta.", "model."}) {
    if (e->weights_.Find(std::string(prefix) + "embeddings.word_embeddings.weight") != nullptr) {
      e->prefix_ = prefix;
      break;
    }
  }
  if (e->weights_.Find(e->prefix_ + "embeddings.word_embeddings.weight") == nullptr) {
    throw InvalidInput(e->weights_.files().front() +
                           ": no tensor embeddings.word_embeddings.weight (with or without "
                           "a bert./roberta. prefix)",
                       "is this a BERT or XLM-RoBERTa encoder?", ErrorType::kInvalidModel);
  }
  const int64_t h = static_cast<int64_t>(c.hidden);
  const int64_t inter = static_cast<int64_t>(c.intermediate);
  e->word_ = e->Bind("embeddings.word_embeddings.weight", {static_cast<int64_t>(c.vocab_size), h});
  e->position_ = e->Bind("embeddings.position_embeddings.weight", {static_cast<int64_t>(c.max_positions), h});
  e->token_type_ =
      e->Bind("embeddings.token_type_embeddings.weight", {static_cast<int64_t>(c.type_vocab_size), h});
  e->embed_norm_ = {e->Bind("embeddings.LayerNorm.weight", {h}), e->Bind("embeddings.LayerNorm.bias", {h})};
  for (size_t i = 0; i < c.layers; ++i) {
    const std::string l = "encoder.layer." + std::to_string(i) + ".";
    auto linear = [&](const std::string& name, int64_t out, int64_t in) {
      return Linear{e->Bind(l + name + ".weight", {out, in}), e->Bind(l + name + ".bias", {out})};
    };
    auto norm = [&](const std::string& name) {
      return Norm{e->Bind(l + name + ".weight", {h}), e->Bind(l + name + ".bias", {h})};
    };
    Layer layer;
    const Linear q = linear("attention.self.query", h, h);
    const Linear k = linear("attention.self.key", h, h);
    const Linear v = linear("attention.self.value", h, h);
    const size_t hh = c.hidden * c.hidden;
    std::vector<float> w(3 * hh), b(3 * c.hidden);
    for (size_t part = 0; part < 3; ++part) {
      const Linear& src = part == 0 ? q : part == 1 ? k : v;
      std::copy(src.w, src.w + hh, w.begin() + part * hh);
      std::copy(src.b, src.b + c.hidden, b.begin() + part * c.hidden);
    }
    e->owned_.push_back(std::move(w));
    layer.qkv.w = e->owned_.back().data();
    e->owned_.push_back(std::move(b));
    layer.qkv.b = e->owned_.back().data();
    layer.attn_out = linear("attention.output.dense", h, h);
    layer.attn_norm = norm("attention.output.LayerNorm");
    layer.ffn_in = linear("intermediate.dense", inter, h);
    layer.ffn_out = linear("output.dense", h, inter);
    layer.ffn_norm = norm("output.LayerNorm");
    e->layers_.push_back(layer);
  }
  kernels::LoadGemm();
  return e;
}

const float* Encoder::Bind(const std::string& name, std::vector<int64_t> shape) {
  const TensorInfo* t = weights_.Find(prefix_ + name);
  if (t == nullptr) {
    throw InvalidInput(weights_.files().front() + ": missing tensor '" + prefix_ + name + "'",
                       "config.json does not match the weights, or the architecture is not supported",
                       ErrorType::kInvalidModel);
  }
  const bool aligned = reinterpret_cast<uintptr_t>(t->bytes.data()) % alignof(float) == 0;
  if (t->dtype == DType::kF32 && aligned && t->shape == shape) {
    return reinterpret_cast<const float*>(t->bytes.data());  // in place, from the memory map
  }
  owned_.push_back(ToFloat32(*t, shape));  // checks dtype and shape
  return owned_.back().data();
}

size_t Encoder::MaxSequence() const {
  return PositionLimit(config_);
}

void Encoder::Check(std::span<const std::span<const int32_t>> sequences) const {
  for (size_t s = 0; s < sequences.size(); ++s) {
    if (sequences[s].empty() || sequences[s].size() > MaxSequence()) {
      throw InvalidInput("sequence " + std::to_string(s) + " has " + std::to_string(sequences[s].size()) +
                         " tokens; the model takes 1 to " + std::to_string(MaxSequence()));
    }
    for (int32_t id : sequences[s]) {
      if (id < 0 || static_cast<size_t>(id) >= config_.vocab_size) {
        throw InvalidInput("token id " + std::to_string(id) + " is outside the model's vocabulary of " +
                               std::to_string(config_.vocab_size),
                           "the tokenizer does not belong to this model");
      }
    }
  }
}

std::unique_ptr<Encoder::Scratch> Encoder::TakeScratch() const {
  std::lock_guard lock(scratch_mutex_);
  if (kept_scratch_.empty()) return std::make_unique<Scratch>();
  std::unique_ptr<Scratch> s = std::move(kept_scratch_.back());
  kept_scratch_.pop_back();
  return s;
}

void Encoder::KeepScratch(std::unique_ptr<Scratch> scratch) const {
  std::lock_guard lock(scratch_mutex_);
  if (kept_scratch_.size() < 2) kept_scratch_.push_back(std::move(scratch));
}

std::vector<float> Encoder::HiddenStates(std::span<const std::span<const int32_t>> sequences) const {
  Check(sequences);
  std::unique_ptr<Scratch> scratch = TakeScratch();
  const size_t n = Forward(sequences, *scratch).back() * config_.hidden;
  std::vector<float> states(scratch->x.begin(), scratch->x.begin() + static_cast<std::ptrdiff_t>(n));
  KeepScratch(std::move(scratch));
  return states;
}

std::vector<size_t> Encoder::Forward(std::span<const std::span<const int32_t>> sequences,
                                     Scratch& scratch) const {
  Packed p = Pack(sequences);
  const size_t h = config_.hidden;
  const size_t t = p.tokens;
  const size_t heads = config_.heads;
  const size_t dh = h / heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(dh));

  // Embeddings: word + position + token type 0, then LayerNorm.
  float* x = Grow(scratch.x, t * h);
  const size_t first_position =
      config_.arch == Architecture::kXlmRoberta ? static_cast<size_t>(config_.pad_token_id) + 1 : 0;
  tbb::parallel_for(size_t{0}, sequences.size(), [&](size_t s) {
    for (size_t i = 0; i < sequences[s].size(); ++i) {
      float* row = x + (p.offsets[s] + i) * h;
      const float* w = word_ + static_cast<size_t>(sequences[s][i]) * h;
      const float* pos = position_ + (first_position + i) * h;
      for (size_t j = 0; j < h; ++j) row[j] = w[j] + pos[j] + token_type_[j];
    }
  });
  kernels::ResidualLayerNorm(x, nullptr, nullptr, t, h, embed_norm_.gamma, embed_norm_.beta,
                             config_.layer_norm_eps);

  // qkv rows are [query | key | value] of one token, 3*h floats. Every buffer is written in full before it
  // is read (the GEMMs run with beta = 0), so what a kept buffer held before does not matter.
  float* qkv = Grow(scratch.qkv, t * 3 * h);
  float* ctx = Grow(scratch.ctx, t * h);
  float* tmp = Grow(scratch.tmp, t * h);
  float* inter = Grow(scratch.inter, t * config_.intermediate);
  tbb::enumerable_thread_specific<std::vector<float>> scores;
  for (const Layer& layer : layers_) {
    kernels::Linear(x, t, h, layer.qkv.w, layer.qkv.b, 3 * h, qkv);
    // Attention per (sequence, head) over the sequence's own tokens.
    tbb::parallel_for(size_t{0}, sequences.size() * heads, [&](size_t task) {
      const size_t s = task / heads;
      const size_t head = task % heads;
      const size_t n = sequences[s].size();
      const float* q = qkv + p.offsets[s] * 3 * h + head * dh;
      const float* k = q + h;
      const float* v = q + 2 * h;
      std::vector<float>& sc = scores.local();
      if (sc.size() < n * n) sc.resize(n * n);
      const int ni = static_cast<int>(n);
      const int hi = static_cast<int>(h);
      const int ld = static_cast<int>(3 * h);
      const int dhi = static_cast<int>(dh);
      kernels::Sgemm(true, ni, ni, dhi, scale, q, ld, k, ld, 0.0f, sc.data(), ni);
      kernels::SoftmaxRows(sc.data(), n, n);
      kernels::Sgemm(false, ni, dhi, ni, 1.0f, sc.data(), ni, v, ld, 0.0f, ctx + p.offsets[s] * h + head * dh,
                     hi);
    });
    kernels::Linear(ctx, t, h, layer.attn_out.w, nullptr, h, tmp);
    kernels::ResidualLayerNorm(x, tmp, layer.attn_out.b, t, h, layer.attn_norm.gamma, layer.attn_norm.beta,
                               config_.layer_norm_eps);
    kernels::LinearGelu(x, t, h, layer.ffn_in.w, layer.ffn_in.b, config_.intermediate, config_.activation,
                        inter);
    kernels::Linear(inter, t, config_.intermediate, layer.ffn_out.w, nullptr, h, tmp);
    kernels::ResidualLayerNorm(x, tmp, layer.ffn_out.b, t, h, layer.ffn_norm.gamma, layer.ffn_norm.beta,
                               config_.layer_norm_eps);
  }
  return std::move(p.offsets);
}

void Encoder::Encode(std::span<const std::span<const int32_t>> sequences, Pooling pooling, bool normalize,
                     float* out) const {
  Check(sequences);
  std::unique_ptr<Scratch> scratch = TakeScratch();
  const std::vector<size_t> offsets = Forward(sequences, *scratch);
  const float* x = scratch->x.data();
  const size_t h = config_.hidden;
  for (size_t s = 0; s < sequences.size(); ++s) {
    float* row = out + s * h;
    const size_t n = sequences[s].size();
    const float* first = x + offsets[s] * h;
    if (pooling == Pooling::kMean) {
      std::vector<double> sum(h, 0.0);
      for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < h; ++j) sum[j] += first[i * h + j];
      }
      for (size_t j = 0; j < h; ++j) row[j] = static_cast<float>(sum[j] / static_cast<double>(n));
    } else {
      const float* src = pooling == Pooling::kCls ? first : first + (n - 1) * h;
      std::memcpy(row, src, h * sizeof(float));
    }
    if (normalize) {
      double norm = 0;
      for (size_t j = 0; j < h; ++j) norm += static_cast<double>(row[j]) * row[j];
      norm = std::sqrt(norm);
      // sentence-transformers' Normalize divides by max(norm, 1e-12).
      const float inv = static_cast<float>(1.0 / std::max(norm, 1e-12));
      for (size_t j = 0; j < h; ++j) row[j] *= inv;
    }
  }
  KeepScratch(std::move(scratch));
}

}  // namespace rlm
