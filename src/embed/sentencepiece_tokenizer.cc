#include "embed/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/hash.h"
#include "core/utf8.h"

namespace rlm {
namespace {

constexpr int32_t kBos = 0;  // <s>
constexpr int32_t kPad = 1;  // <pad>
constexpr int32_t kEos = 2;  // </s>
constexpr int32_t kUnk = 3;  // <unk>
constexpr int32_t kFairseqOffset = 1;

class XlmRobertaTokenizer final : public Tokenizer {
 public:
  XlmRobertaTokenizer(std::unique_ptr<sentencepiece::SentencePieceProcessor> sp, std::string fingerprint)
      : sp_(std::move(sp)), fingerprint_(std::move(fingerprint)) {
    mask_id_ = sp_->GetPieceSize() + kFairseqOffset;
    sp_unk_ = sp_->unk_id();
    sp_bos_ = sp_->bos_id();
    sp_eos_ = sp_->eos_id();
  }

  std::vector<int32_t> Tokenize(std::string_view text) const override {
    if (auto bad = utf8::FindInvalid(text)) {
      throw InvalidInput("tokenizer input is not valid UTF-8 (byte " + std::to_string(*bad) + ")", "",
                         ErrorType::kInvalidUtf8);
    }
    std::vector<int32_t> ids;
    std::vector<int> pieces;
    // transformers' added-token trie: at each position the longest literal special token, else one byte on.
    size_t segment = 0;
    size_t pos = 0;
    while (pos < text.size()) {
      int32_t special = -1;
      size_t len = 0;
      if (text[pos] == '<') special = MatchSpecial(text.substr(pos), &len);
      if (special < 0) {
        ++pos;
        continue;
      }
      EncodeSegment(text.substr(segment, pos - segment), ids, pieces);
      ids.push_back(special);
      pos += len;
      segment = pos;
    }
    EncodeSegment(text.substr(segment), ids, pieces);
    return ids;
  }

  std::vector<int32_t> WithSpecialTokens(std::span<const int32_t> ids) const override {
    std::vector<int32_t> out;
    out.reserve(ids.size() + 2);
    out.push_back(kBos);
    out.insert(out.end(), ids.begin(), ids.end());
    out.push_back(kEos);
    return out;
  }
  size_t NumSpecialTokens() const override { return 2; }
  int32_t PadId() const override { return kPad; }
  size_t VocabSize() const override { return static_cast<size_t>(mask_id_) + 1; }
  std::string Fingerprint() const override { return fingerprint_; }

 private:
  int32_t MatchSpecial(std::string_view s, size_t* len) const {
    static constexpr std::pair<std::string_view, int32_t> kSpecials[] = {
        {"<mask>", -2}, {"<pad>", kPad}, {"<unk>", kUnk}, {"</s>", kEos}, {"<s>", kBos}};
    for (const auto& [token, id] : kSpecials) {
      if (s.starts_with(token)) {
        *len = token.size();
        return id == -2 ? mask_id_ : id;
      }
    }
    return -1;
  }

  void EncodeSegment(std::string_view segment, std::vector<int32_t>& ids, std::vector<int>& pieces) const {
    if (segment.empty()) return;
    pieces.clear();
    auto status = sp_->Encode(segment, &pieces);
    if (!status.ok()) throw InternalError("sentencepiece Encode failed: " + status.ToString());
    for (int id : pieces) {
      if (id == sp_unk_) {
        ids.push_back(kUnk);
      } else if (id == sp_bos_) {
        ids.push_back(kBos);
      } else if (id == sp_eos_) {
        ids.push_back(kEos);
      } else {
        ids.push_back(id + kFairseqOffset);
      }
    }
  }

  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  int32_t mask_id_ = 0;
  int sp_unk_ = 0, sp_bos_ = 1, sp_eos_ = 2;  // sentencepiece's ids (each accessor call checks a status)
  std::string fingerprint_;
};

}  // namespace

std::unique_ptr<Tokenizer> LoadXlmRobertaSentencePiece(std::string_view model_bytes,
                                                       std::string_view origin) {
  auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
  auto status = sp->LoadFromSerializedProto(model_bytes);
  if (!status.ok()) {
    throw InvalidInput(std::string(origin) + ": not a sentencepiece model (" + status.ToString() + ")");
  }
  if (sp->unk_id() != 0 || sp->bos_id() != 1 || sp->eos_id() != 2) {
    throw InvalidInput(std::string(origin) + ": unk/bos/eos ids are " + std::to_string(sp->unk_id()) + "/" +
                       std::to_string(sp->bos_id()) + "/" + std::to_string(sp->eos_id()) +
                       ", XLM-RoBERTa's layout needs 0/1/2");
  }
  return std::make_unique<XlmRobertaTokenizer>(std::move(sp),
                                               "sentencepiece:" + ContentHash(model_bytes).Hex());
}

}  // namespace rlm
