#include "engine/ingest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>

#include "chunk/segmented.h"
#include "core/error.h"
#include "embed/embedder.h"
#include "engine/load.h"
#include "engine/search.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;

std::string Paragraphs(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  const char* words[] = {"alpha", "beta",  "gamma", "delta",  "caf\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC",
                         "river", "stone", "cloud", "signal", "vector",      "index"};
  std::string s;
  for (size_t p = 0; p < n; ++p) {
    size_t sentences = 1 + rng() % 5;
    for (size_t k = 0; k < sentences; ++k) {
      size_t len = 3 + rng() % 12;
      for (size_t w = 0; w < len; ++w) {
        s += words[rng() % 12];
        s += w + 1 < len ? " " : ". ";
      }
      if (rng() % 3 == 0) s += "\n";
    }
    s += "\n\n";
  }
  return s;
}

class IngestTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("rlm-ingest-" + std::to_string(::getpid()) + "-" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ws_ = Workspace::Open((dir_ / "ws.db").string(), Workspace::Mode::kCreate);
  }
  void TearDown() override {
    ws_.reset();
    fs::remove_all(dir_);
  }
  std::string WriteFile(const std::string& name, const std::string& content) {
    std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  fs::path dir_;
  std::unique_ptr<Workspace> ws_;
};

TEST_F(IngestTest, ChunksCoverTheTextWithExactLinesAndHashes) {
  std::string text = Paragraphs(200, 1);
  IngestOptions o;
  o.chunk.size = 700;
  o.chunk.overlap = 100;
  LoadedBuffer b = AddBuffer(*ws_, "doc", text, "", o);
  std::vector<ChunkRecord> chunks = ws_->ListChunks(b.info.id);
  ASSERT_EQ(chunks.size(), b.stats.chunks);
  ASSERT_FALSE(chunks.empty());
  EXPECT_EQ(chunks.front().start, 0u);
  EXPECT_EQ(chunks.back().end, text.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    const ChunkRecord& c = chunks[i];
    EXPECT_EQ(c.index, static_cast<int64_t>(i));
    std::string_view body = std::string_view(text).substr(c.start, c.end - c.start);
    EXPECT_EQ(c.hash, ContentHash(body));
    size_t line_start = 1 + std::count(text.begin(), text.begin() + c.start, '\n');
    size_t line_end = 1 + std::count(text.begin(), text.begin() + (c.end - 1), '\n');
    EXPECT_EQ(c.line_start, line_start);
    EXPECT_EQ(c.line_end, line_end);
    if (i > 0) {
      EXPECT_LE(c.start, chunks[i - 1].end) << "gap between chunks";
    }
  }
  EXPECT_EQ(ws_->ReadText(b.info.id, 0, text.size()), text);
  EXPECT_EQ(b.info.line_count, static_cast<uint64_t>(std::count(text.begin(), text.end(), '\n')));
}

TEST_F(IngestTest, SegmentedIngestEqualsSegmentedChunking) {
  std::string text = Paragraphs(600, 2);
  IngestOptions o;
  o.chunk.size = 500;
  o.chunk.overlap = 50;
  o.segment_bytes = 8192;  // many segments
  LoadedBuffer b = AddBuffer(*ws_, "doc", text, "", o);
  auto expected = SplitSegmented(*MakeChunker("semantic"), text, o.chunk, o.segment_bytes, false);
  std::vector<ChunkRecord> chunks = ws_->ListChunks(b.info.id);
  ASSERT_EQ(chunks.size(), expected.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].start, expected[i].start);
    EXPECT_EQ(chunks[i].end, expected[i].end);
  }
}

// A file is read in windows (FileSource), never whole: the seams must be those of the whole text.
TEST_F(IngestTest, FileReadInWindowsGivesTheSeamsOfTheWholeText) {
  std::string text = Paragraphs(600, 5);
  LoadOptions o;
  o.ingest.chunk.size = 500;
  o.ingest.chunk.overlap = 50;
  o.ingest.segment_bytes = 8192;
  LoadReport r = LoadPath(*ws_, WriteFile("doc.txt", text), o);
  ASSERT_EQ(r.loaded.size(), 1u);
  auto expected =
      SplitSegmented(*MakeChunker("semantic"), text, o.ingest.chunk, o.ingest.segment_bytes, false);
  std::vector<ChunkRecord> chunks = ws_->ListChunks(r.loaded[0].info.id);
  ASSERT_EQ(chunks.size(), expected.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_EQ(chunks[i].start, expected[i].start);
    EXPECT_EQ(chunks[i].end, expected[i].end);
  }
  EXPECT_EQ(ws_->ReadText(r.loaded[0].info.id, 0, text.size()), text);
}

// Past its memory budget, PendingVectors stores vectors before the load's transaction; a load that then
// fails removes them, and one that commits keeps them referenced.
TEST_F(IngestTest, VectorsStoredEarlyAreRemovedWhenTheLoadFails) {
  auto embedder = MakeEmbedder("hash");
  const std::string text = Paragraphs(80, 6);
  IngestOptions o;
  o.segment_bytes = 2048;
  auto hashes_of = [](const PreparedText& p) {
    std::vector<Hash128> h;
    for (const ChunkRecord& r : p.records) h.push_back(r.hash);
    return h;
  };
  auto count = [](const std::vector<bool>& v) { return std::count(v.begin(), v.end(), true); };
  {
    PendingVectors pending(*ws_, *embedder, /*budget_bytes=*/1);  // every batch is stored at once
    StringSource source(text);
    PreparedText p = PrepareText(*ws_, *embedder, source, "doc", o, pending);
    const std::vector<Hash128> hashes = hashes_of(p);
    ASSERT_GT(hashes.size(), 5u);
    EXPECT_EQ(count(ws_->HasEmbeddings(embedder->Fingerprint(), hashes)), static_cast<long>(hashes.size()));
    pending.Discard();  // the load failed after phase 1
    EXPECT_EQ(count(ws_->HasEmbeddings(embedder->Fingerprint(), hashes)), 0);
  }
  PendingVectors pending(*ws_, *embedder, 1);
  StringSource source(text);
  PreparedText p = PrepareText(*ws_, *embedder, source, "doc", o, pending);
  {
    Workspace::WriteTransaction tx(*ws_);
    BufferInfo info;
    info.name = "doc";
    info.id = ws_->InsertBuffer(info);
    pending.WriteAll();
    IngestStats stats = CommitText(*ws_, *embedder, info, p, source, o);
    EXPECT_EQ(stats.chunks, p.records.size());
    tx.Commit();
  }
  pending.Discard();  // nothing to remove: every vector is referenced
  const std::vector<Hash128> hashes = hashes_of(p);
  EXPECT_EQ(count(ws_->HasEmbeddings(embedder->Fingerprint(), hashes)), static_cast<long>(hashes.size()));
}

TEST_F(IngestTest, UpdateKeepsIdsOfUnchangedChunksAndEmbedsOnlyNewOnes) {
  std::string text = Paragraphs(100, 3);
  IngestOptions o;
  o.chunk.size = 600;
  o.chunk.overlap = 0;
  LoadedBuffer first = AddBuffer(*ws_, "doc", text, "", o);
  std::vector<ChunkRecord> before = ws_->ListChunks(first.info.id);
  std::string appended = text + "A brand new closing paragraph about signals.\n";
  LoadedBuffer second = UpdateBufferText(*ws_, "doc", appended, o);
  std::vector<ChunkRecord> after = ws_->ListChunks(first.info.id);
  ASSERT_GE(after.size(), before.size());
  size_t same = 0;
  for (size_t i = 0; i + 1 < before.size(); ++i) same += before[i].id == after[i].id;
  EXPECT_EQ(same, before.size() - 1) << "every chunk but the last must keep its id";
  EXPECT_EQ(second.stats.kept, before.size() - 1);
  EXPECT_LE(second.stats.embedded, second.stats.added);
  EXPECT_GE(second.stats.embedded, 1u);
  EXPECT_EQ(ws_->ReadText(first.info.id, 0, appended.size()), appended);
}

TEST_F(IngestTest, InvalidUtf8LateInAFileLeavesNothingBehind) {
  std::string text = Paragraphs(50, 4);
  size_t bad_at = text.size() - 10;
  text[bad_at] = '\xFF';
  std::string path = WriteFile("bad.txt", text);
  LoadOptions o;
  o.ingest.segment_bytes = 1024;  // the bad byte is in a late segment, after earlier ones were written
  try {
    LoadPath(*ws_, path, o);
    FAIL() << "expected InvalidInput";
  } catch (const InvalidInput& e) {
    EXPECT_EQ(e.type(), "InvalidUtf8");
    EXPECT_NE(std::string(e.what()).find("byte offset " + std::to_string(bad_at)), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(ws_->ListBuffers().empty());
  EXPECT_TRUE(ws_->AllChunks().empty());
}

TEST_F(IngestTest, BomIsDroppedAndOffsetsStayExact) {
  std::string path = WriteFile("bom.txt", "\xEF\xBB\xBFhello world\nsecond line\n");
  LoadReport r = LoadPath(*ws_, path, {});
  ASSERT_EQ(r.loaded.size(), 1u);
  EXPECT_EQ(r.loaded[0].info.size, 24u);
  EXPECT_EQ(ws_->ReadText(r.loaded[0].info.id, 0, 5), "hello");
}

TEST_F(IngestTest, EmptyAndNulFilesAreErrors) {
  EXPECT_THROW(LoadPath(*ws_, WriteFile("empty.txt", ""), {}), InvalidInput);
  EXPECT_THROW(LoadPath(*ws_, WriteFile("nul.txt", std::string("abc\0def", 7)), {}), InvalidInput);
  EXPECT_THROW(LoadPath(*ws_, (dir_ / "missing.txt").string(), {}), NotFound);
  EXPECT_TRUE(ws_->ListBuffers().empty());
}

TEST_F(IngestTest, SearchFindsLoadedTextAndFiltersBeforeRanking) {
  IngestOptions o;
  o.chunk.size = 300;
  o.chunk.overlap = 0;
  // Buffer "a" is full of the query word; buffer "b" mentions it once.
  std::string a, b = Paragraphs(30, 5);
  for (int i = 0; i < 200; ++i) a += "zebra crossing zebra stripes. ";
  b += "one zebra here.\n";
  AddBuffer(*ws_, "a", a, "", o);
  LoadedBuffer lb = AddBuffer(*ws_, "b", b, "", o);
  SearchOptions so;
  so.query = "zebra";
  so.top_k = 3;
  so.mode = SearchMode::kBm25;
  SearchResult all = Search(*ws_, so);
  ASSERT_EQ(all.hits.size(), 3u);
  for (const auto& h : all.hits) EXPECT_NE(h.buffer_id, lb.info.id);
  so.buffer_ids = {lb.info.id};
  SearchResult only_b = Search(*ws_, so);
  ASSERT_EQ(only_b.hits.size(), 1u) << "the filter applies before ranking";
  EXPECT_EQ(only_b.hits[0].buffer_id, lb.info.id);
  EXPECT_FALSE(only_b.index_rebuilt) << "the persisted index is reused while the workspace is unchanged";
}

// Embeds like `inner` under its own fingerprint, and fails on any text containing "POISON" while `fail`.
class PoisonableEmbedder : public Embedder {
 public:
  PoisonableEmbedder() : inner_(MakeEmbedder("hash:16")) {}
  std::string Fingerprint() const override { return "poisonable:" + inner_->Fingerprint(); }
  size_t Dims() const override { return inner_->Dims(); }
  void Embed(std::span<const std::string_view> texts, EmbedRole role, float* out) const override {
    for (std::string_view t : texts) {
      if (fail && t.find("POISON") != std::string_view::npos) throw IoError("poisonable: provider down");
    }
    inner_->Embed(texts, role, out);
  }
  std::atomic<bool> fail{false};

 private:
  std::unique_ptr<Embedder> inner_;
};

bool AllEmbedded(Workspace& ws, const std::string& fingerprint) {
  std::vector<Hash128> hashes;
  for (const ChunkRecord& c : ws.AllChunks()) hashes.push_back(c.hash);
  std::vector<bool> have = ws.HasEmbeddings(fingerprint, hashes);
  return !hashes.empty() && std::all_of(have.begin(), have.end(), [](bool b) { return b; });
}

TEST_F(IngestTest, EmbedBuffersSwitchesOnlyWhenEveryBufferSucceeded) {
  IngestOptions o;
  AddBuffer(*ws_, "a", "Alpine meadows and poppies.\n", "", o);
  AddBuffer(*ws_, "b", "Barges on the canal. POISON\n", "", o);
  AddBuffer(*ws_, "c", "Cedar forests in the rain.\n", "", o);
  const std::string old_fp = MakeEmbedder("hash")->Fingerprint();
  ASSERT_EQ(ws_->GetMeta("embedder_fingerprint"), old_fp);
  const int64_t generation = ws_->Generation();

  PoisonableEmbedder e;
  e.fail = true;
  EXPECT_THROW(EmbedBuffers(*ws_, "poisonable", e, "", /*force=*/false, nullptr), IoError);
  EXPECT_EQ(ws_->GetMeta("embedder"), "hash");
  EXPECT_EQ(ws_->GetMeta("embedder_fingerprint"), old_fp);
  EXPECT_TRUE(AllEmbedded(*ws_, old_fp)) << "the old vectors must survive a failed switch";
  EXPECT_FALSE(AllEmbedded(*ws_, e.Fingerprint()));
  // Only buffer "a" (before the failure) committed its new vectors, which nothing reads yet.
  EXPECT_EQ(ws_->Generation(), generation + 1);

  // Also for one buffer: the switch is not recorded when that buffer fails.
  EXPECT_THROW(EmbedBuffers(*ws_, "poisonable", e, "b", /*force=*/true, nullptr), IoError);
  EXPECT_EQ(ws_->GetMeta("embedder_fingerprint"), old_fp);

  e.fail = false;
  std::vector<EmbedReport> reports = EmbedBuffers(*ws_, "poisonable", e, "", /*force=*/false, nullptr);
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0].buffer.name, "a");
  EXPECT_EQ(reports[0].embedded, 0u) << "the vectors of the failed run are reused";
  EXPECT_EQ(reports[1].embedded, 1u);
  EXPECT_EQ(reports[2].embedded, 1u);
  EXPECT_EQ(ws_->GetMeta("embedder"), "poisonable");
  EXPECT_EQ(ws_->GetMeta("embedder_fingerprint"), e.Fingerprint());
  EXPECT_TRUE(AllEmbedded(*ws_, e.Fingerprint()));
}

}  // namespace
}  // namespace rlm
