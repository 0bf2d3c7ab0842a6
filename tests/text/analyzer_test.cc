#include "text/analyzer.h"

#include <gtest/gtest.h>
#include <libstemmer.h>
#include <oneapi/tbb/parallel_for.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"

namespace rlm {
namespace {

using Terms = std::vector<std::string>;

// Tokenization and folding only.
Analyzer Plain(size_t max_token_bytes = 64) {
  return Analyzer(AnalyzerOptions{.stem = false, .stopwords = false, .max_token_bytes = max_token_bytes});
}

TEST(Analyzer, FoldsAsciiCase) {
  EXPECT_EQ(Plain().Analyze("Hello WORLD hElLo"), (Terms{"hello", "world", "hello"}));
}

TEST(Analyzer, FoldsUnicodeCaseFully) {
  EXPECT_EQ(Plain().Analyze("ÉCOLE École"), (Terms{"école", "école"}));
  // Full case folding (not lowercasing): ß folds to "ss", so both spellings meet.
  EXPECT_EQ(Plain().Analyze("Straße STRASSE"), (Terms{"strasse", "strasse"}));
  // Final and medial sigma fold to the same letter.
  EXPECT_EQ(Plain().Analyze("ΟΔΟΣ οδος"), (Terms{"οδοσ", "οδοσ"}));
  EXPECT_EQ(Plain().Analyze("ÇA ÑANDÚ"), (Terms{"ça", "ñandú"}));
}

TEST(Analyzer, ComposesToNfc) {
  // "e" + COMBINING ACUTE ACCENT is the same term as the precomposed "é".
  EXPECT_EQ(Plain().Analyze("e\u0301cole"), (Terms{"école"}));
}

TEST(Analyzer, CombiningMarksStayInsideWords) {
  // Devanagari vowel signs are combining marks (Mc/Mn): the word stays whole.
  EXPECT_EQ(Plain().Analyze("हिन्दी भाषा"), (Terms{"हिन्दी", "भाषा"}));
  // A mark with no letter before it is dropped.
  EXPECT_EQ(Plain().Analyze("\u0301abc \u0301"), (Terms{"abc"}));
}

TEST(Analyzer, HanAndHiraganaAreOneTokenPerCharacter) {
  EXPECT_EQ(Plain().Analyze("中文字"), (Terms{"中", "文", "字"}));
  EXPECT_EQ(Plain().Analyze("ひらがな"), (Terms{"ひ", "ら", "が", "な"}));
  // Katakana (with the prolonged sound mark) and Hangul runs stay words; Han splits from Latin.
  EXPECT_EQ(Plain().Analyze("東京タワー 한국어 abc中def"),
            (Terms{"東", "京", "タワー", "한국어", "abc", "中", "def"}));
}

TEST(Analyzer, EmojiAndSymbolsSeparateAndVanish) {
  EXPECT_EQ(Plain().Analyze("I ❤️ pizza 😀"), (Terms{"i", "pizza"}));
  EXPECT_EQ(Plain().Analyze("a😀b"), (Terms{"a", "b"}));
  EXPECT_EQ(Plain().Analyze("👍🏽 ™ © → ∑"), Terms{});
}

TEST(Analyzer, DigitsAndPunctuation) {
  EXPECT_EQ(Plain().Analyze("COVID-19 3.14 x2 ½ ٣"), (Terms{"covid", "19", "3", "14", "x2", "½", "٣"}));
  EXPECT_EQ(Plain().Analyze("snake_case foo-bar it's e-mail"),
            (Terms{"snake", "case", "foo", "bar", "it", "s", "e", "mail"}));
  EXPECT_EQ(Plain().Analyze(""), Terms{});
  EXPECT_EQ(Plain().Analyze(" \t\n.,;"), Terms{});
}

TEST(Analyzer, StopWordsOnAndOff) {
  Analyzer with(AnalyzerOptions{.stem = false, .stopwords = true});
  Analyzer without(AnalyzerOptions{.stem = false, .stopwords = false});
  EXPECT_EQ(with.Analyze("The cat AND the hat"), (Terms{"cat", "hat"}));
  EXPECT_EQ(without.Analyze("The cat AND the hat"), (Terms{"the", "cat", "and", "the", "hat"}));
  // Lucene's list exactly: all 33 go, near misses stay.
  const std::string lucene =
      "a an and are as at be but by for if in into is it no not of on or such that the their then there "
      "these they this to was will with";
  EXPECT_EQ(with.Analyze(lucene), Terms{});
  EXPECT_EQ(without.Analyze(lucene).size(), 33u);
  EXPECT_EQ(with.Analyze("i me we those them"), (Terms{"i", "me", "we", "those", "them"}));
}

TEST(Analyzer, PorterStems) {
  Analyzer a;  // defaults: stop words and stemming
  EXPECT_EQ(a.Analyze("running connections"), (Terms{"run", "connect"}));
  EXPECT_EQ(a.Analyze("Caresses ponies relational generalizations"),
            (Terms{"caress", "poni", "relat", "gener"}));
  // Stop words are checked before stemming: "this" is dropped, "thi" never appears.
  EXPECT_EQ(a.Analyze("this is"), Terms{});
  // Numbers pass through.
  EXPECT_EQ(a.Analyze("2019 1990s"), (Terms{"2019", "1990"}));
}

// The stem cache must be invisible: every result equals Snowball's answer, for words longer and shorter
// than the cache's key limit, repeated, and on several threads.
TEST(Analyzer, StemCacheAgreesWithSnowball) {
  std::mt19937 rng(7);
  const std::string suffixes[] = {"", "s", "ing", "ed", "ational", "ness", "ies", "ly", "ization", "ful"};
  std::vector<std::string> words;
  for (int i = 0; i < 3000; ++i) {
    std::string w;
    const int len = 1 + static_cast<int>(rng() % 30);
    for (int j = 0; j < len; ++j) w.push_back(static_cast<char>('a' + rng() % 26));
    words.push_back(w + suffixes[rng() % 10]);
  }
  sb_stemmer* st = sb_stemmer_new("porter", "UTF_8");
  ASSERT_NE(st, nullptr);
  std::vector<std::string> expected;
  std::string text;
  Analyzer stop_only(AnalyzerOptions{.stem = false, .stopwords = true});
  for (const std::string& w : words) {
    if (stop_only.Analyze(w).empty()) continue;  // a random stop word
    const sb_symbol* out =
        sb_stemmer_stem(st, reinterpret_cast<const sb_symbol*>(w.data()), static_cast<int>(w.size()));
    expected.emplace_back(reinterpret_cast<const char*>(out), sb_stemmer_length(st));
    text += w + " ";
  }
  sb_stemmer_delete(st);
  Analyzer a;
  for (int round = 0; round < 3; ++round) EXPECT_EQ(a.Analyze(text), expected);
  std::vector<Terms> per_task(8);
  tbb::parallel_for(0, 8, [&](int i) { per_task[i] = a.Analyze(text); });
  for (const Terms& t : per_task) EXPECT_EQ(t, expected);
}

TEST(Analyzer, MaxTokenBytesAppliesToTheFoldedToken) {
  EXPECT_EQ(Plain(5).Analyze("abcde abcdef ABCDEFGH"), (Terms{"abcde"}));
  EXPECT_EQ(Plain(6).Analyze("ééé éééé"), (Terms{"ééé"}));  // 6 and 8 bytes
  EXPECT_EQ(Plain(5).Analyze("ééé"), Terms{});
  // KELVIN SIGN is 3 bytes and folds to the 1-byte "k".
  EXPECT_EQ(Plain(1).Analyze("\u212A"), (Terms{"k"}));
  // The default drops long hashes and base64 runs.
  Analyzer a;
  EXPECT_EQ(a.Analyze(std::string(65, 'x') + " ok " + std::string(64, 'z')),
            (Terms{"ok", std::string(64, 'z')}));
  EXPECT_THROW(Plain(0), InvalidInput);
}

TEST(Analyzer, InvalidUtf8NeverCrashes) {
  EXPECT_EQ(Plain().Analyze("\xFF\xFE"
                            "abc\xC3"),
            (Terms{"abc"}));
  EXPECT_EQ(Plain().Analyze("x\xE2\x82y"), (Terms{"x", "y"}));
  std::mt19937 rng(3);
  for (int i = 0; i < 200; ++i) {
    std::string junk(1 + rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    Analyzer().Analyze(junk);
  }
}

TEST(Analyzer, AppendsAndVisitsTheSameTerms) {
  Analyzer a;
  Terms out{"keep"};
  a.Analyze("Running dogs", out);
  EXPECT_EQ(out, (Terms{"keep", "run", "dog"}));
  Terms visited;
  a.ForEachTerm("Running dogs", [&](std::string_view t) { visited.emplace_back(t); });
  EXPECT_EQ(visited, (Terms{"run", "dog"}));
}

TEST(Analyzer, Signature) {
  EXPECT_EQ(Analyzer().Signature(), "unicode1+fold+stop+porter+max64");
  EXPECT_EQ(Plain(32).Signature(), "unicode1+fold+max32");
  EXPECT_NE(Analyzer(AnalyzerOptions{.stem = false}).Signature(), Analyzer().Signature());
}

}  // namespace
}  // namespace rlm
