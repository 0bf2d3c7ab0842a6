#include "index/bm25.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"

namespace rlm {
namespace {

using Terms = std::vector<std::string>;

// Whitespace-separated lowercase words analyse to themselves with this analyzer, so the brute-force
// scorer below can work on the raw words.
Analyzer PlainAnalyzer() {
  return Analyzer(AnalyzerOptions{.stem = false, .stopwords = false});
}

Bm25Index Build(const std::vector<std::string>& docs, const Analyzer& analyzer = PlainAnalyzer()) {
  Bm25Builder builder(analyzer);
  std::vector<std::string_view> views(docs.begin(), docs.end());
  builder.AddBatch(views);
  return builder.Finish();
}

Terms Split(const std::string& text) {
  Terms out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(' ', i);
    if (j == std::string::npos) j = text.size();
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// An independent, straightforward BM25: doubles, no index, the header's formula term by term.
std::vector<double> BruteForceScores(const std::vector<std::string>& docs, const Terms& query, double k1,
                                     double b) {
  std::vector<Terms> words;
  double total = 0;
  for (const std::string& d : docs) {
    words.push_back(Split(d));
    total += static_cast<double>(words.back().size());
  }
  const double n = static_cast<double>(docs.size());
  const double avgdl = n > 0 ? total / n : 0;
  std::vector<double> scores(docs.size(), 0.0);
  for (const std::string& t : query) {
    double df = 0;
    for (const Terms& w : words) df += std::count(w.begin(), w.end(), t) > 0 ? 1 : 0;
    if (df == 0) continue;
    const double idf = std::log(1 + (n - df + 0.5) / (df + 0.5));
    for (size_t d = 0; d < docs.size(); ++d) {
      const double tf = static_cast<double>(std::count(words[d].begin(), words[d].end(), t));
      if (tf == 0) continue;
      const double dl = static_cast<double>(words[d].size());
      scores[d] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl));
    }
  }
  return scores;
}

TEST(Bm25, MatchesTheFormulaOnATinyCorpus) {
  const std::vector<std::string> docs = {"apple banana cherry", "apple apple durian", "elder", ""};
  Bm25Index index = Build(docs);
  EXPECT_EQ(index.num_docs(), 4u);
  EXPECT_EQ(index.num_terms(), 5u);
  EXPECT_DOUBLE_EQ(index.avg_doc_length(), 7.0 / 4.0);
  EXPECT_EQ(index.DocFreq("apple"), 2u);
  EXPECT_EQ(index.DocFreq("zebra"), 0u);

  // Worked by hand: N = 4, df(apple) = 2, avgdl = 7/4.
  const double k1 = 1.2, b = 0.75, avgdl = 7.0 / 4.0;
  const double idf = std::log(1 + (4 - 2 + 0.5) / (2 + 0.5));
  const double d0 = idf * 1 * (k1 + 1) / (1 + k1 * (1 - b + b * 3 / avgdl));
  const double d1 = idf * 2 * (k1 + 1) / (2 + k1 * (1 - b + b * 3 / avgdl));
  std::vector<ScoredDoc> hits = index.Search(Terms{"apple"}, 10, Bm25Params{k1, b});
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].doc, 1u);
  EXPECT_NEAR(hits[0].score, d1, 1e-6 * d1);
  EXPECT_EQ(hits[1].doc, 0u);
  EXPECT_NEAR(hits[1].score, d0, 1e-6 * d0);

  // A repeated query term counts again.
  std::vector<ScoredDoc> twice = index.Search(Terms{"apple", "apple"}, 10, Bm25Params{k1, b});
  ASSERT_EQ(twice.size(), 2u);
  EXPECT_NEAR(twice[0].score, 2 * d1, 2e-6 * d1);

  // Other parameters at query time, on the same index.
  const double k1b = 0.9, bb = 0.4;
  const double d1b = idf * 2 * (k1b + 1) / (2 + k1b * (1 - bb + bb * 3 / avgdl));
  EXPECT_NEAR(index.Search(Terms{"apple"}, 1, Bm25Params{k1b, bb})[0].score, d1b, 1e-6 * d1b);
}

TEST(Bm25, UsesTheSharedAnalyzer) {
  Analyzer analyzer;  // stop words + Porter
  Bm25Index index = Build({"The runner was running", "Connections connected", "nothing here"}, analyzer);
  EXPECT_EQ(index.DocFreq("run"), 1u);
  EXPECT_EQ(index.DocFreq("connect"), 1u);
  EXPECT_EQ(index.DocFreq("the"), 0u);
  std::vector<ScoredDoc> hits = index.Search(analyzer.Analyze("RUNS"), 10, {});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].doc, 0u);
}

TEST(Bm25, EdgeCases) {
  Bm25Index index = Build({"a b", "b c", "c d"});
  EXPECT_TRUE(index.Search(Terms{}, 10, {}).empty());
  EXPECT_TRUE(index.Search(Terms{"zzz"}, 10, {}).empty());
  EXPECT_TRUE(index.Search(Terms{"b"}, 0, {}).empty());
  EXPECT_EQ(index.Search(Terms{"b"}, 1000, {}).size(), 2u);  // k larger than the matches
  EXPECT_THROW(index.Search(Terms{"b"}, 10, Bm25Params{1.2, 1.5}), InvalidInput);
  EXPECT_THROW(index.Search(Terms{"b"}, 10, Bm25Params{-1, 0.75}), InvalidInput);
  EXPECT_THROW(index.Search(Terms{"b"}, 10, Bm25Params{NAN, 0.75}), InvalidInput);
  DocFilter wrong_size(2, 1);
  EXPECT_THROW(index.Search(Terms{"b"}, 10, {}, &wrong_size), InvalidInput);

  Bm25Index empty = Build({});
  EXPECT_EQ(empty.num_docs(), 0u);
  EXPECT_TRUE(empty.Search(Terms{"a"}, 10, {}).empty());
  Bm25Index reopened = Bm25Index::Open(empty.Serialize(), true);
  EXPECT_EQ(reopened.num_docs(), 0u);
  EXPECT_EQ(Bm25Index().num_docs(), 0u);

  Bm25Index only_empty_docs = Build({"", "", ""});
  EXPECT_EQ(only_empty_docs.num_docs(), 3u);
  EXPECT_TRUE(only_empty_docs.Search(Terms{"a"}, 10, {}).empty());
}

TEST(Bm25, TiesBreakByDocOrdinal) {
  Bm25Index index = Build({"x y", "z", "x y", "x y", "w", "x y"});
  std::vector<ScoredDoc> hits = index.Search(Terms{"x"}, 3, {});
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].doc, 0u);
  EXPECT_EQ(hits[1].doc, 2u);
  EXPECT_EQ(hits[2].doc, 3u);
  EXPECT_EQ(hits[0].score, hits[2].score);
}

TEST(Bm25, StatsCountTheWork) {
  Bm25Index index = Build({"a b", "b c", "c d", "a"});
  SearchStats stats;
  index.Search(Terms{"a", "c", "q"}, 10, {}, nullptr, &stats);
  EXPECT_EQ(stats.postings_read, 4u);
  EXPECT_EQ(stats.docs_scored, 4u);
}

// Several batches, or one document at a time, give byte-identical images: analysis is parallel, the result
// is not.
TEST(Bm25, BuildIsDeterministic) {
  std::mt19937 rng(11);
  std::vector<std::string> docs;
  for (int i = 0; i < 500; ++i) {
    std::string d;
    for (int j = 0, n = static_cast<int>(rng() % 30); j < n; ++j)
      d += "w" + std::to_string(rng() % 200) + " ";
    docs.push_back(d);
  }
  const std::string one_batch = Build(docs).Serialize();
  Bm25Builder builder(PlainAnalyzer());
  for (size_t i = 0; i < docs.size();) {
    const size_t n = std::min<size_t>(docs.size() - i, 1 + rng() % 40);
    std::vector<std::string_view> views(docs.begin() + i, docs.begin() + i + n);
    builder.AddBatch(views);
    i += n;
  }
  EXPECT_EQ(builder.num_docs(), docs.size());
  EXPECT_EQ(builder.Finish().Serialize(), one_batch);
  EXPECT_EQ(builder.num_docs(), 0u);  // reset by Finish
}

struct RandomCorpus {
  std::vector<std::string> docs;
  std::vector<std::string> vocab;
};

RandomCorpus MakeCorpus(std::mt19937& rng, int num_docs, int vocab_size) {
  RandomCorpus c;
  for (int i = 0; i < vocab_size; ++i) {
    std::string w;
    for (int j = 0, n = 1 + i % 4; j < n; ++j) w.push_back(static_cast<char>('a' + (i * 7 + j * 3) % 26));
    c.vocab.push_back(w + std::to_string(i));
  }
  // Skewed word choice, so some terms are in most documents and some in one.
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < num_docs; ++i) {
    std::string d;
    for (int j = 0, n = static_cast<int>(rng() % 25); j < n; ++j) {
      d += c.vocab[static_cast<size_t>(vocab_size * std::pow(u(rng), 3))] + " ";
    }
    c.docs.push_back(d);
  }
  return c;
}

// Checks `hits` against brute-force scores: the right number of results, scores equal up to float
// rounding, RanksBefore order, every allowed positive document ranked above the cut is present.
void ExpectMatchesBruteForce(const std::vector<ScoredDoc>& hits, const std::vector<double>& expected,
                             size_t k, const DocFilter* filter) {
  size_t positive = 0;
  for (size_t d = 0; d < expected.size(); ++d) {
    if (expected[d] > 0 && (filter == nullptr || (*filter)[d])) ++positive;
  }
  ASSERT_EQ(hits.size(), std::min(k, positive));
  for (size_t i = 0; i < hits.size(); ++i) {
    ASSERT_LT(hits[i].doc, expected.size());
    if (filter != nullptr) {
      EXPECT_TRUE((*filter)[hits[i].doc]);
    }
    EXPECT_NEAR(hits[i].score, expected[hits[i].doc], 1e-5 * expected[hits[i].doc]);
    if (i > 0) {
      EXPECT_TRUE(RanksBefore(hits[i - 1], hits[i]));
    }
  }
  if (hits.empty()) return;
  const double cut = hits.back().score;
  std::vector<bool> returned(expected.size(), false);
  for (const ScoredDoc& h : hits) returned[h.doc] = true;
  for (size_t d = 0; d < expected.size(); ++d) {
    if (returned[d] || (filter != nullptr && !(*filter)[d])) continue;
    EXPECT_LE(expected[d], cut * (1 + 1e-5)) << "doc " << d << " missing from the top " << k;
  }
}

TEST(Bm25, AgreesWithBruteForceOnRandomCorpora) {
  std::mt19937 rng(42);
  for (int corpus = 0; corpus < 4; ++corpus) {
    RandomCorpus c = MakeCorpus(rng, 50 + corpus * 120, 20 + corpus * 40);
    Bm25Index built = Build(c.docs);
    const std::string image = built.Serialize();
    Bm25Index opened = Bm25Index::Open(image, true);
    for (int q = 0; q < 60; ++q) {
      Terms query;
      for (int j = 0, n = 1 + static_cast<int>(rng() % 6); j < n; ++j) {
        query.push_back(rng() % 10 == 0 ? "unknown" : c.vocab[rng() % c.vocab.size()]);
      }
      const size_t k = std::vector<size_t>{1, 3, 10, 100000}[rng() % 4];
      const Bm25Params params =
          std::vector<Bm25Params>{{1.2, 0.75}, {0.9, 0.4}, {2.0, 1.0}, {0, 0}}[rng() % 4];
      const std::vector<double> expected = BruteForceScores(c.docs, query, params.k1, params.b);

      std::vector<ScoredDoc> hits = built.Search(query, k, params);
      ExpectMatchesBruteForce(hits, expected, k, nullptr);
      EXPECT_EQ(opened.Search(query, k, params), hits);  // the round trip searches identically

      // A filter applies before ranking: the filtered top k is exactly the allowed prefix of the full
      // ranking.
      DocFilter filter(c.docs.size());
      for (auto& f : filter) f = static_cast<uint8_t>(rng() % 3 == 0 ? 0 : 1 + rng() % 255);
      std::vector<ScoredDoc> filtered = opened.Search(query, k, params, &filter);
      ExpectMatchesBruteForce(filtered, expected, k, &filter);
      std::vector<ScoredDoc> allowed_prefix;
      for (const ScoredDoc& h : opened.Search(query, c.docs.size(), params)) {
        if (filter[h.doc] != 0 && allowed_prefix.size() < k) allowed_prefix.push_back(h);
      }
      EXPECT_EQ(filtered, allowed_prefix);
    }
  }
}

TEST(Bm25, OpenWorksOnAMisalignedCopy) {
  Bm25Index index = Build({"a b", "b c"});
  const std::string image = index.Serialize();
  std::string shifted = " " + image;
  Bm25Index opened = Bm25Index::Open(std::string_view(shifted).substr(1), true);
  EXPECT_EQ(opened.Search(Terms{"b"}, 10, {}), index.Search(Terms{"b"}, 10, {}));
}

TEST(Bm25, RejectsEveryTruncation) {
  const std::string image = Build({"alpha beta", "beta gamma gamma", "delta", ""}).Serialize();
  for (size_t len = 0; len < image.size(); ++len) {
    const std::string cut = image.substr(0, len);
    EXPECT_THROW(Bm25Index::Open(cut), InvalidInput) << "length " << len;
  }
  std::string longer = image + std::string(8, '\0');
  EXPECT_THROW(Bm25Index::Open(longer), InvalidInput);
  std::string bad_version = image;
  bad_version[8] = 2;
  EXPECT_THROW(Bm25Index::Open(bad_version), InvalidInput);
}

// Any changed byte is caught by the checksum when asked; without it, a corrupt image may open, but every
// search either answers with valid ordinals or throws InvalidInput (run under ASan to see no stray read).
TEST(Bm25, CorruptImagesThrowAndNeverCrash) {
  const std::vector<std::string> docs = {"alpha beta", "beta gamma gamma", "delta alpha", "", "epsilon"};
  const std::string image = Build(docs).Serialize();
  const std::vector<Terms> queries = {{"alpha"}, {"beta", "gamma"}, {"delta", "epsilon", "alpha"}, {"zeta"}};
  auto probe = [&](const std::string& corrupt, bool must_throw_on_verify) {
    if (must_throw_on_verify) {
      EXPECT_THROW(Bm25Index::Open(corrupt, true), InvalidInput);
    }
    try {
      Bm25Index index = Bm25Index::Open(corrupt);
      for (const Terms& q : queries) {
        try {
          for (const ScoredDoc& h : index.Search(q, 10, {})) ASSERT_LT(h.doc, index.num_docs());
          DocFilter all(index.num_docs(), 1);
          index.Search(q, 3, {}, &all);
        } catch (const InvalidInput&) {
        }
      }
    } catch (const InvalidInput&) {
    }
  };
  for (size_t pos = 0; pos < image.size(); ++pos) {
    for (unsigned char mask : {0x01, 0x80, 0xFF}) {
      std::string corrupt = image;
      corrupt[pos] = static_cast<char>(corrupt[pos] ^ mask);
      probe(corrupt, true);
    }
  }
  std::mt19937 rng(5);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string corrupt = image;
    for (int f = 0, n = 1 + static_cast<int>(rng() % 4); f < n; ++f) {
      corrupt[rng() % corrupt.size()] = static_cast<char>(rng());
    }
    probe(corrupt, corrupt != image);
  }
}

}  // namespace
}  // namespace rlm
