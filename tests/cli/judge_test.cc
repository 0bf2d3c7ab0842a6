// `rlm eval judge` on a real terminal (tmux, on a private server socket in the test's folder): the screen
// shows the query, the passage and the progress; keys grade, note, skip, scroll and take back; quitting
// midway keeps every judgment, a restart resumes at the next unjudged pair, Ctrl-C and SIGTERM restore the
// terminal, and the final qrels and notes files hold exactly what was typed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/rlm_process.h"
#include "eval/trec.h"

namespace {

namespace fs = std::filesystem;

using rlm::testing_cli::Shell;

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class JudgeCliTest : public testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v tmux >/dev/null 2>&1") != 0) GTEST_SKIP() << "tmux is not installed";
    dir_ = fs::temp_directory_path() / ("rlm-judge-cli-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "ds" / "qrels");
    socket_ = (dir_ / "tmux.sock").string();  // a private server, removed with the folder
    std::string long_text = "LONG-PASSAGE-START";
    for (int i = 0; i < 60; ++i)
      long_text += " Fruit has been cultivated for thousands of years in many lands.";
    long_text += " LONG-PASSAGE-END";
    std::ofstream(dir_ / "ds" / "corpus.jsonl")
        << "{\"_id\": \"d1\", \"title\": \"Apple orchards\", \"text\": \"APPLES-PASSAGE Apples grow on "
           "trees.\"}\n"
        << "{\"_id\": \"d2\", \"title\": \"Bananas\", \"text\": \"BANANA-PASSAGE Bananas are tropical.\"}\n"
        << "{\"_id\": \"d3\", \"title\": \"History of fruit\", \"text\": \"" << long_text << "\"}\n"
        << "{\"_id\": \"d4\", \"title\": \"\", \"text\": \"CHERRY-PASSAGE Cherries are stone fruits.\"}\n"
        << "{\"_id\": \"d5\", \"title\": \"Dates\", \"text\": \"DATES-PASSAGE Dates grow on palms.\"}\n";
    std::ofstream(dir_ / "ds" / "queries.jsonl")
        << "{\"_id\": \"q1\", \"text\": \"which fruit grows on trees\"}\n"
        << "{\"_id\": \"q2\", \"text\": \"tropical fruit\"}\n";
    std::ofstream(dir_ / "ds" / "qrels" / "test.tsv") << "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n";
    // Pooled at depth 10: q1: d1 (rank 1 in a), d5 (rank 1 in b), d2, d3; q2: d4, d2.
    std::ofstream(dir_ / "a.trec") << "q1 Q0 d1 1 3.0 a\nq1 Q0 d2 2 2.0 a\nq1 Q0 d3 3 1.0 a\n"
                                   << "q2 Q0 d4 1 2.0 a\nq2 Q0 d2 2 1.0 a\n";
    std::ofstream(dir_ / "b.trec") << "q1 Q0 d5 1 9.0 b\nq1 Q0 d1 2 8.0 b\nq2 Q0 d2 1 5.0 b\n";
    // One wizard run; afterwards the exit code and whether the terminal settings came back are printed.
    std::ofstream(dir_ / "judge.sh")
        << "cd '" << dir_.string() << "'\nS0=$(stty -g)\n'" << RLM_BINARY
        << "' eval judge --dataset ds --run a.trec --run b.trec --qrels out/j.qrels\n"
        << "echo EXIT-$?\n[ \"$(stty -g)\" = \"$S0\" ] && echo TTY-RESTORED\nsleep 120\n";
  }
  void TearDown() override {
    if (!socket_.empty()) Shell("tmux -S '" + socket_ + "' kill-server 2>/dev/null");
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::string Tmux(const std::string& args) { return Shell("tmux -S '" + socket_ + "' " + args + " 2>&1"); }

  // Starts the wizard in a fresh 100x30 tmux session. Earlier sessions stay (sleeping) until TearDown:
  // killing the last session makes the server exit, and a new session could race with that exit.
  void Start() {
    session_ = "judge" + std::to_string(++sessions_);
    Tmux("new-session -d -s " + session_ + " -x 100 -y 30 \"sh '" + (dir_ / "judge.sh").string() + "'\"");
  }
  std::string Screen() { return Tmux("capture-pane -p -J -t " + session_); }
  void Keys(const std::string& keys) { Tmux("send-keys -t " + session_ + " " + keys); }

  // Polls the screen until it shows every one of `texts` (the machine may be slow: up to 30 s). After a
  // failure it returns at once: the first failure says what went wrong, later waits would only time out.
  std::string WaitFor(const std::vector<std::string>& texts) {
    if (HasFailure()) return Screen();
    std::string screen;
    for (int i = 0; i < 300; ++i) {
      screen = Screen();
      bool all = true;
      for (const std::string& t : texts) all = all && screen.find(t) != std::string::npos;
      if (all) return screen;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::string want;
    for (const std::string& t : texts) want += " [" + t + "]";
    ADD_FAILURE() << "timed out waiting for" << want << " on the screen:\n" << screen;
    return screen;
  }

  fs::path dir_;
  std::string socket_, session_;
  int sessions_ = 0;
};

TEST_F(JudgeCliTest, GradesNotesQuitsResumesAndFinishes) {
  const fs::path qrels = dir_ / "out" / "j.qrels";
  const fs::path notes = dir_ / "out" / "j.qrels.notes.jsonl";

  // Session 1: two judgments (the second with a note), then q.
  Start();
  WaitFor({"pair 1/6, query 1/2, judged 0/6", "Query q1", "which fruit grows on trees",
           "Document d1: Apple orchards", "APPLES-PASSAGE Apples grow on trees.", "0 not relevant",
           "3 perfectly relevant"});
  Keys("2");
  WaitFor({"pair 2/6, query 1/2, judged 1/6", "Document d5: Dates", "DATES-PASSAGE", "saved d1 = 2"});
  Keys("n");
  WaitFor({"typing a note"});
  Keys("-l 'too vague'");
  WaitFor({"Note: too vague_"});
  Keys("Enter");
  WaitFor({"Note: too vague", "note kept"});
  Keys("0");
  WaitFor({"pair 3/6", "BANANA-PASSAGE"});
  Keys("q");
  std::string screen = WaitFor({"EXIT-0", "TTY-RESTORED"});
  EXPECT_NE(screen.find("2/6 of the pool (2 queries) are judged, 4 left"), std::string::npos) << screen;
  EXPECT_EQ(Read(qrels), "q1 0 d1 2\nq1 0 d5 0\n");

  // Session 2 resumes at pair 3: skip it, scroll a long passage, grade, take back, grade again, finish.
  Start();
  WaitFor({"pair 3/6, query 1/2, judged 2/6", "Document d2: Bananas", "BANANA-PASSAGE"});
  Keys("s");
  screen =
      WaitFor({"pair 4/6", "skipped 1", "Document d3: History of fruit", "LONG-PASSAGE-START", "more below"});
  EXPECT_EQ(screen.find("LONG-PASSAGE-END"), std::string::npos) << "the long passage is not cut:\n" << screen;
  for (int i = 0; i < 6; ++i) Keys("NPage");
  screen = WaitFor({"LONG-PASSAGE-END"});
  EXPECT_EQ(screen.find("LONG-PASSAGE-START"), std::string::npos) << "did not scroll:\n" << screen;
  Keys("1");
  WaitFor({"pair 5/6, query 2/2", "Query q2", "tropical fruit", "Document d4", "CHERRY-PASSAGE"});
  Keys("b");
  WaitFor({"pair 4/6", "LONG-PASSAGE-START", "[was graded 1]", "took back d3 = 1"});
  EXPECT_EQ(Read(qrels), "q1 0 d1 2\nq1 0 d5 0\n");
  Keys("3");
  WaitFor({"pair 5/6", "CHERRY-PASSAGE"});
  Keys("1");
  WaitFor({"pair 6/6, query 2/2", "BANANA-PASSAGE"});
  Keys("0");  // the last pair: the session ends, the skipped pair is left for later
  screen = WaitFor({"EXIT-0", "TTY-RESTORED"});
  EXPECT_NE(screen.find("5/6 of the pool (2 queries) are judged, 1 left (1 skipped)"), std::string::npos)
      << screen;
  EXPECT_EQ(Read(qrels), "q1 0 d1 2\nq1 0 d5 0\nq1 0 d3 3\nq2 0 d4 1\nq2 0 d2 0\n");

  // Session 3: Ctrl-C ends it with an error, the terminal restored and nothing lost.
  Start();
  WaitFor({"pair 3/6, query 1/2, judged 5/6", "BANANA-PASSAGE"});
  Keys("C-c");
  screen = WaitFor({"EXIT-1", "TTY-RESTORED"});
  EXPECT_NE(screen.find("interrupted: 5 of 6 pairs are judged"), std::string::npos) << screen;

  // SIGTERM (from another process) does the same.
  Start();
  WaitFor({"pair 3/6", "BANANA-PASSAGE"});
  const std::string shell_pid = Tmux("list-panes -t " + session_ + " -F '#{pane_pid}'");
  const std::string pid = Shell("pgrep -P " + std::to_string(std::stol(shell_pid)));
  ASSERT_FALSE(pid.empty()) << "no rlm process under the pane's shell " << shell_pid;
  Shell("kill -TERM " + std::to_string(std::stol(pid)));
  screen = WaitFor({"EXIT-1", "TTY-RESTORED"});
  EXPECT_NE(screen.find("interrupted: 5 of 6 pairs are judged"), std::string::npos) << screen;

  // Session 4: the skipped pair, with a note; the pool is complete.
  Start();
  WaitFor({"pair 3/6", "BANANA-PASSAGE"});
  Keys("n");
  WaitFor({"typing a note"});
  Keys("-l 'partly'");
  WaitFor({"Note: partly_"});
  Keys("Enter");
  WaitFor({"note kept"});
  Keys("1");
  screen = WaitFor({"EXIT-0", "TTY-RESTORED"});
  EXPECT_NE(screen.find("6/6 of the pool (2 queries) are judged: the pool is complete"), std::string::npos)
      << screen;

  EXPECT_EQ(Read(qrels), "q1 0 d1 2\nq1 0 d5 0\nq1 0 d3 3\nq2 0 d4 1\nq2 0 d2 0\nq1 0 d2 1\n");
  const rlm::trec::Qrels parsed = rlm::trec::LoadQrels(qrels.string());
  EXPECT_EQ(parsed.queries.size(), 2u);
  std::vector<std::string> lines;
  {
    std::istringstream in(Read(notes));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  const std::vector<std::tuple<std::string, std::string, int, std::string>> expected = {
      {"q1", "d1", 2, ""}, {"q1", "d5", 0, "too vague"}, {"q1", "d3", 3, ""},
      {"q2", "d4", 1, ""}, {"q2", "d2", 0, ""},          {"q1", "d2", 1, "partly"}};
  ASSERT_EQ(lines.size(), expected.size()) << Read(notes);
  const std::regex time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  for (size_t i = 0; i < lines.size(); ++i) {
    const nlohmann::json j = nlohmann::json::parse(lines[i]);
    EXPECT_EQ(j.size(), 5u) << lines[i];
    EXPECT_EQ(j.at("qid"), std::get<0>(expected[i])) << lines[i];
    EXPECT_EQ(j.at("docid"), std::get<1>(expected[i])) << lines[i];
    EXPECT_EQ(j.at("grade"), std::get<2>(expected[i])) << lines[i];
    EXPECT_EQ(j.at("note"), std::get<3>(expected[i])) << lines[i];
    EXPECT_TRUE(std::regex_match(j.at("time").get<std::string>(), time)) << lines[i];
  }

  // A complete pool needs no terminal: the summary as JSON, with stdin not a terminal.
  const std::string bin = RLM_BINARY;
  const std::string summary = Shell(
      "cd '" + dir_.string() + "' && '" + bin +
      "' --format json eval judge --dataset ds --run a.trec --run b.trec --qrels out/j.qrels </dev/null");
  const nlohmann::json doc = nlohmann::json::parse(summary);
  EXPECT_EQ(doc.at("complete"), true) << summary;
  EXPECT_EQ(doc.at("judged"), 6) << summary;
  EXPECT_EQ(doc.at("judged_this_session"), 0) << summary;
  EXPECT_EQ(doc.at("pool").at("pairs"), 6) << summary;
}

// Two sessions on one qrels file: the second is refused at once, naming the file and the first session's
// process, and the first goes on unharmed. (Before the lock, both ran and appended to the same file.)
TEST_F(JudgeCliTest, SecondSessionOnOneQrelsFileIsRefused) {
  Start();
  const std::string first = session_;
  WaitFor({"pair 1/6, query 1/2, judged 0/6", "APPLES-PASSAGE"});
  const std::string shell_pid = Tmux("list-panes -t " + first + " -F '#{pane_pid}'");
  const std::string pid = Shell("pgrep -P " + std::to_string(std::stol(shell_pid)));
  ASSERT_FALSE(pid.empty()) << "no rlm process under the pane's shell " << shell_pid;

  Start();
  std::string screen = WaitFor({"EXIT-1", "TTY-RESTORED"});
  EXPECT_NE(screen.find("out/j.qrels is in use by process " + std::to_string(std::stol(pid))),
            std::string::npos)
      << screen;
  EXPECT_EQ(screen.find("APPLES-PASSAGE"), std::string::npos) << screen;

  session_ = first;
  Keys("2");
  WaitFor({"pair 2/6", "saved d1 = 2"});
  Keys("q");
  WaitFor({"EXIT-0", "TTY-RESTORED"});
  EXPECT_EQ(Read(dir_ / "out" / "j.qrels"), "q1 0 d1 2\n");
}

}  // namespace
