// Workspace commands: `init [--force]`, `status`, `reset --yes`. Only `init` creates a database; every
// other command opens an existing one (Workspace::Mode::kMustExist), so a typo in -d never leaves a stray
// file behind.
#include <filesystem>
#include <string>

#include "cli/context.h"
#include "core/error.h"
#include "engine/corpus_index.h"
#include "store/workspace.h"

namespace rlm::cli {

namespace {

namespace fs = std::filesystem;

// Removes a file if it exists (never a directory). Throws IoError when the OS refuses.
void RemoveFileIfPresent(const std::string& path) {
  std::error_code ec;
  fs::file_status st = fs::symlink_status(path, ec);
  if (ec || !fs::exists(st)) return;
  if (fs::is_directory(st)) throw IoError("cannot remove " + path + ": it is a directory");
  if (!fs::remove(path, ec) && ec) {
    throw IoError("Failed to remove existing database: " + path + ": " + ec.message(), "",
                  ErrorType::kExecutionFailed);
  }
}

void Init(Context& ctx, bool force) {
  const std::string path = ctx.DbPath();
  std::error_code ec;
  if (fs::exists(fs::symlink_status(path, ec)) && !force) {
    throw Conflict("Database already exists at " + path + ". Use --force to reinitialize.",
                   "Run 'rlm init --force' to delete it and start over", ErrorType::kExecutionFailed);
  }
  if (force) {
    if (fs::is_directory(path, ec)) throw InvalidInput(path + " is a directory, not a workspace file");
    Workspace::CheckReplaceable(path);
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) RemoveFileIfPresent(path + suffix);
    RemoveFileIfPresent(CorpusIndexPath(path));
  }
  ctx.OpenWorkspace(Workspace::Mode::kCreate);
  if (ctx.json_mode()) {
    ctx.Emit(json{{"force", force}, {"path", path}, {"success", true}});
  } else {
    ctx.Line("Initialized RLM database at: " + path);
  }
}

void Status(Context& ctx) {
  auto ws = ctx.OpenWorkspace(Workspace::Mode::kRead);
  WorkspaceStatus st = ws->Status();
  if (ctx.json_mode()) {
    // rlm-rs's StorageStats in struct order, then our additions.
    ctx.Emit(json{{"buffer_count", st.buffers},
                  {"chunk_count", st.chunks},
                  {"total_content_size", st.total_bytes},
                  {"has_context", true},
                  {"schema_version", st.schema_version},
                  {"db_size", st.db_bytes},
                  {"embedded_chunks", st.embedded_chunks},
                  {"embedder", st.embedder},
                  {"generation", st.generation},
                  {"db_path", ws->path()}});
    return;
  }
  std::string out = "RLM-RS Status\n=============\n\n";
  out += "  Buffers:       " + std::to_string(st.buffers) + "\n";
  out += "  Chunks:        " + std::to_string(st.chunks) + "\n";
  out += "  Content size:  " + std::to_string(st.total_bytes) + " bytes\n";
  out += "  Context:       yes\n";
  out += "  Schema:        v" + std::to_string(st.schema_version) + "\n";
  out += "  DB size:       " + std::to_string(st.db_bytes) + " bytes\n";
  out += "  Embedded:      " + std::to_string(st.embedded_chunks) + "/" + std::to_string(st.chunks) +
         " chunks\n";
  out += "  Embedder:      " + st.embedder + "\n";
  ctx.Print(out);
}

void Reset(Context& ctx, bool yes) {
  // Checked before the database is opened, as rlm-rs does.
  if (!yes) {
    throw InvalidInput("Use --yes to confirm reset. This will delete all data.", "Run 'rlm reset --yes'",
                       ErrorType::kExecutionFailed);
  }
  auto ws = ctx.OpenWorkspace();
  ws->Reset();
  if (ctx.json_mode()) {
    ctx.Emit(json{{"action", "reset"}, {"success", true}});
  } else {
    ctx.Line("RLM state reset successfully.");
  }
}

}  // namespace

void RegisterWorkspaceCommands(CLI::App& app, Context& ctx) {
  {
    auto* sub = app.add_subcommand("init", "Create the workspace database");
    auto force = std::make_shared<bool>(false);
    sub->add_flag("-f,--force", *force, "Delete an existing workspace (and its index) first");
    OnRun(sub, ctx, [&ctx, force] { Init(ctx, *force); });
  }
  {
    auto* sub = app.add_subcommand("status", "Counts of buffers, chunks, bytes and embeddings");
    OnRun(sub, ctx, [&ctx] { Status(ctx); });
  }
  {
    auto* sub = app.add_subcommand("reset", "Delete every buffer, chunk, embedding and variable");
    auto yes = std::make_shared<bool>(false);
    sub->add_flag("-y,--yes", *yes, "Confirm");
    OnRun(sub, ctx, [&ctx, yes] { Reset(ctx, *yes); });
  }
}

}  // namespace rlm::cli
