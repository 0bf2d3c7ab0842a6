#include "store/workspace.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "core/error.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;

class WorkspaceTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rlm-ws-" + std::to_string(::getpid()) + "-" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    path_ = (dir_ / "sub" / "ws.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string path_;
};

TEST_F(WorkspaceTest, MissingWorkspaceIsNotInitialized) {
  try {
    Workspace::Open(path_, Workspace::Mode::kMustExist);
    FAIL() << "expected NotFound";
  } catch (const NotFound& e) {
    EXPECT_EQ(e.type(), "NotInitialized");
  }
  EXPECT_FALSE(fs::exists(path_)) << "opening must not create the file";
}

TEST_F(WorkspaceTest, CreatesSchemaAndCountsGenerations) {
  auto ws = Workspace::Open(path_, Workspace::Mode::kCreate);
  EXPECT_EQ(ws->Status().schema_version, kSchemaVersion);
  int64_t g0 = ws->Generation();
  {
    Workspace::WriteTransaction tx(*ws);
    ws->SetVar("context", "a", "1");
    tx.Commit();
  }
  EXPECT_EQ(ws->Generation(), g0 + 1);
  {
    Workspace::WriteTransaction tx(*ws);
    ws->SetVar("context", "b", "2");
  }  // rolled back
  EXPECT_EQ(ws->Generation(), g0 + 1);
  EXPECT_FALSE(ws->GetVar("context", "b").has_value());
  EXPECT_EQ(ws->GetVar("context", "a").value_or(""), "1");
  std::string id = ws->WorkspaceId();
  EXPECT_EQ(id.size(), 32u);
  ws.reset();
  auto again = Workspace::Open(path_, Workspace::Mode::kMustExist);
  EXPECT_EQ(again->WorkspaceId(), id);
}

TEST_F(WorkspaceTest, TextBlocksRoundTripAnyRange) {
  auto ws = Workspace::Open(path_, Workspace::Mode::kCreate);
  std::mt19937 rng(7);
  std::string text(kTextBlockBytes * 3 + 12345, '\0');
  for (char& c : text) c = static_cast<char>('a' + rng() % 26);
  Workspace::WriteTransaction tx(*ws);
  BufferInfo b;
  b.name = "t";
  b.id = ws->InsertBuffer(b);
  Workspace::TextWriter w(*ws, b.id);
  // Appends of awkward sizes cross block boundaries.
  for (size_t pos = 0; pos < text.size();) {
    size_t n = std::min<size_t>(text.size() - pos, 1 + rng() % (kTextBlockBytes + 1000));
    w.Append(std::string_view(text).substr(pos, n));
    pos += n;
  }
  w.Finish();
  tx.Commit();
  for (int i = 0; i < 200; ++i) {
    size_t a = rng() % (text.size() + 10), b2 = rng() % (text.size() + 10);
    if (a > b2) std::swap(a, b2);
    std::string expect = a < text.size() ? text.substr(a, std::min(b2, text.size()) - a) : "";
    ASSERT_EQ(ws->ReadText(b.id, a, b2), expect) << a << ".." << b2;
  }
  std::string all;
  ws->ForEachTextBlock(b.id, [&](std::string_view s) { all.append(s); });
  EXPECT_EQ(all, text);
}

TEST_F(WorkspaceTest, BufferNamesAreUniqueAndResolvable) {
  auto ws = Workspace::Open(path_, Workspace::Mode::kCreate);
  Workspace::WriteTransaction tx(*ws);
  BufferInfo b;
  b.name = "x'; DROP TABLE buffers;--";
  int64_t id = ws->InsertBuffer(b);
  EXPECT_THROW(ws->InsertBuffer(b), Conflict);
  BufferInfo num;
  num.name = "12345";
  EXPECT_THROW(ws->InsertBuffer(num), InvalidInput) << "an all-digit name would read as an id";
  num.name = "12345a";
  int64_t num_id = ws->InsertBuffer(num);
  tx.Commit();
  EXPECT_EQ(ws->GetBuffer(b.name).id, id);
  EXPECT_EQ(ws->GetBuffer(std::to_string(id)).id, id);
  EXPECT_EQ(ws->GetBuffer("12345a").id, num_id);
  EXPECT_FALSE(ws->FindBuffer("12345")) << "digits are an id, and there is no buffer 12345";
  EXPECT_FALSE(ws->FindBuffer("99999999999999999999")) << "beyond int64: no such id, not an error";
  try {
    ws->GetBuffer("nope");
    FAIL();
  } catch (const NotFound& e) {
    EXPECT_EQ(e.type(), "BufferNotFound");
  }
}

TEST_F(WorkspaceTest, EmbeddingsAreKeyedByFingerprintAndHash) {
  auto ws = Workspace::Open(path_, Workspace::Mode::kCreate);
  Hash128 h1 = ContentHash("one"), h2 = ContentHash("two");
  float v[4] = {1, 2, 3, 4};
  Workspace::WriteTransaction tx(*ws);
  ws->PutEmbeddings("fp", std::span(&h1, 1), v, 4);
  tx.Commit();
  Hash128 both[2] = {h1, h2};
  auto have = ws->HasEmbeddings("fp", both);
  EXPECT_TRUE(have[0]);
  EXPECT_FALSE(have[1]);
  EXPECT_FALSE(ws->HasEmbeddings("other", both)[0]);
  auto got = ws->GetEmbedding("fp", h1);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, std::vector<float>({1, 2, 3, 4}));
}

}  // namespace
}  // namespace rlm
