// gen_text: writes deterministic English-like text of an exact byte size, for the load and search
// benchmarks (bench/load.sh, bench/search.sh). Not a test fixture: only its statistics matter.
//
// The text has a Zipf-distributed vocabulary (common English words plus ~20k made-up words built from
// syllables), sentences of 4-30 words with commas and end punctuation, paragraphs of 1-9 sentences wrapped
// at about 76 columns and separated by blank lines, occasional chapter headings, and about 1.5% of words
// containing multi-byte UTF-8 (Latin accents, Greek, Cyrillic, CJK, emoji). Output is valid UTF-8 and
// exactly BYTES long (the tail is padded with newlines); the same seed gives the same bytes.
//
// Usage: gen_text BYTES [--seed N] [-o FILE]   (stdout when -o is absent)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

// splitmix64: fast, good enough for text statistics, identical on every platform.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }
};

constexpr const char* kCommon[] = {
    "the", "of", "and", "to", "a", "in", "that", "is", "was", "he", "for", "it", "with", "as", "his", "on",
    "be", "at", "by", "had", "not", "are", "but", "from", "or", "have", "an", "they", "which", "one", "you",
    "were", "her", "all", "she", "there", "would", "their", "we", "him", "been", "has", "when", "who", "will",
    "more", "no", "if", "out", "so", "said", "what", "up", "its", "about", "into", "than", "them", "can",
    "only", "other", "new", "some", "could", "time", "these", "two", "may", "then", "do", "first", "any", "my",
    "now", "such", "like", "our", "over", "man", "me", "even", "most", "made", "after", "also", "did", "many",
    "before", "must", "through", "back", "years", "where", "much", "your", "way", "well", "down", "should",
    "because", "each", "just", "those", "people", "how", "too", "little", "state", "good", "very", "make",
    "world", "still", "own", "see", "men", "work", "long", "get", "here", "between", "both", "life", "being",
    "under", "never", "day", "same", "another", "know", "while", "last", "might", "us", "great", "old", "year",
    "off", "come", "since", "against", "go", "came", "right", "used", "take", "three", "house", "water",
    "river", "ship", "city", "letter", "window", "garden", "memory", "function", "value", "buffer", "system",
    "error", "file", "search", "index", "question", "answer", "history", "mountain", "winter", "morning",
    "evening", "silence", "voice", "light", "darkness", "journey", "market", "village", "harbour", "engine"};

// Words carrying multi-byte UTF-8: 2-, 3- and 4-byte sequences, precomposed and combining forms.
constexpr const char* kMultiByte[] = {
    "café", "naïve", "façade", "Straße", "Ångström", "résumé", "Zürich", "São", "coöperate", "déjà",
    "señor", "smörgåsbord", "Dvořák", "Łódź", "crème", "Ελλάδα", "λόγος", "Москва", "мир", "東京", "データ",
    "北京", "한국어", "עברית", "العربية", "🙂", "🚀", "naïvely", "e\u0301te\u0301", "—", "“quoted”", "½"};

constexpr const char* kOnsets[] = {"b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s",
                                   "t", "v", "w", "br", "cr", "dr", "fl", "gr", "pl", "st", "tr", "th",
                                   "sh", "ch", "qu", "sp", ""};
constexpr const char* kVowels[] = {"a", "e", "i", "o", "u", "ea", "ou", "io", "ai", "y"};
constexpr const char* kCodas[] = {"", "", "n", "r", "s", "t", "l", "m", "nd", "st", "ng", "ck", "rn", "x"};

template <class T, size_t N>
const char* Pick(Rng& rng, const T (&arr)[N]) {
  return arr[rng.Below(N)];
}

class TextGenerator {
 public:
  explicit TextGenerator(uint64_t seed) : rng_{seed} {
    for (const char* w : kCommon) words_.emplace_back(w);
    while (words_.size() < 20000) {
      std::string w;
      const size_t roll = rng_.Below(10);  // 1, 2 or 3 syllables (40/40/20%)
      int syllables = roll < 4 ? 1 : roll < 8 ? 2 : 3;
      for (int i = 0; i < syllables; ++i) {
        w += Pick(rng_, kOnsets);
        w += Pick(rng_, kVowels);
        w += Pick(rng_, kCodas);
      }
      if (w.size() >= 2) words_.push_back(std::move(w));
    }
    // Zipf's law with exponent 1.07 over the rank (common words first).
    double total = 0;
    for (size_t r = 0; r < words_.size(); ++r) {
      total += 1.0 / std::pow(static_cast<double>(r + 1), 1.07);
      cumulative_.push_back(total);
    }
    for (double& c : cumulative_) c /= total;
  }

  // Appends one paragraph (or heading) followed by a blank line.
  void Paragraph(std::string& out) {
    if (rng_.Below(40) == 0) {
      out += "CHAPTER " + std::to_string(++chapter_) + ". ";
      Sentence(out, 3, 8);
      out += "\n\n";
      return;
    }
    std::string para;
    int sentences = 1 + static_cast<int>(rng_.Below(9));
    for (int i = 0; i < sentences; ++i) {
      if (i > 0) para += ' ';
      Sentence(para, 4, 30);
    }
    Wrap(para, out);
    out += "\n\n";
  }

 private:
  std::string_view Word() {
    if (rng_.Below(1000) < 15) return Pick(rng_, kMultiByte);
    double u = rng_.Uniform();
    size_t i = static_cast<size_t>(std::lower_bound(cumulative_.begin(), cumulative_.end(), u) - cumulative_.begin());
    return words_[std::min(i, words_.size() - 1)];
  }

  void Sentence(std::string& out, int min_words, int max_words) {
    int n = min_words + static_cast<int>(rng_.Below(static_cast<size_t>(max_words - min_words + 1)));
    for (int i = 0; i < n; ++i) {
      std::string_view w = Word();
      if (i == 0) {
        out += static_cast<char>(w[0] >= 'a' && w[0] <= 'z' ? w[0] - 32 : w[0]);
        out.append(w.substr(1));
      } else {
        out += ' ';
        out.append(w);
      }
      if (i + 1 < n && rng_.Below(12) == 0) out += ',';
    }
    static constexpr char kEnds[] = {'.', '.', '.', '.', '.', '.', '?', '!', ';', ':'};
    out += kEnds[rng_.Below(sizeof kEnds)];
  }

  // Wraps at the last space before column 76 (columns counted in bytes; good enough here).
  static void Wrap(const std::string& para, std::string& out) {
    size_t line_start = 0;
    while (para.size() - line_start > 76) {
      size_t cut = para.rfind(' ', line_start + 76);
      if (cut == std::string::npos || cut <= line_start) cut = para.find(' ', line_start + 76);
      if (cut == std::string::npos) break;
      out.append(para, line_start, cut - line_start);
      out += '\n';
      line_start = cut + 1;
    }
    out.append(para, line_start, std::string::npos);
  }

  Rng rng_;
  std::vector<std::string> words_;
  std::vector<double> cumulative_;
  int chapter_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  unsigned long long bytes = 0;
  uint64_t seed = 42;
  const char* path = nullptr;
  bool have_bytes = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (std::strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
      path = argv[++i];
    } else if (!have_bytes && argv[i][0] != '-') {
      char* end = nullptr;
      bytes = std::strtoull(argv[i], &end, 10);
      have_bytes = *end == '\0';
      if (!have_bytes) break;
    } else {
      have_bytes = false;
      break;
    }
  }
  if (!have_bytes) {
    std::fprintf(stderr, "usage: gen_text BYTES [--seed N] [-o FILE]\n");
    return 2;
  }
  FILE* out = path ? std::fopen(path, "wb") : stdout;
  if (out == nullptr) {
    std::perror(path);
    return 1;
  }
  TextGenerator gen(seed);
  std::string buf;
  unsigned long long written = 0;
  while (written < bytes) {
    buf.clear();
    while (buf.size() < (1u << 20)) gen.Paragraph(buf);
    unsigned long long left = bytes - written;
    if (buf.size() > left) {
      // Cut at a character boundary and pad with newlines to the exact size.
      size_t cut = static_cast<size_t>(left);
      while (cut > 0 && (static_cast<unsigned char>(buf[cut]) & 0xC0) == 0x80) --cut;
      buf.resize(cut);
      buf.append(static_cast<size_t>(left) - cut, '\n');
    }
    if (std::fwrite(buf.data(), 1, buf.size(), out) != buf.size()) {
      std::perror(path ? path : "stdout");
      return 1;
    }
    written += buf.size();
  }
  if (std::fclose(out) != 0) {
    std::perror(path ? path : "stdout");
    return 1;
  }
  return 0;
}
