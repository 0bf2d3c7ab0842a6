// XLM-RoBERTa's tokenizer: a sentencepiece model (sentencepiece.bpe.model, unigram despite the name) run by
// libsentencepiece, with fairseq's id layout, exactly as Hugging Face's XLMRobertaTokenizer:
// <s>=0 <pad>=1 </s>=2 <unk>=3, sentencepiece id i > 0 becomes i + 1 (its unk, id 0, becomes 3), and
// <mask> = piece count + 1. Literal special tokens in the text ("<mask>", "<s>", ...) are split out before
// sentencepiece runs and map to their ids, as transformers does.
#pragma once

#include <memory>
#include <string_view>

#include "embed/tokenizer.h"

namespace rlm {

// Loads a serialized sentencepiece model. `origin` names the file in errors. Throws InvalidInput when the
// bytes are not a sentencepiece model or its unk/bos/eos ids are not fairseq's 0/1/2.
std::unique_ptr<Tokenizer> LoadXlmRobertaSentencePiece(std::string_view model_bytes, std::string_view origin);

}  // namespace rlm
