// BERT-family tokenization with Hugging Face tokenizers' exact semantics: added tokens (matched before
// normalization unless marked `normalized`), BertNormalizer (clean text, spaces around CJK ideographs, NFD
// accent stripping, full Unicode lowercase), BertPreTokenizer (whitespace and punctuation splits) and greedy
// longest-match-first WordPiece, wrapped in the post-processor's special tokens.
//
// Known differences from the Rust implementation, all outside what real text exercises: Unicode categories
// and case mappings come from utf8proc (Unicode 15), while tokenizers' category tables are older, so code
// points assigned since then may be classified differently; `\w` for single_word added tokens is
// approximated by letters, marks, decimal and letter numbers, connector punctuation and ZWJ/ZWNJ.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "embed/tokenizer.h"

namespace rlm {

// Parses a tokenizer.json (model.type "WordPiece"). `origin` names the file in error messages.
// Throws InvalidInput naming origin and field for malformed JSON, a missing or ill-typed field, a vocabulary
// whose ids are not exactly 0..n-1, an unknown unk token, or an unsupported normalizer, pre-tokenizer,
// model or post-processor.
std::unique_ptr<Tokenizer> LoadWordPieceFromJson(std::string_view json, std::string_view origin);

// Builds a BERT tokenizer from vocab.txt (one token per line, id = line number), the text of
// tokenizer_config.json and that of special_tokens_map.json (each empty: absent). Reads do_lower_case
// (default true), strip_accents (default null: follow lowercase), tokenize_chinese_chars (default true) and
// the unk/cls/sep/pad/mask token names (defaults [UNK] [CLS] [SEP] [PAD] [MASK]), as transformers'
// BertTokenizerFast does: special_tokens_map.json's names override tokenizer_config.json's, except when
// tokenizer_config.json has "added_tokens_decoder" (transformers >= 4.34 then ignores the map). Throws
// InvalidInput naming the file for malformed input or when the unk, cls or sep token is not in the
// vocabulary.
std::unique_ptr<Tokenizer> LoadWordPieceFromVocab(std::string_view vocab_txt, std::string_view vocab_origin,
                                                  std::string_view config_json,
                                                  std::string_view config_origin,
                                                  std::string_view special_tokens_map_json = {},
                                                  std::string_view special_tokens_map_origin = {});

}  // namespace rlm
