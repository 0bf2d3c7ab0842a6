// Judging without a terminal: pooling several runs, the qrels + notes files (appended lines read back by
// rlm's own qrels parser, malformed lines named by file:line, take-backs), and the session's walk over the
// pool (resume skips saved pairs, skip, undo).
#include "eval/judge.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/error.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

// Queries in the file in the order q2, q1 (the pool follows it); d1..d7 in the corpus.
EvalDataset SmallDataset() {
  std::string corpus;
  for (int i = 1; i <= 7; ++i) {
    corpus += "{\"_id\": \"d" + std::to_string(i) + "\", \"title\": \"T" + std::to_string(i) +
              "\", \"text\": \"text of d" + std::to_string(i) + "\"}\n";
  }
  const std::string queries =
      "{\"_id\": \"q2\", \"text\": \"second query\"}\n{\"_id\": \"q1\", \"text\": \"first query\"}\n";
  const std::string qrels = "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n";
  return ParseBeir({"corpus.jsonl", corpus}, {"queries.jsonl", queries}, {"qrels/test.tsv", qrels}, "test");
}

// Run texts must outlive the parsed runs (entries are views).
struct Runs {
  std::vector<std::string> texts;
  std::vector<PoolRun> runs;
  void Add(const std::string& name, std::string text) {
    texts.push_back(std::move(text));
    runs.push_back(PoolRun{name, trec::ParseRun(texts.back(), name)});
  }
  Runs() { texts.reserve(16); }
};

std::vector<std::string> PairNames(const EvalDataset& ds, const JudgePool& pool) {
  std::vector<std::string> out;
  for (const JudgePair& p : pool.pairs) out.push_back(ds.queries[p.query].id + ":" + ds.corpus[p.doc].id);
  return out;
}

TEST(JudgePoolTest, PoolsTheUnionOfEachRunsTopDepth) {
  const EvalDataset ds = SmallDataset();
  Runs r;
  // Run a ranks q1 by score (not by the rank column): d1 3.0, d2 2.0, d3 1.0, d4 0.5.
  r.Add("a.trec",
        "q1 Q0 d3 1 1.0 a\nq1 Q0 d1 2 3.0 a\nq1 Q0 d2 3 2.0 a\nq1 Q0 d4 4 0.5 a\n"
        "q2 Q0 d2 1 5.0 a\n");
  // Run b: d5 and d7 tie at 9 (trec_eval: docid descending, so d7 first), then d1.
  r.Add("b.trec",
        "q1 Q0 d5 1 9.0 b\nq1 Q0 d7 2 9.0 b\nq1 Q0 d1 3 8.0 b\nq2 Q0 d6 1 1.0 b\nq2 Q0 d2 2 0.5 b\n");
  const JudgePool pool = BuildJudgePool(ds, r.runs, 2);
  // q2 first (queries-file order); within a query by best rank, ties to the earlier run, then docid.
  EXPECT_EQ(PairNames(ds, pool),
            (std::vector<std::string>{"q2:d2", "q2:d6", "q1:d1", "q1:d7", "q1:d2", "q1:d5"}));
  EXPECT_EQ(pool.queries, 2u);
  EXPECT_EQ(pool.run_entries, 2u + 1u + 2u + 2u);
  EXPECT_EQ(pool.pairs[0].best_rank, 1u);  // q2:d2 is rank 1 in a (rank 2 in b)
  EXPECT_EQ(pool.pairs[0].run, 0u);
  EXPECT_EQ(pool.pairs[1].run, 1u);

  const JudgePool by_doc = BuildJudgePool(ds, r.runs, 2, PoolOrder::kDocId);
  EXPECT_EQ(PairNames(ds, by_doc),
            (std::vector<std::string>{"q2:d2", "q2:d6", "q1:d1", "q1:d2", "q1:d5", "q1:d7"}));

  // Depth 1 keeps each run's top document; depth 100 takes everything once.
  EXPECT_EQ(PairNames(ds, BuildJudgePool(ds, r.runs, 1)),
            (std::vector<std::string>{"q2:d2", "q2:d6", "q1:d1", "q1:d7"}));
  EXPECT_EQ(BuildJudgePool(ds, r.runs, 100).pairs.size(), 2u + 6u);
}

TEST(JudgePoolTest, RejectsUnknownQueriesAndDocumentsAndEmptyPools) {
  const EvalDataset ds = SmallDataset();
  {
    Runs r;
    r.Add("a.trec", "q1 Q0 d1 1 1.0 a\n");
    r.Add("b.trec", "q1 Q0 d1 1 1.0 b\nq9 Q0 d2 1 1.0 b\n");
    try {
      BuildJudgePool(ds, r.runs, 10);
      FAIL() << "no error";
    } catch (const InvalidInput& e) {
      EXPECT_NE(std::string(e.what()).find("b.trec:2: query 'q9' is not in the dataset"), std::string::npos)
          << e.what();
      EXPECT_EQ(e.type(), "UnknownQuery");
      EXPECT_NE(e.suggestion().find("--split"), std::string::npos) << e.suggestion();
    }
  }
  {
    Runs r;
    r.Add("a.trec", "q1 Q0 d1 1 2.0 a\nq1 Q0 nope 2 1.0 a\n");
    try {
      BuildJudgePool(ds, r.runs, 10);
      FAIL() << "no error";
    } catch (const InvalidInput& e) {
      EXPECT_NE(std::string(e.what()).find("a.trec:2: document 'nope'"), std::string::npos) << e.what();
      EXPECT_EQ(e.type(), "UnknownDocument");
    }
    // Below the depth the unknown document is never looked at.
    EXPECT_EQ(BuildJudgePool(ds, r.runs, 1).pairs.size(), 1u);
  }
  {
    Runs r;
    r.Add("empty.trec", "# nothing\n");
    try {
      BuildJudgePool(ds, r.runs, 10);
      FAIL() << "no error";
    } catch (const InvalidInput& e) {
      EXPECT_EQ(e.type(), "EmptyPool");
    }
    EXPECT_THROW(BuildJudgePool(ds, {}, 10), InvalidInput);
  }
  Runs r;
  r.Add("a.trec", "q1 Q0 d1 1 1.0 a\n");
  EXPECT_THROW(BuildJudgePool(ds, r.runs, 0), InvalidInput);
}

class JudgeFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / ("rlm-judge-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    qrels_ = (dir_ / "out" / "judged.qrels").string();
    notes_ = DefaultNotesPath(qrels_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static void Write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }
  // The message of the InvalidInput that opening the log throws ("" when it opens).
  std::string OpenError() {
    try {
      JudgmentLog log(qrels_, notes_);
    } catch (const InvalidInput& e) {
      return e.what();
    }
    return "";
  }

  static Clock::time_point At(int seconds) {
    return Clock::time_point(std::chrono::seconds(1714555800 + seconds));
  }

  fs::path dir_;
  std::string qrels_, notes_;
};

TEST_F(JudgeFilesTest, AppendedLinesReadBackWithTheQrelsParser) {
  EXPECT_EQ(notes_, qrels_ + ".notes.jsonl");
  EXPECT_EQ(JudgeTimestamp(At(0)), "2024-05-01T09:30:00Z");
  {
    JudgmentLog log(qrels_, notes_);  // creates the folder and both files
    EXPECT_TRUE(log.records().empty());
    log.Append({"q1", "d1", 2, "clear \"answer\"", JudgeTimestamp(At(0))});
    log.Append({"q1", "d7", 0, "", JudgeTimestamp(At(1))});
    log.Append({"q2", "d2", 3, "café ☕", JudgeTimestamp(At(2))});
    EXPECT_THROW(log.Append({"q1", "d1", 1, "", ""}), InvalidInput);   // already judged
    EXPECT_THROW(log.Append({"q1", "d 1", 1, "", ""}), InvalidInput);  // qrels cannot hold the id
  }
  EXPECT_EQ(Read(qrels_), "q1 0 d1 2\nq1 0 d7 0\nq2 0 d2 3\n");
  EXPECT_EQ(Read(notes_),
            "{\"qid\":\"q1\",\"docid\":\"d1\",\"grade\":2,\"note\":\"clear "
            "\\\"answer\\\"\",\"time\":\"2024-05-01T09:30:00Z\"}\n"
            "{\"qid\":\"q1\",\"docid\":\"d7\",\"grade\":0,\"note\":\"\",\"time\":\"2024-05-01T09:30:01Z\"}\n"
            "{\"qid\":\"q2\",\"docid\":\"d2\",\"grade\":3,\"note\":\"café "
            "☕\",\"time\":\"2024-05-01T09:30:02Z\"}\n");

  const trec::Qrels q = trec::LoadQrels(qrels_);
  ASSERT_EQ(q.queries.size(), 2u);
  const trec::QrelsQuery* q1 = q.Find("q1");
  ASSERT_NE(q1, nullptr);
  ASSERT_EQ(q1->judgments.size(), 2u);
  EXPECT_EQ(q1->Find(q.docs->Find("d1"))->rel, 2);
  EXPECT_EQ(q1->Find(q.docs->Find("d7"))->rel, 0);
  EXPECT_EQ(q.Find("q2")->Find(q.docs->Find("d2"))->rel, 3);

  // Reopened: the records come back in file order, with their notes.
  JudgmentLog again(qrels_, notes_);
  ASSERT_EQ(again.records().size(), 3u);
  EXPECT_EQ(again.records()[2].doc_id, "d2");
  EXPECT_EQ(again.records()[2].note, "café ☕");
  EXPECT_EQ(again.Find("q1", "d1")->note, "clear \"answer\"");
  EXPECT_EQ(again.Find("q1", "d1")->time, "2024-05-01T09:30:00Z");
  EXPECT_EQ(again.Find("q1", "d2"), nullptr);
}

TEST_F(JudgeFilesTest, RemoveLastTruncatesBothFiles) {
  JudgmentLog log(qrels_, notes_);
  log.Append({"q1", "d1", 2, "a", "t"});
  log.Append({"q1", "d2", 1, "b", "t"});
  const std::optional<JudgeRecord> r = log.RemoveLast();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->doc_id, "d2");
  EXPECT_EQ(r->note, "b");
  EXPECT_EQ(Read(qrels_), "q1 0 d1 2\n");
  EXPECT_EQ(Read(notes_), "{\"qid\":\"q1\",\"docid\":\"d1\",\"grade\":2,\"note\":\"a\",\"time\":\"t\"}\n");
  log.Append({"q1", "d2", 0, "c", "t"});
  EXPECT_EQ(Read(qrels_), "q1 0 d1 2\nq1 0 d2 0\n");
  ASSERT_TRUE(log.RemoveLast());
  ASSERT_TRUE(log.RemoveLast());
  EXPECT_FALSE(log.RemoveLast());
  EXPECT_EQ(Read(qrels_), "");
  EXPECT_EQ(Read(notes_), "");
}

TEST_F(JudgeFilesTest, MalformedLinesAreNamedByFileAndLine) {
  Write(qrels_, "q1 0 d1 2\n# a comment\nq1 0 d2\n");
  EXPECT_NE(OpenError().find(qrels_ + ":3: expected 4 columns"), std::string::npos) << OpenError();
  Write(qrels_, "q1 0 d1 2\nq1 0 d2 high\n");
  EXPECT_NE(OpenError().find(qrels_ + ":2: relevance grade 'high'"), std::string::npos) << OpenError();
  Write(qrels_, "q1 0 d1 2\nq1 0 d2 1\nq1 0 d1 0\n");
  EXPECT_NE(OpenError().find(qrels_ + ":3: document 'd1' is judged twice"), std::string::npos) << OpenError();

  Write(qrels_, "q1 0 d1 2\n");
  Write(notes_,
        "{\"qid\":\"q1\",\"docid\":\"d1\",\"grade\":2,\"note\":\"\",\"time\":\"t\"}\n\n{\"qid\": \"q1\", "
        "\"docid\n");
  EXPECT_NE(OpenError().find(notes_ + ":3: invalid JSON"), std::string::npos) << OpenError();
  Write(notes_, "[1, 2]\n");
  EXPECT_NE(OpenError().find(notes_ + ":1: expected a JSON object"), std::string::npos) << OpenError();
  Write(notes_, "{\"qid\":\"q1\",\"grade\":2}\n");
  EXPECT_NE(OpenError().find(notes_ + ":1: missing \"docid\""), std::string::npos) << OpenError();
  Write(notes_, "{\"qid\":\"q1\",\"docid\":\"d1\",\"grade\":\"2\"}\n");
  EXPECT_NE(OpenError().find(notes_ + ":1: \"grade\" must be an integer"), std::string::npos) << OpenError();
  Write(notes_, "{\"qid\":\"q1\",\"docid\":\"d1\",\"grade\":2,\"note\":7}\n");
  EXPECT_NE(OpenError().find(notes_ + ":1: \"note\" must be a string"), std::string::npos) << OpenError();
  Write(notes_, "{\"qid\":\"q1\",\"docid\":\"d1\",\"grade\":2,\"note\":\"\xC3\x28\"}\n");
  EXPECT_NE(OpenError().find(notes_ + ":1: invalid JSON"), std::string::npos) << OpenError();
  // Nothing was changed by the failed opens.
  EXPECT_EQ(Read(qrels_), "q1 0 d1 2\n");
}

TEST_F(JudgeFilesTest, NotesWithoutAJudgmentAreIgnoredAndTheLastNoteWins) {
  // No final newline on either file (a hand edit): the next lines still start on their own line.
  Write(qrels_, "q1 0 d1 2\nq1 0 d2 0");
  Write(notes_,
        "{\"qid\":\"q1\",\"docid\":\"d1\",\"grade\":2,\"note\":\"first\",\"time\":\"t1\"}\n"
        "{\"qid\":\"q1\",\"docid\":\"d9\",\"grade\":1,\"note\":\"orphan\",\"time\":\"t2\"}\n"
        "{\"qid\":\"q1\",\"docid\":\"d1\",\"grade\":2,\"note\":\"second\",\"time\":\"t3\"}");
  {
    JudgmentLog log(qrels_, notes_);
    EXPECT_EQ(log.orphan_notes(), 1u);
    EXPECT_EQ(log.Find("q1", "d1")->note, "second");
    EXPECT_EQ(log.Find("q1", "d2")->note, "");  // no notes line: judged all the same
    log.Append({"q2", "d3", 1, "", "t4"});
  }
  EXPECT_EQ(Read(qrels_), "q1 0 d1 2\nq1 0 d2 0\nq2 0 d3 1\n");
  EXPECT_EQ(trec::LoadQrels(qrels_).queries.size(), 2u);
  JudgmentLog log(qrels_, notes_);
  EXPECT_EQ(log.records().size(), 3u);
  EXPECT_EQ(log.orphan_notes(), 1u);
}

TEST_F(JudgeFilesTest, UnwritableOutputsAreIoErrors) {
  Write((dir_ / "plain").string(), "a file, not a folder");
  try {
    JudgmentLog log((dir_ / "plain" / "x.qrels").string(), (dir_ / "x.notes").string());
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_EQ(e.type(), "OutputNotWritable");
    EXPECT_NE(std::string(e.what()).find("plain/x.qrels"), std::string::npos) << e.what();
    EXPECT_NE(e.suggestion().find("--qrels"), std::string::npos);
  }
  fs::create_directories(dir_ / "folder.qrels");
  EXPECT_THROW({ JudgmentLog log((dir_ / "folder.qrels").string(), notes_); }, IoError);
  EXPECT_THROW({ JudgmentLog log(qrels_, qrels_); }, InvalidInput);
}

TEST_F(JudgeFilesTest, SessionResumesSkipsAndTakesBack) {
  const EvalDataset ds = SmallDataset();
  Runs r;
  r.Add("a.trec",
        "q2 Q0 d2 1 2.0 a\nq2 Q0 d6 2 1.0 a\nq1 Q0 d1 1 3.0 a\nq1 Q0 d3 2 2.0 a\nq1 Q0 d4 3 1.0 a\n");
  // Pool: q2:d2 q2:d6 q1:d1 q1:d3 q1:d4.
  {
    JudgmentLog log(qrels_, notes_);
    JudgeSession s(ds, BuildJudgePool(ds, r.runs, 10), log);
    EXPECT_EQ(s.current(), 0u);
    EXPECT_EQ(s.QueryPosition(0), 1u);
    EXPECT_EQ(s.QueryPosition(2), 2u);
    s.Judge(1, "", At(0));           // q2:d2
    s.Judge(0, "off topic", At(1));  // q2:d6
    EXPECT_EQ(s.current(), 2u);
    EXPECT_EQ(s.judged(), 2u);
  }  // quit
  EXPECT_EQ(Read(qrels_), "q2 0 d2 1\nq2 0 d6 0\n");

  JudgmentLog log(qrels_, notes_);
  JudgeSession s(ds, BuildJudgePool(ds, r.runs, 10), log);
  EXPECT_EQ(s.current(), 2u) << "resumes at the first unjudged pair";
  EXPECT_EQ(s.judged(), 2u);
  EXPECT_EQ(s.judged_this_session(), 0u);
  s.Skip();  // q1:d1
  EXPECT_EQ(s.current(), 3u);
  EXPECT_EQ(s.skipped(), 1u);
  s.Judge(2, "", At(2));  // q1:d3
  EXPECT_EQ(s.current(), 4u);
  ASSERT_TRUE(s.Undo());  // back to q1:d3
  EXPECT_EQ(s.current(), 3u);
  ASSERT_NE(s.undone(), nullptr);
  EXPECT_EQ(s.undone()->grade, 2);
  EXPECT_EQ(s.judged_this_session(), 0u);
  EXPECT_EQ(Read(qrels_), "q2 0 d2 1\nq2 0 d6 0\n");
  s.Judge(3, "better", At(3));  // q1:d3 again
  EXPECT_EQ(s.undone(), nullptr);
  EXPECT_EQ(s.current(), 4u);
  s.Judge(1, "", At(4));  // q1:d4; the skipped q1:d1 is left for another session
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.judged(), 4u);
  EXPECT_EQ(s.skipped(), 1u);
  EXPECT_EQ(s.remaining(), 1u);
  EXPECT_EQ(s.judged_this_session(), 2u);
  EXPECT_EQ(Read(qrels_), "q2 0 d2 1\nq2 0 d6 0\nq1 0 d3 3\nq1 0 d4 1\n");

  // Undo reaches judgments of earlier sessions too, and stops at a judgment outside the pool.
  JudgeSession again(ds, BuildJudgePool(ds, r.runs, 10), log);
  EXPECT_EQ(again.current(), 2u);
  again.Judge(0, "", At(5));  // q1:d1
  EXPECT_TRUE(again.done());
  EXPECT_EQ(again.remaining(), 0u);
  log.Append({"q1", "d7", 1, "", "t"});  // not in this pool
  EXPECT_FALSE(again.Undo());
  EXPECT_EQ(log.records().size(), 6u);
}

}  // namespace
}  // namespace rlm
