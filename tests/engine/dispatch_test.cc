#include "engine/dispatch.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "engine/load.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;

std::vector<size_t> Sizes(const std::vector<DispatchBatch>& batches) {
  std::vector<size_t> s;
  for (const auto& b : batches) s.push_back(b.chunk_ids.size());
  return s;
}

TEST(DispatchBatches, SplitsInOrderWithAShortLastBatch) {
  std::vector<int64_t> ids{5, 6, 7, 8, 9, 10, 11};
  auto b = MakeBatches(ids, 3);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b[0].index, 0u);
  EXPECT_EQ(b[2].index, 2u);
  EXPECT_EQ(b[0].chunk_ids, (std::vector<int64_t>{5, 6, 7}));
  EXPECT_EQ(b[2].chunk_ids, (std::vector<int64_t>{11}));
  EXPECT_EQ(Sizes(MakeBatches(ids, 7)), (std::vector<size_t>{7}));
  EXPECT_EQ(Sizes(MakeBatches(ids, 100)), (std::vector<size_t>{7}));
  EXPECT_TRUE(MakeBatches({}, 4).empty());
  EXPECT_THROW(MakeBatches(ids, 0), InvalidInput);
}

TEST(DispatchBatches, WorkersGiveCeilingBatchSizes) {
  DispatchOptions o;
  o.batch_size = 2;
  EXPECT_EQ(EffectiveBatchSize(10, o), 2u);
  o.workers = 3;
  EXPECT_EQ(EffectiveBatchSize(10, o), 4u);  // ceil(10/3): workers override --batch-size
  EXPECT_EQ(EffectiveBatchSize(9, o), 3u);
  EXPECT_EQ(EffectiveBatchSize(2, o), 1u);  // more workers than chunks: one chunk each
  EXPECT_EQ(EffectiveBatchSize(0, o), 1u);
  o.workers = 0;
  EXPECT_THROW(EffectiveBatchSize(10, o), InvalidInput);
  o.workers.reset();
  o.batch_size = 0;
  EXPECT_THROW(ValidateDispatchOptions(o), InvalidInput);
}

class DispatchTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rlm-dispatch-" + std::to_string(::getpid()) + "-" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ws_ = Workspace::Open((dir_ / "ws.db").string(), Workspace::Mode::kCreate);
  }
  void TearDown() override {
    ws_.reset();
    fs::remove_all(dir_);
  }
  // A buffer of `n` fixed-size chunks; the words of chunk i are `words(i)`.
  LoadedBuffer Add(const std::string& name, size_t n, const std::function<std::string(size_t)>& words) {
    std::string text;
    for (size_t i = 0; i < n; ++i) {
      std::string para = words(i);
      para.resize(99, ' ');
      text += para + "\n";
    }
    IngestOptions o;
    o.chunker = "fixed";
    o.chunk.size = 100;
    o.chunk.overlap = 0;
    LoadedBuffer b = AddBuffer(*ws_, name, text, "", o);
    EXPECT_EQ(b.stats.chunks, n);
    return b;
  }
  fs::path dir_;
  std::unique_ptr<Workspace> ws_;
};

TEST_F(DispatchTest, AllChunksInIndexOrder) {
  LoadedBuffer b = Add("doc", 7, [](size_t i) { return "paragraph number " + std::to_string(i); });
  DispatchOptions o;
  o.batch_size = 3;
  DispatchPlan plan = PlanDispatch(*ws_, "doc", o);
  EXPECT_EQ(plan.buffer.id, b.info.id);
  EXPECT_EQ(plan.buffer_chunks, 7u);
  std::vector<int64_t> expected;
  for (const ChunkRecord& c : ws_->ListChunks(b.info.id)) expected.push_back(c.id);
  EXPECT_EQ(plan.chunk_ids, expected);
  EXPECT_EQ(plan.batch_size, 3u);
  EXPECT_EQ(Sizes(plan.batches), (std::vector<size_t>{3, 3, 1}));

  o.workers = 2;
  plan = PlanDispatch(*ws_, std::to_string(b.info.id), o);
  EXPECT_EQ(plan.batch_size, 4u);
  EXPECT_EQ(Sizes(plan.batches), (std::vector<size_t>{4, 3}));
}

TEST_F(DispatchTest, QueryFiltersWithinTheBufferBeforeRanking) {
  // Another buffer holds many more (and stronger) matches; they must not crowd out this buffer's.
  Add("noise", 40, [](size_t) { return std::string("zebra zebra zebra zebra"); });
  LoadedBuffer b = Add("doc", 6, [](size_t i) {
    return i == 1   ? std::string("a zebra appears once here")
           : i == 4 ? "zebra zebra and more text"
                    : "plain words";
  });
  DispatchOptions o;
  o.query = "zebra";
  o.mode = SearchMode::kBm25;
  DispatchPlan plan = PlanDispatch(*ws_, "doc", o);
  auto chunks = ws_->ListChunks(b.info.id);
  // Rank order: chunk 4 (two occurrences) before chunk 1.
  EXPECT_EQ(plan.chunk_ids, (std::vector<int64_t>{chunks[4].id, chunks[1].id}));
  EXPECT_EQ(plan.buffer_chunks, 6u);
  ASSERT_EQ(plan.batches.size(), 1u);

  o.query = "nothingmatchesthis";
  plan = PlanDispatch(*ws_, "doc", o);
  EXPECT_TRUE(plan.chunk_ids.empty());
  EXPECT_TRUE(plan.batches.empty());
}

TEST_F(DispatchTest, ErrorsBeforeWork) {
  Add("doc", 2, [](size_t) { return std::string("x"); });
  DispatchOptions o;
  EXPECT_THROW(PlanDispatch(*ws_, "missing", o), NotFound);
  o.batch_size = 0;
  EXPECT_THROW(PlanDispatch(*ws_, "doc", o), InvalidInput);
}

}  // namespace
}  // namespace rlm
