// The one analyzer of the project: every BM25 use (index build, query, evaluation) turns text into terms
// here. Tokens are maximal runs of Unicode letters and digits (general categories L*, N*, plus combining
// marks M* inside a word); they are case-folded (utf8proc, full Unicode folding), then optionally dropped
// as English stop words and optionally Porter-stemmed (Snowball's original Porter algorithm).
// Thread-safe: Analyze may be called concurrently on one instance.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rlm {

struct AnalyzerOptions {
  bool stem = true;        // Porter stemming
  bool stopwords = true;   // drop English stop words (Lucene's English list)
  size_t max_token_bytes = 64;  // longer tokens are dropped (hashes, base64 runs)
  bool operator==(const AnalyzerOptions&) const = default;
};

class Analyzer {
 public:
  explicit Analyzer(AnalyzerOptions options = {});
  ~Analyzer();
  const AnalyzerOptions& options() const { return options_; }
  // Appends the terms of `text` to `out` in order of appearance (duplicates kept).
  void Analyze(std::string_view text, std::vector<std::string>& out) const;
  std::vector<std::string> Analyze(std::string_view text) const;
  // A short stable description, e.g. "unicode+fold+stop+porter"; part of index fingerprints.
  std::string Signature() const;

 private:
  AnalyzerOptions options_;
};

}  // namespace rlm
