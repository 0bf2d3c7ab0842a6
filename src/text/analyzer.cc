#include "text/analyzer.h"

#include <libstemmer.h>
#include <utf8proc.h>

// Inlined: the stem cache hashes every short term, and a library call would cost more than the hash.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <array>
#include <cstring>
#include <new>

#include "core/error.h"

namespace rlm {
namespace {

// Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, grouped by length so a lookup compares few strings.
constexpr std::string_view kStop1[] = {"a"};
constexpr std::string_view kStop2[] = {"an", "as", "at", "be", "by", "if", "in",
                                       "is", "it", "no", "of", "on", "or", "to"};
constexpr std::string_view kStop3[] = {"and", "are", "but", "for", "not", "the", "was"};
constexpr std::string_view kStop4[] = {"into", "such", "that", "then", "they", "this", "will", "with"};
constexpr std::string_view kStop5[] = {"their", "there", "these"};

template <size_t N>
bool Contains(const std::string_view (&words)[N], std::string_view t) {
  for (std::string_view w : words) {
    if (w == t) return true;
  }
  return false;
}

bool IsStopWord(std::string_view t) {
  switch (t.size()) {
    case 1:
      return Contains(kStop1, t);
    case 2:
      return Contains(kStop2, t);
    case 3:
      return Contains(kStop3, t);
    case 4:
      return Contains(kStop4, t);
    case 5:
      return Contains(kStop5, t);
    default:
      return false;
  }
}

// ASCII letters and digits; everything else below 0x80 separates tokens.
constexpr std::array<bool, 128> MakeAsciiWordTable() {
  std::array<bool, 128> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  return t;
}
constexpr std::array<bool, 128> kAsciiWord = MakeAsciiWordTable();

enum class CharClass { kSeparator, kWord, kMark, kSingle };

// Han ideographs (with extensions and compatibility blocks) and Hiragana: one token per character.
bool IsSingleCharToken(int32_t cp) {
  return (cp >= 0x3040 && cp <= 0x309F) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x323AF);
}

CharClass Classify(int32_t cp) {
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return IsSingleCharToken(cp) ? CharClass::kSingle : CharClass::kWord;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      return CharClass::kMark;
    default:
      return CharClass::kSeparator;
  }
}

// Decodes the non-ASCII sequence at p[i] (i < n). Invalid or truncated sequences decode as -1 with length 1,
// which Classify treats as a separator.
int32_t DecodeAt(const unsigned char* p, size_t n, size_t i, size_t* len) {
  utf8proc_int32_t cp = -1;
  utf8proc_ssize_t got = utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(n - i), &cp);
  if (got <= 0) {
    *len = 1;
    return -1;
  }
  *len = static_cast<size_t>(got);
  return cp;
}

struct StemmerDeleter {
  void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};

// Porter stemming costs far more than tokenizing, and word frequencies are Zipfian: a small direct-mapped
// cache of recent (term -> stem) pairs answers most lookups (~1.5 MB per stemming thread, allocated on first
// use; 32768 slots keep misses low on a scientific vocabulary). Terms longer than kMaxLen bypass it.
class StemCache {
 public:
  static constexpr size_t kMaxLen = 23;
  static constexpr size_t kSlots = 32768;
  struct Slot {
    uint8_t key_len = 0;  // 0: empty
    uint8_t stem_len = 0;
    char key[kMaxLen];
    char stem[kMaxLen];
  };
  Slot& Find(std::string_view term) {
    if (slots_.empty()) slots_.resize(kSlots);
    return slots_[XXH3_64bits(term.data(), term.size()) & (kSlots - 1)];
  }
  static bool Matches(const Slot& s, std::string_view term) {
    return s.key_len == term.size() && std::memcmp(s.key, term.data(), term.size()) == 0;
  }

 private:
  std::vector<Slot> slots_;
};

// Per-thread scratch: Snowball stemmers are not thread-safe, and reusing buffers keeps the hot loop free of
// allocations. Shared by every Analyzer instance on the thread (the stemmer has no per-analyzer state).
struct Scratch {
  std::string token;
  std::vector<utf8proc_int32_t> ucs;
  std::unique_ptr<sb_stemmer, StemmerDeleter> stemmer;
  StemCache stem_cache;

  sb_stemmer* Stemmer() {
    if (!stemmer) {
      stemmer.reset(sb_stemmer_new("porter", "UTF_8"));
      if (!stemmer) throw std::bad_alloc();
    }
    return stemmer.get();
  }
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

constexpr utf8proc_option_t kFoldOptions =
    static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);

// Full case folding + NFC of a non-ASCII token into scratch.token. Returns false when utf8proc rejects it.
bool FoldUnicode(std::string_view raw, Scratch& s) {
  const auto* src = reinterpret_cast<const utf8proc_uint8_t*>(raw.data());
  const auto len = static_cast<utf8proc_ssize_t>(raw.size());
  if (s.ucs.size() < raw.size() + 8) s.ucs.resize(raw.size() + 8);
  utf8proc_ssize_t count;
  for (;;) {
    // One slot is kept free: utf8proc_reencode writes a terminating NUL after the encoded bytes.
    const auto cap = static_cast<utf8proc_ssize_t>(s.ucs.size()) - 1;
    count = utf8proc_decompose(src, len, s.ucs.data(), cap, kFoldOptions);
    if (count < 0) return false;
    if (count <= cap) break;
    s.ucs.resize(static_cast<size_t>(count) + 8);
  }
  utf8proc_ssize_t bytes = utf8proc_reencode(s.ucs.data(), count, kFoldOptions);
  if (bytes < 0) return false;
  s.token.assign(reinterpret_cast<const char*>(s.ucs.data()), static_cast<size_t>(bytes));
  return true;
}

bool HasAsciiLetter(std::string_view t) {
  for (char c : t) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  }
  return false;
}

}  // namespace

Analyzer::Analyzer(AnalyzerOptions options) : options_(options) {
  if (options_.max_token_bytes == 0) throw InvalidInput("analyzer: max_token_bytes must be at least 1");
  if (options_.stem) ThreadScratch().Stemmer();  // fail early if libstemmer lacks "porter"
}

Analyzer::~Analyzer() = default;

void Analyzer::Visit(std::string_view text, TermCallback emit, void* ctx) const {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  const size_t max_bytes = options_.max_token_bytes;
  Scratch& s = ThreadScratch();

  // Folds, filters and stems the raw token [start, end), then emits it.
  auto finish = [&](size_t start, size_t end, bool ascii) {
    const size_t raw_len = end - start;
    if (ascii) {
      if (raw_len > max_bytes) return;  // ASCII folding keeps the length
      s.token.resize(raw_len);
      for (size_t k = 0; k < raw_len; ++k) {
        unsigned char c = p[start + k];
        s.token[k] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      }
    } else {
      // Folding shrinks a code point at most 4x in bytes, so longer runs can never fit.
      if (raw_len > 4 * max_bytes) return;
      if (!FoldUnicode(std::string_view(text.data() + start, raw_len), s)) return;
      if (s.token.size() > max_bytes || s.token.empty()) return;
    }
    std::string_view term = s.token;
    if (options_.stopwords && IsStopWord(term)) return;
    // Porter's rules only touch ASCII letters: terms without one (numbers, CJK) come back unchanged.
    if (options_.stem && HasAsciiLetter(term)) {
      StemCache::Slot* slot = nullptr;
      if (term.size() <= StemCache::kMaxLen) {
        slot = &s.stem_cache.Find(term);
        if (StemCache::Matches(*slot, term)) {
          emit(ctx, std::string_view(slot->stem, slot->stem_len));
          return;
        }
      }
      sb_stemmer* st = s.Stemmer();
      const sb_symbol* out =
          sb_stemmer_stem(st, reinterpret_cast<const sb_symbol*>(term.data()), static_cast<int>(term.size()));
      if (out == nullptr) throw std::bad_alloc();
      term = std::string_view(reinterpret_cast<const char*>(out), static_cast<size_t>(sb_stemmer_length(st)));
      if (slot != nullptr && term.size() <= StemCache::kMaxLen) {
        // Porter never lengthens a word, but the check keeps the cache safe if that ever changes.
        slot->key_len = static_cast<uint8_t>(s.token.size());
        std::memcpy(slot->key, s.token.data(), s.token.size());
        slot->stem_len = static_cast<uint8_t>(term.size());
        std::memcpy(slot->stem, term.data(), term.size());
      }
    }
    emit(ctx, term);
  };

  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    size_t len = 1;
    if (c < 0x80) {
      if (!kAsciiWord[c]) {
        ++i;
        continue;
      }
    } else {
      CharClass cls = Classify(DecodeAt(p, n, i, &len));
      if (cls == CharClass::kSeparator || cls == CharClass::kMark) {
        i += len;
        continue;
      }
      if (cls == CharClass::kSingle) {
        // The character plus any marks that follow it (e.g. dakuten) forms the token.
        size_t start = i;
        i += len;
        while (i < n && p[i] >= 0x80) {
          size_t l2;
          if (Classify(DecodeAt(p, n, i, &l2)) != CharClass::kMark) break;
          i += l2;
        }
        finish(start, i, false);
        continue;
      }
    }
    // A word starts at i: extend over letters, digits and marks.
    const size_t start = i;
    bool ascii = c < 0x80;
    i += len;
    while (i < n) {
      c = p[i];
      if (c < 0x80) {
        if (!kAsciiWord[c]) break;
        ++i;
        continue;
      }
      CharClass cls = Classify(DecodeAt(p, n, i, &len));
      if (cls != CharClass::kWord && cls != CharClass::kMark) break;
      ascii = false;
      i += len;
    }
    finish(start, i, ascii);
  }
}

void Analyzer::Analyze(std::string_view text, std::vector<std::string>& out) const {
  ForEachTerm(text, [&out](std::string_view term) { out.emplace_back(term); });
}

std::vector<std::string> Analyzer::Analyze(std::string_view text) const {
  std::vector<std::string> out;
  Analyze(text, out);
  return out;
}

std::string Analyzer::Signature() const {
  std::string sig = "unicode1+fold";
  if (options_.stopwords) sig += "+stop";
  if (options_.stem) sig += "+porter";
  sig += "+max" + std::to_string(options_.max_token_bytes);
  return sig;
}

}  // namespace rlm
