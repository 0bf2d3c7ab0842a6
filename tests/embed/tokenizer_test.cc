// Tokenizers: ids equal to Hugging Face's on fixtures from three independent sources (llama.cpp's BERT
// test, the JS tokenizer of @huggingface/transformers, python sentencepiece for XLM-R), plus the error
// contract on malformed tokenizer files and the Encode truncation rules.
#include "embed/tokenizer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/file.h"
#include "embed/sentencepiece_tokenizer.h"
#include "embed/wordpiece.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const fs::path kSharedData = fs::path(RLM_SOURCE_DIR "/../shared/data");
const fs::path kMiniLm = kSharedData / "models" / "all-MiniLM-L6-v2";
const fs::path kFixtures = fs::path(RLM_SOURCE_DIR) / "tests" / "fixtures";

std::string IdsText(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += " " + std::to_string(id);
  return s;
}

class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = fs::temp_directory_path() /
            ("rlm-tokenizer-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  void Write(const std::string& name, const std::string& data) const {
    std::ofstream(path_ / name, std::ios::binary) << data;
  }

 private:
  fs::path path_;
};

// ---- A tiny WordPiece tokenizer.json, for the unit tests --------------------------------------------------

Json TinyJson() {
  Json vocab = {{"[PAD]", 0}, {"[UNK]", 1}, {"[CLS]", 2}, {"[SEP]", 3}, {"[MASK]", 4}, {"hello", 5},
                {"world", 6}, {"##s", 7},   {"!", 8},     {"un", 9},    {"##aff", 10}, {"##able", 11},
                {"a", 12},    {"cafe", 13}, {"[", 14},    {"]", 15},    {"mask", 16},  {"##a", 17}};
  Json added = Json::array();
  const char* specials[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  for (int i = 0; i < 5; ++i) {
    added.push_back({{"id", i},
                     {"content", specials[i]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  return {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer",
       {{"type", "BertNormalizer"},
        {"clean_text", true},
        {"handle_chinese_chars", true},
        {"strip_accents", nullptr},
        {"lowercase", true}}},
      {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
      {"post_processor", {{"type", "BertProcessing"}, {"sep", {"[SEP]", 3}}, {"cls", {"[CLS]", 2}}}},
      {"model",
       {{"type", "WordPiece"},
        {"unk_token", "[UNK]"},
        {"continuing_subword_prefix", "##"},
        {"max_input_chars_per_word", 100},
        {"vocab", vocab}}},
  };
}

std::unique_ptr<Tokenizer> Tiny(const Json& j = TinyJson()) {
  return LoadWordPieceFromJson(j.dump(), "tokenizer.json");
}

// Runs `f`, expecting an rlm::Error of `kind` whose message contains every one of `parts`.
template <class F>
void ExpectError(F&& f, ErrorKind kind, std::initializer_list<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << e.what();
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(WordPiece, TokenizesWithGreedyLongestMatch) {
  auto t = Tiny();
  EXPECT_EQ(t->Tokenize("Hello worlds!"), (std::vector<int32_t>{5, 6, 7, 8}));
  EXPECT_EQ(t->Tokenize("unaffable"), (std::vector<int32_t>{9, 10, 11}));
  EXPECT_EQ(t->Tokenize("unaffablex hello"), (std::vector<int32_t>{1, 5}));  // an unmatchable rest: [UNK]
  EXPECT_EQ(t->Tokenize("CAFÉ"), (std::vector<int32_t>{13}));                // lowercase + strip accents
  EXPECT_EQ(t->VocabSize(), 18u);
  EXPECT_EQ(t->PadId(), 0);
  EXPECT_EQ(t->NumSpecialTokens(), 2u);
}

TEST(WordPiece, EmptyTextIsClsSep) {
  auto t = Tiny();
  EXPECT_EQ(t->Encode("", 0).ids, (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(t->Encode(" \t\n\u200b", 8).ids, (std::vector<int32_t>{2, 3}));
}

TEST(WordPiece, EncodeTruncatesAndCounts) {
  auto t = Tiny();
  Encoding full = t->Encode("hello world hello world", 0);
  EXPECT_EQ(full.ids, (std::vector<int32_t>{2, 5, 6, 5, 6, 3}));
  EXPECT_EQ(full.truncated, 0u);
  Encoding cut = t->Encode("hello world hello world", 4);
  EXPECT_EQ(cut.ids, (std::vector<int32_t>{2, 5, 6, 3}));
  EXPECT_EQ(cut.truncated, 2u);
  Encoding exact = t->Encode("hello world hello world", 6);
  EXPECT_EQ(exact.ids.size(), 6u);
  EXPECT_EQ(exact.truncated, 0u);
  Encoding only_specials = t->Encode("hello world", 2);
  EXPECT_EQ(only_specials.ids, (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(only_specials.truncated, 2u);
}

TEST(WordPiece, MaxLengthSmallerThanSpecialsIsInvalid) {
  auto t = Tiny();
  ExpectError([&] { t->Encode("hello", 1); }, ErrorKind::kInvalidInput, {"max_length 1"});
}

TEST(WordPiece, InvalidUtf8IsInvalidInput) {
  auto t = Tiny();
  ExpectError([&] { t->Tokenize("hello \xff world"); }, ErrorKind::kInvalidInput, {"UTF-8", "byte 6"});
  ExpectError([&] { t->Tokenize("\xed\xa0\x80"); }, ErrorKind::kInvalidInput, {"UTF-8"});  // a surrogate
}

TEST(WordPiece, LiteralSpecialTokensBeforeNormalization) {
  auto t = Tiny();
  EXPECT_EQ(t->Tokenize("hello [MASK] world"), (std::vector<int32_t>{5, 4, 6}));
  EXPECT_EQ(t->Tokenize("a[MASK]a"), (std::vector<int32_t>{12, 4, 12}));
  // Case-sensitive, because they are matched before lowercasing.
  EXPECT_EQ(t->Tokenize("[mask]"), (std::vector<int32_t>{14, 16, 15}));
}

TEST(WordPiece, AddedTokenFlagsFollowTokenizers) {
  Json j = TinyJson();
  j["added_tokens"].push_back({{"id", 18},
                               {"content", "<X>"},
                               {"single_word", true},
                               {"lstrip", false},
                               {"rstrip", false},
                               {"normalized", false},
                               {"special", false}});
  j["added_tokens"].push_back({{"id", 19},
                               {"content", "Hello!"},
                               {"single_word", false},
                               {"lstrip", false},
                               {"rstrip", false},
                               {"normalized", true},
                               {"special", false}});
  auto t = Tiny(j);
  EXPECT_EQ(t->VocabSize(), 20u);
  EXPECT_EQ(t->Tokenize("a <X> a"), (std::vector<int32_t>{12, 18, 12}));
  EXPECT_EQ(t->Tokenize("a<X>a"), (std::vector<int32_t>{12, 1, 1, 1, 12}));  // not a single word: < x >
  // A normalized token is matched on the normalized text, so case does not matter.
  EXPECT_EQ(t->Tokenize("HELLO! world"), (std::vector<int32_t>{19, 6}));
}

TEST(WordPiece, LongWordsAreUnknown) {
  Json j = TinyJson();
  j["model"]["max_input_chars_per_word"] = 4;
  auto t = Tiny(j);
  EXPECT_EQ(t->Tokenize("cafe"), (std::vector<int32_t>{13}));
  EXPECT_EQ(t->Tokenize("hello"), (std::vector<int32_t>{1}));
}

TEST(WordPiece, FingerprintCoversVocabularyAndFlags) {
  Json j = TinyJson();
  std::string a = Tiny(j)->Fingerprint();
  EXPECT_EQ(a.rfind("wordpiece:", 0), 0u);
  EXPECT_EQ(a, Tiny(j)->Fingerprint());
  j["normalizer"]["lowercase"] = false;
  EXPECT_NE(a, Tiny(j)->Fingerprint());
  Json k = TinyJson();
  k["model"]["vocab"]["zzz"] = 18;
  EXPECT_NE(a, Tiny(k)->Fingerprint());
}

TEST(WordPiece, TemplateProcessingGivesSpecials) {
  Json j = TinyJson();
  j["post_processor"] = Json::parse(R"({"type":"TemplateProcessing",
      "single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}},
                {"SpecialToken":{"id":"[SEP]","type_id":0}}],
      "pair":[],
      "special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2],"tokens":["[CLS]"]},
                        "[SEP]":{"id":"[SEP]","ids":[3],"tokens":["[SEP]"]}}})");
  EXPECT_EQ(Tiny(j)->Encode("hello", 0).ids, (std::vector<int32_t>{2, 5, 3}));
  j["post_processor"] = nullptr;  // falls back to [CLS] ... [SEP]
  EXPECT_EQ(Tiny(j)->Encode("hello", 0).ids, (std::vector<int32_t>{2, 5, 3}));
}

// ---- Malformed tokenizer files ----------------------------------------------------------------------------

TEST(WordPieceErrors, MalformedJsonNamesFileAndField) {
  auto load = [](const std::string& text) {
    return [text] { LoadWordPieceFromJson(text, "tokenizer.json"); };
  };
  ExpectError(load("{not json"), ErrorKind::kInvalidInput, {"tokenizer.json", "JSON"});
  ExpectError(load("[1,2]"), ErrorKind::kInvalidInput, {"tokenizer.json"});

  Json j = TinyJson();
  j["model"].erase("vocab");
  ExpectError(load(j.dump()), ErrorKind::kInvalidInput, {"tokenizer.json", "model.vocab"});

  j = TinyJson();
  j["model"]["vocab"]["far"] = 1000;
  ExpectError(load(j.dump()), ErrorKind::kInvalidInput, {"tokenizer.json", "model.vocab", "1000"});

  j = TinyJson();
  j["model"]["vocab"]["dup"] = 5;
  ExpectError(load(j.dump()), ErrorKind::kInvalidInput, {"tokenizer.json", "model.vocab", "twice"});

  j = TinyJson();
  j["model"]["vocab"]["neg"] = -1;
  ExpectError(load(j.dump()), ErrorKind::kInvalidInput, {"tokenizer.json", "model.vocab"});

  j = TinyJson();
  j["model"]["type"] = "BPE";
  ExpectError(load(j.dump()), ErrorKind::kInvalidInput,
              {"tokenizer.json", "model.type 'BPE' is not supported (WordPiece only)"});

  j = TinyJson();
  j["model"]["unk_token"] = "<unk>";
  ExpectError(load(j.dump()), ErrorKind::kInvalidInput, {"tokenizer.json", "<unk>"});

  j = TinyJson();
  j["normalizer"] = {{"type", "NFKC"}};
  ExpectError(load(j.dump()), ErrorKind::kInvalidInput, {"tokenizer.json", "normalizer.type"});

  j = TinyJson();
  j["normalizer"]["lowercase"] = "yes";
  ExpectError(load(j.dump()), ErrorKind::kInvalidInput, {"tokenizer.json", "normalizer.lowercase"});

  j = TinyJson();
  j["added_tokens"][0]["content"] = "";
  ExpectError(load(j.dump()), ErrorKind::kInvalidInput, {"tokenizer.json", "added_tokens[0].content"});

  j = TinyJson();
  j["post_processor"] = {{"type", "BertProcessing"}, {"sep", {"[SEP]", 99}}, {"cls", {"[CLS]", 2}}};
  ExpectError(load(j.dump()), ErrorKind::kInvalidInput, {"tokenizer.json", "99"});

  std::string deep(100000, '[');
  ExpectError(load("{\"model\":" + deep), ErrorKind::kInvalidInput, {"tokenizer.json"});
}

TEST(WordPieceErrors, VocabTxtProblemsNameTheFile) {
  ExpectError([] { LoadWordPieceFromVocab("", "vocab.txt", "", "tokenizer_config.json"); },
              ErrorKind::kInvalidInput, {"vocab.txt"});
  ExpectError(
      [] { LoadWordPieceFromVocab("[CLS]\n[SEP]\nhello\n", "vocab.txt", "", "tokenizer_config.json"); },
      ErrorKind::kInvalidInput, {"vocab.txt", "[UNK]"});
  ExpectError([] { LoadWordPieceFromVocab("[UNK]\n\xff\n", "vocab.txt", "", "tokenizer_config.json"); },
              ErrorKind::kInvalidInput, {"vocab.txt", "line 2"});
  ExpectError(
      [] {
        LoadWordPieceFromVocab("[UNK]\n[CLS]\n[SEP]\n", "vocab.txt", "{\"do_lower_case\": 1}",
                               "tokenizer_config.json");
      },
      ErrorKind::kInvalidInput, {"tokenizer_config.json", "do_lower_case"});
  ExpectError(
      [] { LoadWordPieceFromVocab("[UNK]\n[CLS]\n[SEP]\n", "vocab.txt", "{", "tokenizer_config.json"); },
      ErrorKind::kInvalidInput, {"tokenizer_config.json"});
}

TEST(WordPieceErrors, VocabTxtRespectsDoLowerCase) {
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nHello\nhello\r\n";
  auto cased =
      LoadWordPieceFromVocab(vocab, "vocab.txt", R"({"do_lower_case": false})", "tokenizer_config.json");
  EXPECT_EQ(cased->Tokenize("Hello hello"), (std::vector<int32_t>{5, 6}));
  auto uncased = LoadWordPieceFromVocab(vocab, "vocab.txt", "", "tokenizer_config.json");
  EXPECT_EQ(uncased->Tokenize("Hello hello"), (std::vector<int32_t>{6, 6}));
  EXPECT_EQ(uncased->Encode("[MASK]", 0).ids, (std::vector<int32_t>{2, 4, 3}));
  EXPECT_NE(cased->Fingerprint(), uncased->Fingerprint());
}

TEST(LoadTokenizer, FolderWithoutTokenizerIsNotFound) {
  TempDir dir;
  dir.Write("config.json", "{}");
  ExpectError([&] { LoadTokenizer(dir.path()); }, ErrorKind::kNotFound, {dir.path().string()});
  ExpectError([&] { LoadTokenizer(dir.path() / "missing"); }, ErrorKind::kNotFound, {"missing"});
}

TEST(LoadTokenizer, PrefersTokenizerJsonAndNamesIt) {
  TempDir dir;
  dir.Write("tokenizer.json", "{\"model\": 3}");
  dir.Write("vocab.txt", "[UNK]\n[CLS]\n[SEP]\n");
  ExpectError([&] { LoadTokenizer(dir.path()); }, ErrorKind::kInvalidInput,
              {(dir.path() / "tokenizer.json").string(), "model"});
}

// A vocab.txt folder whose special tokens are named only by special_tokens_map.json (tokenizer_config.json
// has none), as older BERT exports ship: the map's tokens frame the sequence, are split out of the text
// before normalization, and give the unknown token.
TEST(LoadTokenizer, VocabTxtSpecialTokensFromSpecialTokensMap) {
  TempDir dir;
  //          0      1      2      3      4    5     6      7     8      9
  dir.Write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n<s>\n</s>\n<unk>\nhello\nworld\n<pad>\n");
  dir.Write("tokenizer_config.json", R"({"do_lower_case": true, "model_max_length": 512})");
  dir.Write("special_tokens_map.json",
            R"({"cls_token": "<s>", "sep_token": {"content": "</s>", "lstrip": false, "normalized": false},)"
            R"( "unk_token": "<unk>", "pad_token": "<pad>"})");
  auto t = LoadTokenizer(dir.path());
  EXPECT_EQ(t->Encode("Hello world", 0).ids, (std::vector<int32_t>{4, 7, 8, 5}));
  EXPECT_EQ(t->Tokenize("hello <s> zzz world"), (std::vector<int32_t>{7, 4, 6, 8}));
  EXPECT_EQ(t->PadId(), 9);

  // Without the map: the defaults [CLS] [SEP] [UNK] [PAD], and "<s>" is ordinary text.
  fs::remove(dir.path() / "special_tokens_map.json");
  auto plain = LoadTokenizer(dir.path());
  EXPECT_EQ(plain->Encode("Hello world", 0).ids, (std::vector<int32_t>{2, 7, 8, 3}));
  EXPECT_EQ(plain->Tokenize("zzz"), (std::vector<int32_t>{1}));
  EXPECT_EQ(plain->PadId(), 0);
  EXPECT_NE(plain->Fingerprint(), t->Fingerprint());

  // transformers applies the map over tokenizer_config.json's names...
  dir.Write("special_tokens_map.json", R"({"cls_token": "<s>", "sep_token": "</s>"})");
  dir.Write("tokenizer_config.json", R"({"cls_token": "[CLS]", "sep_token": "[SEP]"})");
  EXPECT_EQ(LoadTokenizer(dir.path())->Encode("hello", 0).ids, (std::vector<int32_t>{4, 7, 5}));
  // ...except for a config with added_tokens_decoder (transformers >= 4.34), which it takes as complete.
  dir.Write("tokenizer_config.json",
            R"({"cls_token": "[CLS]", "sep_token": "[SEP]", "added_tokens_decoder": {}})");
  EXPECT_EQ(LoadTokenizer(dir.path())->Encode("hello", 0).ids, (std::vector<int32_t>{2, 7, 3}));

  // A malformed map is named.
  dir.Write("tokenizer_config.json", "{}");
  dir.Write("special_tokens_map.json", R"({"cls_token": 7})");
  ExpectError([&] { LoadTokenizer(dir.path()); }, ErrorKind::kInvalidInput,
              {"special_tokens_map.json", "cls_token"});
  dir.Write("special_tokens_map.json", "[");
  ExpectError([&] { LoadTokenizer(dir.path()); }, ErrorKind::kInvalidInput, {"special_tokens_map.json"});
  dir.Write("special_tokens_map.json", R"({"cls_token": "<nope>"})");
  ExpectError([&] { LoadTokenizer(dir.path()); }, ErrorKind::kInvalidInput, {"vocab.txt", "<nope>"});
}

TEST(LoadTokenizer, SentencePieceGarbageIsInvalidInput) {
  TempDir dir;
  dir.Write("sentencepiece.bpe.model", "this is not a protobuf");
  ExpectError([&] { LoadTokenizer(dir.path()); }, ErrorKind::kInvalidInput, {"sentencepiece.bpe.model"});
}

// ---- Fixtures from independent implementations ------------------------------------------------------------

using Cases = std::vector<std::pair<std::string, std::vector<int32_t>>>;

Cases ReadJsonl(const fs::path& path) {
  Cases cases;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Json j = Json::parse(line);
    cases.emplace_back(j["text"].get<std::string>(), j["ids"].get<std::vector<int32_t>>());
  }
  return cases;
}

// Counts mismatches and reports each with its text. `expected_for` may redirect a text to the expected ids
// of another text of `cases`.
int CompareAll(const Tokenizer& t, const Cases& cases, bool with_specials,
               const std::map<std::string, std::string>& expected_for = {}) {
  std::map<std::string, std::vector<int32_t>> by_text(cases.begin(), cases.end());
  int mismatches = 0;
  for (auto [text, expected] : cases) {
    if (auto it = expected_for.find(text); it != expected_for.end()) {
      EXPECT_NE(expected, by_text.at(it->second)) << "the JS tokenizer no longer differs on " << text;
      expected = by_text.at(it->second);
    }
    std::vector<int32_t> got = with_specials ? t.Encode(text, 0).ids : t.Tokenize(text);
    if (got != expected) {
      ++mismatches;
      ADD_FAILURE() << "text " << Json(text).dump() << "\n  expected" << IdsText(expected) << "\n  got     "
                    << IdsText(got);
    }
  }
  return mismatches;
}

#define SKIP_WITHOUT_SHARED_DATA()                                         \
  if (!fs::exists(kMiniLm / "tokenizer.json"))                             \
  GTEST_SKIP() << "shared test data not found at " << kSharedData.string() \
               << " (the all-MiniLM-L6-v2 tokenizer files are not part of the repository)"

// MiniLM through tokenizer.json, and through vocab.txt + tokenizer_config.json only.
std::vector<std::unique_ptr<Tokenizer>> MiniLmTokenizers(const TempDir& vocab_only) {
  fs::copy_file(kMiniLm / "vocab.txt", vocab_only.path() / "vocab.txt");
  fs::copy_file(kMiniLm / "tokenizer_config.json", vocab_only.path() / "tokenizer_config.json");
  std::vector<std::unique_ptr<Tokenizer>> out;
  out.push_back(LoadTokenizer(kMiniLm));
  out.push_back(LoadTokenizer(vocab_only.path()));
  return out;
}

TEST(TokenizerFixtures, LlamaCppBertBge) {
  SKIP_WITHOUT_SHARED_DATA();
  const fs::path dir = kSharedData / "tokenizer_fixtures" / "llama.cpp-bert-bge";
  std::string inp = ReadFile((dir / "ggml-vocab-bert-bge.gguf.inp").string());
  std::string out = ReadFile((dir / "ggml-vocab-bert-bge.gguf.out").string());
  std::vector<std::pair<std::string, std::vector<int32_t>>> cases;
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t pos = 0;;) {
    size_t end = inp.find(sep, pos);
    texts.push_back(inp.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
    if (end == std::string::npos) break;
    pos = end + sep.size();
  }
  std::istringstream lines(out);
  std::string line;
  for (const std::string& text : texts) {
    if (!std::getline(lines, line)) line.clear();
    std::istringstream ids(line);
    std::vector<int32_t> expected;
    for (int32_t id; ids >> id;) expected.push_back(id);
    cases.emplace_back(text, expected);
  }
  ASSERT_GE(cases.size(), 40u);
  TempDir vocab_only;
  for (const auto& t : MiniLmTokenizers(vocab_only)) EXPECT_EQ(CompareAll(*t, cases, false), 0);
}

TEST(TokenizerFixtures, HuggingFaceJsMiniLm) {
  SKIP_WITHOUT_SHARED_DATA();
  auto cases = ReadJsonl(kFixtures / "tokenizer" / "hf_js_minilm.jsonl");
  ASSERT_GE(cases.size(), 70u);
  TempDir vocab_only;
  auto tokenizers = MiniLmTokenizers(vocab_only);
  EXPECT_EQ(tokenizers[0]->Fingerprint(), tokenizers[1]->Fingerprint());
  // Where the JS tokenizer departs from the Rust tokenizers library (what transformers and
  // sentence-transformers run), ours follows Rust; the fixture holds the text whose JS ids equal Rust's:
  //  - JS lowercases with String.toLowerCase, which turns a word-final Σ into ς; Rust's char::to_lowercase
  //    (BertNormalizer) always gives σ.
  //  - JS pads CJK ideographs per UTF-16 unit, so astral ones (U+20000 and up) are never split off.
  const std::map<std::string, std::string> rust_semantics = {
      {"ΟΔΟΣ Σίσυφος ΣΊΣΥΦΟΣ", "οδοσ σίσυφος σίσυφοσ"},
      {"astral ideographs a𠮷b 𠀀𪜀 c", "astral ideographs a 𠮷 b 𠀀 𪜀 c"},
  };
  for (const auto& t : tokenizers) EXPECT_EQ(CompareAll(*t, cases, true, rust_semantics), 0);
}

TEST(TokenizerFixtures, XlmRobertaSentencePiece) {
  auto t = LoadTokenizer(kFixtures / "models" / "tiny-xlmr");
  EXPECT_EQ(t->VocabSize(), 1000u);
  EXPECT_EQ(t->PadId(), 1);
  EXPECT_EQ(t->NumSpecialTokens(), 2u);
  EXPECT_EQ(t->Fingerprint().rfind("sentencepiece:", 0), 0u);
  EXPECT_EQ(t->Encode("", 0).ids, (std::vector<int32_t>{0, 2}));
  EXPECT_EQ(t->Tokenize("<mask>"), (std::vector<int32_t>{999}));
  ExpectError([&] { t->Tokenize("bad \xc3"); }, ErrorKind::kInvalidInput, {"UTF-8"});
  auto cases = ReadJsonl(kFixtures / "tokenizer" / "xlmr_reference.jsonl");
  ASSERT_GE(cases.size(), 30u);
  EXPECT_EQ(CompareAll(*t, cases, true), 0);
  Encoding cut = t->Encode("The quick brown fox jumps over the lazy dog.", 5);
  EXPECT_EQ(cut.ids.size(), 5u);
  EXPECT_EQ(cut.ids.front(), 0);
  EXPECT_EQ(cut.ids.back(), 2);
  EXPECT_EQ(cut.truncated, cases[4].second.size() - 5);
}

}  // namespace
}  // namespace rlm
