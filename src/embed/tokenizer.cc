#include "embed/tokenizer.h"

#include <nlohmann/json.hpp>
#include <system_error>

#include "core/error.h"
#include "core/file.h"
#include "embed/sentencepiece_tokenizer.h"
#include "embed/wordpiece.h"

namespace rlm {

Encoding Tokenizer::Encode(std::string_view text, size_t max_length) const {
  std::vector<int32_t> ids = Tokenize(text);
  Encoding encoding;
  if (max_length != 0) {
    size_t specials = NumSpecialTokens();
    if (max_length < specials) {
      throw InvalidInput("max_length " + std::to_string(max_length) + " cannot hold the " +
                         std::to_string(specials) + " special tokens of the model");
    }
    size_t room = max_length - specials;
    if (ids.size() > room) {
      encoding.truncated = ids.size() - room;
      ids.resize(room);
    }
  }
  encoding.ids = WithSpecialTokens(ids);
  return encoding;
}

namespace {

bool IsFile(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

// True when tokenizer.json describes a Unigram (sentencepiece) model, as XLM-R folders ship beside their
// sentencepiece.bpe.model; malformed JSON is left to the WordPiece loader to report.
bool IsUnigramJson(const std::string& json) {
  auto root = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object()) return false;
  auto model = root.find("model");
  if (model == root.end() || !model->is_object()) return false;
  auto type = model->find("type");
  return type != model->end() && type->is_string() && *type == "Unigram";
}

}  // namespace

std::unique_ptr<Tokenizer> LoadTokenizer(const std::filesystem::path& folder) {
  const auto json_path = folder / "tokenizer.json";
  const auto vocab_path = folder / "vocab.txt";
  const auto config_path = folder / "tokenizer_config.json";
  const auto special_path = folder / "special_tokens_map.json";
  const auto spm_path = folder / "sentencepiece.bpe.model";
  if (IsFile(json_path)) {
    std::string json = ReadFile(json_path.string());
    if (!(IsFile(spm_path) && IsUnigramJson(json))) return LoadWordPieceFromJson(json, json_path.string());
  } else if (IsFile(vocab_path)) {
    std::string vocab = ReadFile(vocab_path.string());
    std::string config = IsFile(config_path) ? ReadFile(config_path.string()) : std::string();
    std::string special = IsFile(special_path) ? ReadFile(special_path.string()) : std::string();
    return LoadWordPieceFromVocab(vocab, vocab_path.string(), config, config_path.string(), special,
                                  special_path.string());
  }
  if (IsFile(spm_path)) {
    return LoadXlmRobertaSentencePiece(ReadFile(spm_path.string()), spm_path.string());
  }
  throw NotFound("no tokenizer in " + folder.string() +
                     " (looked for tokenizer.json, vocab.txt and sentencepiece.bpe.model)",
                 "point to a Hugging Face model folder");
}

}  // namespace rlm
