// core/file: inputs that are not regular files are refused before a byte is read; outputs never follow or
// replace anything but a regular file, and keep the mode of the file they replace.
#include "core/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;

class FileTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rlm-file-" + std::to_string(::getpid()) + "-" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(Path(name), std::ios::binary) << text;
  }
  std::string Read(const std::string& name) const {
    std::ifstream in(Path(name), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  fs::path dir_;
};

std::string ErrorType(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.type();
  }
  return "none";
}

TEST_F(FileTest, InputsThatAreNotRegularFilesAreRefused) {
  ASSERT_EQ(::mkfifo(Path("fifo").c_str(), 0644), 0);
  for (const std::string& p : {Path("fifo"), std::string("/dev/zero"), std::string("/proc/self/status"),
                               std::string("/sys/kernel/mm/transparent_hugepage/enabled"), dir_.string()}) {
    if (!fs::exists(p)) continue;
    EXPECT_EQ(ErrorType([&] { InputFile f(p); }), "NotRegularFile") << p;
    EXPECT_EQ(ErrorType([&] { ReadFile(p); }), "NotRegularFile") << p;
    EXPECT_EQ(ErrorType([&] { MappedFile m(p); }), "NotRegularFile") << p;
  }
  EXPECT_EQ(ErrorType([&] { InputFile f(Path("missing")); }), "FileNotFound");
}

TEST_F(FileTest, ReadsOfATruncatedFileAreFileChanged) {
  Write("f.txt", std::string(10000, 'a'));
  InputFile f(Path("f.txt"));
  std::string out;
  f.ReadAt(0, 100, out);
  EXPECT_EQ(out, std::string(100, 'a'));
  fs::resize_file(Path("f.txt"), 500);
  out.clear();
  EXPECT_EQ(ErrorType([&] { f.ReadAt(0, 10000, out); }), "FileChanged");
  EXPECT_EQ(ErrorType([&] { f.CheckUnchanged(); }), "FileChanged");
  EXPECT_EQ(ReadFile(Path("f.txt")), std::string(500, 'a'));
}

// The old temp names were <path>.tmp.<pid>.<counter>: a link planted there made the write go through it.
TEST_F(FileTest, LinksPlantedAtTempNamesAreNeverFollowed) {
  Write("victim", "precious\n");
  for (int i = 0; i < 2000; ++i) {
    fs::create_symlink(Path("victim"),
                       Path("out.txt.tmp." + std::to_string(::getpid()) + "." + std::to_string(i)));
  }
  WriteFileAtomic(Path("out.txt"), "new content\n");
  EXPECT_EQ(Read("victim"), "precious\n");
  EXPECT_EQ(Read("out.txt"), "new content\n");
  // CreateExclusive itself neither follows nor reuses what is at the path.
  fs::create_symlink(Path("victim"), Path("planted"));
  EXPECT_LT(CreateExclusive(Path("planted"), 0644), 0);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(Read("victim"), "precious\n");
}

TEST_F(FileTest, OutputsReplaceOnlyRegularFilesAndKeepTheirMode) {
  ASSERT_EQ(::mkfifo(Path("fifo").c_str(), 0644), 0);
  Write("target", "t\n");
  fs::create_symlink(Path("target"), Path("link"));
  for (const char* name : {"fifo", "link"}) {
    EXPECT_EQ(ErrorType([&] { WriteFileAtomic(Path(name), "x"); }), "OutputNotWritable") << name;
  }
  EXPECT_EQ(ErrorType([&] { WriteFileAtomic(dir_.string(), "x"); }), "OutputNotWritable");
  EXPECT_TRUE(fs::is_fifo(Path("fifo")));
  EXPECT_TRUE(fs::is_symlink(Path("link")));
  EXPECT_EQ(Read("target"), "t\n");

  Write("secret.json", "old");
  ASSERT_EQ(::chmod(Path("secret.json").c_str(), 0600), 0);
  WriteFileAtomic(Path("secret.json"), "new");
  struct stat st;
  ASSERT_EQ(::stat(Path("secret.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(Read("secret.json"), "new");

  // An AtomicFile dropped without Commit leaves the target and the folder as they were.
  {
    AtomicFile f(Path("secret.json"));
    f.Write("half");
  }
  EXPECT_EQ(Read("secret.json"), "new");
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir_))
    entries += e.path().filename().string().find(".tmp") == std::string::npos;
  EXPECT_EQ(entries,
            static_cast<size_t>(std::distance(fs::directory_iterator(dir_), fs::directory_iterator())));
}

}  // namespace
}  // namespace rlm
