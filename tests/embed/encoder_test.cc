// The encoder against reference outputs computed by torch (tools/gen_models.py): every fixture model in
// tests/fixtures/models with a reference.json, batched and one sequence at a time.
#include "embed/encoder.h"

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include "core/error.h"
#include "embed/model_fixture.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;
using test::MaterializeModel;

const fs::path kFixtures = fs::path(RLM_SOURCE_DIR) / "tests/fixtures/models";

struct Compared {
  double min_cosine = 1;
  double max_abs = 0;
};

Compared Compare(const float* got, const std::vector<float>& want) {
  double dot = 0, ng = 0, nw = 0, max_abs = 0;
  for (size_t j = 0; j < want.size(); ++j) {
    dot += static_cast<double>(got[j]) * want[j];
    ng += static_cast<double>(got[j]) * got[j];
    nw += static_cast<double>(want[j]) * want[j];
    max_abs = std::max(max_abs, std::abs(static_cast<double>(got[j]) - want[j]));
  }
  return {dot / std::sqrt(ng * nw), max_abs};
}

class EncoderFidelity : public ::testing::TestWithParam<std::string> {};

TEST_P(EncoderFidelity, MatchesTorchBatchedAndUnbatched) {
  const fs::path fixture = kFixtures / GetParam();
  const fs::path dir = fs::path(::testing::TempDir()) / ("encoder-" + GetParam());
  fs::remove_all(dir);
  MaterializeModel(fixture, dir);
  const ModelFolder folder = ReadModelFolder(dir);
  const auto encoder = Encoder::Load(folder);
  const test::ModelReference ref = test::LoadReference(fixture);
  const bool normalize = ref.normalize;
  ASSERT_EQ(std::string(PoolingName(folder.pooling)), ref.pooling);

  size_t rows_checked = 0;
  for (const test::ReferenceCase& c : ref.cases) {
    SCOPED_TRACE(c.name);
    std::vector<std::vector<int32_t>> seqs;
    for (size_t r = 0; r < c.input_ids.size(); ++r) {
      std::vector<int32_t> ids;
      for (size_t i = 0; i < c.input_ids[r].size(); ++i) {
        if (c.attention_mask[r][i] == 1) ids.push_back(c.input_ids[r][i]);
      }
      seqs.push_back(ids);
    }
    std::vector<std::span<const int32_t>> batch(seqs.begin(), seqs.end());
    const size_t dims = encoder->Dims();
    std::vector<float> batched(seqs.size() * dims);
    encoder->Encode(batch, folder.pooling, normalize, batched.data());
    for (size_t r = 0; r < seqs.size(); ++r) {
      const std::vector<float>& want = c.embeddings[r];
      ASSERT_EQ(want.size(), dims);
      std::vector<float> single(dims);
      encoder->Encode(std::span(batch).subspan(r, 1), folder.pooling, normalize, single.data());
      for (const float* got : {batched.data() + r * dims, single.data()}) {
        const Compared cmp = Compare(got, want);
        EXPECT_GE(cmp.min_cosine, 0.99999) << "row " << r;
        EXPECT_LE(cmp.max_abs, 1e-4) << "row " << r;
      }
      ++rows_checked;
    }
  }
  EXPECT_GT(rows_checked, 4u);
}

std::vector<std::string> FixtureModels() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kFixtures)) {
    if (fs::exists(entry.path() / "reference.json")) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

INSTANTIATE_TEST_SUITE_P(Models, EncoderFidelity, ::testing::ValuesIn(FixtureModels()),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// The encoder keeps its activation buffers between calls. A batch must not see what the previous, larger
// batch left in them, and concurrent calls (each takes its own buffers) must equal serial ones, bit for bit.
TEST(Encoder, KeptBuffersChangeNoResult) {
  const fs::path dir = fs::path(::testing::TempDir()) / "encoder-scratch";
  fs::remove_all(dir);
  MaterializeModel(kFixtures / "tiny-bert", dir);
  const ModelFolder folder = ReadModelFolder(dir);
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> id(5, static_cast<int32_t>(folder.config.vocab_size) - 1);
  std::vector<std::vector<int32_t>> seqs;
  for (size_t n : {7u, 40u, 3u, 25u, 61u, 12u}) {
    std::vector<int32_t> s(n);
    for (int32_t& v : s) v = id(rng);
    seqs.push_back(s);
  }
  const std::vector<std::span<const int32_t>> all(seqs.begin(), seqs.end());
  const auto small = std::span(all).first(2);
  const auto fresh = [&](std::span<const std::span<const int32_t>> batch) {
    std::vector<float> out(batch.size() * folder.config.hidden);
    Encoder::Load(folder)->Encode(batch, Pooling::kMean, true, out.data());
    return out;
  };
  const std::vector<float> want_all = fresh(all), want_small = fresh(small);

  const auto encoder = Encoder::Load(folder);
  const size_t dims = encoder->Dims();
  std::vector<float> got_all(all.size() * dims), got_small(small.size() * dims);
  encoder->Encode(all, Pooling::kMean, true, got_all.data());
  encoder->Encode(small, Pooling::kMean, true, got_small.data());  // after a larger batch
  EXPECT_EQ(got_small, want_small);
  encoder->Encode(all, Pooling::kMean, true, got_all.data());  // after a smaller one
  EXPECT_EQ(got_all, want_all);

  std::vector<std::vector<float>> outs(6, std::vector<float>(all.size() * dims));
  std::vector<std::thread> threads;
  for (auto& out : outs) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) encoder->Encode(all, Pooling::kMean, true, out.data());
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& out : outs) EXPECT_EQ(out, want_all);
}

// --threads only changes how rows are split between TBB tasks, never a row's arithmetic: the same batch
// encoded on 1, 2 and 5 threads gives the same vectors, bit for bit.
TEST(Encoder, ThreadCountChangesNoResult) {
  const fs::path dir = fs::path(::testing::TempDir()) / "encoder-threads";
  fs::remove_all(dir);
  MaterializeModel(kFixtures / "minilm-shaped", dir);
  const ModelFolder folder = ReadModelFolder(dir);
  const auto encoder = Encoder::Load(folder);
  std::mt19937 rng(9);
  std::uniform_int_distribution<int32_t> id(1000, 30000);
  std::vector<std::vector<int32_t>> seqs;
  for (size_t i = 0; i < 24; ++i) {
    std::vector<int32_t> s(8 + 11 * i % 120);
    for (int32_t& v : s) v = id(rng);
    seqs.push_back(s);
  }
  const std::vector<std::span<const int32_t>> batch(seqs.begin(), seqs.end());
  std::vector<std::vector<float>> outs;
  for (int threads : {1, 2, 5}) {
    std::vector<float> out(batch.size() * encoder->Dims());
    tbb::task_arena(threads).execute([&] { encoder->Encode(batch, Pooling::kMean, true, out.data()); });
    outs.push_back(out);
  }
  EXPECT_EQ(outs[0], outs[1]);
  EXPECT_EQ(outs[0], outs[2]);
}

TEST(Encoder, RejectsBadSequences) {
  const fs::path dir = fs::path(::testing::TempDir()) / "encoder-bad";
  fs::remove_all(dir);
  MaterializeModel(kFixtures / "tiny-bert", dir);
  const ModelFolder folder = ReadModelFolder(dir);
  const auto encoder = Encoder::Load(folder);
  std::vector<float> out(encoder->Dims());
  const std::vector<int32_t> empty;
  const std::vector<int32_t> bad_id = {2, static_cast<int32_t>(folder.config.vocab_size), 3};
  const std::vector<int32_t> too_long(encoder->MaxSequence() + 1, 5);
  for (const auto* seq : {&empty, &bad_id, &too_long}) {
    const std::span<const int32_t> one[] = {*seq};
    EXPECT_THROW(encoder->Encode(one, Pooling::kMean, true, out.data()), InvalidInput);
  }
}

}  // namespace
}  // namespace rlm
