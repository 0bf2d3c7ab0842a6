// A Hugging Face model folder as rlm reads it: config.json (architecture and shapes), the
// sentence-transformers files (modules.json, 1_Pooling/config.json, sentence_bert_config.json,
// config_sentence_transformers.json) for pooling, normalisation, max_seq_length and prompts, and the
// weights (embed/safetensors.h) and tokenizer (embed/tokenizer.h) beside them.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace rlm {

enum class Architecture { kBert, kXlmRoberta };
enum class Pooling { kMean, kCls, kLastToken };
enum class Activation { kGeluErf, kGeluTanh };

std::string_view PoolingName(Pooling p);
std::string_view ArchitectureName(Architecture a);

struct EncoderConfig {
  Architecture arch = Architecture::kBert;
  size_t vocab_size = 0;
  size_t hidden = 0;
  size_t layers = 0;
  size_t heads = 0;
  size_t intermediate = 0;
  size_t max_positions = 0;
  size_t type_vocab_size = 0;
  float layer_norm_eps = 1e-12f;
  int pad_token_id = 0;
  Activation activation = Activation::kGeluErf;
};

// The most tokens a sequence may have (special tokens included) given the position table.
size_t PositionLimit(const EncoderConfig& c);

struct ModelFolder {
  std::filesystem::path path;
  std::string name;  // the folder's name, e.g. "all-MiniLM-L6-v2"
  EncoderConfig config;
  Pooling pooling = Pooling::kMean;
  // modules.json lists a sentence-transformers Normalize module. Informational: rlm L2-normalises every
  // vector whatever the folder says (search is cosine, and a cosine ranking does not depend on it), which
  // only differs from sentence-transformers' output for a model without that module.
  bool normalize_module = false;
  size_t max_seq_length = 0;  // tokens including special tokens
  std::string query_prefix;
  std::string document_prefix;
};

// Reads and validates the folder's configuration (not the weights). InvalidInput names the file and field
// (an unsupported architecture, activation or pooling mode included); NotFound when config.json is missing.
ModelFolder ReadModelFolder(const std::filesystem::path& path);

}  // namespace rlm
