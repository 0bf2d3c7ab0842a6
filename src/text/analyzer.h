// The one analyzer of the project: every BM25 use (index build, query, evaluation) turns text into terms
// here. Tokens are maximal runs of Unicode letters and digits (general categories L*, N*, plus combining
// marks M* inside a word); they are case-folded (utf8proc, full Unicode folding, NFC-composed), then
// optionally dropped as English stop words and optionally Porter-stemmed (Snowball's original Porter
// algorithm).
//
// Details a caller can rely on:
// - Han ideographs and Hiragana are one token per character (as Lucene's StandardTokenizer does), so
//   Chinese/Japanese text without spaces still yields terms; Katakana and Hangul runs stay whole words.
// - Everything else (punctuation, '_', symbols and emoji, format characters) separates tokens and is never
//   a term. A combining mark with no letter or digit before it is dropped.
// - The stop list is Lucene's EnglishAnalyzer list (33 words: a an and are as at be but by for if in into
//   is it no not of on or such that the their then there these they this to was will with), checked after
//   folding and before stemming.
// - max_token_bytes applies to the folded token (before stemming); longer tokens are dropped, not cut.
// - Input must be valid UTF-8 (checked upstream); on invalid bytes the analyzer does not crash and treats
//   them as separators.
// Thread-safe: Analyze may be called concurrently on one instance (each thread keeps its own stemmer).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace rlm {

struct AnalyzerOptions {
  bool stem = true;             // Porter stemming
  bool stopwords = true;        // drop English stop words (Lucene's English list)
  size_t max_token_bytes = 64;  // longer tokens are dropped (hashes, base64 runs); must be >= 1
  bool operator==(const AnalyzerOptions&) const = default;
};

class Analyzer {
 public:
  // Throws InvalidInput when max_token_bytes is 0.
  explicit Analyzer(AnalyzerOptions options = {});
  ~Analyzer();
  Analyzer(const Analyzer&) = default;
  Analyzer& operator=(const Analyzer&) = default;
  const AnalyzerOptions& options() const { return options_; }
  // Appends the terms of `text` to `out` in order of appearance (duplicates kept).
  void Analyze(std::string_view text, std::vector<std::string>& out) const;
  std::vector<std::string> Analyze(std::string_view text) const;

  // Calls emit(std::string_view term) for each term, in the order and with the content Analyze produces.
  // The view points into per-thread scratch memory and is valid only during the call: no heap allocation
  // per term, which is what the BM25 builder and the hash embedder need.
  template <class F>
  void ForEachTerm(std::string_view text, F&& emit) const {
    using Fn = std::remove_reference_t<F>;
    Visit(
        text, [](void* ctx, std::string_view term) { (*static_cast<Fn*>(ctx))(term); },
        const_cast<void*>(static_cast<const void*>(&emit)));
  }

  // A short stable description, e.g. "unicode1+fold+stop+porter+max64"; part of index fingerprints. The
  // leading version changes whenever tokenization rules change, so stale indexes are rebuilt.
  std::string Signature() const;

 private:
  using TermCallback = void (*)(void* ctx, std::string_view term);
  void Visit(std::string_view text, TermCallback emit, void* ctx) const;

  AnalyzerOptions options_;
};

}  // namespace rlm
