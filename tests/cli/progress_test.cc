// The progress bar: drawn on a real terminal (tmux), absent when stderr is not a terminal or with -q.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "cli/rlm_process.h"

namespace {

namespace fs = std::filesystem;

using rlm::testing_cli::Shell;

class ProgressTest : public testing::Test {
 protected:
  void SetUp() override {
    if (std::system("command -v tmux >/dev/null 2>&1") != 0) GTEST_SKIP() << "tmux is not installed";
    dir_ = fs::temp_directory_path() / ("rlm-progress-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream f(dir_ / "big.txt");
    std::string para = "A paragraph of text about progress bars and terminals, repeated many times.\n\n";
    for (int i = 0; i < 200000; ++i) f << para;  // ~16 MB
  }
  void TearDown() override {
    if (!session_.empty()) Shell("tmux kill-session -t " + session_ + " 2>/dev/null");
    fs::remove_all(dir_);
  }
  fs::path dir_;
  std::string session_;
};

TEST_F(ProgressTest, DrawsABarOnATerminalOnly) {
  const std::string bin = RLM_BINARY;
  session_ = "rlmprogress" + std::to_string(::getpid());
  std::string script = "cd '" + dir_.string() + "' && '" + bin + "' init >/dev/null && '" + bin +
                       "' -q load big.txt --name quiet >/dev/null && echo QUIET-END && '" + bin +
                       "' load big.txt >/dev/null; echo DONE-$?; sleep 30";
  ASSERT_EQ(std::system(("tmux new-session -d -s " + session_ + " -x 160 -y 20 \"" + script + "\"").c_str()), 0);
  std::string screen;
  for (int i = 0; i < 600 && screen.find("DONE-") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    screen = Shell("tmux capture-pane -p -t " + session_);
  }
  ASSERT_NE(screen.find("DONE-0"), std::string::npos) << screen;
  EXPECT_NE(screen.find("100.0%"), std::string::npos) << "no finished progress bar on the terminal:\n" << screen;
  EXPECT_NE(screen.find("load ["), std::string::npos) << screen;
  // With -q nothing was drawn before QUIET-END.
  EXPECT_EQ(screen.substr(0, screen.find("QUIET-END")).find('%'), std::string::npos) << screen;

  // Piped stderr: no bar.
  std::string err = Shell("cd '" + dir_.string() + "' && '" + bin + "' load big.txt --name again 2>&1 >/dev/null");
  EXPECT_EQ(err.find('%'), std::string::npos) << err;
}

}  // namespace
