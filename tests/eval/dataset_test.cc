// Dataset loaders: every bad-input case names file:line (and :column for TSV fields), problems that do not
// stop an evaluation are counted, SciFact and NFCorpus load with their published counts, synthesis is
// deterministic, fingerprints follow the bytes.
#include "eval/dataset.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "core/utf8.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;

const std::string kData = RLM_SOURCE_DIR "/../shared/data";

class DatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) /
           ("rlm-dataset-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "qrels");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel, std::ios::binary) << text;
  }
  std::string P(const std::string& rel) const { return (dir_ / rel).string(); }

  // A small valid BEIR folder: 3 documents, 3 queries (q3 outside the test split), 3 judgments.
  void WriteBeir() {
    Write("corpus.jsonl",
          "{\"_id\": \"d1\", \"title\": \"Alpha\", \"text\": \"first document\", \"metadata\": {\"a\": [1, "
          "{\"b\": 2}]}}\n"
          "{\"_id\": \"d2\", \"title\": \"\", \"text\": \"second document\"}\n"
          "{\"_id\": 3, \"text\": \"third, numeric id, no title\"}\n");
    Write("queries.jsonl",
          "{\"_id\": \"q1\", \"text\": \"what is first\", \"metadata\": {}}\n"
          "{\"_id\": \"q2\", \"text\": \"what is second\"}\n"
          "{\"_id\": \"q3\", \"text\": \"a training query\"}\n");
    Write("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\nq2\t3\t0\n");
  }

  // Loads the BEIR folder and returns the InvalidInput message ("" when it loads).
  std::string BeirError() {
    try {
      LoadBeir(dir_.string(), "test");
    } catch (const InvalidInput& e) {
      return e.what();
    }
    return "";
  }

  fs::path dir_;
};

TEST_F(DatasetTest, LoadsBeirFolder) {
  WriteBeir();
  const EvalDataset ds = LoadBeir(dir_.string(), "test");
  EXPECT_EQ(ds.format, "beir");
  EXPECT_EQ(ds.split, "test");
  ASSERT_EQ(ds.corpus.size(), 3u);
  EXPECT_EQ(ds.corpus[0].id, "d1");
  EXPECT_EQ(ds.corpus[0].title, "Alpha");
  EXPECT_EQ(ds.corpus[0].text, "first document");
  EXPECT_EQ(ds.corpus[2].id, "3");  // numeric ids become their decimal text
  EXPECT_EQ(ds.corpus[2].title, "");
  EXPECT_EQ(ds.FindDoc("d2"), 1u);
  EXPECT_EQ(ds.FindDoc("nope"), kUnknownDoc);
  // Only the split's queries, in queries-file order.
  ASSERT_EQ(ds.queries.size(), 2u);
  EXPECT_EQ(ds.queries[0].id, "q1");
  EXPECT_EQ(ds.queries[1].id, "q2");
  ASSERT_EQ(ds.queries[1].judgments.size(), 2u);
  EXPECT_EQ(ds.queries[1].judgments[0].doc, 1u);
  EXPECT_EQ(ds.queries[1].judgments[0].grade, 2);
  EXPECT_EQ(ds.queries[1].judgments[1].doc_id, "3");
  EXPECT_EQ(ds.queries[1].judgments[1].grade, 0);
  EXPECT_EQ(ds.report.queries_in_file, 3u);
  EXPECT_EQ(ds.report.queries_outside_split, 1u);
  EXPECT_EQ(ds.report.qrels_lines, 3u);
  EXPECT_EQ(ds.report.judgments, 3u);
  EXPECT_TRUE(ds.report.warnings.empty());
}

TEST_F(DatasetTest, ToleratesCrlfBomBlankLinesAndNoFinalNewline) {
  Write("corpus.jsonl", "\xEF\xBB\xBF{\"_id\":\"d1\",\"text\":\"x\"}\r\n\r\n{\"_id\":\"d2\",\"text\":\"y\"}");
  Write("queries.jsonl", "{\"_id\":\"q1\",\"text\":\"x\"}\r\n");
  Write("qrels/test.tsv", "query-id\tcorpus-id\tscore\r\nq1\td2\t1\r\n");
  const EvalDataset ds = LoadBeir(dir_.string());
  EXPECT_EQ(ds.corpus.size(), 2u);
  ASSERT_EQ(ds.queries.size(), 1u);
  EXPECT_EQ(ds.queries[0].judgments[0].doc, 1u);
}

TEST_F(DatasetTest, CountsUnknownAndDuplicateQrels) {
  WriteBeir();
  Write("qrels/test.tsv",
        "query-id\tcorpus-id\tscore\n"
        "q1\td1\t1\n"
        "q1\tghost\t1\n"  // line 3: unknown document, kept
        "qX\td1\t1\n"     // line 4: unknown query, dropped
        "q1\td1\t1\n"     // line 5: duplicate
        "q1\td1\t2\n");   // line 6: duplicate with another grade
  const EvalDataset ds = LoadBeir(dir_.string());
  EXPECT_EQ(ds.report.qrels_lines, 5u);
  EXPECT_EQ(ds.report.qrels_unknown_docs, 1u);
  EXPECT_EQ(ds.report.qrels_unknown_queries, 1u);
  EXPECT_EQ(ds.report.qrels_duplicates, 2u);
  EXPECT_EQ(ds.report.qrels_conflicts, 1u);
  ASSERT_EQ(ds.queries.size(), 1u);
  ASSERT_EQ(ds.queries[0].judgments.size(), 2u);
  EXPECT_EQ(ds.queries[0].judgments[0].grade, 1);  // the first judgment wins
  EXPECT_EQ(ds.queries[0].judgments[1].doc, kUnknownDoc);
  ASSERT_EQ(ds.report.warnings.size(), 3u);
  EXPECT_NE(ds.report.warnings[0].find("test.tsv:4: unknown query 'qX'"), std::string::npos)
      << ds.report.warnings[0];
  EXPECT_NE(ds.report.warnings[1].find("test.tsv:3: unknown document 'ghost'"), std::string::npos);
  EXPECT_NE(ds.report.warnings[2].find("test.tsv:5: repeated judgment"), std::string::npos);
  EXPECT_NE(ds.report.warnings[2].find("2 lines in all"), std::string::npos);
}

TEST_F(DatasetTest, MalformedJsonNamesFileAndLine) {
  WriteBeir();
  Write("corpus.jsonl", "{\"_id\": \"d1\", \"text\": \"ok\"}\n{\"_id\": \"d2\", \"text\": \"unterminated}\n");
  const std::string e = BeirError();
  EXPECT_NE(e.find("corpus.jsonl:2:"), std::string::npos) << e;
  EXPECT_NE(e.find("bad JSON"), std::string::npos) << e;
}

TEST_F(DatasetTest, MessagesStayValidUtf8) {
  // nlohmann stops inside the two-byte "é"; the message must not carry half of it.
  try {
    ParseBeir({"corpus.jsonl", "{\"_id\": \xC3\xA9}\n"}, {"q", ""}, {"r", ""}, "test");
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("corpus.jsonl:1:"), std::string::npos) << e.what();
    EXPECT_FALSE(utf8::FindInvalid(e.what()).has_value()) << e.what();
  }
}

TEST_F(DatasetTest, LineThatIsNotAnObject) {
  WriteBeir();
  Write("queries.jsonl", "{\"_id\": \"q1\", \"text\": \"x\"}\n[1, 2]\n");
  const std::string e = BeirError();
  EXPECT_NE(e.find("queries.jsonl:2:"), std::string::npos) << e;
  EXPECT_NE(e.find("expected a JSON object"), std::string::npos) << e;
}

TEST_F(DatasetTest, MissingId) {
  WriteBeir();
  Write("corpus.jsonl",
        "{\"_id\": \"d1\", \"text\": \"ok\"}\n{\"_id\": \"d2\", \"text\": \"ok\"}\n{\"text\": \"no id\"}\n");
  const std::string e = BeirError();
  EXPECT_NE(e.find("corpus.jsonl:3: missing \"_id\""), std::string::npos) << e;
}

TEST_F(DatasetTest, IdOfWrongType) {
  WriteBeir();
  Write("corpus.jsonl", "{\"_id\": [\"d1\"], \"text\": \"ok\"}\n");
  std::string e = BeirError();
  EXPECT_NE(e.find("corpus.jsonl:1: \"_id\" must be a string or an integer, not an array"), std::string::npos)
      << e;
  Write("corpus.jsonl", "{\"_id\": 1.5, \"text\": \"ok\"}\n");
  e = BeirError();
  EXPECT_NE(e.find("corpus.jsonl:1: \"_id\" must be a string or an integer, not a number"), std::string::npos)
      << e;
}

TEST_F(DatasetTest, TextOfWrongTypeOrMissing) {
  WriteBeir();
  Write("corpus.jsonl", "{\"_id\": \"d1\", \"text\": 5}\n");
  EXPECT_NE(BeirError().find("corpus.jsonl:1: \"text\" must be a string, not an integer"), std::string::npos);
  Write("corpus.jsonl", "{\"_id\": \"d1\", \"title\": \"t\"}\n");
  EXPECT_NE(BeirError().find("corpus.jsonl:1: missing \"text\""), std::string::npos);
}

TEST_F(DatasetTest, InvalidUtf8NamesLineAndColumn) {
  WriteBeir();
  Write("corpus.jsonl",
        "{\"_id\": \"d1\", \"text\": \"ok\"}\n{\"_id\": \"d2\", \"text\": \"bad \xC3\x28 byte\"}\n");
  const std::string e = BeirError();
  EXPECT_NE(e.find("corpus.jsonl:2:28: invalid UTF-8 (byte 0xC3)"), std::string::npos) << e;
}

TEST_F(DatasetTest, EmptyQueryTextIsAnError) {
  WriteBeir();
  Write("queries.jsonl", "{\"_id\": \"q1\", \"text\": \"x\"}\n{\"_id\": \"q2\", \"text\": \"   \"}\n");
  const std::string e = BeirError();
  EXPECT_NE(e.find("queries.jsonl:2: query 'q2' has empty text"), std::string::npos) << e;
}

TEST_F(DatasetTest, DuplicateDocumentIdNamesBothLines) {
  WriteBeir();
  Write("corpus.jsonl",
        "{\"_id\": \"d1\", \"text\": \"a\"}\n{\"_id\": \"d2\", \"text\": \"b\"}\n{\"_id\": \"d1\", \"text\": "
        "\"c\"}\n");
  const std::string e = BeirError();
  EXPECT_NE(e.find("corpus.jsonl:3: duplicate document id 'd1' (first on line 1)"), std::string::npos) << e;
}

TEST_F(DatasetTest, DuplicateQueryIdNamesBothLines) {
  WriteBeir();
  Write("queries.jsonl", "{\"_id\": \"q1\", \"text\": \"a\"}\n\n{\"_id\": \"q1\", \"text\": \"b\"}\n");
  const std::string e = BeirError();
  EXPECT_NE(e.find("queries.jsonl:3: duplicate query id 'q1' (first on line 1)"), std::string::npos) << e;
}

TEST_F(DatasetTest, QrelsWithWrongColumnCount) {
  WriteBeir();
  Write("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\n");
  std::string e = BeirError();
  EXPECT_NE(e.find("test.tsv:3:6: expected 3 tab-separated columns"), std::string::npos) << e;
  EXPECT_NE(e.find("found 2"), std::string::npos) << e;
  Write("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\textra\n");
  e = BeirError();
  EXPECT_NE(e.find("test.tsv:2:9: expected 3 tab-separated columns"), std::string::npos) << e;
}

TEST_F(DatasetTest, QrelsWithNonNumericGrade) {
  WriteBeir();
  Write("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\thigh\n");
  const std::string e = BeirError();
  EXPECT_NE(e.find("test.tsv:3:7: grade 'high' is not an integer"), std::string::npos) << e;
}

TEST_F(DatasetTest, QrelsGradesAcceptIntegralDecimals) {
  WriteBeir();
  Write("qrels/test.tsv", "q1\td1\t2.0\nq2\td2\t-1\n");  // no header: the first line is data
  const EvalDataset ds = LoadBeir(dir_.string());
  ASSERT_EQ(ds.queries.size(), 2u);
  EXPECT_EQ(ds.queries[0].judgments[0].grade, 2);
  EXPECT_EQ(ds.queries[1].judgments[0].grade, -1);
  EXPECT_EQ(ds.report.queries_without_relevant, 1u);
  Write("qrels/test.tsv", "q1\td1\t1.5\n");
  EXPECT_NE(BeirError().find("grade '1.5' is not an integer"), std::string::npos);
}

TEST_F(DatasetTest, MissingFilesNameTheExpectedPath) {
  WriteBeir();
  try {
    LoadBeir(dir_.string(), "dev");
    FAIL() << "expected NotFound";
  } catch (const NotFound& e) {
    EXPECT_NE(std::string(e.what()).find(P("qrels/dev.tsv")), std::string::npos) << e.what();
    EXPECT_NE(e.suggestion().find("test"), std::string::npos) << e.suggestion();  // lists the splits present
  }
  fs::remove(dir_ / "corpus.jsonl");
  try {
    LoadBeir(dir_.string());
    FAIL() << "expected NotFound";
  } catch (const NotFound& e) {
    EXPECT_NE(std::string(e.what()).find(P("corpus.jsonl")), std::string::npos) << e.what();
  }
  EXPECT_THROW(LoadBeir(P("no-such-folder")), NotFound);
}

TEST_F(DatasetTest, HugeLinesAndDeepMetadataAreFine) {
  std::string big(3 << 20, 'w');
  for (size_t i = 7; i < big.size(); i += 8) big[i] = ' ';
  std::string deep = std::string(5000, '[') + std::string(5000, ']');
  Write("corpus.jsonl", "{\"_id\": \"d1\", \"text\": \"" + big + "\", \"metadata\": " + deep + "}\n");
  Write("queries.jsonl", "{\"_id\": \"q1\", \"text\": \"w\"}\n");
  Write("qrels/test.tsv", "q1\td1\t1\n");
  const EvalDataset ds = LoadBeir(dir_.string());
  ASSERT_EQ(ds.corpus.size(), 1u);
  EXPECT_EQ(ds.corpus[0].text.size(), big.size());
}

TEST_F(DatasetTest, ManyLinesParsedInPiecesKeepOrderAndReportTheFirstError) {
  // More than one parallel piece (256 KiB each).
  std::string corpus, queries, qrels;
  for (int i = 0; i < 20000; ++i) {
    corpus +=
        "{\"_id\": \"d" + std::to_string(i) + "\", \"text\": \"" + std::string(40, 'a' + i % 26) + "\"}\n";
  }
  Write("corpus.jsonl", corpus);
  Write("queries.jsonl", "{\"_id\": \"q1\", \"text\": \"x\"}\n");
  Write("qrels/test.tsv", "q1\td19999\t1\n");
  const EvalDataset ds = LoadBeir(dir_.string());
  ASSERT_EQ(ds.corpus.size(), 20000u);
  for (int i = 0; i < 20000; i += 997) EXPECT_EQ(ds.corpus[i].id, "d" + std::to_string(i));
  EXPECT_EQ(ds.queries[0].judgments[0].doc, 19999u);
  // Bad lines in two pieces: the earlier one is reported.
  std::string bad = corpus;
  const size_t late = bad.find("{\"_id\": \"d18000\"");
  bad.replace(late, 1, "x");
  const size_t early = bad.find("{\"_id\": \"d9000\"");
  bad.replace(early, 1, "x");
  Write("corpus.jsonl", bad);
  EXPECT_NE(BeirError().find("corpus.jsonl:9001:1:"), std::string::npos) << BeirError();
}

TEST_F(DatasetTest, InMemoryParseMatchesFile) {
  WriteBeir();
  const EvalDataset file = LoadBeir(dir_.string());
  const std::string c =
      "{\"_id\": \"d1\", \"title\": \"Alpha\", \"text\": \"first document\", \"metadata\": {\"a\": [1, "
      "{\"b\": 2}]}}\n"
      "{\"_id\": \"d2\", \"title\": \"\", \"text\": \"second document\"}\n"
      "{\"_id\": 3, \"text\": \"third, numeric id, no title\"}\n";
  const std::string q =
      "{\"_id\": \"q1\", \"text\": \"what is first\", \"metadata\": {}}\n"
      "{\"_id\": \"q2\", \"text\": \"what is second\"}\n"
      "{\"_id\": \"q3\", \"text\": \"a training query\"}\n";
  const std::string r = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t2\nq2\t3\t0\n";
  const EvalDataset mem = ParseBeir({"c", c}, {"q", q}, {"r", r}, "test");
  EXPECT_EQ(mem.fingerprint, file.fingerprint);
  EXPECT_EQ(mem.corpus.size(), file.corpus.size());
  EXPECT_EQ(mem.queries.size(), file.queries.size());
}

TEST_F(DatasetTest, FingerprintFollowsBytesAndSplit) {
  WriteBeir();
  Write("qrels/train.tsv", "q3\td1\t1\n");
  DatasetSpec spec;
  spec.path = dir_.string();
  const Hash128 test = DatasetFingerprint(spec);
  EXPECT_EQ(test, LoadDataset(spec).fingerprint);
  spec.split = "train";
  const Hash128 train = DatasetFingerprint(spec);
  EXPECT_NE(train, test);
  EXPECT_EQ(LoadDataset(spec).queries.size(), 1u);
  spec.split = "test";
  Write("corpus.jsonl",
        "{\"_id\": \"d1\", \"text\": \"changed\"}\n{\"_id\": \"d2\", \"text\": \"b\"}\n{\"_id\": \"3\", "
        "\"text\": \"c\"}\n");
  EXPECT_NE(DatasetFingerprint(spec), test);
}

TEST_F(DatasetTest, TrecFilesTsvAndJsonl) {
  Write("docs.tsv", "D1\tthe first doc\nD2\tA title\tthe second doc\n");
  Write("topics.tsv", "T1\tfirst topic\nT2\tsecond topic\nT3\tunjudged topic\n");
  Write("qrels.txt", "T1 0 D1 1\nT1\t0\tD2\t0\nT2 0 D9 2\n");
  const EvalDataset ds = LoadTrec(P("docs.tsv"), P("topics.tsv"), P("qrels.txt"));
  EXPECT_EQ(ds.format, "trec");
  ASSERT_EQ(ds.corpus.size(), 2u);
  EXPECT_EQ(ds.corpus[1].title, "A title");
  EXPECT_EQ(ds.corpus[1].text, "the second doc");
  ASSERT_EQ(ds.queries.size(), 3u);  // every topic is kept
  EXPECT_EQ(ds.report.queries_without_judgments, 1u);
  EXPECT_EQ(ds.report.qrels_unknown_docs, 1u);
  EXPECT_EQ(ds.queries[0].judgments.size(), 2u);

  Write("topics.jsonl", "{\"_id\": \"T1\", \"text\": \"first topic\"}\n");
  Write("docs.jsonl", "{\"id\": \"D1\", \"content\": \"doc\"}\n");
  const EvalDataset j = LoadTrec(P("docs.jsonl"), P("topics.jsonl"), P("qrels.txt"));
  EXPECT_EQ(j.queries.size(), 1u);
  EXPECT_EQ(j.corpus[0].text, "doc");
  EXPECT_EQ(j.report.qrels_unknown_queries, 1u);
}

TEST_F(DatasetTest, TrecBadLines) {
  Write("docs.tsv", "D1\tdoc\n");
  Write("topics.tsv", "T1\tt\n");
  Write("qrels.txt", "T1 0 D1 1\nT1 0 D1\n");
  try {
    LoadTrec(P("docs.tsv"), P("topics.tsv"), P("qrels.txt"));
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("qrels.txt:2:8: expected 4 whitespace-separated columns"),
              std::string::npos)
        << e.what();
  }
  Write("qrels.txt", "T1 0 D1 yes\n");
  try {
    LoadTrec(P("docs.tsv"), P("topics.tsv"), P("qrels.txt"));
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("qrels.txt:1:9: grade 'yes' is not an integer"), std::string::npos)
        << e.what();
  }
  Write("qrels.txt", "T1 0 D1 1\n");
  Write("topics.tsv", "T1\tt\nT2 no tab\n");
  try {
    LoadTrec(P("docs.tsv"), P("topics.tsv"), P("qrels.txt"));
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("topics.tsv:2:10: expected query-id<TAB>text"), std::string::npos)
        << e.what();
  }
  Write("topics.tsv", "T1\t \n");
  try {
    LoadTrec(P("docs.tsv"), P("topics.tsv"), P("qrels.txt"));
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_NE(std::string(e.what()).find("topics.tsv:1:4: query 'T1' has empty text"), std::string::npos)
        << e.what();
  }
  DatasetSpec spec;
  spec.format = DatasetFormat::kTrec;
  spec.corpus = P("docs.tsv");
  EXPECT_THROW(LoadDataset(spec), InvalidInput);  // queries and qrels are required
}

TEST_F(DatasetTest, EmbedEvalGradesScaleToIntegers) {
  Write("corpus.jsonl",
        "{\"id\":\"doc1\",\"content\":\"machine learning\",\"metadata\":{\"x\":1}}\n"
        "{\"id\":\"doc5\",\"content\":\"deep learning\"}\n{\"id\":\"doc7\",\"content\":\"other\"}\n");
  Write("queries.jsonl",
        "{\"id\":\"q1\",\"query\":\"What is machine learning?\",\"relevantDocs\":[\"doc1\",\"doc5\"],"
        "\"relevanceScores\":[1.0,0.8],\"tags\":[\"technical\"],\"metadata\":{}}\n"
        "{\"id\":\"q2\",\"query\":\"no scores\",\"relevantDocs\":[\"doc7\",\"ghost\"]}\n"
        "{\"id\":\"q3\",\"query\":\"unjudged\",\"relevantDocs\":[]}\n"
        "{\"id\":\"q4\",\"query\":\"tiny\",\"relevantDocs\":[\"doc1\"],\"relevanceScores\":[0.05]}\n");
  const EvalDataset ds = LoadEmbedEval(P("corpus.jsonl"), P("queries.jsonl"));
  EXPECT_EQ(ds.format, "embedeval");
  EXPECT_EQ(ds.report.grade_scale, 100);  // 0.05 needs two decimals
  ASSERT_EQ(ds.queries.size(), 4u);
  EXPECT_EQ(ds.queries[0].judgments[0].grade, 100);
  EXPECT_EQ(ds.queries[0].judgments[1].grade, 80);
  EXPECT_EQ(ds.queries[0].tags, std::vector<std::string>{"technical"});
  EXPECT_EQ(ds.queries[1].judgments[0].grade, 100);  // absent scores are 1.0
  EXPECT_EQ(ds.queries[1].judgments[1].doc, kUnknownDoc);
  EXPECT_EQ(ds.queries[3].judgments[0].grade, 5);
  EXPECT_EQ(ds.report.qrels_unknown_docs, 1u);
  EXPECT_EQ(ds.report.queries_without_judgments, 1u);

  Write("queries.jsonl",
        "{\"id\":\"q1\",\"query\":\"x\",\"relevantDocs\":[\"doc1\"],\"relevanceScores\":[3]}\n"
        "{\"id\":\"q2\",\"query\":\"y\",\"relevantDocs\":[\"doc5\"],\"relevanceScores\":[2.0]}\n");
  const EvalDataset ints = LoadEmbedEval(P("corpus.jsonl"), P("queries.jsonl"));
  EXPECT_EQ(ints.report.grade_scale, 1);
  EXPECT_EQ(ints.queries[0].judgments[0].grade, 3);
  EXPECT_EQ(ints.queries[1].judgments[0].grade, 2);

  Write("queries.jsonl",
        "{\"id\":\"q1\",\"query\":\"x\",\"relevantDocs\":[\"doc1\"],\"relevanceScores\":[0.00001]}\n");
  const EvalDataset fine = LoadEmbedEval(P("corpus.jsonl"), P("queries.jsonl"));
  EXPECT_EQ(fine.report.grade_scale, 1000);
  EXPECT_EQ(fine.queries[0].judgments[0].grade, 1);  // positive stays relevant
}

TEST_F(DatasetTest, EmbedEvalBadLines) {
  Write("corpus.jsonl", "{\"id\":\"doc1\",\"content\":\"x\"}\n");
  auto error = [&](const std::string& queries) {
    Write("queries.jsonl", queries);
    try {
      LoadEmbedEval(P("corpus.jsonl"), P("queries.jsonl"));
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error("{\"id\":\"q1\",\"query\":\"x\",\"relevantDocs\":[\"doc1\"],\"relevanceScores\":[1,2]}\n")
                .find("queries.jsonl:1: \"relevanceScores\" has 2 entries but \"relevantDocs\" has 1"),
            std::string::npos);
  EXPECT_NE(error("{\"id\":\"q1\",\"query\":\"x\",\"relevantDocs\":\"doc1\"}\n").find("must be an array"),
            std::string::npos);
  EXPECT_NE(error("{\"id\":\"q1\",\"query\":\"x\",\"relevantDocs\":[\"doc1\"],\"relevanceScores\":[\"1\"]}\n")
                .find("must hold numbers"),
            std::string::npos);
  EXPECT_NE(error("{\"id\":\"q1\"}\n").find("queries.jsonl:1: missing \"query\""), std::string::npos);
  EXPECT_NE(error("{\"query\":\"x\"}\n").find("queries.jsonl:1: missing \"id\""), std::string::npos);
  EXPECT_NE(error("{\"id\":\"q1\",\"query\":\"x\",\"relevantDocs\":[\"doc1\"],\"relevanceScores\":[1e300]}\n")
                .find("out of range"),
            std::string::npos);
}

TEST_F(DatasetTest, SynthesizeIsDeterministic) {
  Write("docs/a.txt", "the quick brown fox jumps over the lazy dog and keeps running far away\n");
  Write("docs/sub/b.md",
        "# Notes\n\nRetrieval evaluation needs queries with known answers, so we draw them.\n");
  Write("docs/short.txt", "too short");
  Write("docs/empty.txt", "");
  Write("docs/binary.bin", std::string("abc\0def ghi jkl mno pqr", 23));
  Write("docs/.hidden/c.txt", "hidden words are never read by the synthesiser at all");
  const std::string folder = P("docs");
  const EvalDataset a = Synthesize(folder, 25, 7);
  const EvalDataset b = Synthesize(folder, 25, 7);
  const EvalDataset c = Synthesize(folder, 25, 8);
  ASSERT_EQ(a.corpus.size(), 3u);  // a.txt, short.txt, sub/b.md
  EXPECT_EQ(a.corpus[0].id, "a.txt");
  EXPECT_EQ(a.corpus[1].id, "short.txt");
  EXPECT_EQ(a.corpus[2].id, "sub/b.md");
  EXPECT_EQ(a.report.files_skipped, 2u);
  ASSERT_EQ(a.queries.size(), 25u);
  EXPECT_EQ(a.queries[0].id, "q01");
  bool differs = false;
  for (size_t i = 0; i < a.queries.size(); ++i) {
    EXPECT_EQ(a.queries[i].text, b.queries[i].text);
    differs = differs || a.queries[i].text != c.queries[i].text;
    ASSERT_EQ(a.queries[i].judgments.size(), 1u);
    const EvalJudgment& j = a.queries[i].judgments[0];
    EXPECT_EQ(j.grade, 1);
    EXPECT_NE(j.doc, 1u);  // "too short" has fewer than 5 words
    // The query is a window of the relevant document's words.
    std::string normalized;
    for (char ch : a.corpus[j.doc].text) {
      const bool space = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
      if (space && (normalized.empty() || normalized.back() == ' ')) continue;
      normalized += space ? ' ' : ch;
    }
    EXPECT_NE(normalized.find(a.queries[i].text), std::string::npos) << a.queries[i].text;
    size_t words = 1 + std::count(a.queries[i].text.begin(), a.queries[i].text.end(), ' ');
    EXPECT_GE(words, 5u);
    EXPECT_LE(words, 12u);
  }
  EXPECT_TRUE(differs);
  EXPECT_EQ(a.fingerprint, b.fingerprint);
  EXPECT_NE(a.fingerprint, c.fingerprint);
  DatasetSpec spec;
  spec.format = DatasetFormat::kSynth;
  spec.path = folder;
  spec.synth_queries = 25;
  spec.synth_seed = 7;
  EXPECT_EQ(DatasetFingerprint(spec), a.fingerprint);
  EXPECT_THROW(Synthesize(folder, 0, 1), InvalidInput);
  Write("tiny/x.txt", "one two");
  EXPECT_THROW(Synthesize(P("tiny"), 3, 1), InvalidInput);
}

TEST(DatasetFormats, NamesRoundTrip) {
  for (DatasetFormat f :
       {DatasetFormat::kBeir, DatasetFormat::kTrec, DatasetFormat::kEmbedEval, DatasetFormat::kSynth}) {
    EXPECT_EQ(ParseDatasetFormat(DatasetFormatName(f)), f);
  }
  EXPECT_THROW(ParseDatasetFormat("csv"), InvalidInput);
}

// ---- Shared data (skipped when ../shared/data is absent)

TEST(DatasetSharedData, SciFactTestSplit) {
  const std::string folder = kData + "/scifact";
  if (!fs::exists(folder + "/corpus.jsonl")) GTEST_SKIP() << "SciFact not found at " << folder;
  const EvalDataset ds = LoadBeir(folder, "test");
  EXPECT_EQ(ds.corpus.size(), 5183u);
  EXPECT_EQ(ds.queries.size(), 300u);
  EXPECT_EQ(ds.report.qrels_lines, 339u);
  EXPECT_EQ(ds.report.judgments, 339u);
  EXPECT_EQ(ds.report.queries_in_file, 1109u);
  EXPECT_EQ(ds.report.queries_outside_split, 809u);
  EXPECT_EQ(ds.report.qrels_unknown_docs, 0u);
  EXPECT_EQ(ds.report.qrels_unknown_queries, 0u);
  EXPECT_EQ(ds.report.qrels_duplicates, 0u);
  EXPECT_TRUE(ds.report.warnings.empty());
  EXPECT_EQ(ds.corpus[0].id, "4983");
  EXPECT_EQ(ds.queries[0].id, "1");
  EXPECT_EQ(ds.queries[0].judgments[0].doc_id, "31715818");
  EXPECT_NE(ds.queries[0].judgments[0].doc, kUnknownDoc);

  const EvalDataset train = LoadBeir(folder, "train");
  EXPECT_EQ(train.queries.size(), 809u);
  EXPECT_EQ(train.report.qrels_lines, 919u);
  EXPECT_NE(train.fingerprint, ds.fingerprint);
}

TEST(DatasetSharedData, NfCorpusBeirWithCorpusOverride) {
  const std::string folder = kData + "/nfcorpus/beir";
  if (!fs::exists(folder + "/corpus_testsplit_processed.jsonl"))
    GTEST_SKIP() << "NFCorpus not found at " << folder;
  // The folder has no corpus.jsonl (see its SOURCE.txt): the plain loader says which file it expected.
  try {
    LoadBeir(folder, "test");
    FAIL() << "expected NotFound";
  } catch (const NotFound& e) {
    EXPECT_NE(std::string(e.what()).find(folder + "/corpus.jsonl"), std::string::npos) << e.what();
    EXPECT_NE(e.suggestion().find("corpus_testsplit_processed.jsonl"), std::string::npos) << e.suggestion();
  }
  DatasetSpec spec;
  spec.path = folder;
  spec.corpus = "corpus_testsplit_processed.jsonl";
  const EvalDataset ds = LoadDataset(spec);
  EXPECT_EQ(ds.corpus.size(), 3162u);
  EXPECT_EQ(ds.queries.size(), 323u);
  EXPECT_EQ(ds.report.qrels_lines, 12334u);
  EXPECT_EQ(ds.report.qrels_unknown_docs, 0u);  // every judged document is in the derived corpus
  bool graded = false;
  for (const EvalQuery& q : ds.queries) {
    for (const EvalJudgment& j : q.judgments) graded = graded || j.grade == 2;
  }
  EXPECT_TRUE(graded);
}

TEST(DatasetSharedData, NfCorpusOriginalTrecFiles) {
  const std::string folder = kData + "/nfcorpus/original_test_split";
  if (!fs::exists(folder + "/test.docs")) GTEST_SKIP() << "NFCorpus original split not found at " << folder;
  DatasetSpec spec;
  spec.format = DatasetFormat::kTrec;
  spec.path = folder;
  spec.corpus = "test.docs";
  spec.queries = "test.titles.queries";
  spec.qrels = "test.2-1-0.qrel";
  const EvalDataset ds = LoadDataset(spec);
  EXPECT_EQ(ds.corpus.size(), 3162u);
  EXPECT_EQ(ds.report.queries_in_file, 325u);
  EXPECT_EQ(ds.report.qrels_lines, 12334u);
  EXPECT_EQ(ds.queries.size() - ds.report.queries_without_judgments, 323u);
}

}  // namespace
}  // namespace rlm
