#include "embed/model_folder.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file.h"

namespace rlm {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json ReadJson(const fs::path& file) {
  const std::string text = ReadFile(file.string());
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw InvalidInput(file.string() + ": not valid JSON: " + e.what(), "", ErrorType::kInvalidModel);
  }
}

// An optional JSON file: null when absent.
json ReadOptionalJson(const fs::path& file) {
  if (!fs::exists(file)) return nullptr;
  json j = ReadJson(file);
  if (!j.is_object() && !j.is_array()) {
    throw InvalidInput(file.string() + ": expected a JSON object", "", ErrorType::kInvalidModel);
  }
  return j;
}

size_t PositiveField(const json& config, const fs::path& file, const char* key, size_t max_value) {
  const auto it = config.find(key);
  if (it == config.end() || !it->is_number_integer() || it->get<int64_t>() < 1 ||
      it->get<int64_t>() > static_cast<int64_t>(max_value)) {
    throw InvalidInput(
        file.string() + ": field '" + key + "' must be an integer between 1 and " + std::to_string(max_value),
        "", ErrorType::kInvalidModel);
  }
  return static_cast<size_t>(it->get<int64_t>());
}

std::string StringField(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

EncoderConfig ParseConfig(const fs::path& file) {
  const json config = ReadJson(file);
  if (!config.is_object())
    throw InvalidInput(file.string() + ": expected a JSON object", "", ErrorType::kInvalidModel);
  EncoderConfig c;
  const std::string type = StringField(config, "model_type");
  if (type == "bert") {
    c.arch = Architecture::kBert;
  } else if (type == "xlm-roberta" || type == "roberta") {
    c.arch = Architecture::kXlmRoberta;
  } else {
    throw InvalidInput(file.string() + ": model_type '" + type + "' is not supported",
                       "rlm runs BERT-family (bert) and XLM-RoBERTa (xlm-roberta) encoders",
                       ErrorType::kUnsupportedModel);
  }
  c.vocab_size = PositiveField(config, file, "vocab_size", 1u << 22);
  c.hidden = PositiveField(config, file, "hidden_size", 1u << 14);
  c.layers = PositiveField(config, file, "num_hidden_layers", 256);
  c.heads = PositiveField(config, file, "num_attention_heads", 1024);
  c.intermediate = PositiveField(config, file, "intermediate_size", 1u << 16);
  c.max_positions = PositiveField(config, file, "max_position_embeddings", 1u << 17);
  c.type_vocab_size =
      config.contains("type_vocab_size") ? PositiveField(config, file, "type_vocab_size", 1024) : 2;
  if (c.hidden % c.heads != 0) {
    throw InvalidInput(file.string() + ": hidden_size " + std::to_string(c.hidden) +
                           " is not a multiple of num_attention_heads " + std::to_string(c.heads),
                       "", ErrorType::kInvalidModel);
  }
  if (const auto it = config.find("layer_norm_eps"); it != config.end()) {
    if (!it->is_number() || it->get<double>() <= 0 || it->get<double>() > 1) {
      throw InvalidInput(file.string() + ": field 'layer_norm_eps' must be a number in (0, 1]", "",
                         ErrorType::kInvalidModel);
    }
    c.layer_norm_eps = it->get<float>();
  }
  if (const auto it = config.find("pad_token_id"); it != config.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 ||
        it->get<int64_t>() >= static_cast<int64_t>(c.vocab_size)) {
      throw InvalidInput(file.string() + ": field 'pad_token_id' is not a token id", "",
                         ErrorType::kInvalidModel);
    }
    c.pad_token_id = it->get<int>();
  } else if (c.arch == Architecture::kXlmRoberta) {
    c.pad_token_id = 1;
  }
  const std::string act = config.contains("hidden_act") ? StringField(config, "hidden_act") : "gelu";
  if (act == "gelu") {
    c.activation = Activation::kGeluErf;
  } else if (act == "gelu_new" || act == "gelu_pytorch_tanh") {
    c.activation = Activation::kGeluTanh;
  } else {
    throw InvalidInput(file.string() + ": hidden_act '" + act + "' is not supported",
                       "supported: gelu, gelu_new, gelu_pytorch_tanh", ErrorType::kUnsupportedModel);
  }
  const std::string pos = StringField(config, "position_embedding_type");
  if (!pos.empty() && pos != "absolute") {
    throw InvalidInput(
        file.string() + ": position_embedding_type '" + pos + "' is not supported (absolute only)", "",
        ErrorType::kUnsupportedModel);
  }
  if (c.arch == Architecture::kXlmRoberta && c.max_positions <= static_cast<size_t>(c.pad_token_id) + 1) {
    throw InvalidInput(file.string() + ": max_position_embeddings leaves no positions after padding_idx + 1",
                       "", ErrorType::kInvalidModel);
  }
  return c;
}

}  // namespace

size_t PositionLimit(const EncoderConfig& c) {
  // XLM-R's positions start at padding_idx + 1.
  return c.arch == Architecture::kXlmRoberta ? c.max_positions - static_cast<size_t>(c.pad_token_id) - 1
                                             : c.max_positions;
}

std::string_view PoolingName(Pooling p) {
  switch (p) {
    case Pooling::kMean:
      return "mean";
    case Pooling::kCls:
      return "cls";
    case Pooling::kLastToken:
      return "lasttoken";
  }
  return "?";
}

std::string_view ArchitectureName(Architecture a) {
  return a == Architecture::kBert ? "bert" : "xlm-roberta";
}

ModelFolder ReadModelFolder(const fs::path& path) {
  if (!fs::is_directory(path)) {
    throw NotFound(
        "model folder '" + path.string() + "' does not exist",
        "pass local:<folder> with a Hugging Face model folder, or a name added with `rlm model add`",
        ErrorType::kModelNotFound);
  }
  ModelFolder m;
  m.path = path;
  m.name = fs::path(path).lexically_normal().filename().string();
  if (m.name.empty()) m.name = fs::path(path).lexically_normal().parent_path().filename().string();
  const fs::path config_file = path / "config.json";
  if (!fs::exists(config_file)) {
    throw NotFound(config_file.string() + " does not exist", "a Hugging Face model folder has a config.json",
                   ErrorType::kModelNotFound);
  }
  m.config = ParseConfig(config_file);
  const std::string lname = Lower(m.name);

  // Pooling: the sentence-transformers Pooling module's config; else the model family's documented mode.
  m.pooling = Contains(lname, "bge") ? Pooling::kCls : Pooling::kMean;
  const json modules = ReadOptionalJson(path / "modules.json");
  fs::path pooling_dir = path / "1_Pooling";
  if (modules.is_array()) {
    for (const json& mod : modules) {
      const std::string type = mod.is_object() ? StringField(mod, "type") : "";
      if (Contains(type, "Normalize")) m.normalize_module = true;
      if (Contains(type, "Pooling")) pooling_dir = path / StringField(mod, "path");
    }
  }
  const fs::path pooling_file = pooling_dir / "config.json";
  if (const json pool = ReadOptionalJson(pooling_file); pool.is_object()) {
    auto flag = [&](const char* key) {
      return pool.contains(key) && pool[key].is_boolean() && pool[key].get<bool>();
    };
    const int modes = flag("pooling_mode_cls_token") + flag("pooling_mode_mean_tokens") +
                      flag("pooling_mode_lasttoken") + flag("pooling_mode_max_tokens") +
                      flag("pooling_mode_mean_sqrt_len_tokens") + flag("pooling_mode_weightedmean_tokens");
    if (modes != 1 || flag("pooling_mode_max_tokens") || flag("pooling_mode_mean_sqrt_len_tokens") ||
        flag("pooling_mode_weightedmean_tokens")) {
      throw InvalidInput(pooling_file.string() +
                             ": exactly one of pooling_mode_cls_token, pooling_mode_mean_tokens "
                             "or pooling_mode_lasttoken must be true",
                         "", ErrorType::kUnsupportedModel);
    }
    m.pooling = flag("pooling_mode_cls_token")     ? Pooling::kCls
                : flag("pooling_mode_mean_tokens") ? Pooling::kMean
                                                   : Pooling::kLastToken;
  }

  // Sequence length: sentence-transformers' max_seq_length, else the tokenizer's model_max_length, never
  // more than the position table allows.
  const size_t limit = PositionLimit(m.config);
  m.max_seq_length = limit;
  const fs::path st_file = path / "sentence_bert_config.json";
  const json st = ReadOptionalJson(st_file);
  const json tok = ReadOptionalJson(path / "tokenizer_config.json");
  if (st.is_object() && st.contains("max_seq_length")) {
    m.max_seq_length = std::min(limit, PositiveField(st, st_file, "max_seq_length", 1u << 20));
  } else if (tok.is_object() && tok.contains("model_max_length") &&
             tok["model_max_length"].is_number_integer() && tok["model_max_length"].get<int64_t>() > 0) {
    m.max_seq_length = std::min<size_t>(limit, tok["model_max_length"].get<uint64_t>());
  }

  // Prompts: config_sentence_transformers.json's "prompts", else the family's documented prefixes.
  if (Contains(lname, "e5")) {
    m.query_prefix = "query: ";
    m.document_prefix = "passage: ";
  } else if (Contains(lname, "bge") && Contains(lname, "-en")) {
    m.query_prefix = "Represent this sentence for searching relevant passages: ";
  }
  if (const json cst = ReadOptionalJson(path / "config_sentence_transformers.json");
      cst.is_object() && cst.contains("prompts") && cst["prompts"].is_object()) {
    const json& prompts = cst["prompts"];
    if (prompts.contains("query")) m.query_prefix = StringField(prompts, "query");
    for (const char* key : {"document", "passage", "corpus"}) {
      if (prompts.contains(key)) m.document_prefix = StringField(prompts, key);
    }
  }
  return m;
}

}  // namespace rlm
