#include "embed/wordpiece.h"

#include <utf8proc.h>

// Inlined: every vocabulary lookup hashes a short string, and a library call would cost more than the hash.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/hash.h"
#include "core/utf8.h"

namespace rlm {
namespace {

using Json = nlohmann::json;

// ---- Character classes, as tokenizers (Rust) defines them
// --------------------------------------------------

// Rust's char::is_whitespace: the Unicode White_Space property.
bool IsWhitespace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// BertNormalizer's clean_text drops NUL, U+FFFD and "other" characters (Cc, Cf, Co) except \t \n \r.
bool IsRemovedByClean(char32_t c) {
  if (c < 0x80) return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F;
  if (c == 0xFFFD) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS:
      return true;
    default:
      return false;
  }
}

// tokenizers' is_chinese_char, including its 0x2B920 start of Extension E (BERT's Python code has 0x2B820).
bool IsChineseChar(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// BertPreTokenizer's is_bert_punc: ASCII punctuation (which includes $ + < = > ^ ` |) or Unicode P*.
bool IsPunctuation(char32_t c) {
  if (c < 0x80)
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

// The regex class \w (Unicode): used by single_word added tokens to look at their neighbours.
bool IsWordChar(char32_t c) {
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (c == 0x200C || c == 0x200D) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

// Below U+0300 every code point has canonical combining class 0 and none is a nonspacing mark.
int CombiningClass(char32_t c) {
  if (c < 0x300) return 0;
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
}

bool IsNonspacingMark(char32_t c) {
  return c >= 0x300 && utf8proc_category(static_cast<utf8proc_int32_t>(c)) == UTF8PROC_CATEGORY_MN;
}

void ValidateUtf8(std::string_view text) {
  if (auto bad = utf8::FindInvalid(text)) {
    throw InvalidInput("tokenizer input is not valid UTF-8 (byte " + std::to_string(*bad) + ")", "",
                       ErrorType::kInvalidUtf8);
  }
}

// The code point at `pos` of valid UTF-8, and its byte length.
inline char32_t DecodeAt(std::string_view s, size_t pos, size_t* len) {
  auto b = static_cast<unsigned char>(s[pos]);
  if (b < 0x80) {
    *len = 1;
    return b;
  }
  return utf8::Decode(s, pos, len);
}

// The code point that ends at `pos` (> 0) of valid UTF-8.
char32_t DecodeBefore(std::string_view s, size_t pos, size_t* start) {
  size_t p = pos - 1;
  while (p > 0 && utf8::IsContinuation(static_cast<unsigned char>(s[p]))) --p;
  *start = p;
  size_t len = 1;
  return DecodeAt(s, p, &len);
}

// A value quoted in an error message, cut to 60 bytes on a code point boundary.
std::string Clip(std::string_view s) {
  if (s.size() <= 60) return std::string(s);
  return std::string(utf8::Truncate(s, 57)) + "...";
}

// The vocabulary: open addressing over one arena of token bytes, so a lookup is one hash and usually one
// comparison, with no per-token allocation.
class VocabTable {
 public:
  void Build(const std::string* arena, const std::vector<std::pair<uint32_t, uint32_t>>& spans,
             const std::vector<int32_t>& ids) {
    arena_ = arena;
    size_t capacity = 16;
    while (capacity < spans.size() * 2) capacity *= 2;
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (size_t i = 0; i < spans.size(); ++i) Insert(spans[i].first, spans[i].second, ids[i]);
  }
  // The id of `key`, or -1.
  int32_t Find(std::string_view key) const {
    uint64_t h = XXH3_64bits(key.data(), key.size());
    auto tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id < 0) return -1;
      if (s.tag == tag && s.len == key.size() &&
          std::memcmp(arena_->data() + s.offset, key.data(), key.size()) == 0) {
        return s.id;
      }
    }
  }
  size_t max_len() const { return max_len_; }

 private:
  struct Slot {
    uint32_t offset = 0;
    uint32_t len = 0;
    uint32_t tag = 0;
    int32_t id = -1;
  };
  // A repeated key takes the later id (vocab.txt duplicates: the last line wins, as in transformers).
  void Insert(uint32_t offset, uint32_t len, int32_t id) {
    std::string_view key(arena_->data() + offset, len);
    uint64_t h = XXH3_64bits(key.data(), key.size());
    auto tag = static_cast<uint32_t>(h >> 32);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.id < 0) {
        s = Slot{offset, len, tag, id};
        max_len_ = std::max<size_t>(max_len_, len);
        return;
      }
      if (s.tag == tag && s.len == len && std::memcmp(arena_->data() + s.offset, key.data(), len) == 0) {
        s.id = id;
        return;
      }
    }
  }

  const std::string* arena_ = nullptr;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t max_len_ = 0;
};

// ---- Configuration ----------------------------------------------------------------------------------------

struct NormalizerConfig {
  bool enabled = true;  // false: tokenizer.json's normalizer is null
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;  // resolved: null follows lowercase
  bool lowercase = true;
};

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

struct WordPieceConfig {
  std::vector<std::string> vocab;  // by id; an empty slot is an id no token maps to (vocab.txt duplicates)
  std::string unk_token = "[UNK]";
  std::string prefix = "##";
  size_t max_input_chars_per_word = 100;
  NormalizerConfig normalizer;
  bool pre_tokenize = true;  // false: tokenizer.json's pre_tokenizer is null
  std::vector<AddedToken> added_tokens;
  std::vector<int32_t> prefix_ids;  // post-processor: before the sequence
  std::vector<int32_t> suffix_ids;  // and after it
  std::string pad_token = "[PAD]";
};

// Added tokens matched leftmost-longest, as tokenizers' AhoCorasick (MatchKind::LeftmostLongest) with the
// single_word / lstrip / rstrip rules of AddedVocabulary::find_matches. Works on valid UTF-8.
class AddedTokenMatcher {
 public:
  struct Pattern {
    std::string content;
    int32_t id;
    bool single_word, lstrip, rstrip;
  };

  void Add(Pattern p) {
    if (p.content.empty()) return;
    for (const auto& q : patterns_) {
      if (q.content == p.content) return;  // the first token with a content wins, as add_tokens skips repeats
    }
    first_byte_[static_cast<unsigned char>(p.content[0])] = true;
    patterns_.push_back(std::move(p));
    std::stable_sort(patterns_.begin(), patterns_.end(),
                     [](const Pattern& a, const Pattern& b) { return a.content.size() > b.content.size(); });
  }
  bool empty() const { return patterns_.empty(); }

  // Calls on_text(begin, end) for the text between tokens and on_token(id) for each token, in order.
  template <class OnText, class OnToken>
  void Split(std::string_view text, OnText&& on_text, OnToken&& on_token) const {
    const size_t n = text.size();
    size_t emitted = 0;  // tokenizers' start_offset
    size_t pos = 0;
    while (pos < n) {
      if (!first_byte_[static_cast<unsigned char>(text[pos])]) {
        ++pos;
        continue;
      }
      const Pattern* match = nullptr;
      for (const Pattern& p : patterns_) {  // longest first
        if (text.compare(pos, p.content.size(), p.content) == 0) {
          match = &p;
          break;
        }
      }
      // Patterns are valid UTF-8 and start with a lead byte, so a match never starts inside a sequence.
      if (match == nullptr) {
        ++pos;
        continue;
      }
      size_t start = pos;
      size_t stop = pos + match->content.size();
      pos = stop;  // the automaton resumes after the match even when the match is discarded below
      size_t len = 0;
      size_t before = 0;
      if (match->single_word) {
        bool start_space = start == 0 || !IsWordChar(DecodeBefore(text, start, &before));
        bool stop_space = stop == n || !IsWordChar(DecodeAt(text, stop, &len));
        if (!start_space || !stop_space) continue;
      }
      if (match->lstrip) {
        while (start > emitted && IsWhitespace(DecodeBefore(text, start, &before))) start = before;
      }
      if (match->rstrip) {
        while (stop < n && IsWhitespace(DecodeAt(text, stop, &len))) stop += len;
      }
      start = std::max(start, emitted);
      if (emitted < start) on_text(emitted, start);
      on_token(match->id);
      emitted = stop;
      pos = std::max(pos, stop);
    }
    if (emitted < n) on_text(emitted, n);
  }

 private:
  std::vector<Pattern> patterns_;
  std::array<bool, 256> first_byte_{};
};

// ---- Normalization ----------------------------------------------------------------------------------------

// BertNormalizer on valid UTF-8: clean text, pad CJK ideographs, NFD + drop Mn, lowercase; in tokenizers'
// order. `a` and `b` are scratch buffers.
void Normalize(const NormalizerConfig& n, std::string_view in, std::string& out, std::u32string& a,
               std::u32string& b) {
  out.clear();
  if (!n.enabled) {
    out.assign(in);
    return;
  }
  a.clear();
  for (size_t i = 0; i < in.size();) {
    size_t len = 1;
    char32_t c = DecodeAt(in, i, &len);
    i += len;
    if (n.clean_text) {
      if (IsRemovedByClean(c)) continue;
      if (IsWhitespace(c)) c = ' ';
    }
    if (n.handle_chinese_chars && c >= 0x3400 && IsChineseChar(c)) {
      a.push_back(' ');
      a.push_back(c);
      a.push_back(' ');
    } else {
      a.push_back(c);
    }
  }
  std::u32string* cps = &a;
  if (n.strip_accents) {
    // NFD: full canonical decomposition, then canonical ordering of combining marks, then drop Mn.
    b.clear();
    bool marks = false;
    for (char32_t c : a) {
      if (c < 0xC0) {  // nothing below U+00C0 decomposes canonically
        b.push_back(c);
        continue;
      }
      utf8proc_int32_t buf[8];
      utf8proc_int32_t boundclass = 0;
      utf8proc_ssize_t k =
          utf8proc_decompose_char(static_cast<utf8proc_int32_t>(c), buf, 8, UTF8PROC_DECOMPOSE, &boundclass);
      if (k <= 0 || k > 8) {
        b.push_back(c);
        continue;
      }
      for (utf8proc_ssize_t i = 0; i < k; ++i) {
        b.push_back(static_cast<char32_t>(buf[i]));
        if (buf[i] >= 0x300) marks = true;
      }
    }
    if (marks) {
      // Canonical ordering: a stable sort by combining class of each run of non-starters (class != 0).
      for (size_t i = 0; i < b.size();) {
        if (CombiningClass(b[i]) == 0) {
          ++i;
          continue;
        }
        size_t run_end = i + 1;
        while (run_end < b.size() && CombiningClass(b[run_end]) != 0) ++run_end;
        if (run_end - i > 1) {
          std::stable_sort(b.begin() + i, b.begin() + run_end,
                           [](char32_t x, char32_t y) { return CombiningClass(x) < CombiningClass(y); });
        }
        i = run_end;
      }
      b.erase(std::remove_if(b.begin(), b.end(), IsNonspacingMark), b.end());
    }
    cps = &b;
  }
  out.reserve(cps->size());
  for (char32_t c : *cps) {
    if (c < 0x80) {
      if (n.lowercase && c >= 'A' && c <= 'Z') c += 32;
      out.push_back(static_cast<char>(c));
      continue;
    }
    if (n.lowercase) {
      // Rust's char::to_lowercase: the simple mapping, except U+0130 which lowercases to "i" + U+0307.
      if (c == 0x130) {
        out.push_back('i');
        utf8::Append(out, 0x307);
        continue;
      }
      c = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
    }
    utf8::Append(out, c);
  }
}

// ---- The tokenizer ----------------------------------------------------------------------------------------

class WordPieceTokenizer final : public Tokenizer {
 public:
  WordPieceTokenizer(WordPieceConfig config, std::string_view origin);
  WordPieceTokenizer(const WordPieceTokenizer&) = delete;  // the vocabulary tables point into arena_
  WordPieceTokenizer& operator=(const WordPieceTokenizer&) = delete;

  std::vector<int32_t> Tokenize(std::string_view text) const override;
  std::vector<int32_t> WithSpecialTokens(std::span<const int32_t> ids) const override {
    std::vector<int32_t> out;
    out.reserve(ids.size() + prefix_ids_.size() + suffix_ids_.size());
    out.insert(out.end(), prefix_ids_.begin(), prefix_ids_.end());
    out.insert(out.end(), ids.begin(), ids.end());
    out.insert(out.end(), suffix_ids_.begin(), suffix_ids_.end());
    return out;
  }
  size_t NumSpecialTokens() const override { return prefix_ids_.size() + suffix_ids_.size(); }
  int32_t PadId() const override { return pad_id_; }
  size_t VocabSize() const override { return vocab_size_; }
  std::string Fingerprint() const override { return fingerprint_; }

 private:
  struct Scratch {
    std::string normalized;
    std::u32string a, b;
    std::string word;
    std::vector<uint32_t> bounds;
  };
  void TokenizeSegment(std::string_view raw, std::vector<int32_t>& ids, Scratch& s) const;
  bool TokenizeAsciiChunk(std::string_view chunk, std::vector<int32_t>& ids, Scratch& s) const;
  void TokenizeNormalized(std::string_view text, std::vector<int32_t>& ids, Scratch& s) const;
  void TokenizeWord(std::string_view word, std::vector<int32_t>& ids, Scratch& s) const;

  std::string arena_;  // every token's bytes, and the continuation tokens without their prefix
  VocabTable vocab_;
  VocabTable continuation_;  // tokens that start with the prefix, prefix removed (all tokens if it is empty)
  int32_t unk_id_ = 0;
  int32_t pad_id_ = 0;
  size_t max_chars_ = 100;
  size_t vocab_size_ = 0;
  NormalizerConfig normalizer_;
  bool pre_tokenize_ = true;
  AddedTokenMatcher raw_tokens_;         // matched on the input text
  AddedTokenMatcher normalized_tokens_;  // matched on normalized text, with normalized content
  std::vector<int32_t> prefix_ids_, suffix_ids_;
  std::string fingerprint_;
};

WordPieceTokenizer::WordPieceTokenizer(WordPieceConfig config, std::string_view origin)
    : max_chars_(config.max_input_chars_per_word),
      normalizer_(config.normalizer),
      pre_tokenize_(config.pre_tokenize),
      prefix_ids_(std::move(config.prefix_ids)),
      suffix_ids_(std::move(config.suffix_ids)) {
  const std::string& prefix = config.prefix;
  size_t total = 0;
  for (const auto& t : config.vocab) total += t.size();
  if (total > UINT32_MAX) throw InvalidInput(std::string(origin) + ": the vocabulary is larger than 4 GB");
  arena_.reserve(total);
  std::vector<std::pair<uint32_t, uint32_t>> spans, cont_spans;
  std::vector<int32_t> ids, cont_ids;
  for (size_t id = 0; id < config.vocab.size(); ++id) {
    const std::string& token = config.vocab[id];
    auto offset = static_cast<uint32_t>(arena_.size());
    arena_ += token;
    if (token.empty()) continue;
    spans.emplace_back(offset, static_cast<uint32_t>(token.size()));
    ids.push_back(static_cast<int32_t>(id));
    if (prefix.empty()) {
      cont_spans.emplace_back(offset, static_cast<uint32_t>(token.size()));
      cont_ids.push_back(static_cast<int32_t>(id));
    } else if (token.size() > prefix.size() && token.starts_with(prefix)) {
      cont_spans.emplace_back(offset + static_cast<uint32_t>(prefix.size()),
                              static_cast<uint32_t>(token.size() - prefix.size()));
      cont_ids.push_back(static_cast<int32_t>(id));
    }
  }
  vocab_.Build(&arena_, spans, ids);
  continuation_.Build(&arena_, cont_spans, cont_ids);

  unk_id_ = vocab_.Find(config.unk_token);
  if (unk_id_ < 0) {
    throw InvalidInput(std::string(origin) + ": unk token '" + Clip(config.unk_token) +
                       "' is not in the vocabulary");
  }

  vocab_size_ = config.vocab.size();
  std::u32string a, b;
  std::string normalized;
  for (const AddedToken& t : config.added_tokens) {
    vocab_size_ = std::max(vocab_size_, static_cast<size_t>(t.id) + 1);
    if (t.normalized) {
      Normalize(normalizer_, t.content, normalized, a, b);
      normalized_tokens_.Add({normalized, t.id, t.single_word, t.lstrip, t.rstrip});
    } else {
      raw_tokens_.Add({t.content, t.id, t.single_word, t.lstrip, t.rstrip});
    }
  }
  for (const auto* list : {&prefix_ids_, &suffix_ids_}) {
    for (int32_t id : *list) {
      if (id < 0 || static_cast<size_t>(id) >= vocab_size_) {
        throw InvalidInput(std::string(origin) + ": post_processor special token id " + std::to_string(id) +
                           " is outside the vocabulary");
      }
    }
  }
  pad_id_ = std::max(0, vocab_.Find(config.pad_token));
  for (const AddedToken& t : config.added_tokens) {
    if (t.content == config.pad_token) pad_id_ = t.id;
  }

  // The fingerprint covers everything that decides ids: vocabulary bytes and every setting.
  ContentHasher hasher;
  for (const auto& t : config.vocab) {
    hasher.Update(t);
    hasher.Update(std::string_view("\n", 1));
  }
  const NormalizerConfig& n = normalizer_;
  std::string settings = "unk=" + config.unk_token + "\x1fprefix=" + prefix +
                         "\x1fmax=" + std::to_string(max_chars_) + "\x1fnorm=" + std::to_string(n.enabled) +
                         std::to_string(n.clean_text) + std::to_string(n.handle_chinese_chars) +
                         std::to_string(n.strip_accents) + std::to_string(n.lowercase) +
                         "\x1fpre=" + std::to_string(pre_tokenize_) + "\x1f";
  for (const AddedToken& t : config.added_tokens) {
    settings += t.content + "\x1e" + std::to_string(t.id) + std::to_string(t.single_word) +
                std::to_string(t.lstrip) + std::to_string(t.rstrip) + std::to_string(t.normalized) + "\x1f";
  }
  for (int32_t id : prefix_ids_) settings += std::to_string(id) + ",";
  settings += "|";
  for (int32_t id : suffix_ids_) settings += std::to_string(id) + ",";
  hasher.Update(settings);
  fingerprint_ = "wordpiece:" + hasher.Finish().Hex();
}

std::vector<int32_t> WordPieceTokenizer::Tokenize(std::string_view text) const {
  ValidateUtf8(text);
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 4 + 4);
  Scratch scratch;
  if (raw_tokens_.empty()) {
    TokenizeSegment(text, ids, scratch);
  } else {
    raw_tokens_.Split(
        text, [&](size_t b, size_t e) { TokenizeSegment(text.substr(b, e - b), ids, scratch); },
        [&](int32_t id) { ids.push_back(id); });
  }
  return ids;
}

void WordPieceTokenizer::TokenizeSegment(std::string_view raw, std::vector<int32_t>& ids, Scratch& s) const {
  if (!normalized_tokens_.empty() || !pre_tokenize_) {
    std::string normalized;  // its own buffer: TokenizeNormalized reuses the scratch
    Normalize(normalizer_, raw, normalized, s.a, s.b);
    std::string_view view(normalized);
    normalized_tokens_.Split(
        view, [&](size_t b, size_t e) { TokenizeNormalized(view.substr(b, e - b), ids, s); },
        [&](int32_t id) { ids.push_back(id); });
    return;
  }
  // Without normalized added tokens, ' ' \t \n \r separate words before and after normalization alike
  // (clean_text maps them to ' ', and the pre-tokenizer splits on them either way), so the text can be cut
  // there first and the pure-ASCII pieces, most of real text, take a byte-level path.
  const size_t n = raw.size();
  size_t pos = 0;
  while (pos < n) {
    while (pos < n && (raw[pos] == ' ' || raw[pos] == '\t' || raw[pos] == '\n' || raw[pos] == '\r')) ++pos;
    size_t end = pos;
    bool ascii = true;
    while (end < n && raw[end] != ' ' && raw[end] != '\t' && raw[end] != '\n' && raw[end] != '\r') {
      ascii &= static_cast<unsigned char>(raw[end]) < 0x80;
      ++end;
    }
    if (end == pos) break;
    std::string_view chunk = raw.substr(pos, end - pos);
    if (!ascii || !TokenizeAsciiChunk(chunk, ids, s)) {
      Normalize(normalizer_, chunk, s.normalized, s.a, s.b);
      TokenizeNormalized(s.normalized, ids, s);  // TokenizeWord does not touch s.normalized
    }
    pos = end;
  }
}

// An ASCII chunk without ' ' \t \n \r: BertNormalizer only drops controls and lowercases, and the
// pre-tokenizer splits off punctuation. Returns false, having done nothing, when the normalizer is off
// or a control character remains (clean_text off), which the general path handles.
bool WordPieceTokenizer::TokenizeAsciiChunk(std::string_view chunk, std::vector<int32_t>& ids,
                                            Scratch& s) const {
  const NormalizerConfig& n = normalizer_;
  if (!n.enabled) return false;
  if (!n.clean_text) {
    for (char ch : chunk) {
      if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7F) return false;
    }
  }
  std::string& word = s.word;
  word.clear();
  for (char ch : chunk) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F) continue;  // clean_text drops controls
    if (IsPunctuation(c)) {
      if (!word.empty()) {
        TokenizeWord(word, ids, s);
        word.clear();
      }
      word.push_back(ch);
      TokenizeWord(word, ids, s);
      word.clear();
      continue;
    }
    word.push_back(n.lowercase && c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : ch);
  }
  if (!word.empty()) TokenizeWord(word, ids, s);
  return true;
}

// BertPreTokenizer on normalized text: whitespace ends a word and is dropped; each punctuation character
// is a word of its own.
void WordPieceTokenizer::TokenizeNormalized(std::string_view text, std::vector<int32_t>& ids,
                                            Scratch& s) const {
  if (!pre_tokenize_) {
    if (!text.empty()) TokenizeWord(text, ids, s);
    return;
  }
  size_t word_start = 0;
  bool in_word = false;
  for (size_t i = 0; i < text.size();) {
    size_t len = 1;
    char32_t c = DecodeAt(text, i, &len);
    bool space = IsWhitespace(c);
    bool punct = !space && IsPunctuation(c);
    if (space || punct) {
      if (in_word) TokenizeWord(text.substr(word_start, i - word_start), ids, s);
      in_word = false;
      if (punct) TokenizeWord(text.substr(i, len), ids, s);
    } else if (!in_word) {
      in_word = true;
      word_start = i;
    }
    i += len;
  }
  if (in_word) TokenizeWord(text.substr(word_start), ids, s);
}

// WordPiece: greedy longest-match-first; a word with an unmatchable rest, or longer than
// max_input_chars_per_word characters, is one unk token. `word` must not alias s.bounds.
void WordPieceTokenizer::TokenizeWord(std::string_view word, std::vector<int32_t>& ids, Scratch& s) const {
  // Character boundaries: for ASCII words the byte offsets themselves, else collected once.
  size_t chars = 0;
  for (char ch : word) chars += !utf8::IsContinuation(static_cast<unsigned char>(ch));
  if (chars > max_chars_) {
    ids.push_back(unk_id_);
    return;
  }
  const bool ascii = chars == word.size();
  if (!ascii) {
    s.bounds.clear();
    for (size_t i = 0; i < word.size(); ++i) {
      if (!utf8::IsContinuation(static_cast<unsigned char>(word[i])))
        s.bounds.push_back(static_cast<uint32_t>(i));
    }
    s.bounds.push_back(static_cast<uint32_t>(word.size()));
  }
  auto bound = [&](size_t k) -> size_t { return ascii ? k : s.bounds[k]; };
  const size_t mark = ids.size();
  size_t start = 0;
  while (start < chars) {
    const VocabTable& table = start == 0 ? vocab_ : continuation_;
    const size_t limit = table.max_len();
    const size_t from = bound(start);
    size_t end = ascii ? std::min(chars, start + limit) : chars;
    while (end > start && bound(end) - from > limit) --end;
    int32_t id = -1;
    for (; end > start; --end) {
      id = table.Find(word.substr(from, bound(end) - from));
      if (id >= 0) break;
    }
    if (id < 0) {
      ids.resize(mark);
      ids.push_back(unk_id_);
      return;
    }
    ids.push_back(id);
    start = end;
  }
}

// ---- tokenizer.json
// ----------------------------------------------------------------------------------------

[[noreturn]] void Fail(std::string_view origin, const std::string& what) {
  throw InvalidInput(std::string(origin) + ": " + what);
}

// A short rendering of a JSON value for error messages; structured values are named, not dumped (dump()
// recurses, and a hostile file may nest deeply).
std::string Describe(const Json& j) {
  if (j.is_object()) return "an object";
  if (j.is_array()) return "an array";
  return Clip(j.dump());
}

// A boolean field with a default; absent or null gives the default.
bool GetBool(const Json& obj, const char* key, bool fallback, std::string_view origin,
             const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) Fail(origin, path + "." + key + " must be true or false, not " + Describe(*it));
  return it->get<bool>();
}

std::optional<bool> GetOptionalBool(const Json& obj, const char* key, std::string_view origin,
                                    const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean())
    Fail(origin, path + "." + key + " must be true, false or null, not " + Describe(*it));
  return it->get<bool>();
}

std::string GetString(const Json& obj, const char* key, const std::string& fallback, std::string_view origin,
                      const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_string()) Fail(origin, path + "." + key + " must be a string, not " + Describe(*it));
  return it->get<std::string>();
}

// A non-negative integer below `limit`.
uint64_t GetIndex(const Json& j, uint64_t limit, std::string_view origin, const std::string& what) {
  if (!j.is_number_unsigned() && !(j.is_number_integer() && j.get<int64_t>() >= 0)) {
    Fail(origin, what + " must be a non-negative integer, not " + Describe(j));
  }
  uint64_t v = j.get<uint64_t>();
  if (v >= limit)
    Fail(origin, what + " " + std::to_string(v) + " is out of range (limit " + std::to_string(limit) + ")");
  return v;
}

// Ids of added tokens may lie past the model vocabulary; this bounds them so a hostile file cannot declare
// a vocabulary of billions of ids.
constexpr uint64_t kMaxVocab = 1u << 24;

const Json& RequireObject(const Json& obj, const char* key, std::string_view origin,
                          const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end()) Fail(origin, path + key + " is missing");
  if (!it->is_object()) Fail(origin, path + key + " must be an object, not " + Describe(*it));
  return *it;
}

void ParseModel(const Json& root, std::string_view origin, WordPieceConfig& config) {
  const Json& model = RequireObject(root, "model", origin, "");
  auto type = model.find("type");
  if (type == model.end()) Fail(origin, "model.type is missing");
  if (!type->is_string()) Fail(origin, "model.type must be a string, not " + Describe(*type));
  if (*type != "WordPiece") {
    Fail(origin, "model.type '" + Clip(type->get<std::string>()) + "' is not supported (WordPiece only)");
  }
  config.unk_token = GetString(model, "unk_token", "[UNK]", origin, "model");
  config.prefix = GetString(model, "continuing_subword_prefix", "##", origin, "model");
  if (auto it = model.find("max_input_chars_per_word"); it != model.end() && !it->is_null()) {
    config.max_input_chars_per_word = GetIndex(*it, UINT64_MAX, origin, "model.max_input_chars_per_word");
  }
  const Json& vocab = RequireObject(model, "vocab", origin, "model.");
  if (vocab.empty()) Fail(origin, "model.vocab is empty");
  if (vocab.size() > kMaxVocab) Fail(origin, "model.vocab has more than 2^24 tokens");
  config.vocab.assign(vocab.size(), std::string());
  std::vector<bool> seen(vocab.size(), false);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const Json& v = it.value();
    uint64_t id = v.is_number_unsigned() ? v.get<uint64_t>() : UINT64_MAX;
    if (id >= vocab.size())
      id = GetIndex(v, vocab.size(), origin, "model.vocab id of '" + Clip(it.key()) + "'");
    if (seen[id])
      Fail(origin, "model.vocab id " + std::to_string(id) + " is used twice (by '" + Clip(it.key()) + "')");
    seen[id] = true;
    config.vocab[id] = it.key();
  }
}

void ParseNormalizer(const Json& root, std::string_view origin, NormalizerConfig& n) {
  auto it = root.find("normalizer");
  if (it == root.end() || it->is_null()) {
    n.enabled = false;
    return;
  }
  if (!it->is_object()) Fail(origin, "normalizer must be an object or null, not " + Describe(*it));
  std::string type = GetString(*it, "type", "", origin, "normalizer");
  if (type != "BertNormalizer") {
    Fail(origin, "normalizer.type '" + Clip(type) + "' is not supported (BertNormalizer or null only)");
  }
  n.clean_text = GetBool(*it, "clean_text", true, origin, "normalizer");
  n.handle_chinese_chars = GetBool(*it, "handle_chinese_chars", true, origin, "normalizer");
  n.lowercase = GetBool(*it, "lowercase", true, origin, "normalizer");
  n.strip_accents = GetOptionalBool(*it, "strip_accents", origin, "normalizer").value_or(n.lowercase);
}

void ParsePreTokenizer(const Json& root, std::string_view origin, WordPieceConfig& config) {
  auto it = root.find("pre_tokenizer");
  if (it == root.end() || it->is_null()) {
    config.pre_tokenize = false;
    return;
  }
  if (!it->is_object()) Fail(origin, "pre_tokenizer must be an object or null, not " + Describe(*it));
  std::string type = GetString(*it, "type", "", origin, "pre_tokenizer");
  if (type != "BertPreTokenizer") {
    Fail(origin, "pre_tokenizer.type '" + Clip(type) + "' is not supported (BertPreTokenizer or null only)");
  }
}

void ParseAddedTokens(const Json& root, std::string_view origin, WordPieceConfig& config) {
  auto it = root.find("added_tokens");
  if (it == root.end() || it->is_null()) return;
  if (!it->is_array()) Fail(origin, "added_tokens must be an array, not " + Describe(*it));
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& t = (*it)[i];
    std::string path = "added_tokens[" + std::to_string(i) + "]";
    if (!t.is_object()) Fail(origin, path + " must be an object, not " + Describe(t));
    AddedToken added;
    auto id = t.find("id");
    if (id == t.end()) Fail(origin, path + ".id is missing");
    added.id = static_cast<int32_t>(GetIndex(*id, kMaxVocab, origin, path + ".id"));
    auto content = t.find("content");
    if (content == t.end() || !content->is_string()) Fail(origin, path + ".content must be a string");
    added.content = content->get<std::string>();
    if (added.content.empty()) Fail(origin, path + ".content is empty");
    added.single_word = GetBool(t, "single_word", false, origin, path);
    added.lstrip = GetBool(t, "lstrip", false, origin, path);
    added.rstrip = GetBool(t, "rstrip", false, origin, path);
    added.normalized = GetBool(t, "normalized", !GetBool(t, "special", false, origin, path), origin, path);
    config.added_tokens.push_back(std::move(added));
  }
}

// The ids of a token named by the post-processor: the model vocabulary, then the added tokens.
std::optional<int32_t> FindTokenId(const WordPieceConfig& config, std::string_view token) {
  for (const AddedToken& t : config.added_tokens) {
    if (t.content == token) return t.id;
  }
  for (size_t id = 0; id < config.vocab.size(); ++id) {
    if (config.vocab[id] == token) return static_cast<int32_t>(id);
  }
  return std::nullopt;
}

void DefaultSpecialTokens(WordPieceConfig& config, std::string_view origin, const std::string& cls,
                          const std::string& sep) {
  auto cls_id = FindTokenId(config, cls);
  auto sep_id = FindTokenId(config, sep);
  if (!cls_id || !sep_id) {
    Fail(origin, "the special tokens '" + cls + "' and '" + sep + "' are not in the vocabulary");
  }
  config.prefix_ids = {*cls_id};
  config.suffix_ids = {*sep_id};
}

// Bert/RobertaProcessing: "cls": ["[CLS]", 101], "sep": ["[SEP]", 102].
int32_t ParsePairToken(const Json& p, const char* key, std::string_view origin, const std::string& path) {
  auto it = p.find(key);
  if (it == p.end() || !it->is_array() || it->size() != 2 || !(*it)[0].is_string()) {
    Fail(origin, path + "." + key + " must be [token, id]");
  }
  return static_cast<int32_t>(GetIndex((*it)[1], kMaxVocab, origin, path + "." + key + " id"));
}

bool ParseProcessor(const Json& p, std::string_view origin, const std::string& path,
                    WordPieceConfig& config) {
  if (!p.is_object()) Fail(origin, path + " must be an object, not " + Describe(p));
  std::string type = GetString(p, "type", "", origin, path);
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    config.prefix_ids = {ParsePairToken(p, "cls", origin, path)};
    config.suffix_ids = {ParsePairToken(p, "sep", origin, path)};
    return true;
  }
  if (type == "TemplateProcessing") {
    auto single = p.find("single");
    if (single == p.end() || !single->is_array()) Fail(origin, path + ".single must be an array");
    auto specials = p.find("special_tokens");
    if (specials != p.end() && !specials->is_object() && !specials->is_null()) {
      Fail(origin, path + ".special_tokens must be an object");
    }
    config.prefix_ids.clear();
    config.suffix_ids.clear();
    int sequences = 0;
    for (size_t i = 0; i < single->size(); ++i) {
      const Json& item = (*single)[i];
      std::string ipath = path + ".single[" + std::to_string(i) + "]";
      if (!item.is_object() || item.size() != 1)
        Fail(origin, ipath + " must be {\"SpecialToken\"|\"Sequence\": ...}");
      if (item.contains("Sequence")) {
        const Json& seq = item["Sequence"];
        if (!seq.is_object() || GetString(seq, "id", "", origin, ipath + ".Sequence") != "A") {
          Fail(origin, ipath + ".Sequence must be sequence A");
        }
        ++sequences;
        continue;
      }
      if (!item.contains("SpecialToken") || !item["SpecialToken"].is_object()) {
        Fail(origin, ipath + " must be {\"SpecialToken\"|\"Sequence\": ...}");
      }
      std::string name = GetString(item["SpecialToken"], "id", "", origin, ipath + ".SpecialToken");
      if (specials == p.end() || specials->is_null() || !specials->contains(name)) {
        Fail(origin, ipath + ": special token '" + Clip(name) + "' is not in " + path + ".special_tokens");
      }
      const Json& entry = (*specials)[name];
      auto ids = entry.is_object() ? entry.find("ids") : entry.end();
      if (!entry.is_object() || ids == entry.end() || !ids->is_array()) {
        Fail(origin, path + ".special_tokens." + name + ".ids must be an array");
      }
      auto& target = sequences == 0 ? config.prefix_ids : config.suffix_ids;
      for (const Json& id : *ids) {
        target.push_back(
            static_cast<int32_t>(GetIndex(id, kMaxVocab, origin, path + ".special_tokens." + name + ".ids")));
      }
    }
    if (sequences != 1) Fail(origin, path + ".single must contain sequence A exactly once");
    return true;
  }
  if (type == "ByteLevel") return false;  // offsets only: no ids
  Fail(origin, path + ".type '" + Clip(type) +
                   "' is not supported (TemplateProcessing, BertProcessing, RobertaProcessing)");
}

void ParsePostProcessor(const Json& root, std::string_view origin, WordPieceConfig& config) {
  auto it = root.find("post_processor");
  if (it == root.end() || it->is_null()) {
    // tokenizers would add nothing; an encoder needs its [CLS]/[SEP], so fall back to BERT's.
    DefaultSpecialTokens(config, origin, "[CLS]", "[SEP]");
    return;
  }
  if (it->is_object() && GetString(*it, "type", "", origin, "post_processor") == "Sequence") {
    auto procs = it->find("processors");
    if (procs == it->end() || !procs->is_array()) Fail(origin, "post_processor.processors must be an array");
    bool found = false;
    for (size_t i = 0; i < procs->size(); ++i) {
      found |=
          ParseProcessor((*procs)[i], origin, "post_processor.processors[" + std::to_string(i) + "]", config);
    }
    if (!found) DefaultSpecialTokens(config, origin, "[CLS]", "[SEP]");
    return;
  }
  if (!ParseProcessor(*it, origin, "post_processor", config))
    DefaultSpecialTokens(config, origin, "[CLS]", "[SEP]");
}

Json ParseJson(std::string_view text, std::string_view origin) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    Fail(origin, std::string("not valid JSON (") + e.what() + ")");
  }
}

}  // namespace

std::unique_ptr<Tokenizer> LoadWordPieceFromJson(std::string_view json, std::string_view origin) {
  Json root = ParseJson(json, origin);
  if (!root.is_object()) Fail(origin, "the top level must be an object");
  WordPieceConfig config;
  try {
    ParseModel(root, origin, config);
    ParseNormalizer(root, origin, config.normalizer);
    ParsePreTokenizer(root, origin, config);
    ParseAddedTokens(root, origin, config);
    ParsePostProcessor(root, origin, config);
    if (auto pad = root.find("padding"); pad != root.end() && pad->is_object()) {
      config.pad_token = GetString(*pad, "pad_token", "[PAD]", origin, "padding");
    }
  } catch (const Json::exception& e) {  // a type mismatch the checks above did not anticipate
    Fail(origin, std::string("unexpected structure (") + e.what() + ")");
  }
  return std::make_unique<WordPieceTokenizer>(std::move(config), origin);
}

std::unique_ptr<Tokenizer> LoadWordPieceFromVocab(std::string_view vocab_txt, std::string_view vocab_origin,
                                                  std::string_view config_json,
                                                  std::string_view config_origin,
                                                  std::string_view special_tokens_map_json,
                                                  std::string_view special_tokens_map_origin) {
  WordPieceConfig config;
  // transformers' load_vocab: one token per line, id = line number, trailing "\n" (and "\r") removed.
  size_t line = 0;
  for (size_t pos = 0; pos < vocab_txt.size(); ++line) {
    size_t end = vocab_txt.find('\n', pos);
    if (end == std::string_view::npos) end = vocab_txt.size();
    std::string_view token = vocab_txt.substr(pos, end - pos);
    if (!token.empty() && token.back() == '\r') token.remove_suffix(1);
    if (utf8::FindInvalid(token))
      Fail(vocab_origin, "line " + std::to_string(line + 1) + " is not valid UTF-8");
    config.vocab.emplace_back(token);
    if (config.vocab.size() > kMaxVocab) Fail(vocab_origin, "more than 2^24 lines");
    pos = end + 1;
  }
  if (config.vocab.empty()) Fail(vocab_origin, "the vocabulary is empty");

  std::string names[5] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  const char* keys[5] = {"pad_token", "unk_token", "cls_token", "sep_token", "mask_token"};
  AddedToken flags[5];
  // The special-token entries of a tokenizer_config.json or special_tokens_map.json: a string, or an
  // AddedToken object {"content", "single_word", "lstrip", "rstrip", "normalized"}; null or absent keeps
  // what is there.
  auto read_special_tokens = [&](const Json& j, std::string_view origin) {
    for (int i = 0; i < 5; ++i) {
      auto it = j.find(keys[i]);
      if (it == j.end() || it->is_null()) continue;
      if (it->is_string()) {
        names[i] = it->get<std::string>();
        flags[i] = AddedToken();
      } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
        names[i] = (*it)["content"].get<std::string>();
        flags[i].single_word = GetBool(*it, "single_word", false, origin, keys[i]);
        flags[i].lstrip = GetBool(*it, "lstrip", false, origin, keys[i]);
        flags[i].rstrip = GetBool(*it, "rstrip", false, origin, keys[i]);
        flags[i].normalized = GetBool(*it, "normalized", false, origin, keys[i]);
      } else {
        Fail(origin, std::string(keys[i]) + " must be a string or {\"content\": ...}");
      }
    }
  };
  bool has_added_tokens_decoder = false;
  if (!config_json.empty()) {
    Json cfg = ParseJson(config_json, config_origin);
    if (!cfg.is_object()) Fail(config_origin, "the top level must be an object");
    try {
      NormalizerConfig& n = config.normalizer;
      n.lowercase = GetBool(cfg, "do_lower_case", true, config_origin, "tokenizer_config");
      n.strip_accents =
          GetOptionalBool(cfg, "strip_accents", config_origin, "tokenizer_config").value_or(n.lowercase);
      n.handle_chinese_chars =
          GetBool(cfg, "tokenize_chinese_chars", true, config_origin, "tokenizer_config");
      read_special_tokens(cfg, config_origin);
      has_added_tokens_decoder = cfg.contains("added_tokens_decoder");
    } catch (const Json::exception& e) {
      Fail(config_origin, std::string("unexpected structure (") + e.what() + ")");
    }
  }
  // transformers (PreTrainedTokenizerBase._from_pretrained) applies special_tokens_map.json over
  // tokenizer_config.json's tokens, unless the config is of the newer kind with "added_tokens_decoder",
  // which it then takes as complete and the map is not read.
  if (!special_tokens_map_json.empty() && !has_added_tokens_decoder) {
    Json map = ParseJson(special_tokens_map_json, special_tokens_map_origin);
    if (!map.is_object()) Fail(special_tokens_map_origin, "the top level must be an object");
    try {
      read_special_tokens(map, special_tokens_map_origin);
    } catch (const Json::exception& e) {
      Fail(special_tokens_map_origin, std::string("unexpected structure (") + e.what() + ")");
    }
  }
  config.unk_token = names[1];
  config.pad_token = names[0];
  // BertTokenizerFast splits every special token of the vocabulary out of the text before normalizing.
  for (int i = 0; i < 5; ++i) {
    if (names[i].empty()) continue;
    std::optional<int32_t> id;
    for (size_t v = 0; v < config.vocab.size(); ++v) {
      if (config.vocab[v] == names[i]) id = static_cast<int32_t>(v);  // the last line wins
    }
    if (!id) continue;
    AddedToken t = flags[i];
    t.content = names[i];
    t.id = *id;
    config.added_tokens.push_back(std::move(t));
  }
  DefaultSpecialTokens(config, vocab_origin, names[2], names[3]);
  return std::make_unique<WordPieceTokenizer>(std::move(config), vocab_origin);
}

}  // namespace rlm
