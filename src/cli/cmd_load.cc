// Loading text into the workspace: `load <file|dir|->`, `add-buffer <name> [content|-]` and
// `update-buffer <buffer> [content|-]`. Every path chunks and embeds (rlm-rs left add-buffer unchunked), and
// each is one transaction in the library, so an interrupted load leaves nothing half-written.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "chunk/chunker.h"
#include "cli/context.h"
#include "core/error.h"
#include "core/file.h"
#include "core/printable.h"
#include "engine/load.h"

namespace rlm::cli {

namespace {

namespace fs = std::filesystem;

// Chunker names are matched case-insensitively and `ast` is rlm-rs's alias of `code`. Fails early (before
// any input is read) with rlm-rs's error type.
std::string CheckedChunker(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  if (name == "ast") name = "code";
  try {
    MakeChunker(name);
  } catch (const InvalidInput& e) {
    throw InvalidInput(e.what(), e.suggestion(),
                       e.type() == "InvalidArgument" ? ErrorType::kUnknownStrategy : e.error_type());
  }
  return name;
}

// ValidateChunkOptions with rlm-rs's error types (InvalidConfig for size 0, OverlapTooLarge).
void CheckChunkOptions(const ChunkOptions& o) {
  try {
    ValidateChunkOptions(o);
  } catch (const InvalidInput& e) {
    if (e.type() != "InvalidArgument") throw;
    throw InvalidInput(e.what(), e.suggestion(),
                       o.size == 0 ? ErrorType::kInvalidConfig : ErrorType::kOverlapTooLarge);
  }
}

// The positional content, or stdin when it is absent or "-".
std::string ReadContent(const std::optional<std::string>& content) {
  if (content && *content != "-") return *content;
  return ReadFd(STDIN_FILENO, "stdin");
}

std::string ModelName(Workspace& ws) {
  return ws.GetMeta("embedder").value_or("hash");
}

// rlm-rs's load object (json!: keys sorted), with our extra fields in their sorted places.
json LoadedJson(const LoadedBuffer& b) {
  return json{{"buffer_id", b.info.id},
              {"chunk_count", b.stats.chunks},
              {"chunk_size", b.info.chunk_size},
              {"chunker", b.info.chunker},
              {"computed_count", b.stats.computed},
              {"embedded_count", b.stats.chunks},
              {"line_count", b.info.line_count},
              {"name", b.info.name},
              {"overlap", b.info.overlap},
              {"size", b.info.size},
              {"source", b.info.source}};
}

struct LoadArgs {
  std::string path;
  std::string name;
  std::string chunker = "semantic";
  size_t chunk_size = 3000;
  size_t overlap = 500;
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::string embedder;
  bool follow = false;
};

const char* kEmbedderHelp =
    "Embedder (recorded by the workspace on first use): hash[:DIMS], local:<model folder or name>[:window], "
    "openai:<model>, ollama:<model>";

void Load(Context& ctx, const LoadArgs& a) {
  LoadOptions o;
  o.name = a.name;
  o.ingest.chunker = CheckedChunker(a.chunker);
  o.ingest.chunk.size = a.chunk_size;
  o.ingest.chunk.overlap = a.overlap;
  CheckChunkOptions(o.ingest.chunk);
  o.ingest.progress = ctx.Progress();
  o.include = a.include;
  o.exclude = a.exclude;
  o.follow = a.follow;
  o.ingest.embedder = a.embedder;
  std::error_code ec;
  const bool is_dir = a.path != "-" && fs::is_directory(a.path, ec);

  auto ws = ctx.OpenWorkspace();
  LoadReport report = LoadPath(*ws, a.path, o);
  size_t vectors = 0, computed = 0, truncated = 0;
  for (const LoadedBuffer& b : report.loaded) {
    vectors += b.stats.embedded;
    computed += b.stats.computed;
    truncated += b.stats.truncated;
  }
  if (truncated > 0) {
    ctx.Note("note: " + std::to_string(truncated) +
             " chunks were longer than the embedding model's window and " +
             "were truncated; use --embedder <spec>:window to embed them whole, or a smaller --chunk-size");
  }
  if (computed < vectors) {
    ctx.Note("note: " + std::to_string(vectors - computed) + " of " + std::to_string(vectors) +
             " vectors came from the embedding cache");
  }

  if (!is_dir) {
    const LoadedBuffer& b = report.loaded.at(0);
    if (ctx.json_mode()) {
      ctx.Emit(LoadedJson(b));
    } else {
      ctx.Line("Loaded buffer " + EscapeForTerminal(b.info.name) + " (ID: " + std::to_string(b.info.id) +
               ") with " + std::to_string(b.stats.chunks) + " chunks (" + std::to_string(b.stats.chunks) +
               " embedded) from " +
               (b.info.source == "-" ? std::string("stdin") : EscapeForTerminal(b.info.source)));
    }
    return;
  }

  size_t chunks = 0;
  uint64_t bytes = 0;
  for (const LoadedBuffer& b : report.loaded) {
    chunks += b.stats.chunks;
    bytes += b.info.size;
  }
  if (ctx.json_mode()) {
    json buffers = json::array(), skipped = json::array();
    for (const LoadedBuffer& b : report.loaded) buffers.push_back(LoadedJson(b));
    for (const SkippedFile& s : report.skipped)
      skipped.push_back(json{{"path", s.path}, {"reason", s.reason}});
    ctx.Emit(json{{"buffer_count", report.loaded.size()},
                  {"buffers", std::move(buffers)},
                  {"chunk_count", chunks},
                  {"computed_count", computed},
                  {"embedded_count", chunks},
                  {"size", bytes},
                  {"skipped", std::move(skipped)},
                  {"source", a.path}});
    return;
  }
  for (const SkippedFile& s : report.skipped)
    ctx.Note("skipped " + EscapeForTerminal(s.path) + ": " + EscapeForTerminal(s.reason));
  std::string out;
  for (const LoadedBuffer& b : report.loaded) {
    out += "Loaded buffer " + EscapeForTerminal(b.info.name) + " (ID: " + std::to_string(b.info.id) +
           ") with " + std::to_string(b.stats.chunks) + " chunks (" + std::to_string(b.stats.chunks) +
           " embedded) from " + EscapeForTerminal(b.info.source) + "\n";
  }
  out += "Loaded " + std::to_string(report.loaded.size()) + " files (" + std::to_string(chunks) +
         " chunks, " + std::to_string(bytes) + " bytes) from " + EscapeForTerminal(a.path) + ", skipped " +
         std::to_string(report.skipped.size()) + "\n";
  ctx.Print(out);
}

struct AddArgs {
  std::string embedder;
  std::string name;
  std::optional<std::string> content;
  std::string chunker = "semantic";
  size_t chunk_size = 3000;
  size_t overlap = 500;
};

void AddBufferCmd(Context& ctx, const AddArgs& a) {
  IngestOptions o;
  o.chunker = CheckedChunker(a.chunker);
  o.chunk.size = a.chunk_size;
  o.chunk.overlap = a.overlap;
  CheckChunkOptions(o.chunk);
  o.progress = ctx.Progress();
  o.embedder = a.embedder;
  auto ws = ctx.OpenWorkspace();
  std::string text = ReadContent(a.content);
  LoadedBuffer b = AddBuffer(*ws, a.name, text, "", o);
  if (ctx.json_mode()) {
    ctx.Emit(json{{"buffer_id", b.info.id},
                  {"chunk_count", b.stats.chunks},
                  {"embedded_count", b.stats.chunks},
                  {"name", b.info.name},
                  {"size", b.info.size}});
  } else {
    ctx.Line("Added buffer '" + EscapeForTerminal(b.info.name) + "' (ID: " + std::to_string(b.info.id) +
             ", " + std::to_string(b.info.size) + " bytes)");
  }
}

struct UpdateArgs {
  std::string embedder;
  std::string buffer;
  std::optional<std::string> content;
  bool embed = false;  // accepted for rlm-rs compatibility: chunks are always embedded
  std::optional<std::string> strategy;
  std::optional<size_t> chunk_size;
  std::optional<size_t> overlap;
};

void UpdateBufferCmd(Context& ctx, const UpdateArgs& a) {
  auto ws = ctx.OpenWorkspace();
  BufferInfo before = ws->GetBuffer(a.buffer);
  // Unless told otherwise, re-chunk the way the buffer was chunked, so unchanged chunks keep their ids.
  IngestOptions o;
  o.chunker = CheckedChunker(a.strategy.value_or(before.chunker.empty() ? "semantic" : before.chunker));
  o.chunk.size = a.chunk_size.value_or(before.chunk_size ? before.chunk_size : 3000);
  o.chunk.overlap = a.overlap.value_or(before.chunk_size ? before.overlap : 500);
  if (before.source != "-") o.chunk.path = before.source;
  CheckChunkOptions(o.chunk);
  o.progress = ctx.Progress();
  o.embedder = a.embedder;
  std::string text = ReadContent(a.content);
  // By id, which resolves first: a numeric name could be another buffer's id.
  LoadedBuffer b = UpdateBufferText(*ws, std::to_string(before.id), text, o);
  const IngestStats& s = b.stats;
  const size_t old_count = s.kept + s.removed;
  const std::string model = ModelName(*ws);
  if (ctx.json_mode()) {
    ctx.Emit(json{{"added_count", s.added},
                  {"buffer_id", b.info.id},
                  {"buffer_name", b.info.name},
                  {"content_size", b.info.size},
                  {"embedded", {{"count", s.embedded}, {"model", model}}},
                  {"kept_count", s.kept},
                  {"new_chunk_count", s.chunks},
                  {"old_chunk_count", old_count},
                  {"removed_count", s.removed},
                  {"strategy", o.chunker}});
    return;
  }
  ctx.Print("Updated buffer '" + EscapeForTerminal(b.info.name) + "' (" + std::to_string(b.info.size) +
            " bytes)\n" + "Chunks: " + std::to_string(old_count) + " -> " + std::to_string(s.chunks) +
            " (using " + o.chunker + " strategy)\n" + "Embedded " + std::to_string(s.embedded) +
            " chunks using model '" + model + "'\n" + "Chunk ids: " + std::to_string(s.kept) + " kept, " +
            std::to_string(s.added) + " added, " + std::to_string(s.removed) + " removed\n");
}

}  // namespace

void RegisterLoadCommands(CLI::App& app, Context& ctx) {
  const std::string chunkers_help = [] {
    std::string names;
    for (const std::string& n : ChunkerNames()) names += (names.empty() ? "" : ", ") + n;
    return "Chunking strategy (" + names + "; ast = code)";
  }();
  {
    auto a = std::make_shared<LoadArgs>();
    auto* sub =
        app.add_subcommand("load", "Load a file, a directory (recursively) or stdin (-) into buffers");
    sub->add_option("path", a->path, "File, directory or - for stdin")->required();
    sub->add_option("-n,--name", a->name,
                    "Buffer name, not all digits (default: the file name; for a directory, a prefix)");
    sub->add_option("-c,--chunker", a->chunker, chunkers_help)->capture_default_str();
    sub->add_option("--chunk-size", a->chunk_size, "Target chunk size in bytes")
        ->capture_default_str()
        ->check(WholeInRange(0, kMaxChunkBytes));
    sub->add_option("--overlap", a->overlap, "Overlap between chunks in bytes")
        ->capture_default_str()
        ->check(WholeInRange(0, kMaxChunkBytes));
    sub->add_option("--include", a->include, "Directory load: only files matching this glob (repeatable)")
        ->allow_extra_args(false);
    sub->add_option("--exclude", a->exclude, "Directory load: skip files matching this glob (repeatable)")
        ->allow_extra_args(false);
    sub->add_flag("--follow", a->follow,
                  "Directory load: also follow symbolic links to files and folders outside it");
    sub->add_option("--embedder", a->embedder, kEmbedderHelp);
    OnRun(sub, ctx, [&ctx, a] { Load(ctx, *a); });
  }
  {
    auto a = std::make_shared<AddArgs>();
    auto* sub = app.add_subcommand("add-buffer",
                                   "Create a buffer from text (argument or stdin); chunked and embedded");
    sub->add_option("name", a->name, "Buffer name (not all digits: digits are read as an id)")->required();
    sub->add_option("content", a->content, "Text (stdin when omitted or -)");
    sub->add_option("-c,--chunker", a->chunker, chunkers_help)->capture_default_str();
    sub->add_option("--chunk-size", a->chunk_size, "Target chunk size in bytes")
        ->capture_default_str()
        ->check(WholeInRange(0, kMaxChunkBytes));
    sub->add_option("--overlap", a->overlap, "Overlap between chunks in bytes")
        ->capture_default_str()
        ->check(WholeInRange(0, kMaxChunkBytes));
    sub->add_option("--embedder", a->embedder, kEmbedderHelp);
    OnRun(sub, ctx, [&ctx, a] { AddBufferCmd(ctx, *a); });
  }
  {
    auto a = std::make_shared<UpdateArgs>();
    auto* sub =
        app.add_subcommand("update-buffer", "Replace a buffer's text; unchanged chunks keep their ids");
    sub->alias("update");
    sub->add_option("buffer", a->buffer, "Buffer id (all digits) or name")->required();
    sub->add_option("content", a->content, "New text (stdin when omitted or -)");
    sub->add_flag("-e,--embed", a->embed, "Embed the new chunks (always done; accepted for compatibility)");
    sub->add_option("--strategy", a->strategy, "Chunking strategy (default: the buffer's, else semantic)");
    sub->add_option("--chunk-size", a->chunk_size, "Target chunk size in bytes (default: the buffer's)")
        ->check(WholeInRange(0, kMaxChunkBytes));
    sub->add_option("--overlap", a->overlap, "Overlap between chunks in bytes (default: the buffer's)")
        ->check(WholeInRange(0, kMaxChunkBytes));
    sub->add_option("--embedder", a->embedder, kEmbedderHelp);
    OnRun(sub, ctx, [&ctx, a] { UpdateBufferCmd(ctx, *a); });
  }
}

}  // namespace rlm::cli
