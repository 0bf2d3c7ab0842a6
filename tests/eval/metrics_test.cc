// trec_eval-exact metrics: every expected output of trec_eval 10.0's own test suite, trec_eval's outputs on
// a SciFact BM25 run, parsing errors, and hand-computed values for rlm's MRR@k, hit@k, ERR@k and Judged@k.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/file.h"
#include "eval/measures.h"
#include "eval/trec.h"

namespace rlm::trec {
namespace {

namespace fs = std::filesystem;

const std::string kData = RLM_SOURCE_DIR "/../shared/data";
const std::string kTrecTests = kData + "/trec_eval_tests/test/";
const std::string kScifact = kData + "/metric_fixtures/scifact_bm25/";

// One line of trec_eval output: (measure, qid) -> value text.
struct Line {
  std::string measure, qid, value;
};

std::vector<Line> ParseOutput(const std::string& text) {
  std::vector<Line> lines;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (l.empty()) continue;
    size_t t1 = l.find('\t'), t2 = l.find('\t', t1 + 1);
    EXPECT_NE(t2, std::string::npos) << l;
    if (t2 == std::string::npos) continue;
    std::string m = l.substr(0, t1);
    while (!m.empty() && m.back() == ' ') m.pop_back();
    lines.push_back({m, l.substr(t1 + 1, t2 - t1 - 1), l.substr(t2 + 1)});
  }
  return lines;
}

bool IsNumber(const std::string& s, double& v) {
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

// Compares every (measure, qid) line: floats within 5e-5 (trec_eval prints 4 decimals), integers and
// strings exactly; a missing or extra line fails. Returns the number of lines compared.
size_t CompareOutputs(const std::string& expected_text, const std::string& actual_text,
                      const std::string& what) {
  std::vector<Line> expected = ParseOutput(expected_text), actual = ParseOutput(actual_text);
  std::map<std::pair<std::string, std::string>, std::string> got;
  for (const Line& l : actual) {
    EXPECT_TRUE(got.emplace(std::make_pair(l.measure, l.qid), l.value).second)
        << what << ": duplicate line " << l.measure << " " << l.qid;
  }
  size_t compared = 0;
  for (const Line& e : expected) {
    auto it = got.find({e.measure, e.qid});
    if (it == got.end()) {
      ADD_FAILURE() << what << ": missing " << e.measure << " " << e.qid;
      continue;
    }
    double x, y;
    bool integer = e.value.find('.') == std::string::npos;
    if (IsNumber(e.value, x) && IsNumber(it->second, y)) {
      if (integer) {
        EXPECT_EQ(e.value, it->second) << what << ": " << e.measure << " " << e.qid;
      } else {
        EXPECT_NE(it->second.find('.'), std::string::npos)
            << what << ": " << e.measure << " printed as integer";
        EXPECT_LE(std::fabs(x - y), 5e-5)
            << what << ": " << e.measure << " " << e.qid << " expected " << e.value << " got " << it->second;
      }
    } else {
      EXPECT_EQ(e.value, it->second) << what << ": " << e.measure << " " << e.qid;
    }
    got.erase(it);
    ++compared;
  }
  for (const auto& [key, value] : got)
    ADD_FAILURE() << what << ": extra line " << key.first << " " << key.second;
  return compared;
}

struct Case {
  std::string expected;  // file under the fixture folder
  std::string qrels, run;
  std::vector<std::string> measures;
  EvalOptions options;
  bool per_query = false;
  std::string zscores;
};

std::string RunCase(const std::string& dir, const Case& c) {
  Qrels qrels = LoadQrels(dir + c.qrels);
  Run run = LoadRun(dir + c.run);
  MeasureSet set = MeasureSet::FromArgs(c.measures);
  ZScores z;
  if (!c.zscores.empty()) z = ZScores::Load(dir + c.zscores);
  Evaluation ev = Evaluate(qrels, run, set, c.options, c.zscores.empty() ? nullptr : &z);
  return FormatTrecEval(ev, set, c.per_query, !c.zscores.empty());
}

void CheckCase(const std::string& dir, const Case& c, size_t expected_lines) {
  std::string expected = ReadFile(dir + c.expected);
  std::string actual = RunCase(dir, c);
  EXPECT_EQ(CompareOutputs(expected, actual, c.expected + " (" + c.qrels + ", " + c.run + ")"),
            expected_lines);
  EXPECT_EQ(actual, expected) << c.expected << ": not byte-identical";
}

EvalOptions Opts(bool complete, int64_t max_ret = INT64_MAX, int64_t level = 1) {
  EvalOptions o;
  o.average_complete = complete;
  o.max_retrieved = max_ret;
  o.relevance_level = level;
  return o;
}

#define SKIP_WITHOUT(dir) \
  if (!fs::exists(dir)) GTEST_SKIP() << "fixture folder " << dir << " is absent (needs ../shared/data)"

// The commands are those of trec_eval's Makefile `quicktest` (see SOURCE.txt beside the fixtures).
TEST(TrecEvalFixtures, DefaultMeasures) {
  SKIP_WITHOUT(kTrecTests);
  CheckCase(kTrecTests, {"out.test", "qrels.test", "results.test", {}, {}}, 30);
}

TEST(TrecEvalFixtures, QrelsWithComments) {
  SKIP_WITHOUT(kTrecTests);
  CheckCase(kTrecTests, {"out.test", "qrels.test.with-comments", "results.test", {}, {}}, 30);
}

TEST(TrecEvalFixtures, CommentLinesAndHashInDocids) {
  SKIP_WITHOUT(kTrecTests);
  CheckCase(kTrecTests, {"out.comment.test", "qrels.comment.test", "results.comment.test", {}, {}}, 30);
}

TEST(TrecEvalFixtures, AllTrec) {
  SKIP_WITHOUT(kTrecTests);
  CheckCase(kTrecTests, {"out.test.a", "qrels.test", "results.test", {"all_trec"}, {}}, 99);
}

TEST(TrecEvalFixtures, AllTrecPerQuery) {
  SKIP_WITHOUT(kTrecTests);
  CheckCase(kTrecTests, {"out.test.aq", "qrels.test", "results.test", {"all_trec"}, {}, true}, 387);
}

TEST(TrecEvalFixtures, CompleteTruncatedRun) {
  SKIP_WITHOUT(kTrecTests);
  CheckCase(kTrecTests, {"out.test.aqc", "qrels.test", "results.trunc", {"all_trec"}, Opts(true), true}, 387);
}

TEST(TrecEvalFixtures, CompleteWithMaxRetrieved) {
  SKIP_WITHOUT(kTrecTests);
  CheckCase(kTrecTests, {"out.test.aqcM", "qrels.test", "results.trunc", {"all_trec"}, Opts(true, 100), true},
            387);
}

TEST(TrecEvalFixtures, RelevanceLevelAndRelstringParameter) {
  SKIP_WITHOUT(kTrecTests);
  CheckCase(kTrecTests,
            {"out.test.aql",
             "qrels.rel_level",
             "results.test",
             {"all_trec", "relstring.20"},
             Opts(false, INT64_MAX, 2),
             true},
            387);
}

TEST(TrecEvalFixtures, MeasureParameters) {
  SKIP_WITHOUT(kTrecTests);
  CheckCase(kTrecTests,
            {"out.test.meas_params",
             "qrels.test",
             "results.test",
             {"iprec_at_recall..10,.20,.25,.75,.50", "P.5,7,3", "recall.20,2000", "Rprec_mult.5.0,0.2,0.35",
              "utility.2,-1,0,0", "11pt_avg..25,.5,.75", "ndcg.1=3,2=9,4=4.5", "ndcg_cut.10,20,23.4",
              "success.2,5,20"},
             {},
             true},
            88);
}

// -R qrels_jg: the judgments of each user group evaluated separately, then averaged (qrels.123 has three).
TEST(TrecEvalFixtures, QrelsJudgmentGroups) {
  SKIP_WITHOUT(kTrecTests);
  trec::Run run = LoadRun(kTrecTests + "results.test");
  MeasureSet set = MeasureSet::FromArgs(std::vector<std::string>{"qrels_jg"});
  for (const char* file : {"qrels.123", "qrels.comments.123"}) {
    Qrels qrels = LoadQrels(kTrecTests + file, RelFormat::kQrelsJg);
    EXPECT_EQ(FormatTrecEval(Evaluate(qrels, run, set), set, true),
              ReadFile(kTrecTests + "out.test.qrels_jg"))
        << file;
  }
}

// -R qrels_prefs: the qrels read as preferences (column 2 a judgment group; higher grades preferred).
TEST(TrecEvalFixtures, QrelsAsPreferences) {
  SKIP_WITHOUT(kTrecTests);
  trec::Run run = LoadRun(kTrecTests + "results.test");
  MeasureSet set = MeasureSet::FromArgs(std::vector<std::string>{"all_prefs"});
  Qrels qrels = LoadQrels(kTrecTests + "qrels.test", RelFormat::kQrelsPrefs);
  EXPECT_EQ(FormatTrecEval(Evaluate(qrels, run, set), set, true),
            ReadFile(kTrecTests + "out.test.qrels_prefs"));
}

// -R prefs: five columns, preferences within each subgroup, a group's subgroups transitively combined.
TEST(TrecEvalFixtures, Preferences) {
  SKIP_WITHOUT(kTrecTests);
  trec::Run run = LoadRun(kTrecTests + "prefs.results.test");
  MeasureSet set = MeasureSet::FromArgs(std::vector<std::string>{"all_prefs"});
  for (const char* file : {"prefs.test", "prefs.comment.test"}) {
    Qrels qrels = LoadQrels(kTrecTests + file, RelFormat::kPrefs);
    EXPECT_EQ(FormatTrecEval(Evaluate(qrels, run, set), set, true), ReadFile(kTrecTests + "out.test.prefs"))
        << file;
  }
}

TEST(TrecEvalFixtures, ZScores) {
  SKIP_WITHOUT(kTrecTests);
  CheckCase(kTrecTests,
            {"out.test.aqZ", "qrels.test", "results.test", {"all_trec"}, {}, true, "zscores_file"}, 387);
}

// out.test.prefs, out.test.qrels_prefs and out.test.qrels_jg need trec_eval's prefs and qrels_jg formats
// (-R), which rlm does not implement.

TEST(ScifactFixtures, DefaultMeasures) {
  SKIP_WITHOUT(kScifact);
  CheckCase(kScifact, {"trec_eval.default.out", "qrels.test.trec", "run.bm25.top100.txt", {}, {}}, 30);
}

TEST(ScifactFixtures, AllTrec) {
  SKIP_WITHOUT(kScifact);
  CheckCase(kScifact, {"trec_eval.all_trec.out", "qrels.test.trec", "run.bm25.top100.txt", {"all_trec"}, {}},
            99);
}

TEST(ScifactFixtures, SelectedPerQuery) {
  SKIP_WITHOUT(kScifact);
  CheckCase(
      kScifact,
      {"trec_eval.q.selected.out",
       "qrels.test.trec",
       "run.bm25.top100.txt",
       {"ndcg_cut.10", "ndcg_cut.100", "recall.1,5,10,100", "recip_rank", "map", "map_cut.10", "P.1,5,10"},
       {},
       true},
      3311);
}

// ---- parsing ----------------------------------------------------------------------------------------------

std::string ErrorOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TrecParse, QrelsErrorsNameFileLineAndField) {
  EXPECT_EQ(ErrorOf([] { ParseQrels("1 0 d1 1\n1 0 d2 x\n", "q.txt"); }),
            "q.txt:2: relevance grade 'x' (column 4) is not an integer");
  EXPECT_EQ(ErrorOf([] { ParseQrels("1 0 d1 1.5\n", "q.txt"); }),
            "q.txt:1: relevance grade '1.5' (column 4) is not an integer");
  EXPECT_EQ(ErrorOf([] { ParseQrels("# c\n1 0 d1\n", "q.txt"); }),
            "q.txt:2: expected 4 columns (qid iter docid rel), found 3");
  EXPECT_EQ(ErrorOf([] { ParseQrels("1 0 d1 1 extra\n", "q.txt"); }),
            "q.txt:1: expected 4 columns (qid iter docid rel), found 5");
  EXPECT_EQ(ErrorOf([] { ParseQrels("1 0 d1 1\n2 0 d1 0\n1 0 d1 2\n", "q.txt"); }),
            "q.txt:3: document 'd1' is judged twice for query '1' (first at line 1)");
}

TEST(TrecParse, RunErrorsNameFileLineAndField) {
  EXPECT_EQ(ErrorOf([] { ParseRun("1 Q0 d1 1 2.5 r\n1 Q0 d2 2 abc r\n", "r.txt"); }),
            "r.txt:2: score 'abc' (column 5) is not a number");
  EXPECT_EQ(ErrorOf([] { ParseRun("1 Q0 d1 1 nan r\n", "r.txt"); }),
            "r.txt:1: score 'nan' (column 5) is not a number");
  EXPECT_EQ(ErrorOf([] { ParseRun("\n\n1 Q0 d1 1 2.5\n", "r.txt"); }),
            "r.txt:3: expected 6 columns (qid Q0 docid rank score runid), found 5");
  EXPECT_EQ(ErrorOf([] { ParseRun("1 Q0 d1 1 2.5 r\n2 Q0 d1 1 2 r\n1 Q0 d1 3 1 r\n", "r.txt"); }),
            "r.txt:3: document 'd1' is retrieved twice for query '1' (first at line 1)");
  // A long line (the scalar path) reports the same way.
  std::string long_line = "1 Q0 " + std::string(100, 'x') + " 1 zz r\n";
  EXPECT_EQ(ErrorOf([&] { ParseRun(long_line, "r.txt"); }), "r.txt:1: score 'zz' (column 5) is not a number");
}

TEST(TrecParse, CommentsBlanksExtraColumnsAndCrlf) {
  // '#' starts a comment in the first column of a qrels line; a docid may contain '#'.
  Qrels q = ParseQrels("# judged\n1 0 a#1 1\r\n\n  \n1 0 b 0\n", "q");
  ASSERT_EQ(q.queries.size(), 1u);
  EXPECT_EQ(q.queries[0].judgments.size(), 2u);
  EXPECT_NE(q.docs->Find("a#1"), DocIdTable::kMissing);
  // Runs: comments also after leading blanks, blank lines skipped, columns after runid ignored, CRLF.
  std::string text =
      "  # header\n\n2 Q0 b 1 1.0 r1 more junk\r\n1 Q0 a 1 +2e0 r2\n" + std::string(70, ' ') + "\n";
  trec::Run r = ParseRun(text, "r");
  ASSERT_EQ(r.queries.size(), 2u);
  EXPECT_EQ(r.queries[0].qid, "1");  // sorted by qid
  EXPECT_EQ(r.queries[0].entries[0].score, 2.0);
  EXPECT_EQ(r.queries[1].entries[0].docid, "b");
  EXPECT_EQ(r.runid, "r2");  // from the last line, as trec_eval
}

TEST(TrecParse, RankingBreaksTiesByDocidDescending) {
  trec::Run r = ParseRun("1 Q0 b 1 1.0 r\n1 Q0 c 2 1.0 r\n1 Q0 a 3 2.0 r\n1 Q0 ab 4 1.0 r\n", "r");
  std::vector<RunEntry> e(r.queries[0].entries.begin(), r.queries[0].entries.end());
  RankEntries(e);
  std::vector<std::string> order;
  for (const RunEntry& x : e) order.emplace_back(x.docid);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "c", "b", "ab"}));
}

// Runs over 4 MB are parsed in pieces in parallel; the result must be the sequential one: queries merged
// across pieces in file order, absolute line numbers, the first error in file order, the last line's runid.
TEST(TrecParse, LargeRunParsedInPiecesEqualsSequential) {
  std::string text;
  const int kLines = 300000;  // ~9 MB
  for (int i = 0; i < kLines; ++i) {
    int q = (i / 1000) % 7;  // queries come back: q0 at lines 1-1000, again at 7001-8000, ...
    text += "q" + std::to_string(q) + " Q0 doc" + std::to_string(i) + " " + std::to_string(i) + " " +
            std::to_string(kLines - i) + ".5 run" + std::to_string(i % 3) + "\n";
  }
  ASSERT_GT(text.size(), size_t{8} << 20);
  trec::Run r = ParseRun(text, "big");
  ASSERT_EQ(r.queries.size(), 7u);
  size_t total = 0;
  for (const RunQuery& q : r.queries) {
    total += q.entries.size();
    for (size_t k = 1; k < q.entries.size(); ++k) ASSERT_LT(q.entries[k - 1].line, q.entries[k].line);
  }
  EXPECT_EQ(total, static_cast<size_t>(kLines));
  const RunQuery* q3 = r.Find("q3");
  ASSERT_NE(q3, nullptr);
  EXPECT_EQ(q3->entries[0].line, 3001u);
  EXPECT_EQ(q3->entries[0].docid, "doc3000");
  EXPECT_EQ(q3->entries[1000].line, 10001u);  // its second block, from a later piece
  EXPECT_EQ(r.runid, "run" + std::to_string((kLines - 1) % 3));
  // Errors late in the file name the absolute line; of two errors the first in the file wins.
  std::string broken = text + "q1 Q0 last 1 notanumber r\n";
  EXPECT_EQ(ErrorOf([&] { ParseRun(broken, "big"); }),
            "big:" + std::to_string(kLines + 1) + ": score 'notanumber' (column 5) is not a number");
  std::string two = "q1 Q0 first 1 bad r\n" + broken;
  EXPECT_EQ(ErrorOf([&] { ParseRun(two, "big"); }), "big:1: score 'bad' (column 5) is not a number");
  std::string dup = text + "q5 Q0 doc5000 1 1 r\n";  // doc5000 was q5's first document, at line 5001
  EXPECT_EQ(ErrorOf([&] { ParseRun(dup, "big"); }),
            "big:" + std::to_string(kLines + 1) +
                ": document 'doc5000' is retrieved twice for query 'q5' (first at line 5001)");
}

// Scores are parsed to exactly the double strtod gives (trec_eval reads them with atof): the common short
// decimals take a fast path, everything else from_chars; both must agree with strtod bit for bit.
TEST(TrecParse, ScoresAreExactlyStrtods) {
  std::mt19937_64 rng(11);
  std::vector<std::string> scores = {"0",
                                     "-0",
                                     "1.",
                                     ".5",
                                     "-.25",
                                     "007.50",
                                     "0.1",
                                     "0.3",
                                     "123456789012345",
                                     "1234567890123456",
                                     "0.000000000000000000001",
                                     "9007199254740993",
                                     "1e-5",
                                     "-2.5E+3",
                                     "4.9406564584124654e-324",
                                     "1.7976931348623157e308",
                                     "12345.678901234567",
                                     "0.30000000000000004",
                                     "99999999999999.9"};
  for (int i = 0; i < 20000; ++i) {
    std::string t = (rng() % 4 == 0) ? "-" : "";
    const int int_digits = static_cast<int>(rng() % 8), frac_digits = static_cast<int>(rng() % 20);
    for (int d = 0; d < int_digits; ++d) t += static_cast<char>('0' + rng() % 10);
    if (frac_digits > 0 || int_digits == 0) t += ".";
    for (int d = 0; d < frac_digits || (int_digits == 0 && d == 0); ++d)
      t += static_cast<char>('0' + rng() % 10);
    scores.push_back(t);
  }
  std::string text;
  for (size_t i = 0; i < scores.size(); ++i)
    text += "q" + std::to_string(i) + " Q0 d 1 " + scores[i] + " r\n";
  const trec::Run run = ParseRun(text, "scores");
  ASSERT_EQ(run.queries.size(), scores.size());
  for (size_t i = 0; i < scores.size(); ++i) {
    const RunQuery* q = run.Find("q" + std::to_string(i));
    ASSERT_NE(q, nullptr);
    const double expected = std::strtod(scores[i].c_str(), nullptr);
    EXPECT_EQ(std::memcmp(&q->entries[0].score, &expected, sizeof(double)), 0)
        << scores[i] << ": " << q->entries[0].score << " vs " << expected;
  }
}

TEST(TrecParse, EmptyInputs) {
  EXPECT_TRUE(ParseQrels("", "q").queries.empty());
  EXPECT_TRUE(ParseRun("", "r").queries.empty());
  EXPECT_TRUE(ParseRun("# only a comment", "r").queries.empty());
}

TEST(TrecParse, LoadNamesTheFile) {
  fs::path dir = fs::temp_directory_path() / ("rlm_metrics_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "bad.run").string();
  { std::ofstream(path) << "1 Q0 d 1 1 r\n1 Q0 e 2\n"; }
  EXPECT_EQ(ErrorOf([&] { LoadRun(path); }),
            path + ":2: expected 6 columns (qid Q0 docid rank score runid), found 4");
  EXPECT_THROW(LoadRun((dir / "missing").string()), NotFound);
  fs::remove_all(dir);
}

// ---- evaluation edge cases and rlm's own measures ---------------------------------------------------------

double Value(const Evaluation& ev, const MeasureSet& set, const std::string& name, int query = -1) {
  int i = set.IndexOf(name);
  EXPECT_GE(i, 0) << name;
  if (i < 0) return NAN;
  return query < 0 ? ev.summary[static_cast<size_t>(i)]
                   : ev.queries[static_cast<size_t>(query)].values[static_cast<size_t>(i)];
}

TEST(TrecEvaluate, EmptyRunScoresNothingUnlessComplete) {
  Qrels q = ParseQrels("1 0 a 1\n2 0 b 1\n", "q");
  trec::Run r = ParseRun("", "r");
  MeasureSet set = MeasureSet::FromArgs(std::vector<std::string>{"map", "num_q", "num_rel"});
  Evaluation ev = Evaluate(q, r, set);
  EXPECT_EQ(ev.num_q, 0);
  EXPECT_TRUE(ev.queries.empty());
  EXPECT_EQ(ev.judged_queries_without_run, 2);
  // -c: both judged queries are evaluated as empty rankings.
  EvalOptions c;
  c.average_complete = true;
  ev = Evaluate(q, r, set, c);
  ASSERT_EQ(ev.queries.size(), 2u);
  EXPECT_FALSE(ev.queries[0].in_run);
  EXPECT_EQ(Value(ev, set, "num_q"), 2);
  EXPECT_EQ(Value(ev, set, "num_rel"), 2);
  EXPECT_EQ(Value(ev, set, "map"), 0);
}

TEST(TrecEvaluate, RunQueryWithoutJudgmentsIsSkippedAndCounted) {
  Qrels q = ParseQrels("1 0 a 1\n", "q");
  trec::Run r = ParseRun("1 Q0 a 1 3 r\n9 Q0 a 1 3 r\n", "r");
  MeasureSet set = MeasureSet::FromArgs(std::vector<std::string>{"official"});
  EvalOptions c;
  c.average_complete = true;  // -c does not add run queries without judgments either
  for (const EvalOptions& o : {EvalOptions{}, c}) {
    Evaluation ev = Evaluate(q, r, set, o);
    ASSERT_EQ(ev.queries.size(), 1u);
    EXPECT_EQ(ev.queries[0].qid, "1");
    EXPECT_EQ(ev.run_queries_without_judgments, 1);
    EXPECT_EQ(Value(ev, set, "map"), 1.0);
    EXPECT_EQ(Value(ev, set, "num_ret"), 1);
  }
}

TEST(TrecEvaluate, MrrAtKAndHitAtKByHand) {
  // Query 1: relevant d3 at rank 3 (d2 is judged non-relevant, x unjudged).
  // Query 2: relevant e9 at rank 12.  Query 3: nothing relevant retrieved.
  Qrels q = ParseQrels("1 0 d3 1\n1 0 d2 0\n2 0 e9 2\n3 0 z 1\n", "q");
  std::string run = "1 Q0 d1 1 9 r\n1 Q0 d2 2 8 r\n1 Q0 d3 3 7 r\n1 Q0 x 4 6 r\n3 Q0 y 1 1 r\n";
  for (int i = 1; i <= 11; ++i)
    run +=
        "2 Q0 e" + std::to_string(100 + i) + " " + std::to_string(i) + " " + std::to_string(50 - i) + " r\n";
  run += "2 Q0 e9 12 1 r\n";
  trec::Run r = ParseRun(run, "r");
  MeasureSet set =
      MeasureSet::FromArgs(std::vector<std::string>{"mrr_cut.1,3,10,20", "hit.1,3,10,20", "recip_rank"});
  Evaluation ev = Evaluate(q, r, set);
  ASSERT_EQ(ev.queries.size(), 3u);
  // Query 1: first relevant at rank 3 -> MRR@1 0, MRR@3 = 1/3; hit@3 = 1.
  EXPECT_DOUBLE_EQ(Value(ev, set, "mrr_cut_1", 0), 0.0);
  EXPECT_DOUBLE_EQ(Value(ev, set, "mrr_cut_3", 0), 1.0 / 3);
  EXPECT_DOUBLE_EQ(Value(ev, set, "hit_1", 0), 0.0);
  EXPECT_DOUBLE_EQ(Value(ev, set, "hit_3", 0), 1.0);
  // Query 2: rank 12 -> 0 at k = 10, 1/12 at k = 20; recip_rank has no cutoff.
  EXPECT_DOUBLE_EQ(Value(ev, set, "mrr_cut_10", 1), 0.0);
  EXPECT_DOUBLE_EQ(Value(ev, set, "mrr_cut_20", 1), 1.0 / 12);
  EXPECT_DOUBLE_EQ(Value(ev, set, "hit_10", 1), 0.0);
  EXPECT_DOUBLE_EQ(Value(ev, set, "hit_20", 1), 1.0);
  EXPECT_DOUBLE_EQ(Value(ev, set, "recip_rank", 1), 1.0 / 12);
  // Means over the three queries.
  EXPECT_DOUBLE_EQ(Value(ev, set, "mrr_cut_10"), (1.0 / 3) / 3);
  EXPECT_DOUBLE_EQ(Value(ev, set, "mrr_cut_20"), (1.0 / 3 + 1.0 / 12) / 3);
  EXPECT_DOUBLE_EQ(Value(ev, set, "hit_3"), 1.0 / 3);
  EXPECT_DOUBLE_EQ(Value(ev, set, "hit_20"), 2.0 / 3);
  // -l2: only e9 (grade 2) is relevant, so query 1 scores 0.
  EvalOptions l2;
  l2.relevance_level = 2;
  ev = Evaluate(q, r, set, l2);
  EXPECT_DOUBLE_EQ(Value(ev, set, "mrr_cut_3", 0), 0.0);
  EXPECT_DOUBLE_EQ(Value(ev, set, "mrr_cut_20", 1), 1.0 / 12);
}

// ERR@k as gdeval.pl (ir_measures' ERR): stop probability R(g) = (2^g - 1) / 16 with grades capped at 4;
// Judged@k: grade >= 0 among the top min(k, num_ret).
TEST(TrecEvaluate, ErrAtKAndJudgedAtKByHand) {
  // Ranks: d1 grade 3, d2 in the pool unjudged (-1), d3 never judged, d4 grade 1, d5 grade 5 (capped at
  // 4), d6 grade 0.
  Qrels q = ParseQrels("1 0 d1 3\n1 0 d2 -1\n1 0 d4 1\n1 0 d5 5\n1 0 d6 0\n", "q");
  trec::Run r = ParseRun(
      "1 Q0 d1 1 6 r\n1 Q0 d2 2 5 r\n1 Q0 d3 3 4 r\n1 Q0 d4 4 3 r\n1 Q0 d5 5 2 r\n1 Q0 d6 6 1 r\n", "r");
  MeasureSet set = MeasureSet::FromArgs(std::vector<std::string>{"err_cut.1,3,5,10", "judged.1,3,5,10"});
  Evaluation ev = Evaluate(q, r, set);
  // rank 1: R = 7/16, ERR 7/16, continue 9/16; rank 4: R = 1/16, + (1/16)(9/16)/4 = 9/1024, continue
  // 135/256; rank 5: R = 15/16, + (15/16)(135/256)/5 = 405/4096.
  EXPECT_DOUBLE_EQ(Value(ev, set, "err_cut_1"), 7.0 / 16);
  EXPECT_DOUBLE_EQ(Value(ev, set, "err_cut_3"), 7.0 / 16);
  EXPECT_DOUBLE_EQ(Value(ev, set, "err_cut_5"), 2233.0 / 4096);
  EXPECT_DOUBLE_EQ(Value(ev, set, "err_cut_10"), 2233.0 / 4096);
  EXPECT_DOUBLE_EQ(Value(ev, set, "judged_1"), 1.0);
  EXPECT_DOUBLE_EQ(Value(ev, set, "judged_3"), 1.0 / 3);
  EXPECT_DOUBLE_EQ(Value(ev, set, "judged_5"), 3.0 / 5);
  EXPECT_DOUBLE_EQ(Value(ev, set, "judged_10"), 4.0 / 6);  // 6 retrieved
  EXPECT_EQ(FormatTrecEval(ev, set, false),
            "err_cut_1             \tall\t0.4375\n"
            "err_cut_3             \tall\t0.4375\n"
            "err_cut_5             \tall\t0.5452\n"
            "err_cut_10            \tall\t0.5452\n"
            "judged_1              \tall\t1.0000\n"
            "judged_3              \tall\t0.3333\n"
            "judged_5              \tall\t0.6000\n"
            "judged_10             \tall\t0.6667\n");
}

// -R qrels_prefs keeps a num_judged x num_judged counts array per query (as trec_eval); beyond 16384
// documents with preferences in one query that is refused instead of allocated.
TEST(TrecEvaluate, PreferencesOfTooManyDocumentsAreRefused) {
  std::string text;
  for (int i = 0; i <= 16384; ++i) text += "1 u d" + std::to_string(i) + " " + std::to_string(i % 3) + "\n";
  Qrels q = ParseQrels(text, "q", RelFormat::kQrelsPrefs);
  trec::Run r = ParseRun("1 Q0 d1 1 1 r\n", "r");
  MeasureSet set = MeasureSet::FromArgs(std::vector<std::string>{"prefs_simp"});
  EXPECT_EQ(ErrorOf([&] { Evaluate(q, r, set); }),
            "query 1 has 16385 documents with preferences (at most 16384)");
  MeasureSet map = MeasureSet::FromArgs(std::vector<std::string>{"map"});
  EXPECT_EQ(ErrorOf([&] { Evaluate(q, r, map); }), "measure 'map' needs -R qrels judgments, not qrels_prefs");
}

TEST(TrecEvaluate, EvaluateQueryMatchesEvaluate) {
  Qrels q = ParseQrels("1 0 a 2\n1 0 b 0\n1 0 c 1\n", "q");
  trec::Run r = ParseRun("1 Q0 b 1 3 r\n1 Q0 c 2 2 r\n1 Q0 a 3 1 r\n", "r");
  MeasureSet set = MeasureSet::FromArgs(std::vector<std::string>{"all_trec"});
  Evaluation ev = Evaluate(q, r, set);
  // The same ranking given in another order, from memory.
  std::vector<RunEntry> entries = {{"a", 1, 0, 0}, {"b", 3, 0, 0}, {"c", 2, 0, 0}};
  QueryScores one;
  EvaluateQuery(q.Find("1"), entries, *q.docs, set, {}, one);
  EXPECT_EQ(one.values, ev.queries[0].values);
  EXPECT_EQ(one.relstring, "012");
}

TEST(TrecMeasures, UnknownMeasureSuggestsNearest) {
  try {
    MeasureSet::FromArgs(std::vector<std::string>{"ndcg_cutt.10"});
    FAIL() << "no error";
  } catch (const InvalidInput& e) {
    EXPECT_EQ(std::string(e.what()), "unknown measure 'ndcg_cutt'");
    EXPECT_EQ(e.suggestion(), "did you mean 'ndcg_cut'?");
  }
  EXPECT_THROW(MeasureSet::FromArgs(std::vector<std::string>{"P.0"}), InvalidInput);
  EXPECT_THROW(MeasureSet::FromArgs(std::vector<std::string>{"P.5,5"}), InvalidInput);
  EXPECT_THROW(MeasureSet::FromArgs(std::vector<std::string>{"utility.1,2"}), InvalidInput);
  EXPECT_THROW(MeasureSet::FromArgs(std::vector<std::string>{"ndcg.1"}), InvalidInput);
  EXPECT_THROW(MeasureSet::FromArgs(std::vector<std::string>{"map."}), InvalidInput);
}

TEST(TrecMeasures, OutputOrderIsTrecEvalsWhateverTheRequestOrder) {
  MeasureSet a = MeasureSet::FromArgs(std::vector<std::string>{"ndcg_cut.10", "map", "P.5"});
  std::vector<std::string> names;
  for (const MeasureValue& v : a.values()) names.push_back(v.name);
  EXPECT_EQ(names, (std::vector<std::string>{"map", "P_5", "ndcg_cut_10"}));
}

}  // namespace
}  // namespace rlm::trec
