#include "engine/ingest.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "chunk/segmented.h"
#include "core/error.h"
#include "core/utf8.h"
#include "embed/embedder.h"

namespace rlm {

namespace {

// Vectors are computed in batches of this many chunks, each batch on one TBB task.
constexpr size_t kEmbedFlush = 4096;  // chunk texts `chunk embed` holds before embedding and storing them

// Segment seams of `text`: 0, interior seams, text.size(). One segment for texts below the threshold.
std::vector<size_t> Seams(std::string_view text, size_t segment_bytes) {
  std::vector<size_t> seams{0};
  if (text.size() > segment_bytes) {
    for (size_t s : SegmentText(text, segment_bytes)) {
      if (s > seams.back() && s < text.size()) seams.push_back(s);
    }
  }
  if (text.size() > 0) seams.push_back(text.size());
  return seams;
}

}  // namespace

void CheckText(std::string_view text, size_t offset_base, const std::string& source) {
  if (auto bad = utf8::FindInvalid(text)) {
    throw InvalidInput(source + ": invalid UTF-8 at byte offset " + std::to_string(offset_base + *bad),
                       "convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8)", ErrorType::kInvalidUtf8);
  }
  if (const void* nul = std::memchr(text.data(), 0, text.size())) {
    size_t off = static_cast<size_t>(static_cast<const char*>(nul) - text.data());
    throw InvalidInput(
        source + ": NUL byte at byte offset " + std::to_string(offset_base + off) + " (binary content?)",
        "rlm loads text files only", ErrorType::kBinaryContent);
  }
}

bool IsUnloadableText(const Error& error) {
  const std::string type = error.type();
  return type == "InvalidUtf8" || type == "BinaryContent";
}

std::string WorkspaceEmbedderSpec(Workspace& ws, const std::string& requested) {
  return !requested.empty() ? requested : ws.GetMeta("embedder").value_or("hash");
}

std::unique_ptr<Embedder> WorkspaceEmbedder(Workspace& ws, const std::string& requested) {
  const std::optional<std::string> recorded_spec = ws.GetMeta("embedder");
  const std::string spec = WorkspaceEmbedderSpec(ws, requested);
  auto embedder = MakeEmbedder(spec);
  const std::optional<std::string> recorded = ws.GetMeta("embedder_fingerprint");
  const std::string fp = embedder->Fingerprint();
  if (recorded && *recorded != fp && !ws.ListBuffers().empty()) {
    const bool same_spec = recorded_spec && *recorded_spec == spec;
    throw Conflict(same_spec
                       ? "the model of embedder '" + spec + "' changed since this workspace was embedded (" +
                             *recorded + " -> " + fp + ")"
                       : "this workspace's vectors were made by embedder '" + recorded_spec.value_or("?") +
                             "'; '" + spec + "' is a different model",
                   "re-embed every buffer with `rlm chunk embed --all --embedder " + spec +
                       "`, or use another workspace (--db-path)",
                   ErrorType::kEmbedderMismatch);
  }
  if ((!recorded || *recorded != fp) && !ws.read_only()) {  // a read-only workspace records nothing
    ws.SetMeta("embedder", spec);
    ws.SetMeta("embedder_fingerprint", fp);
  }
  return embedder;
}

namespace {

// EmbedBuffers' work on one buffer, inside the caller's write transaction.
EmbedReport EmbedBufferChunks(Workspace& ws, const Embedder& embedder, const BufferInfo& buffer, bool force,
                              const ProgressFn& progress) {
  constexpr size_t kFlush = kEmbedFlush;
  EmbedReport report;
  report.buffer = buffer;
  report.fingerprint = embedder.Fingerprint();
  const size_t dims = embedder.Dims();
  const uint64_t computed_before = embedder.counters().texts.load();
  std::vector<ChunkRecord> chunks = ws.ListChunks(buffer.id);
  std::vector<Hash128> hashes;
  for (const ChunkRecord& c : chunks) hashes.push_back(c.hash);
  std::vector<bool> have = ws.HasEmbeddings(report.fingerprint, hashes);
  report.total = chunks.size();

  // One vector per distinct content hash: the first chunk with that hash supplies the text.
  std::vector<ChunkRecord> todo;
  std::unordered_map<Hash128, bool, Hash128Hasher> queued;
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (have[i] && !force) continue;
    (have[i] ? report.replaced : report.embedded) += 1;
    if (queued.emplace(chunks[i].hash, true).second) todo.push_back(chunks[i]);
  }
  std::vector<std::string> texts;
  std::vector<Hash128> batch_hashes;
  size_t done = 0;
  auto flush = [&] {
    std::vector<std::string_view> views(texts.begin(), texts.end());
    std::vector<float> vectors(views.size() * dims);
    EmbedTexts(embedder, views, vectors.data());
    ws.PutEmbeddings(report.fingerprint, batch_hashes, vectors.data(), dims);
    done += texts.size();
    if (progress) progress("embed", done, todo.size());
    texts.clear();
    batch_hashes.clear();
  };
  ws.ForEachChunkText(buffer.id, todo, UINT64_MAX, [&](size_t i, std::string_view t) {
    texts.emplace_back(t);
    batch_hashes.push_back(todo[i].hash);
    if (texts.size() >= kFlush) flush();
  });
  if (!texts.empty()) flush();
  report.computed = embedder.counters().texts.load() - computed_before;
  return report;
}

}  // namespace

std::vector<EmbedReport> EmbedBuffers(Workspace& ws, const std::string& spec, const Embedder& embedder,
                                      std::string_view buffer, bool force, const ProgressFn& progress) {
  const std::string fingerprint = embedder.Fingerprint();
  std::vector<BufferInfo> targets;
  {
    Workspace::ReadTransaction snapshot(ws);
    targets = buffer.empty() ? ws.ListBuffers() : std::vector<BufferInfo>{ws.GetBuffer(buffer)};
  }
  std::vector<EmbedReport> reports;
  for (const BufferInfo& b : targets) {
    Workspace::WriteTransaction tx(ws);
    reports.push_back(EmbedBufferChunks(ws, embedder, b, force, progress));
    tx.Commit();
  }

  // Every buffer succeeded: record the embedder (when it is a switch), after embedding what other processes
  // loaded or updated meanwhile with the previous embedder, so that no chunk is left without a vector.
  if (ws.GetMeta("embedder_fingerprint") == fingerprint) return reports;
  Workspace::WriteTransaction tx(ws);
  if (ws.GetMeta("embedder_fingerprint") != fingerprint) {
    std::vector<BufferInfo> now;
    if (buffer.empty()) {
      now = ws.ListBuffers();
    } else if (std::optional<BufferInfo> b = ws.GetBufferById(targets[0].id)) {
      now.push_back(*b);
    }
    for (const BufferInfo& b : now) EmbedBufferChunks(ws, embedder, b, /*force=*/false, nullptr);
    ws.SetMeta("embedder", spec);
    ws.SetMeta("embedder_fingerprint", fingerprint);
    tx.Commit();
  }
  return reports;
}

IngestStats IngestText(Workspace& ws, const Embedder& embedder, BufferInfo& info, std::string_view text,
                       const IngestOptions& options, const MappedFile* map) {
  ValidateChunkOptions(options.chunk);
  auto chunker = MakeChunker(options.chunker);
  const std::string fingerprint = embedder.Fingerprint();
  const size_t dims = embedder.Dims();
  const uint64_t computed_before = embedder.counters().texts.load();
  const uint64_t truncated_before = embedder.counters().truncated_texts.load();

  // Old chunks by content hash, so unchanged chunks keep their ids.
  std::unordered_multimap<Hash128, int64_t, Hash128Hasher> old_by_hash;
  std::vector<ChunkRecord> old_chunks = ws.ListChunks(info.id);
  for (const ChunkRecord& c : old_chunks) old_by_hash.emplace(c.hash, c.id);
  ws.DeleteText(info.id);

  IngestStats stats;
  Workspace::TextWriter writer(ws, info.id);
  ContentHasher whole;
  uint64_t line_base = 0;  // newlines before the current segment
  int64_t next_index = 0;
  std::vector<size_t> seams = Seams(text, options.segment_bytes);
  const size_t text_offset = map ? static_cast<size_t>(text.data() - map->view().data()) : 0;

  for (size_t si = 0; si + 1 < seams.size(); ++si) {
    const size_t base = seams[si];
    std::string_view seg = text.substr(base, seams[si + 1] - base);
    CheckText(seg, options.source_offset + base, info.source.empty() ? info.name : info.source);

    std::vector<ChunkSpan> spans = chunker->Split(seg, options.chunk);

    // Newline positions of the segment give 1-based line ranges by binary search.
    std::vector<uint32_t> newlines;
    for (const char* p = seg.data();
         (p = static_cast<const char*>(std::memchr(p, '\n', seg.data() + seg.size() - p))); ++p) {
      newlines.push_back(static_cast<uint32_t>(p - seg.data()));
    }
    auto lines_before = [&](size_t pos) {  // newlines in [0, pos)
      return static_cast<uint64_t>(std::lower_bound(newlines.begin(), newlines.end(), pos) -
                                   newlines.begin());
    };

    std::vector<ChunkRecord> records(spans.size());
    tbb::parallel_for(size_t{0}, spans.size(), [&](size_t i) {
      const ChunkSpan& s = spans[i];
      ChunkRecord& r = records[i];
      r.buffer_id = info.id;
      r.start = base + s.start;
      r.end = base + s.end;
      r.line_start = line_base + lines_before(s.start) + 1;
      r.line_end = line_base + lines_before(s.end > s.start ? s.end - 1 : s.start) + 1;
      r.hash = ContentHash(seg.substr(s.start, s.end - s.start));
    });

    // Reuse ids of unchanged chunks; the rest are new rows.
    std::vector<ChunkRecord> kept, added;
    for (ChunkRecord& r : records) {
      r.index = next_index++;
      auto it = old_by_hash.find(r.hash);
      if (it != old_by_hash.end()) {
        r.id = it->second;
        old_by_hash.erase(it);
        kept.push_back(r);
      } else {
        added.push_back(r);
      }
    }
    ws.UpdateChunks(kept);
    ws.InsertChunks(added);
    stats.kept += kept.size();
    stats.added += added.size();
    stats.chunks += records.size();

    // Embed the distinct hashes that have no stored vector yet.
    std::vector<Hash128> hashes;
    std::vector<std::string_view> texts;
    {
      std::unordered_map<Hash128, size_t, Hash128Hasher> seen;
      std::vector<Hash128> all;
      std::vector<std::string_view> all_texts;
      for (size_t i = 0; i < records.size(); ++i) {
        if (seen.emplace(records[i].hash, i).second) {
          all.push_back(records[i].hash);
          all_texts.push_back(seg.substr(spans[i].start, spans[i].end - spans[i].start));
        }
      }
      std::vector<bool> have = ws.HasEmbeddings(fingerprint, all);
      for (size_t i = 0; i < all.size(); ++i) {
        if (have[i]) {
          ++stats.embeddings_reused;
        } else {
          hashes.push_back(all[i]);
          texts.push_back(all_texts[i]);
        }
      }
    }
    std::vector<float> vectors(hashes.size() * dims);
    EmbedTexts(embedder, texts, vectors.data());
    ws.PutEmbeddings(fingerprint, hashes, vectors.data(), dims);
    stats.embedded += hashes.size();

    writer.Append(seg);
    whole.Update(seg);
    line_base += newlines.size();
    if (map) map->Release(text_offset + base, seg.size());
    if (options.progress) options.progress("load", base + seg.size(), text.size());
  }
  writer.Finish();

  std::vector<int64_t> removed;
  for (auto& [hash, id] : old_by_hash) removed.push_back(id);
  std::sort(removed.begin(), removed.end());
  ws.DeleteChunks(removed);
  stats.removed = removed.size();
  if (!removed.empty()) ws.PruneEmbeddings();

  stats.bytes = text.size();
  // Lines as `wc -l` counts them, plus a final line without a newline.
  stats.lines = line_base + (!text.empty() && text.back() != '\n' ? 1 : 0);
  info.size = stats.bytes;
  info.line_count = stats.lines;
  info.content_hash = whole.Finish().Hex();
  info.chunker = options.chunker;
  info.chunk_size = options.chunk.size;
  info.overlap = options.chunk.overlap;
  ws.UpdateBuffer(info);
  info.chunk_count = static_cast<int64_t>(stats.chunks);
  stats.computed = embedder.counters().texts.load() - computed_before;
  stats.truncated = embedder.counters().truncated_texts.load() - truncated_before;
  return stats;
}

}  // namespace rlm
