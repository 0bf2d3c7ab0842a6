// Buffer commands: `list|ls`, `show`, `delete|rm`, `peek`, `grep`, `chunk-indices`, `write-chunks` and
// `export-buffers`. Buffers and chunks are printed in rlm-rs's struct shapes (minus the full contents that
// rlm-rs's `list` dumped); every byte slice is cut on UTF-8 boundaries.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "chunk/chunker.h"
#include "chunk/segmented.h"
#include "cli/context.h"
#include "core/error.h"
#include "core/file.h"
#include "core/printable.h"
#include "core/utf8.h"
#include "engine/grep.h"
#include "engine/ingest.h"

namespace rlm::cli {

namespace {

namespace fs = std::filesystem;

std::string EscapeNewlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

json NullIfEmpty(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

// rlm-rs's content_type: the lower-cased extension of the source file, null without one.
json ContentType(const std::string& source) {
  if (source.empty() || source == "-") return nullptr;
  std::string ext = fs::path(source).extension().string();
  if (ext.size() <= 1) return nullptr;
  ext.erase(0, 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

// rlm-rs's Chunk struct, in field order. line_range is 1-based and inclusive, as everywhere in rlm.
json ChunkJson(const BufferInfo& b, const ChunkRecord& c, std::string_view content, bool has_overlap) {
  return json{{"id", c.id},
              {"buffer_id", c.buffer_id},
              {"content", content},
              {"byte_range", {{"start", c.start}, {"end", c.end}}},
              {"index", c.index},
              {"metadata",
               {{"strategy", NullIfEmpty(b.chunker)},
                {"token_count", (c.end - c.start + 3) / 4},
                {"line_range", {{"start", c.line_start}, {"end", c.line_end}}},
                {"created_at", b.updated_at},
                {"content_hash", c.hash.Hex()},
                {"has_overlap", has_overlap},
                {"custom", nullptr}}}};
}

// ---- chunk boundaries ------------------------------------------------------------------------------------

struct ChunkPlan {
  std::vector<ChunkSpan> spans;
  bool stored = false;  // the buffer's stored chunks (else a fresh split with other settings)
  ChunkOptions options;
};

// The real chunk boundaries for `size`/`overlap`: the stored chunks when neither is given or both equal the
// buffer's settings; otherwise what the buffer's chunker makes of its text with them (the same segment
// seams as a load, so the answer is what `update-buffer` with those settings would store).
ChunkPlan PlanChunks(Workspace& ws, const BufferInfo& b, std::optional<size_t> size,
                     std::optional<size_t> overlap, std::string* text) {
  ChunkPlan plan;
  plan.options.size = size.value_or(b.chunk_size);
  plan.options.overlap = overlap.value_or(b.overlap);
  if (plan.options.size == b.chunk_size && plan.options.overlap == b.overlap) {
    plan.stored = true;
    for (const ChunkRecord& c : ws.ListChunks(b.id)) plan.spans.push_back({c.start, c.end});
    return plan;
  }
  try {
    ValidateChunkOptions(plan.options);
  } catch (const InvalidInput& e) {
    if (e.type() != "InvalidArgument") throw;
    throw InvalidInput(e.what(), e.suggestion(),
                       plan.options.size == 0 ? ErrorType::kInvalidConfig : ErrorType::kOverlapTooLarge);
  }
  if (b.source != "-") plan.options.path = b.source;
  auto chunker = MakeChunker(b.chunker.empty() ? "semantic" : b.chunker);
  *text = ws.ReadText(b.id, 0, b.size);
  plan.spans = SplitSegmented(*chunker, *text, plan.options, kIngestSegmentBytes, true);
  return plan;
}

// ---- commands --------------------------------------------------------------------------------------------

void List(Context& ctx) {
  auto ws = ctx.OpenWorkspace(Workspace::Mode::kRead);
  std::vector<BufferInfo> buffers = ws->ListBuffers();
  if (ctx.json_mode()) {
    json arr = json::array();
    for (const BufferInfo& b : buffers) arr.push_back(BufferJson(b));
    ctx.EmitList(arr);
    return;
  }
  if (buffers.empty()) {
    ctx.Line("No buffers found.");
    return;
  }
  std::string out = "Buffers:\n" + Pad("ID", 6) + " " + Pad("Name", 20) + " " + Pad("Size", 12) + " " +
                    Pad("Chunks", 8) + " Source\n" + std::string(70, '-') + "\n";
  for (const BufferInfo& b : buffers) {
    out += Pad(std::to_string(b.id), 6) + " " + Pad(TruncateStr(EscapeForTerminal(b.name), 20), 20) + " " +
           Pad(HumanBytes(b.size), 12) + " " + Pad(std::to_string(b.chunk_count), 8) + " " +
           TruncateStr(b.source.empty() ? "-" : EscapeForTerminal(b.source), 30) + "\n";
  }
  ctx.Print(out);
}

void Show(Context& ctx, const std::string& id, bool with_chunks) {
  auto ws = ctx.OpenWorkspace(Workspace::Mode::kRead);
  Workspace::ReadTransaction snapshot(*ws);
  BufferInfo b = ws->GetBuffer(id);
  std::vector<ChunkRecord> chunks;
  if (with_chunks) chunks = ws->ListChunks(b.id);
  if (ctx.json_mode()) {
    json doc{{"buffer", BufferJson(b)}, {"chunks", nullptr}};
    if (with_chunks) {
      std::string text = ws->ReadText(b.id, 0, b.size);
      json arr = json::array();
      for (size_t i = 0; i < chunks.size(); ++i) {
        const ChunkRecord& c = chunks[i];
        bool overlap = i > 0 && c.start < chunks[i - 1].end;
        arr.push_back(ChunkJson(b, c, std::string_view(text).substr(c.start, c.end - c.start), overlap));
      }
      doc["chunks"] = std::move(arr);
    }
    ctx.Emit(doc);
    return;
  }
  std::string out = "Buffer: " + EscapeForTerminal(b.name) + "\n";
  out += "  ID:           " + std::to_string(b.id) + "\n";
  out += "  Size:         " + std::to_string(b.size) + " bytes\n";
  out += "  Lines:        " + std::to_string(b.line_count) + "\n";
  out += "  Chunks:       " + std::to_string(b.chunk_count) + "\n";
  if (json ct = ContentType(b.source); !ct.is_null())
    out += "  Content type: " + ct.get<std::string>() + "\n";
  if (!b.source.empty()) out += "  Source:       " + EscapeForTerminal(b.source) + "\n";
  out += "  Chunker:      " + b.chunker + " (size " + std::to_string(b.chunk_size) + ", overlap " +
         std::to_string(b.overlap) + ")\n";
  if (with_chunks) {
    out += "\nChunks:\n" + Pad("Index", 6) + " " + Pad("Start", 12) + " " + Pad("End", 12) + " " +
           Pad("Size", 10) + " Preview\n" + std::string(70, '-') + "\n";
    for (const ChunkRecord& c : chunks) {
      // The preview is the first 30 bytes after escaping: 40 bytes of text decide it (a longer chunk is cut).
      std::string head = ws->ReadText(b.id, c.start, std::min(c.end, c.start + 40));
      out += Pad(std::to_string(c.index), 6) + " " + Pad(std::to_string(c.start), 12) + " " +
             Pad(std::to_string(c.end), 12) + " " + Pad(std::to_string(c.end - c.start), 10) + " " +
             TruncateStr(EscapeNewlines(head), 30) + "\n";
    }
  }
  ctx.Print(out);
}

void Delete(Context& ctx, const std::string& id, bool yes) {
  if (!yes)
    throw InvalidInput("Use --yes to confirm deletion.", "Run 'rlm delete <buffer> --yes'",
                       ErrorType::kExecutionFailed);
  auto ws = ctx.OpenWorkspace();
  Workspace::WriteTransaction tx(*ws);
  BufferInfo b = ws->GetBuffer(id);
  ws->DeleteBuffer(b.id);
  tx.Commit();
  if (ctx.json_mode()) {
    ctx.Emit(
        json{{"action", "delete_buffer"}, {"buffer_id", b.id}, {"buffer_name", b.name}, {"success", true}});
  } else {
    ctx.Line("Deleted buffer: " + EscapeForTerminal(b.name));
  }
}

// A negative offset counts from the end; results are clamped to [0, len].
uint64_t ResolveOffset(int64_t v, uint64_t len) {
  if (v < 0) {
    uint64_t back = static_cast<uint64_t>(-(v + 1)) + 1;
    return back >= len ? 0 : len - back;
  }
  return std::min(static_cast<uint64_t>(v), len);
}

void Peek(Context& ctx, const std::string& id, int64_t start_arg, std::optional<int64_t> end_arg) {
  auto ws = ctx.OpenWorkspace(Workspace::Mode::kRead);
  Workspace::ReadTransaction snapshot(*ws);
  BufferInfo b = ws->GetBuffer(id);
  const uint64_t len = b.size;
  uint64_t start = ResolveOffset(start_arg, len);
  uint64_t end = end_arg ? ResolveOffset(*end_arg, len) : std::min(len, start + 3000);
  if (end < start) end = start;
  // Read 3 bytes before (a lead byte is at most 3 bytes back) and 1 after (to see whether `end` is inside
  // a sequence), then move both ends back to code-point boundaries.
  const uint64_t from = start >= 3 ? start - 3 : 0;
  std::string window = ws->ReadText(b.id, from, std::min(len, end + 1));
  start = from + utf8::FloorBoundary(window, start - from);
  end = from + utf8::FloorBoundary(window, end - from);
  if (end < start) end = start;
  std::string content = window.substr(start - from, end - start);
  if (ctx.json_mode()) {
    ctx.Emit(json{
        {"start", start}, {"end", end}, {"size", end - start}, {"content", content}, {"buffer_size", len}});
    return;
  }
  std::string out = "Bytes " + std::to_string(start) + ".." + std::to_string(end) + " (" +
                    std::to_string(end - start) + " bytes):\n---\n" + content;
  if (content.empty() || content.back() != '\n') out += "\n";
  ctx.Print(out + "---\n");
}

void GrepCmd(Context& ctx, const std::string& id, const std::string& pattern, const GrepOptions& o) {
  auto ws = ctx.OpenWorkspace(Workspace::Mode::kRead);
  std::string text;
  {
    Workspace::ReadTransaction snapshot(*ws);
    BufferInfo b = ws->GetBuffer(id);
    text = ws->ReadText(b.id, 0, b.size);
  }
  GrepResult r = Grep(text, pattern, o);
  if (ctx.json_mode()) {
    json arr = json::array();
    for (const GrepMatch& m : r.matches) {
      arr.push_back(
          json{{"offset", m.offset}, {"matched", m.matched}, {"snippet", m.snippet}, {"line", m.line}});
    }
    ctx.EmitList(arr);
    return;
  }
  // "No matches" only when there are none, and a count cut by --max-matches says so: "Found 20 matches"
  // for a pattern that matches 5000 times read as if 20 were all of them.
  const std::string more =
      r.truncated ? " (stopped at --max-matches " + std::to_string(o.max_matches) + "; there are more)" : "";
  if (r.matches.empty()) {
    ctx.Line(r.truncated ? "No matches shown for pattern: " + pattern + more
                         : "No matches found for pattern: " + pattern);
    return;
  }
  std::string out =
      "Found " + std::to_string(r.matches.size()) + " matches for pattern: " + pattern + more + "\n\n";
  for (size_t i = 0; i < r.matches.size(); ++i) {
    out += "Match " + std::to_string(i + 1) + " at byte " + std::to_string(r.matches[i].offset) + ":\n  " +
           EscapeNewlines(r.matches[i].snippet) + "\n";
  }
  ctx.Print(out);
}

void ChunkIndices(Context& ctx, const std::string& id, std::optional<size_t> size,
                  std::optional<size_t> overlap) {
  auto ws = ctx.OpenWorkspace(Workspace::Mode::kRead);
  Workspace::ReadTransaction snapshot(*ws);
  BufferInfo b = ws->GetBuffer(id);
  std::string text;
  ChunkPlan plan = PlanChunks(*ws, b, size, overlap, &text);
  if (ctx.json_mode()) {
    json arr = json::array();
    for (const ChunkSpan& s : plan.spans) arr.push_back(json::array({s.start, s.end}));
    ctx.EmitList(arr);
    return;
  }
  std::string out = std::to_string(plan.spans.size()) + " chunks:\n";
  for (size_t i = 0; i < plan.spans.size(); ++i) {
    const ChunkSpan& s = plan.spans[i];
    out += "  [" + std::to_string(i) + "] " + std::to_string(s.start) + ".." + std::to_string(s.end) + " (" +
           std::to_string(s.end - s.start) + " bytes)\n";
  }
  ctx.Print(out);
}

struct WriteChunksArgs {
  std::string buffer;
  std::string out_dir = ".rlm/chunks";
  std::optional<size_t> chunk_size;
  std::optional<size_t> overlap;
  std::string prefix = "chunk";
};

void WriteChunks(Context& ctx, const WriteChunksArgs& a) {
  // The prefix becomes part of a file name: it must not lead out of the output folder.
  if (a.prefix.find('/') != std::string::npos || a.prefix.find("..") != std::string::npos ||
      a.prefix.find('\0') != std::string::npos) {
    throw InvalidInput(
        "path traversal denied: " + a.prefix,
        "Path traversal outside allowed directory is not permitted (the prefix must be a plain name)",
        ErrorType::kPathTraversalDenied);
  }
  auto ws = ctx.OpenWorkspace(Workspace::Mode::kRead);
  std::string text;
  ChunkPlan plan;
  {
    Workspace::ReadTransaction snapshot(*ws);
    BufferInfo b = ws->GetBuffer(a.buffer);
    plan = PlanChunks(*ws, b, a.chunk_size, a.overlap, &text);
    if (plan.stored) text = ws->ReadText(b.id, 0, b.size);
  }
  std::error_code ec;
  fs::create_directories(a.out_dir, ec);
  if (ec)
    throw IoError("failed to create directory: " + a.out_dir + ": " + ec.message(), "",
                  ErrorType::kDirectoryError);
  std::vector<std::string> paths;
  for (size_t i = 0; i < plan.spans.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "_%04zu.txt", i);
    std::string path = (fs::path(a.out_dir) / (a.prefix + name)).string();
    const ChunkSpan& s = plan.spans[i];
    WriteFileAtomic(path, std::string_view(text).substr(s.start, s.end - s.start));
    paths.push_back(std::move(path));
  }
  if (ctx.json_mode()) {
    ctx.EmitList(json(paths));
    return;
  }
  std::string out = "Wrote " + std::to_string(paths.size()) + " chunks:\n";
  for (const std::string& p : paths) out += "  " + EscapeForTerminal(p) + "\n";
  ctx.Print(out);
}

// Writes a file through `fill` atomically (core/file.h's AtomicFile: refuses a target that is not a regular
// file, keeps an existing file's mode), creating its folder first.
void WriteStreamAtomic(const std::string& path, const std::function<void(AtomicFile&)>& fill) {
  fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec)
    throw IoError("failed to create directory: " + parent.string() + ": " + ec.message(), "",
                  ErrorType::kDirectoryError);
  AtomicFile file(path);
  fill(file);
  file.Commit();
}

void ExportBuffers(Context& ctx, const std::string& output, bool pretty) {
  auto ws = ctx.OpenWorkspace(Workspace::Mode::kRead);
  Workspace::ReadTransaction snapshot(*ws);
  std::vector<BufferInfo> buffers = ws->ListBuffers();

  if (ctx.json_mode()) {
    json arr = json::array();
    for (const BufferInfo& b : buffers) {
      arr.push_back(json{{"id", b.id},
                         {"name", b.name},
                         {"source", NullIfEmpty(b.source)},
                         {"size", b.size},
                         {"content", ws->ReadText(b.id, 0, b.size)}});
    }
    if (output.empty()) {
      ctx.EmitList(arr);
      return;
    }
    std::string data;
    if (ctx.format() == Format::kNdjson) {
      for (const auto& e : arr) data += e.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    } else {
      data = arr.dump(pretty ? 2 : -1, ' ', false, json::error_handler_t::replace) + "\n";
    }
    WriteStreamAtomic(output, [&](AtomicFile& f) { f.Write(data); });
    ctx.Emit(json{{"buffer_count", buffers.size()}, {"path", output}, {"success", true}});
    return;
  }

  // Text: the contents joined by a blank line, streamed block by block.
  auto stream = [&](const std::function<void(std::string_view)>& write) {
    for (size_t i = 0; i < buffers.size(); ++i) {
      if (i > 0) write("\n\n");
      ws->ForEachTextBlock(buffers[i].id, write);
    }
  };
  if (output.empty()) {
    stream([&](std::string_view s) { ctx.Print(s); });
    return;
  }
  WriteStreamAtomic(output, [&](AtomicFile& f) { stream([&](std::string_view s) { f.Write(s); }); });
  ctx.Line("Exported buffers to: " + EscapeForTerminal(output));
}

}  // namespace

json BufferJson(const BufferInfo& b) {
  // rlm-rs's Buffer struct in field order, without `content`; chunker settings added to the metadata.
  return json{{"id", b.id},
              {"name", b.name},
              {"source", NullIfEmpty(b.source)},
              {"metadata",
               {{"content_type", ContentType(b.source)},
                {"created_at", b.created_at},
                {"updated_at", b.updated_at},
                {"size", b.size},
                {"line_count", b.line_count},
                {"chunk_count", b.chunk_count},
                {"content_hash", NullIfEmpty(b.content_hash)},
                {"chunker", b.chunker},
                {"chunk_size", b.chunk_size},
                {"overlap", b.overlap}}}};
}

void RegisterBufferCommands(CLI::App& app, Context& ctx) {
  {
    auto* sub = app.add_subcommand("list", "List buffers");
    sub->alias("ls");
    OnRun(sub, ctx, [&ctx] { List(ctx); });
  }
  {
    auto id = std::make_shared<std::string>();
    auto chunks = std::make_shared<bool>(false);
    auto* sub = app.add_subcommand("show", "Show a buffer's details");
    sub->add_option("buffer", *id, "Buffer id (all digits) or name")->required();
    sub->add_flag("-c,--chunks", *chunks, "Also list its chunks");
    OnRun(sub, ctx, [&ctx, id, chunks] { Show(ctx, *id, *chunks); });
  }
  {
    auto id = std::make_shared<std::string>();
    auto yes = std::make_shared<bool>(false);
    auto* sub = app.add_subcommand("delete", "Delete a buffer with its chunks and embeddings");
    sub->alias("rm");
    sub->add_option("buffer", *id, "Buffer id (all digits) or name")->required();
    sub->add_flag("-y,--yes", *yes, "Confirm");
    OnRun(sub, ctx, [&ctx, id, yes] { Delete(ctx, *id, *yes); });
  }
  {
    auto id = std::make_shared<std::string>();
    auto start = std::make_shared<int64_t>(0);
    auto end = std::make_shared<std::optional<int64_t>>();
    auto* sub = app.add_subcommand("peek", "Print a byte range of a buffer");
    sub->add_option("buffer", *id, "Buffer id (all digits) or name")->required();
    sub->add_option("--start", *start, "Start byte; negative counts from the end")->capture_default_str();
    sub->add_option("--end", *end, "End byte (default: start + 3000); negative counts from the end");
    OnRun(sub, ctx, [&ctx, id, start, end] { Peek(ctx, *id, *start, *end); });
  }
  {
    auto id = std::make_shared<std::string>();
    auto pattern = std::make_shared<std::string>();
    auto o = std::make_shared<GrepOptions>();
    auto* sub = app.add_subcommand("grep", "Search a buffer with a regular expression (RE2 syntax)");
    sub->add_option("buffer", *id, "Buffer id (all digits) or name")->required();
    sub->add_option("pattern", *pattern, "Regular expression")->required();
    sub->add_option("-n,--max-matches", o->max_matches, "Maximum matches")
        ->capture_default_str()
        ->check(WholeInRange(1, 100'000'000));
    sub->add_option("-w,--window", o->window, "Context bytes on each side")
        ->capture_default_str()
        ->check(WholeInRange(0, 1 << 30));
    sub->add_flag("-i,--ignore-case", o->ignore_case, "Case-insensitive");
    OnRun(sub, ctx, [&ctx, id, pattern, o] { GrepCmd(ctx, *id, *pattern, *o); });
  }
  {
    auto id = std::make_shared<std::string>();
    auto size = std::make_shared<std::optional<size_t>>();
    auto overlap = std::make_shared<std::optional<size_t>>();
    auto* sub = app.add_subcommand("chunk-indices", "Chunk byte ranges of a buffer");
    sub->add_option("buffer", *id, "Buffer id (all digits) or name")->required();
    sub->add_option("--chunk-size", *size, "Chunk size in bytes (default: the buffer's: its stored chunks)")
        ->check(WholeInRange(0, kMaxChunkBytes));
    sub->add_option("--overlap", *overlap, "Overlap in bytes (default: the buffer's)")
        ->check(WholeInRange(0, kMaxChunkBytes));
    OnRun(sub, ctx, [&ctx, id, size, overlap] { ChunkIndices(ctx, *id, *size, *overlap); });
  }
  {
    auto a = std::make_shared<WriteChunksArgs>();
    auto* sub =
        app.add_subcommand("write-chunks", "Write a buffer's chunks to files {prefix}_{index:04}.txt");
    sub->add_option("buffer", a->buffer, "Buffer id (all digits) or name")->required();
    sub->add_option("-o,--out-dir", a->out_dir, "Output folder")->capture_default_str();
    sub->add_option("--chunk-size", a->chunk_size,
                    "Chunk size in bytes (default: the buffer's stored chunks)")
        ->check(WholeInRange(0, kMaxChunkBytes));
    sub->add_option("--overlap", a->overlap, "Overlap in bytes (default: the buffer's)")
        ->check(WholeInRange(0, kMaxChunkBytes));
    sub->add_option("--prefix", a->prefix, "File name prefix")->capture_default_str();
    OnRun(sub, ctx, [&ctx, a] { WriteChunks(ctx, *a); });
  }
  {
    auto output = std::make_shared<std::string>();
    auto pretty = std::make_shared<bool>(false);
    auto* sub =
        app.add_subcommand("export-buffers", "Export every buffer (text, or JSON with --format json)");
    sub->add_option("-o,--output", *output, "Output file (default: stdout)");
    sub->add_flag("-p,--pretty", *pretty, "Indent JSON written to a file");
    OnRun(sub, ctx, [&ctx, output, pretty] { ExportBuffers(ctx, *output, *pretty); });
  }
}

}  // namespace rlm::cli
