// Large inputs through the real binary: a 200 MB file that is one single line (no newline at all) loads,
// is chunked in segments, and its last bytes are reachable by peek.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

namespace fs = std::filesystem;

std::string Shell(const std::string& cmd, int* code) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

TEST(LargeInput, TwoHundredMegabyteSingleLineLoads) {
  fs::path dir = fs::temp_directory_path() / ("rlm-large-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const uint64_t target = 200ull << 20;
  {
    std::ofstream f(dir / "line.txt", std::ios::binary);
    std::string words = "lorem ipsum dolor sit amet caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC consectetur adipiscing elit ";
    std::string block;
    while (block.size() < (1 << 20)) block += words;
    uint64_t written = 0;
    while (written + block.size() <= target) {
      f << block;
      written += block.size();
    }
    f << "THE-END";
  }
  const std::string bin = RLM_BINARY;
  const std::string cd = "cd '" + dir.string() + "' && ";
  int code = 0;
  Shell(cd + "'" + bin + "' init", &code);
  ASSERT_EQ(code, 0);
  std::string out = Shell(cd + "'" + bin + "' -q --format json load line.txt --name line 2>&1", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\"chunk_count\""), std::string::npos) << out;
  out = Shell(cd + "'" + bin + "' peek line --start -7", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("THE-END"), std::string::npos) << out;
  out = Shell(cd + "'" + bin + "' grep line 'THE-END' -n 1", &code);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("Found 1 matches"), std::string::npos) << out;
  fs::remove_all(dir);
}

}  // namespace
