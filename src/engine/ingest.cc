#include "engine/ingest.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "chunk/segmented.h"
#include "core/error.h"
#include "core/utf8.h"
#include "embed/embedder.h"

namespace rlm {

namespace {

// Vectors are computed in batches of this many chunks, each batch on one TBB task.
constexpr size_t kEmbedFlush = 4096;  // chunk texts `chunk embed` holds before embedding and storing them

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

namespace {

// Throws EmbedderMismatch when the workspace has buffers and recorded another fingerprint than `fp`.
void CheckFingerprint(Workspace& ws, const std::string& spec, const std::string& fp) {
  const std::optional<std::string> recorded_spec = ws.GetMeta("embedder");
  const std::optional<std::string> recorded = ws.GetMeta("embedder_fingerprint");
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
}

}  // namespace

std::unique_ptr<Embedder> WorkspaceEmbedder(Workspace& ws, const std::string& requested) {
  const std::string spec = WorkspaceEmbedderSpec(ws, requested);
  auto embedder = MakeEmbedder(spec);
  CheckFingerprint(ws, spec, embedder->Fingerprint());
  return embedder;
}

void RecordWorkspaceEmbedder(Workspace& ws, const std::string& requested, const Embedder& embedder) {
  const std::string spec = WorkspaceEmbedderSpec(ws, requested);
  const std::string fp = embedder.Fingerprint();
  CheckFingerprint(ws, spec, fp);
  if (ws.GetMeta("embedder_fingerprint") != fp) {
    ws.SetMeta("embedder", spec);
    ws.SetMeta("embedder_fingerprint", fp);
  }
}

namespace {

// EmbedBuffers' work on one buffer. With `own_transactions` (the caller holds no transaction), the chunk
// list is read in a snapshot, vectors are computed outside any transaction and each batch is stored in a
// short write transaction, so a slow embedder never holds the workspace lock. Without it, everything runs
// in the caller's write transaction.
EmbedReport EmbedBufferChunks(Workspace& ws, const Embedder& embedder, const BufferInfo& buffer, bool force,
                              const ProgressFn& progress, bool own_transactions) {
  EmbedReport report;
  report.buffer = buffer;
  report.fingerprint = embedder.Fingerprint();
  const size_t dims = embedder.Dims();
  const uint64_t computed_before = embedder.counters().texts.load();
  std::vector<ChunkRecord> todo;
  {
    std::optional<Workspace::ReadTransaction> snapshot;
    if (own_transactions) snapshot.emplace(ws);
    std::vector<ChunkRecord> chunks = ws.ListChunks(buffer.id);
    std::vector<Hash128> hashes;
    for (const ChunkRecord& c : chunks) hashes.push_back(c.hash);
    std::vector<bool> have = ws.HasEmbeddings(report.fingerprint, hashes);
    report.total = chunks.size();
    // One vector per distinct content hash: the first chunk with that hash supplies the text.
    std::unordered_map<Hash128, bool, Hash128Hasher> queued;
    for (size_t i = 0; i < chunks.size(); ++i) {
      if (have[i] && !force) continue;
      (have[i] ? report.replaced : report.embedded) += 1;
      if (queued.emplace(chunks[i].hash, true).second) todo.push_back(chunks[i]);
    }
  }
  size_t done = 0;
  for (size_t first = 0; first < todo.size(); first += kEmbedFlush) {
    const std::vector<ChunkRecord> slice(todo.begin() + first,
                                         todo.begin() + std::min(todo.size(), first + kEmbedFlush));
    std::vector<std::string> texts;
    std::vector<Hash128> hashes;
    // Outside a snapshot the buffer may have been updated since its chunks were listed: a text that no
    // longer hashes to its chunk's hash is skipped, so no vector is ever stored under another text's hash.
    ws.ForEachChunkText(buffer.id, slice, UINT64_MAX, [&](size_t i, std::string_view t) {
      if (ContentHash(t) != slice[i].hash) return;
      texts.emplace_back(t);
      hashes.push_back(slice[i].hash);
    });
    std::vector<std::string_view> views(texts.begin(), texts.end());
    std::vector<float> vectors(views.size() * dims);
    EmbedTexts(embedder, views, vectors.data());
    if (own_transactions) {
      Workspace::WriteTransaction tx(ws);
      ws.PutEmbeddings(report.fingerprint, hashes, vectors.data(), dims);
      tx.Commit();
    } else {
      ws.PutEmbeddings(report.fingerprint, hashes, vectors.data(), dims);
    }
    done += slice.size();
    if (progress) progress("embed", done, todo.size());
  }
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
    reports.push_back(EmbedBufferChunks(ws, embedder, b, force, progress, /*own_transactions=*/true));
  }

  // Every buffer succeeded: record the embedder (when it is a switch), after embedding what other processes
  // loaded or updated meanwhile with the previous embedder, so that no chunk is left without a vector. That
  // catch-up runs first outside the lock; the transaction then embeds only what arrived during it.
  if (ws.GetMeta("embedder_fingerprint") == fingerprint) return reports;
  auto current = [&] {
    std::vector<BufferInfo> now;
    if (buffer.empty()) {
      now = ws.ListBuffers();
    } else if (std::optional<BufferInfo> b = ws.GetBufferById(targets[0].id)) {
      now.push_back(*b);
    }
    return now;
  };
  for (const BufferInfo& b : current()) EmbedBufferChunks(ws, embedder, b, /*force=*/false, nullptr, true);
  Workspace::WriteTransaction tx(ws);
  if (ws.GetMeta("embedder_fingerprint") != fingerprint) {
    for (const BufferInfo& b : current()) EmbedBufferChunks(ws, embedder, b, /*force=*/false, nullptr, false);
    ws.SetMeta("embedder", spec);
    ws.SetMeta("embedder_fingerprint", fingerprint);
    tx.Commit();
  }
  return reports;
}

std::string_view FileSource::Read(uint64_t offset, size_t len) {
  if (offset >= size()) return {};
  len = static_cast<size_t>(std::min<uint64_t>(len, size() - offset));
  if (offset >= buf_off_ && offset <= buf_off_ + buf_.size()) {
    buf_.erase(0, static_cast<size_t>(offset - buf_off_));  // keep what the next window shares
  } else {
    buf_.clear();
  }
  buf_off_ = offset;
  if (buf_.size() < len) file_.ReadAt(skip_ + offset + buf_.size(), len - buf_.size(), buf_);
  return std::string_view(buf_).substr(0, len);
}

PendingVectors::PendingVectors(Workspace& ws, const Embedder& embedder, size_t budget_bytes)
    : ws_(ws), fingerprint_(embedder.Fingerprint()), dims_(embedder.Dims()), budget_(budget_bytes) {}

void PendingVectors::Add(std::span<const Hash128> hashes, const float* vectors) {
  for (size_t i = 0; i < hashes.size(); ++i) {
    if (!index_.emplace(hashes[i], hashes_.size()).second) continue;
    hashes_.push_back(hashes[i]);
    vectors_.insert(vectors_.end(), vectors + i * dims_, vectors + (i + 1) * dims_);
  }
  if (vectors_.size() * sizeof(float) > budget_) Store();
}

void PendingVectors::Store() {
  {
    Workspace::WriteTransaction tx(ws_);
    ws_.PutEmbeddings(fingerprint_, hashes_, vectors_.data(), dims_);
    tx.Commit();
  }
  stored_early_.insert(stored_early_.end(), hashes_.begin(), hashes_.end());
  hashes_.clear();
  vectors_.clear();
  index_.clear();
}

void PendingVectors::WriteAll() {
  ws_.PutEmbeddings(fingerprint_, hashes_, vectors_.data(), dims_);
  hashes_.clear();
  vectors_.clear();
  index_.clear();
}

void PendingVectors::Discard() noexcept {
  if (stored_early_.empty()) return;
  try {
    Workspace::WriteTransaction tx(ws_);
    ws_.PruneEmbeddings(stored_early_);
    tx.Commit();
    stored_early_.clear();
  } catch (...) {  // best effort: unreferenced vectors are harmless, and a later prune removes them
  }
}

namespace {

// Calls fn(base, segment) for the consecutive segments of `text`, with the seams SegmentText finds on the
// whole text (a seam depends only on the target_bytes + 4 bytes after the segment's start).
template <class Fn>
void ForEachSegment(TextSource& text, size_t segment_bytes, Fn fn) {
  uint64_t base = 0;
  while (base < text.size()) {
    std::string_view window = text.Read(base, segment_bytes + 4);
    const size_t end = NextSeam(window, 0, segment_bytes);
    fn(base, window.substr(0, end));
    base += end;
  }
}

}  // namespace

PreparedText PrepareText(Workspace& ws, const Embedder& embedder, TextSource& text, const std::string& source,
                         const IngestOptions& options, PendingVectors& pending) {
  ValidateChunkOptions(options.chunk);
  auto chunker = MakeChunker(options.chunker);
  const std::string fingerprint = embedder.Fingerprint();
  const size_t dims = embedder.Dims();
  const uint64_t computed_before = embedder.counters().texts.load();
  const uint64_t truncated_before = embedder.counters().truncated_texts.load();

  PreparedText out;
  out.source = source;
  IngestStats& stats = out.stats;
  ContentHasher whole;
  uint64_t line_base = 0;  // newlines before the current segment
  const uint64_t total = text.size();

  ForEachSegment(text, options.segment_bytes, [&](uint64_t base, std::string_view seg) {
    CheckText(seg, options.source_offset + base, source);
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

    const size_t first = out.records.size();
    out.records.resize(first + spans.size());
    tbb::parallel_for(size_t{0}, spans.size(), [&](size_t i) {
      const ChunkSpan& s = spans[i];
      ChunkRecord& r = out.records[first + i];
      r.index = static_cast<int64_t>(first + i);
      r.start = base + s.start;
      r.end = base + s.end;
      r.line_start = line_base + lines_before(s.start) + 1;
      r.line_end = line_base + lines_before(s.end > s.start ? s.end - 1 : s.start) + 1;
      r.hash = ContentHash(seg.substr(s.start, s.end - s.start));
    });

    // Embed the distinct hashes that neither the workspace nor `pending` has.
    std::vector<Hash128> hashes;
    std::vector<std::string_view> texts;
    {
      std::unordered_map<Hash128, size_t, Hash128Hasher> seen;
      std::vector<Hash128> all;
      std::vector<std::string_view> all_texts;
      for (size_t i = 0; i < spans.size(); ++i) {
        const Hash128& h = out.records[first + i].hash;
        if (seen.emplace(h, i).second) {
          all.push_back(h);
          all_texts.push_back(seg.substr(spans[i].start, spans[i].end - spans[i].start));
        }
      }
      std::vector<bool> have = ws.HasEmbeddings(fingerprint, all);
      for (size_t i = 0; i < all.size(); ++i) {
        if (have[i] || pending.Contains(all[i])) {
          ++stats.embeddings_reused;
        } else {
          hashes.push_back(all[i]);
          texts.push_back(all_texts[i]);
        }
      }
    }
    std::vector<float> vectors(hashes.size() * dims);
    EmbedTexts(embedder, texts, vectors.data());
    pending.Add(hashes, vectors.data());
    stats.embedded += hashes.size();

    whole.Update(seg);
    line_base += newlines.size();
    if (options.progress) options.progress("load", base + seg.size(), total);
  });

  out.content_hash = whole.Finish();
  stats.chunks = out.records.size();
  stats.bytes = total;
  // Lines as `wc -l` counts them, plus a final line without a newline.
  const bool open_last_line = total > 0 && text.Read(total - 1, 1) != "\n";
  stats.lines = line_base + (open_last_line ? 1 : 0);
  stats.computed = embedder.counters().texts.load() - computed_before;
  stats.truncated = embedder.counters().truncated_texts.load() - truncated_before;
  return out;
}

IngestStats CommitText(Workspace& ws, const Embedder& embedder, BufferInfo& info,
                       const PreparedText& prepared, TextSource& text, const IngestOptions& options) {
  constexpr size_t kWindow = 16u << 20;
  IngestStats stats = prepared.stats;
  const std::string fingerprint = embedder.Fingerprint();

  // Old chunks by content hash, so unchanged chunks keep their ids.
  std::unordered_multimap<Hash128, int64_t, Hash128Hasher> old_by_hash;
  for (const ChunkRecord& c : ws.ListChunks(info.id)) old_by_hash.emplace(c.hash, c.id);
  ws.DeleteText(info.id);

  // The text, read again: it must be the bytes the chunks and vectors were made from.
  {
    Workspace::TextWriter writer(ws, info.id);
    ContentHasher whole;
    uint64_t done = 0;
    while (done < text.size()) {
      std::string_view w = text.Read(done, kWindow);
      writer.Append(w);
      whole.Update(w);
      done += w.size();
    }
    writer.Finish();
    if (done != stats.bytes || whole.Finish() != prepared.content_hash) {
      throw InvalidInput(prepared.source + ": changed while rlm was reading it (its bytes differ between " +
                             "two reads); nothing was written",
                         "try again when nothing is writing the file", ErrorType::kFileChanged);
    }
  }

  // Reuse ids of unchanged chunks; the rest are new rows.
  std::vector<ChunkRecord> kept, added;
  for (ChunkRecord r : prepared.records) {
    r.buffer_id = info.id;
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
  stats.kept = kept.size();
  stats.added = added.size();

  // A vector another process pruned between the phases is computed here, under the lock (rare).
  {
    std::unordered_map<Hash128, const ChunkRecord*, Hash128Hasher> distinct;
    for (const ChunkRecord& r : prepared.records) distinct.emplace(r.hash, &r);
    std::vector<Hash128> all;
    for (const auto& [h, r] : distinct) all.push_back(h);
    std::vector<bool> have = ws.HasEmbeddings(fingerprint, all);
    std::vector<Hash128> missing;
    std::vector<std::string> texts;
    for (size_t i = 0; i < all.size(); ++i) {
      if (have[i]) continue;
      const ChunkRecord& r = *distinct[all[i]];
      missing.push_back(all[i]);
      texts.emplace_back(text.Read(r.start, static_cast<size_t>(r.end - r.start)));
    }
    if (!missing.empty()) {
      std::vector<std::string_view> views(texts.begin(), texts.end());
      std::vector<float> vectors(missing.size() * embedder.Dims());
      EmbedTexts(embedder, views, vectors.data());
      ws.PutEmbeddings(fingerprint, missing, vectors.data(), embedder.Dims());
    }
  }

  std::vector<int64_t> removed;
  std::vector<Hash128> removed_hashes;
  for (auto& [hash, id] : old_by_hash) {
    removed.push_back(id);
    removed_hashes.push_back(hash);
  }
  std::sort(removed.begin(), removed.end());
  ws.DeleteChunks(removed);
  stats.removed = removed.size();
  if (!removed.empty()) ws.PruneEmbeddings(removed_hashes);

  info.size = stats.bytes;
  info.line_count = stats.lines;
  info.content_hash = prepared.content_hash.Hex();
  info.chunker = options.chunker;
  info.chunk_size = options.chunk.size;
  info.overlap = options.chunk.overlap;
  ws.UpdateBuffer(info);
  info.chunk_count = static_cast<int64_t>(stats.chunks);
  return stats;
}

}  // namespace rlm
