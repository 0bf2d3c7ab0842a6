// `chunk get|list|embed|status`: chunks by id, a buffer's chunk table, embedding a buffer's chunks with the
// workspace embedder, and the embedding coverage per buffer. Text and JSON as rlm-rs prints them.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cli/context.h"
#include "core/error.h"
#include "core/printable.h"
#include "core/utf8.h"
#include "embed/embedder.h"
#include "engine/ingest.h"

namespace rlm::cli {

namespace {

// The first `n` code points of `s`; *cut tells whether anything was left out.
std::string_view FirstChars(std::string_view s, size_t n, bool* cut) {
  size_t pos = 0;
  for (size_t i = 0; i < n && pos < s.size(); ++i)
    pos += utf8::SequenceLength(static_cast<unsigned char>(s[pos]));
  pos = std::min(pos, s.size());
  *cut = pos < s.size();
  return s.substr(0, pos);
}

json RangeJson(uint64_t start, uint64_t end) {
  json r;
  r["end"] = end;
  r["start"] = start;
  return r;
}

// ---- chunk get ------------------------------------------------------------------------------------------

void RunGet(Context& ctx, int64_t id, bool metadata) {
  auto ws = ctx.OpenWorkspace(Workspace::Mode::kRead);
  auto c = ws->GetChunk(id);
  if (!c) {
    throw NotFound("chunk not found: " + std::to_string(id),
                   "Run 'rlm chunk list <buffer>' to see valid chunk IDs", ErrorType::kChunkNotFound);
  }
  std::string content = ws->ReadText(c->buffer_id, c->start, c->end);
  if (ctx.json_mode()) {
    json doc;  // rlm-rs's keys (sorted) plus line_range (1-based, inclusive)
    doc["buffer_id"] = c->buffer_id;
    doc["byte_range"] = RangeJson(c->start, c->end);
    doc["chunk_id"] = c->id;
    doc["content"] = content;
    doc["index"] = c->index;
    doc["line_range"] = RangeJson(c->line_start, c->line_end);
    doc["size"] = content.size();
    ctx.Emit(doc);
    return;
  }
  if (!metadata) {
    ctx.Print(content);
    return;
  }
  std::string out = "Chunk ID: " + std::to_string(c->id) + "\nBuffer ID: " + std::to_string(c->buffer_id) +
                    "\nIndex: " + std::to_string(c->index) + "\nByte range: " + std::to_string(c->start) +
                    ".." + std::to_string(c->end) + "\nSize: " + std::to_string(content.size()) +
                    " bytes\n---\n" + content;
  if (content.empty() || content.back() != '\n') out += "\n";
  ctx.Print(out);
}

// ---- chunk list -----------------------------------------------------------------------------------------

struct ListArgs {
  std::string buffer;
  bool preview = false;
  size_t preview_len = 100;
};

void RunList(Context& ctx, const ListArgs& a) {
  auto ws = ctx.OpenWorkspace(Workspace::Mode::kRead);
  BufferInfo b;
  std::vector<ChunkRecord> chunks;
  std::vector<std::string> previews;
  std::vector<bool> cut;
  {
    Workspace::ReadTransaction snapshot(*ws);
    b = ws->GetBuffer(a.buffer);
    chunks = ws->ListChunks(b.id);
    if (a.preview) {
      previews.resize(chunks.size());
      cut.resize(chunks.size());
      // A code point is at most 4 bytes, so preview_len characters lie within 4 * preview_len bytes.
      ws->ForEachChunkText(b.id, chunks, 4 * uint64_t{a.preview_len} + 4, [&](size_t i, std::string_view t) {
        bool was_cut = false;
        previews[i] = FirstChars(t, a.preview_len, &was_cut);
        cut[i] = was_cut || chunks[i].end - chunks[i].start > t.size();
      });
    }
  }
  if (ctx.json_mode()) {
    json list = json::array();
    for (size_t i = 0; i < chunks.size(); ++i) {
      const ChunkRecord& c = chunks[i];
      json o;
      o["byte_range"] = RangeJson(c.start, c.end);
      o["id"] = c.id;
      o["index"] = c.index;
      o["line_range"] = RangeJson(c.line_start, c.line_end);
      if (a.preview) o["preview"] = previews[i];
      o["size"] = c.end - c.start;
      list.push_back(std::move(o));
    }
    json doc;
    doc["buffer_id"] = b.id;
    doc["buffer_name"] = b.name;
    doc["chunk_count"] = chunks.size();
    doc["chunks"] = std::move(list);
    ctx.Emit(doc);
    return;
  }
  if (chunks.empty()) {
    ctx.Print("No chunks found for buffer: " + EscapeForTerminal(b.name) + "\n");
    return;
  }
  std::string out = "Chunks for buffer '" + EscapeForTerminal(b.name) + "' (" +
                    std::to_string(chunks.size()) + " chunks):\n\n";
  if (a.preview) {
    out +=
        Pad("ID", 8) + " " + Pad("Index", 6) + " " + Pad("Start", 12) + " " + Pad("Size", 12) + " Preview\n";
    out += std::string(70, '-') + "\n";
  } else {
    out += Pad("ID", 8) + " " + Pad("Index", 6) + " " + Pad("Start", 12) + " " + Pad("Size", 12) + "\n";
    out += std::string(40, '-') + "\n";
  }
  for (size_t i = 0; i < chunks.size(); ++i) {
    const ChunkRecord& c = chunks[i];
    out += Pad(c.id, 8) + " " + Pad(c.index, 6) + " " + Pad(static_cast<int64_t>(c.start), 12) + " " +
           Pad(static_cast<int64_t>(c.end - c.start), 12);
    if (a.preview) {
      std::string p = previews[i];
      std::replace(p.begin(), p.end(), '\n', ' ');
      std::replace(p.begin(), p.end(), '\r', ' ');
      out += " " + p + (cut[i] ? "..." : "");
    }
    out += "\n";
    if (out.size() > (1 << 16)) {
      ctx.Print(out);
      out.clear();
    }
  }
  ctx.Print(out);
}

// ---- chunk embed ----------------------------------------------------------------------------------------

struct EmbedArgs {
  std::string buffer;
  bool all = false;
  bool force = false;
  std::string embedder;
};

json EmbedJson(const EmbedReport& r) {
  const BufferInfo& b = r.buffer;
  const size_t total = r.total, embedded = r.embedded, replaced = r.replaced, skipped = r.skipped();
  json doc;
  doc["buffer_id"] = b.id;
  doc["buffer_name"] = b.name;
  doc["completion_percentage"] =
      total == 0 ? 100.0
                 : static_cast<double>(embedded + skipped + replaced) / static_cast<double>(total) * 100.0;
  doc["computed_count"] = r.computed;  // ours: vectors computed, the rest came from the embedding cache
  doc["embedded_count"] = embedded;
  doc["had_changes"] = embedded > 0 || replaced > 0;
  doc["model"] = r.fingerprint;
  doc["model_warning"] = nullptr;  // vectors are keyed by model: other models' vectors are never mixed in
  doc["replaced_count"] = replaced;
  doc["skipped_count"] = skipped;
  doc["total_chunks"] = total;
  return doc;
}

std::string EmbedText(const EmbedReport& r) {
  const BufferInfo& b = r.buffer;
  const size_t total = r.total, embedded = r.embedded, replaced = r.replaced, skipped = r.skipped();
  if (embedded == 0 && replaced == 0) {
    return "Buffer '" + EscapeForTerminal(b.name) + "' already fully embedded (" + std::to_string(total) +
           " chunks). Use --force to re-embed.\n";
  }
  std::string out;
  if (embedded > 0) {
    out += "Embedded " + std::to_string(embedded) + " new chunks in buffer '" + EscapeForTerminal(b.name) +
           "' using model '" + r.fingerprint + "'.\n";
  }
  if (replaced > 0) out += "Re-embedded " + std::to_string(replaced) + " chunks with updated model.\n";
  if (skipped > 0)
    out += "Skipped " + std::to_string(skipped) + " chunks (already embedded with current model).\n";
  return out;
}

void RunEmbed(Context& ctx, const EmbedArgs& a) {
  if (a.all == !a.buffer.empty())
    throw InvalidInput("give a buffer or --all", "rlm chunk embed <buffer> | --all");
  auto ws = ctx.OpenWorkspace();
  // --embedder switches the workspace to another model; EmbedBuffers records it only once every buffer has
  // its vectors (the old vectors stay, keyed by their model).
  const std::string spec = WorkspaceEmbedderSpec(*ws, a.embedder);
  const std::unique_ptr<Embedder> embedder = MakeEmbedder(spec);
  const std::vector<EmbedReport> reports =
      EmbedBuffers(*ws, spec, *embedder, a.all ? "" : a.buffer, a.force, ctx.Progress());
  json docs = json::array();
  std::string out;
  for (const EmbedReport& r : reports) {
    docs.push_back(EmbedJson(r));
    out += EmbedText(r);
  }
  const EmbedCounters& c = embedder->counters();
  if (c.truncated_texts > 0) {
    ctx.Note("note: " + std::to_string(c.truncated_texts.load()) +
             " chunks were longer than the model's window and " + "were truncated (" +
             std::to_string(c.truncated_tokens.load()) +
             " tokens dropped); use --embedder <spec>:window to embed them as windows");
  }
  if (ctx.json_mode()) {
    if (a.all) {
      ctx.EmitList(docs);
    } else {
      ctx.Emit(docs[0]);
    }
    return;
  }
  if (reports.empty()) out = "No buffers to embed.\n";
  ctx.Print(out);
}

// ---- chunk status ---------------------------------------------------------------------------------------

void RunStatus(Context& ctx) {
  auto ws = ctx.OpenWorkspace(Workspace::Mode::kRead);
  std::vector<BufferInfo> buffers;
  std::unordered_map<int64_t, std::pair<int64_t, int64_t>> counts;  // buffer -> (chunks, embedded)
  std::string fp;
  {
    Workspace::ReadTransaction snapshot(*ws);
    buffers = ws->ListBuffers();
    // The vectors search uses: the recorded fingerprint (no need to load a model to count).
    fp = ws->GetMeta("embedder_fingerprint").value_or(MakeEmbedder("hash")->Fingerprint());
    std::vector<ChunkRecord> all = ws->AllChunks();
    std::vector<Hash128> hashes;
    for (const ChunkRecord& c : all) hashes.push_back(c.hash);
    std::vector<bool> have = ws->HasEmbeddings(fp, hashes);
    for (size_t i = 0; i < all.size(); ++i) {
      auto& [n, e] = counts[all[i].buffer_id];
      ++n;
      e += have[i];
    }
  }
  int64_t total = 0, total_embedded = 0;
  for (const auto& [id, ce] : counts) {
    total += ce.first;
    total_embedded += ce.second;
  }
  if (ctx.json_mode()) {
    json list = json::array();
    for (const BufferInfo& b : buffers) {
      auto [n, e] = counts[b.id];
      json o;
      o["buffer_id"] = b.id;
      o["chunk_count"] = n;
      o["embedded_count"] = e;
      o["fully_embedded"] = n == e;
      o["name"] = b.name;
      list.push_back(std::move(o));
    }
    json doc;
    doc["buffers"] = std::move(list);
    doc["model"] = fp;
    doc["total_chunks"] = total;
    doc["total_embedded"] = total_embedded;
    ctx.Emit(doc);
    return;
  }
  std::string out = "Embedding Status\n================\n\nTotal: " + std::to_string(total_embedded) + "/" +
                    std::to_string(total) + " chunks embedded\n\n";
  if (!buffers.empty()) {
    out += Pad("ID", 6) + " " + Pad("Name", 20) + " " + Pad("Chunks", 10) + " " + Pad("Embedded", 10) +
           " Status\n";
    out += std::string(60, '-') + "\n";
    for (const BufferInfo& b : buffers) {
      auto [n, e] = counts[b.id];
      const char* status = n == e ? "✓ complete" : e > 0 ? "◐ partial" : "○ none";
      out += Pad(b.id, 6) + " " + Pad(TruncateStr(EscapeForTerminal(b.name), 20), 20) + " " + Pad(n, 10) +
             " " + Pad(e, 10) + " " + status + "\n";
    }
  }
  ctx.Print(out);
}

}  // namespace

void RegisterChunkCommands(CLI::App& app, Context& ctx) {
  CLI::App* chunk = app.add_subcommand("chunk", "Chunk operations: get, list, embed, status");
  chunk->require_subcommand(1);

  auto get_id = std::make_shared<int64_t>(0);
  auto get_meta = std::make_shared<bool>(false);
  CLI::App* get = chunk->add_subcommand("get", "Print a chunk's content by id");
  get->add_option("id", *get_id, "Chunk id")->required();
  get->add_flag("-m,--metadata", *get_meta, "Text mode: print the chunk's metadata before its content");
  OnRun(get, ctx, [&ctx, get_id, get_meta] { RunGet(ctx, *get_id, *get_meta); });

  auto list_args = std::make_shared<ListArgs>();
  CLI::App* list = chunk->add_subcommand("list", "List a buffer's chunks");
  list->add_option("buffer", list_args->buffer, "Buffer id (all digits) or name")->required();
  list->add_flag("-p,--preview", list_args->preview, "Show the start of each chunk");
  list->add_option("--preview-len", list_args->preview_len, "Preview length in characters")
      ->capture_default_str();
  OnRun(list, ctx, [&ctx, list_args] { RunList(ctx, *list_args); });

  auto embed_args = std::make_shared<EmbedArgs>();
  CLI::App* embed = chunk->add_subcommand("embed", "Embed a buffer's chunks that have no vector yet");
  embed->add_option("buffer", embed_args->buffer, "Buffer id (all digits) or name");
  embed->add_flag("-a,--all", embed_args->all, "Embed every buffer");
  embed->add_flag("-f,--force", embed_args->force, "Recompute every vector of the buffer");
  embed->add_option(
      "-e,--embedder", embed_args->embedder,
      "Embed with this embedder and make it the workspace's: hash[:DIMS], local:<model>[:window], "
      "openai:<model>, ollama:<model>");
  OnRun(embed, ctx, [&ctx, embed_args] { RunEmbed(ctx, *embed_args); });

  CLI::App* status = chunk->add_subcommand("status", "Embedding coverage per buffer");
  OnRun(status, ctx, [&ctx] { RunStatus(ctx); });
}

}  // namespace rlm::cli
