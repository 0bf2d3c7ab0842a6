#include "engine/corpus_index.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "core/error.h"
#include "embed/embedder.h"

namespace rlm {

namespace {

constexpr char kMagic[8] = {'R', 'L', 'M', 'C', 'I', 'D', 'X', '1'};
constexpr uint32_t kVersion = 1;
constexpr size_t kStampMax = 200;
// Chunk texts are analysed in batches of this many per Bm25Builder::AddBatch call (bounded memory).
constexpr size_t kBuildBatch = 4096;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t dims;
  uint64_t num_docs;
  uint32_t stamp_len;
  char stamp[kStampMax];
  uint32_t reserved;
  uint64_t bm25_offset;
  uint64_t bm25_len;
  uint64_t total_len;
};

size_t Align8(size_t n) { return (n + 7) & ~size_t{7}; }

struct Layout {
  size_t ids, buffers, indices, vectors, bm25;
};

Layout LayoutFor(size_t n, size_t dims) {
  Layout l;
  l.ids = Align8(sizeof(Header));
  l.buffers = l.ids + 8 * n;
  l.indices = l.buffers + 8 * n;
  l.vectors = l.indices + 8 * n;
  l.bm25 = Align8(l.vectors + 4 * n * dims);
  return l;
}

std::string Stamp(Workspace& ws, const Analyzer& analyzer, const Embedder& embedder) {
  std::string s = ws.WorkspaceId() + "|" + std::to_string(ws.Generation()) + "|" + analyzer.Signature() + "|" +
                  embedder.Fingerprint();
  return s.substr(0, kStampMax);
}

}  // namespace

std::string CorpusIndexPath(const std::string& db_path) { return db_path + ".index"; }

void CorpusIndex::Attach(std::string_view image) {
  if (image.size() < sizeof(Header)) throw InvalidInput("index image too short");
  Header h;
  std::memcpy(&h, image.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, 8) != 0 || h.version != kVersion) throw InvalidInput("index image: bad magic");
  if (h.total_len != image.size() || h.dims > 65536 || h.num_docs > (image.size() / 24)) {
    throw InvalidInput("index image: bad sizes");
  }
  Layout l = LayoutFor(h.num_docs, h.dims);
  if (l.bm25 != h.bm25_offset || h.bm25_offset + h.bm25_len != h.total_len) {
    throw InvalidInput("index image: bad offsets");
  }
  num_docs_ = h.num_docs;
  dims_ = h.dims;
  chunk_ids_ = reinterpret_cast<const int64_t*>(image.data() + l.ids);
  buffer_ids_ = reinterpret_cast<const int64_t*>(image.data() + l.buffers);
  chunk_indices_ = reinterpret_cast<const int64_t*>(image.data() + l.indices);
  vectors_ = reinterpret_cast<const float*>(image.data() + l.vectors);
  bm25_ = Bm25Index::Open(image.substr(h.bm25_offset, h.bm25_len));
  if (bm25_.num_docs() != num_docs_) throw InvalidInput("index image: BM25 document count differs");
}

std::unique_ptr<CorpusIndex> CorpusIndex::OpenOrBuild(Workspace& ws, const Analyzer& analyzer,
                                                      const Embedder& embedder, bool* rebuilt) {
  const std::string path = CorpusIndexPath(ws.path());
  Workspace::ReadTransaction snapshot(ws);
  const std::string stamp = Stamp(ws, analyzer, embedder);

  std::unique_ptr<CorpusIndex> index(new CorpusIndex());
  try {
    MappedFile map(path);
    std::string_view image = map.view();
    Header h;
    if (image.size() >= sizeof h) {
      std::memcpy(&h, image.data(), sizeof h);
      if (h.stamp_len <= kStampMax && std::string_view(h.stamp, h.stamp_len) == stamp) {
        index->map_ = std::move(map);
        index->Attach(index->map_.view());
        if (rebuilt) *rebuilt = false;
        return index;
      }
    }
  } catch (const Error&) {
    // Missing, unreadable or damaged: rebuild below.
  }

  // Rebuild from the snapshot.
  std::vector<ChunkRecord> chunks = ws.AllChunks();
  const size_t n = chunks.size();
  const size_t dims = embedder.Dims();
  Layout l = LayoutFor(n, dims);

  Bm25Builder builder(analyzer);
  std::unordered_map<Hash128, std::vector<uint32_t>, Hash128Hasher> rows_by_hash;
  for (size_t i = 0; i < n;) {
    const int64_t buffer_id = chunks[i].buffer_id;
    size_t j = i;
    while (j < n && chunks[j].buffer_id == buffer_id) ++j;
    std::string text;
    ws.ForEachTextBlock(buffer_id, [&](std::string_view block) { text.append(block); });
    for (size_t b = i; b < j; b += kBuildBatch) {
      std::vector<std::string_view> texts;
      for (size_t k = b; k < std::min(j, b + kBuildBatch); ++k) {
        const ChunkRecord& c = chunks[k];
        texts.push_back(std::string_view(text).substr(std::min<size_t>(c.start, text.size()), c.end - c.start));
      }
      builder.AddBatch(texts);
    }
    for (size_t k = i; k < j; ++k) rows_by_hash[chunks[k].hash].push_back(static_cast<uint32_t>(k));
    i = j;
  }
  Bm25Index bm25 = builder.Finish();
  std::string bm25_image = bm25.Serialize();

  std::string image(l.bm25 + bm25_image.size(), '\0');
  Header h{};
  std::memcpy(h.magic, kMagic, 8);
  h.version = kVersion;
  h.dims = static_cast<uint32_t>(dims);
  h.num_docs = n;
  h.stamp_len = static_cast<uint32_t>(stamp.size());
  std::memcpy(h.stamp, stamp.data(), stamp.size());
  h.bm25_offset = l.bm25;
  h.bm25_len = bm25_image.size();
  h.total_len = image.size();
  std::memcpy(image.data(), &h, sizeof h);
  auto* ids = reinterpret_cast<int64_t*>(image.data() + l.ids);
  auto* bufs = reinterpret_cast<int64_t*>(image.data() + l.buffers);
  auto* idx = reinterpret_cast<int64_t*>(image.data() + l.indices);
  auto* vecs = reinterpret_cast<float*>(image.data() + l.vectors);
  for (size_t i = 0; i < n; ++i) {
    ids[i] = chunks[i].id;
    bufs[i] = chunks[i].buffer_id;
    idx[i] = chunks[i].index;
  }
  ws.ForEachEmbedding(embedder.Fingerprint(), [&](const Hash128& hash, std::span<const float> v) {
    auto it = rows_by_hash.find(hash);
    if (it == rows_by_hash.end() || v.size() != dims) return;
    for (uint32_t row : it->second) std::memcpy(vecs + size_t{row} * dims, v.data(), dims * sizeof(float));
  });
  std::memcpy(image.data() + l.bm25, bm25_image.data(), bm25_image.size());

  try {
    WriteFileAtomic(path, image);
  } catch (const IoError&) {
    // A read-only workspace folder still answers searches; it just rebuilds each time.
  }
  index->owned_ = std::move(image);
  index->Attach(index->owned_);
  if (rebuilt) *rebuilt = true;
  return index;
}

}  // namespace rlm
