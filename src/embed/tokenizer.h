// Tokenizers turn text into the token ids a transformer encoder reads, reproducing Hugging Face's ids
// exactly: WordPiece (BERT family) from tokenizer.json or vocab.txt, and XLM-RoBERTa's sentencepiece model
// with fairseq's id layout. Tokenizers are immutable after loading and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rlm {

struct Encoding {
  std::vector<int32_t> ids;  // with the model's special tokens, e.g. [CLS] ... [SEP]
  size_t truncated = 0;      // tokens of the text dropped to fit max_length (0: none)
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Token ids of `text` without special tokens (no truncation). Invalid UTF-8 is an InvalidInput error.
  virtual std::vector<int32_t> Tokenize(std::string_view text) const = 0;
  // Wraps one sequence of ids in the model's special tokens: [CLS] ids [SEP] / <s> ids </s>.
  virtual std::vector<int32_t> WithSpecialTokens(std::span<const int32_t> ids) const = 0;
  // How many ids WithSpecialTokens adds (2 for BERT and XLM-R).
  virtual size_t NumSpecialTokens() const = 0;
  virtual int32_t PadId() const = 0;
  virtual size_t VocabSize() const = 0;
  // "wordpiece" or "sentencepiece", plus a hash of the vocabulary/model file, for embedder fingerprints.
  virtual std::string Fingerprint() const = 0;

  // Tokenize + truncate to max_length - NumSpecialTokens() + WithSpecialTokens. max_length 0: no limit;
  // a max_length below NumSpecialTokens() is an InvalidInput error.
  Encoding Encode(std::string_view text, size_t max_length) const;
};

// Loads the tokenizer of a Hugging Face model folder: tokenizer.json if present (WordPiece model only; a
// Unigram tokenizer.json beside sentencepiece.bpe.model, as XLM-R folders ship, defers to the latter),
// else vocab.txt (+ tokenizer_config.json's do_lower_case), else sentencepiece.bpe.model (XLM-R layout).
// Malformed files are InvalidInput errors naming the file and field; a folder with none of these files is
// NotFound.
std::unique_ptr<Tokenizer> LoadTokenizer(const std::filesystem::path& folder);

}  // namespace rlm
