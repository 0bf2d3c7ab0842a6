// Store and registry integrity through real `rlm` processes (issue 11 items 7 and 8): concurrent `model
// add`s all kept, a model computing NaN refused, a read-only workspace still answering reads, disk-full
// errors naming the file. The file-system cases mount a small tmpfs (the tests run as root); where mount is
// not permitted they are skipped, saying so.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/rlm_process.h"
#include "core/file.h"

namespace {

namespace fs = std::filesystem;
using rlm::testing_cli::RlmProcess;

struct Outcome {
  int code;
  std::string out, err;
};

Outcome RunRlm(const fs::path& dir, const std::vector<std::string>& args,
               const std::vector<std::string>& env = {}) {
  RlmProcess p(dir, "run", args, env);
  int code = p.Wait();
  return {code, p.out(), p.err()};
}

// Writes about `bytes` bytes of words and paragraphs.
void WriteText(const fs::path& path, size_t bytes) {
  static const char* kWords[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"};
  std::ofstream out(path, std::ios::binary);
  unsigned x = 12345;
  for (size_t written = 0, n = 0; written < bytes; ++n) {
    std::string line;
    for (int w = 0; w < 10; ++w) {
      x = x * 1103515245u + 12345u;
      line += kWords[(x >> 16) % 8];
      line += ' ';
    }
    line += n % 5 == 0 ? "needle.\n\n" : ".\n";
    out << line;
    written += line.size();
  }
}

class IntegrityTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rlm-integrity-" + std::to_string(::getpid()) + "-" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (mounted_) ::umount2((dir_ / "mnt").c_str(), MNT_DETACH);
    fs::remove_all(dir_);
  }
  // Mounts a tmpfs of `size` (e.g. "1m") on dir_/mnt. False when not permitted (not root, no CAP_SYS_ADMIN).
  bool MountTmpfs(const std::string& size) {
    fs::create_directories(dir_ / "mnt");
    const std::string opts = "size=" + size;
    if (::mount("tmpfs", (dir_ / "mnt").c_str(), "tmpfs", 0, opts.c_str()) != 0) {
      reason_ = std::string("cannot mount a tmpfs: ") + std::strerror(errno);
      return false;
    }
    mounted_ = true;
    return true;
  }
  bool RemountReadOnly() {
    return ::mount("tmpfs", (dir_ / "mnt").c_str(), "tmpfs", MS_REMOUNT | MS_RDONLY, nullptr) == 0;
  }
  fs::path dir_;
  bool mounted_ = false;
  std::string reason_;
};

// Eight processes register eight models at once: every registration is kept. Before the registry had a
// lock, each process wrote back the registry it had read plus its own entry, and about half were lost.
TEST_F(IntegrityTest, ConcurrentModelAddsAreAllKept) {
  const fs::path model = fs::path(RLM_SOURCE_DIR) / "tests/fixtures/models/tiny-bert";
  const std::vector<std::string> env = {"RLM_CONFIG_DIR=" + (dir_ / "config").string()};
  constexpr int kProcs = 8;
  for (int round = 0; round < 3; ++round) {
    std::vector<std::unique_ptr<RlmProcess>> procs;
    for (int i = 0; i < kProcs; ++i) {
      const std::string name = "m" + std::to_string(round) + "_" + std::to_string(i);
      procs.push_back(std::make_unique<RlmProcess>(
          dir_, name, std::vector<std::string>{"-q", "model", "add", name, model.string()}, env));
    }
    for (auto& p : procs) {
      ASSERT_EQ(p->Wait(), 0) << p->err();
    }
  }
  Outcome list = RunRlm(dir_, {"--format", "json", "model", "list"}, env);
  ASSERT_EQ(list.code, 0) << list.err;
  auto models = nlohmann::json::parse(list.out);
  EXPECT_EQ(models.size(), 3u * kProcs) << list.out;
}

// Writes `value` over element `index` of the F32 tensor `name` in dir/model.safetensors.
void PatchF32(const fs::path& dir, const std::string& name, size_t index, float value) {
  std::string bytes = rlm::ReadFile((dir / "model.safetensors").string());
  uint64_t header_len = 0;
  std::memcpy(&header_len, bytes.data(), 8);
  const auto header = nlohmann::json::parse(bytes.substr(8, header_len));
  const size_t at = 8 + header_len + header.at(name).at("data_offsets")[0].get<size_t>() + index * 4;
  std::memcpy(bytes.data() + at, &value, 4);
  std::ofstream(dir / "model.safetensors", std::ios::binary | std::ios::trunc) << bytes;
}

// A local model with a NaN weight: `load` fails naming the model and stores nothing, as with an HTTP
// provider that returns NaN. Before the check, the NaN vectors were stored and searched.
TEST_F(IntegrityTest, LocalModelComputingNaNIsRefusedAtLoad) {
  const fs::path model = dir_ / "nan-model";
  fs::copy(fs::path(RLM_SOURCE_DIR) / "tests/fixtures/models/tiny-bert", model, fs::copy_options::recursive);
  PatchF32(model, "embeddings.LayerNorm.bias", 0, std::nanf(""));
  WriteText(dir_ / "doc.txt", 2000);
  const std::vector<std::string> env = {"RLM_CACHE_DIR=" + (dir_ / "cache").string(),
                                        "RLM_CONFIG_DIR=" + (dir_ / "config").string()};
  ASSERT_EQ(RunRlm(dir_, {"-d", "ws.db", "init"}, env).code, 0);
  Outcome load =
      RunRlm(dir_, {"-d", "ws.db", "load", "doc.txt", "--embedder", "local:" + model.string()}, env);
  EXPECT_EQ(load.code, 1) << load.out << load.err;
  EXPECT_NE(load.err.find("local model 'nan-model' (" + model.string() + ") computed a non-finite embedding"),
            std::string::npos)
      << load.err;
  EXPECT_NE(load.err.find("for text 0 of"), std::string::npos) << load.err;
  Outcome list = RunRlm(dir_, {"-d", "ws.db", "--format", "json", "list"}, env);
  EXPECT_EQ(list.out, "[]\n") << "nothing is stored";
}

// A workspace on a read-only file system answers every read command; write commands say it is read-only.
// Before, every command failed to open it ("unable to open database file": SQLite cannot create the WAL
// index file there).
TEST_F(IntegrityTest, ReadOnlyWorkspaceAnswersReads) {
  if (!MountTmpfs("16m")) GTEST_SKIP() << reason_;
  WriteText(dir_ / "doc.txt", 20000);
  const std::vector<std::string> db = {"-d", "mnt/ws.db"};
  auto rlm = [&](std::vector<std::string> args) {
    args.insert(args.begin(), db.begin(), db.end());
    return RunRlm(dir_, args);
  };
  ASSERT_EQ(rlm({"init"}).code, 0);
  ASSERT_EQ(rlm({"load", "doc.txt", "-n", "doc"}).code, 0);
  ASSERT_EQ(rlm({"var", "colour", "blue"}).code, 0);
  ASSERT_TRUE(RemountReadOnly()) << std::strerror(errno);
  ASSERT_NE(::access((dir_ / "mnt/ws.db").c_str(), W_OK), 0) << "the tmpfs is still writable";

  const std::vector<std::vector<std::string>> reads = {
      {"list"},
      {"status"},
      {"show", "doc", "--chunks"},
      {"peek", "1", "--start", "0", "--end", "100"},
      {"grep", "doc", "needle", "-n", "3"},
      {"search", "needle foxtrot"},
      {"search", "needle", "-m", "bm25"},
      {"--format", "json", "search", "needle", "-m", "semantic", "-t", "0"},
      {"chunk", "list", "doc"},
      {"chunk", "get", "1"},
      {"chunk", "status"},
      {"chunk-indices", "doc"},
      {"dispatch", "doc"},
      {"export-buffers"},
      {"var", "colour"},
  };
  for (const auto& args : reads) {
    Outcome r = rlm(args);
    EXPECT_EQ(r.code, 0) << args[0] << " " << (args.size() > 1 ? args[1] : "") << "\n" << r.out << r.err;
  }
  EXPECT_NE(rlm({"peek", "doc", "--end", "40"}).out.find("Bytes 0..40"), std::string::npos);
  EXPECT_NE(rlm({"grep", "doc", "needle", "-n", "1"}).out.find("Found 1 matches"), std::string::npos);
  EXPECT_NE(rlm({"var", "colour"}).out.find("blue"), std::string::npos);

  const std::vector<std::vector<std::string>> writes = {
      {"load", "doc.txt", "-n", "again"},
      {"add-buffer", "x", "text"},
      {"delete", "doc", "-y"},
      {"var", "colour", "red"},
      {"update-buffer", "doc", "new text"},
      {"chunk", "embed", "doc", "--force"},
  };
  for (const auto& args : writes) {
    Outcome r = rlm(args);
    EXPECT_EQ(r.code, 1) << args[0] << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find("mnt/ws.db is read-only (read-only file system)"), std::string::npos)
        << args[0] << "\n"
        << r.err;
  }
  Outcome j = rlm({"--format", "json", "add-buffer", "x", "text"});
  EXPECT_NE(j.out.find("\"type\": \"ReadOnlyWorkspace\""), std::string::npos) << j.out;
}

// A full disk: SQLite's "database or disk is full" names the workspace file, and the workspace is intact
// afterwards; a full disk under an output file names that file.
TEST_F(IntegrityTest, DiskFullErrorsNameTheFile) {
  if (!MountTmpfs("1m")) GTEST_SKIP() << reason_;
  WriteText(dir_ / "big.txt", 3 << 20);
  ASSERT_EQ(RunRlm(dir_, {"-d", "mnt/ws.db", "init"}).code, 0);
  Outcome load = RunRlm(dir_, {"-d", "mnt/ws.db", "load", "big.txt"});
  EXPECT_EQ(load.code, 1) << load.out << load.err;
  EXPECT_NE(load.err.find("full"), std::string::npos) << load.err;
  EXPECT_NE(load.err.find((dir_ / "mnt/ws.db").string()), std::string::npos) << load.err;
  Outcome json = RunRlm(dir_, {"-d", "mnt/ws.db", "--format", "json", "load", "big.txt"});
  EXPECT_NE(json.out.find("free space on the file system that holds"), std::string::npos) << json.out;
  Outcome list = RunRlm(dir_, {"-d", "mnt/ws.db", "--format", "json", "list"});
  EXPECT_EQ(list.code, 0) << list.err;
  EXPECT_EQ(list.out, "[]\n");

  // Output files: a workspace elsewhere, exported onto the full tmpfs.
  ASSERT_EQ(RunRlm(dir_, {"-d", "ws.db", "init"}).code, 0);
  ASSERT_EQ(RunRlm(dir_, {"-q", "-d", "ws.db", "load", "big.txt"}).code, 0);
  Outcome exp = RunRlm(dir_, {"-d", "ws.db", "export-buffers", "-o", "mnt/out/all.txt"});
  EXPECT_EQ(exp.code, 1) << exp.out << exp.err;
  EXPECT_NE(exp.err.find("mnt/out/all.txt"), std::string::npos) << exp.err;
  EXPECT_NE(exp.err.find("No space left on device"), std::string::npos) << exp.err;
  Outcome chunks = RunRlm(dir_, {"-d", "ws.db", "write-chunks", "big.txt", "-o", "mnt/chunks"});
  EXPECT_EQ(chunks.code, 1) << chunks.out << chunks.err;
  EXPECT_NE(chunks.err.find("mnt/chunks/chunk_"), std::string::npos) << chunks.err;
  EXPECT_NE(chunks.err.find("No space left on device"), std::string::npos) << chunks.err;
}

}  // namespace
