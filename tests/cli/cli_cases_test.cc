// Data-driven CLI tests: every file in tests/cli/cases/*.test is a script of commands and their expected
// stdout, run against the real `rlm` binary in a fresh temporary folder (so the default workspace
// .rlm/rlm-state.db lives there). Format:
//
//   # a comment (ignored)
//   $ rlm --format json list            a command line, run by /bin/sh -c in the temp folder; `rlm` and
//   []                                  `rlm-rs` are replaced by the built binary, {DATA} by tests/cli/data,
//                                       {FIXTURES} by tests/fixtures; the embedding cache and the model
//                                       registry live in the temp folder (.cache, .config)
//   [exit 1]                            optional: expected exit code (default 0)
//   [stderr] some text                  optional: stderr must contain this text
//
// Expected lines are compared exactly, except that {{regex}} matches a regular expression (ECMAScript) and
// a line `...` matches any number of lines. Trailing blank lines of a block are ignored.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Block {
  int line = 0;
  std::string command;
  std::vector<std::string> expected;
  int exit_code = 0;
  std::vector<std::string> stderr_contains;
};

std::vector<Block> ParseCase(const fs::path& file) {
  std::ifstream in(file);
  std::vector<Block> blocks;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.rfind("$ ", 0) == 0) {
      blocks.push_back(Block{n, line.substr(2), {}, 0, {}});
    } else if (blocks.empty()) {
      continue;  // comments and blank lines before the first command
    } else if (line.rfind("# ", 0) == 0 || line == "#") {
      continue;
    } else if (line.rfind("[exit ", 0) == 0) {
      blocks.back().exit_code = std::stoi(line.substr(6));
    } else if (line.rfind("[stderr] ", 0) == 0) {
      blocks.back().stderr_contains.push_back(line.substr(9));
    } else {
      blocks.back().expected.push_back(line);
    }
  }
  for (Block& b : blocks) {
    while (!b.expected.empty() && b.expected.back().empty()) b.expected.pop_back();
  }
  return blocks;
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
  return s;
}

// Turns an expected line into a regex: literal text, with {{...}} spliced in as regex.
std::regex LineRegex(const std::string& expected) {
  std::string re;
  size_t pos = 0;
  while (pos < expected.size()) {
    size_t open = expected.find("{{", pos);
    size_t close = open == std::string::npos ? std::string::npos : expected.find("}}", open + 2);
    std::string literal = expected.substr(pos, (close == std::string::npos ? expected.size() : open) - pos);
    for (char c : literal) {
      if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) re.push_back('\\');
      re.push_back(c);
    }
    if (close == std::string::npos) break;
    re += "(?:" + expected.substr(open + 2, close - open - 2) + ")";
    pos = close + 2;
  }
  return std::regex(re);
}

bool Matches(const std::vector<std::string>& expected, size_t ei, const std::vector<std::string>& actual, size_t ai) {
  if (ei == expected.size()) return ai == actual.size();
  if (expected[ei] == "...") {
    for (size_t k = ai; k <= actual.size(); ++k) {
      if (Matches(expected, ei + 1, actual, k)) return true;
    }
    return false;
  }
  if (ai == actual.size()) return false;
  if (!std::regex_match(actual[ai], LineRegex(expected[ei]))) return false;
  return Matches(expected, ei + 1, actual, ai + 1);
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CliCase : public testing::TestWithParam<std::string> {};

TEST_P(CliCase, Run) {
  const fs::path file = fs::path(RLM_SOURCE_DIR) / "tests/cli/cases" / GetParam();
  const fs::path data = fs::path(RLM_SOURCE_DIR) / "tests/cli/data";
  const fs::path bin = RLM_BINARY;
  fs::path dir = fs::temp_directory_path() / ("rlm-cli-" + GetParam() + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const Block& b : ParseCase(file)) {
    std::string cmd = b.command;
    cmd = std::regex_replace(cmd, std::regex(R"((^|[|;&(] *)rlm(-rs)?( |$))"), "$1'" + bin.string() + "'$3");
    cmd = ReplaceAll(cmd, "{DATA}", data.string());
    cmd = ReplaceAll(cmd, "{FIXTURES}", (fs::path(RLM_SOURCE_DIR) / "tests/fixtures").string());
    std::string full = "cd '" + dir.string() + "' && export RLM_CACHE_DIR='" + (dir / ".cache").string() +
                       "' RLM_CONFIG_DIR='" + (dir / ".config").string() + "' && env -u RLM_DB_PATH " + cmd + " >'" + (dir / ".stdout").string() +
                       "' 2>'" + (dir / ".stderr").string() + "'";
    int status = std::system(full.c_str());
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::string out = Slurp(dir / ".stdout"), err = Slurp(dir / ".stderr");
    std::vector<std::string> lines;
    std::stringstream ss(out);
    for (std::string l; std::getline(ss, l);) lines.push_back(l);
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    std::string where = file.filename().string() + ":" + std::to_string(b.line) + ": $ " + b.command;
    EXPECT_EQ(code, b.exit_code) << where << "\nstdout:\n" << out << "\nstderr:\n" << err;
    EXPECT_TRUE(Matches(b.expected, 0, lines, 0)) << where << "\nexpected:\n"
                                                  << testing::PrintToString(b.expected) << "\nactual:\n" << out
                                                  << "\nstderr:\n" << err;
    for (const std::string& s : b.stderr_contains) {
      EXPECT_NE(err.find(s), std::string::npos) << where << "\nstderr lacks: " << s << "\nstderr:\n" << err;
    }
  }
  fs::remove_all(dir);
}

std::vector<std::string> CaseFiles() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(fs::path(RLM_SOURCE_DIR) / "tests/cli/cases")) {
    if (e.path().extension() == ".test") names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Cases, CliCase, testing::ValuesIn(CaseFiles()), [](const auto& info) {
  std::string n = info.param.substr(0, info.param.size() - 5);
  for (char& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
});

}  // namespace
