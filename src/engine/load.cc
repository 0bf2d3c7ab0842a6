#include "engine/load.h"

#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>

#include "core/error.h"
#include "core/file.h"
#include "core/utf8.h"
#include "embed/embedder.h"
#include "store/sqlite.h"

namespace rlm {

namespace fs = std::filesystem;

namespace {

bool MatchesGlob(const std::string& glob, const std::string& rel) {
  if (fnmatch(glob.c_str(), rel.c_str(), 0) == 0) return true;
  if (glob.find('/') == std::string::npos) {
    std::string base = fs::path(rel).filename().string();
    return fnmatch(glob.c_str(), base.c_str(), 0) == 0;
  }
  return false;
}

bool Selected(const LoadOptions& o, const std::string& rel) {
  if (!o.include.empty() &&
      std::none_of(o.include.begin(), o.include.end(), [&](const auto& g) { return MatchesGlob(g, rel); })) {
    return false;
  }
  return std::none_of(o.exclude.begin(), o.exclude.end(), [&](const auto& g) { return MatchesGlob(g, rel); });
}

// Inserts a buffer and ingests `text` (BOM removed here). Runs inside the caller's transaction.
LoadedBuffer IngestNew(Workspace& ws, const Embedder& embedder, const std::string& name, const std::string& source,
                       std::string_view text, const IngestOptions& options, const MappedFile* map) {
  if (name.empty()) throw InvalidInput("buffer name must not be empty");
  size_t bom = utf8::BomLength(text);
  text.remove_prefix(bom);
  if (text.empty()) throw InvalidInput(source + ": is empty (nothing to load)");
  ValidateChunkOptions(options.chunk);
  LoadedBuffer out;
  out.info.name = name;
  out.info.source = source;
  out.info.chunker = options.chunker;
  out.info.id = ws.InsertBuffer(out.info);
  IngestOptions o = options;
  o.source_offset = bom;
  out.stats = IngestText(ws, embedder, out.info, text, o, map);
  return out;
}

// A savepoint: lets a directory load drop one bad file and keep the rest of its transaction.
class Savepoint {
 public:
  explicit Savepoint(Workspace& ws) : ws_(ws) { sql::Exec(ws.db(), "SAVEPOINT load_file"); }
  ~Savepoint() {
    if (!released_) {
      sqlite3_exec(ws_.db(), "ROLLBACK TO load_file; RELEASE load_file", nullptr, nullptr, nullptr);
    }
  }
  void Release() {
    sql::Exec(ws_.db(), "RELEASE load_file");
    released_ = true;
  }

 private:
  Workspace& ws_;
  bool released_ = false;
};

void LoadDirectory(Workspace& ws, const Embedder& embedder, const fs::path& dir, const LoadOptions& options,
                   LoadReport& report) {
  std::vector<fs::path> files;
  std::error_code ec;
  auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
  if (ec) throw IoError("cannot read directory " + dir.string() + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      report.skipped.push_back({it->path().string(), ec.message()});
      ec.clear();
      continue;
    }
    const fs::directory_entry& e = *it;
    std::string fname = e.path().filename().string();
    if (e.is_directory(ec) && !e.is_symlink(ec) && (fname == ".git" || fname == ".rlm")) {
      it.disable_recursion_pending();
      continue;
    }
    if (e.is_regular_file(ec)) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());

  uint64_t total = 0;
  for (const auto& f : files) total += fs::file_size(f, ec);
  uint64_t done_before = 0;

  for (const fs::path& f : files) {
    // Lexically: fs::relative would resolve symlinks, giving a linked file its target's name.
    std::string rel = f.lexically_relative(dir).generic_string();
    if (rel.empty() || rel.rfind("..", 0) == 0) rel = f.filename().string();
    if (!Selected(options, rel)) continue;
    std::string name = options.name.empty() ? rel : options.name + "/" + rel;
    uint64_t fsize = fs::file_size(f, ec);
    if (::access(f.c_str(), R_OK) != 0) {
      report.skipped.push_back({f.string(), "unreadable: " + std::string(std::strerror(errno))});
      continue;
    }
    std::optional<MappedFile> map;
    try {
      map.emplace(f.string());
    } catch (const IoError& e) {  // vanished or unmappable since the listing
      report.skipped.push_back({f.string(), e.what()});
      continue;
    }
    std::string_view head = map->view().substr(0, 8192);
    if (std::memchr(head.data(), 0, head.size()) != nullptr) {
      report.skipped.push_back({f.string(), "binary file (NUL bytes)"});
      continue;
    }
    if (utf8::BomLength(map->view()) == map->size()) {
      report.skipped.push_back({f.string(), "empty file"});
      continue;
    }
    IngestOptions io = options.ingest;
    if (io.chunk.path.empty()) io.chunk.path = rel;
    if (options.ingest.progress) {
      io.progress = [&](std::string_view phase, uint64_t done, uint64_t) {
        options.ingest.progress(phase, done_before + done, total);
      };
    }
    Savepoint sp(ws);
    try {
      report.loaded.push_back(IngestNew(ws, embedder, name, f.string(), map->view(), io, &*map));
      sp.Release();
    } catch (const InvalidInput& e) {
      // Invalid UTF-8 or NUL later in the file: skip it, keep the rest. An embedder's failure is not the
      // file's fault and ends the load (the caller's transaction rolls back: nothing is written).
      if (!IsUnloadableText(e)) throw;
      report.skipped.push_back({f.string(), e.what()});
    }
    done_before += fsize;
  }
  if (report.loaded.empty()) {
    throw InvalidInput("no loadable text file in " + dir.string() +
                           (report.skipped.empty() ? "" : " (" + std::to_string(report.skipped.size()) + " skipped)"),
                       "check --include/--exclude");
  }
}

}  // namespace

LoadReport LoadPath(Workspace& ws, const std::string& path, const LoadOptions& options) {
  LoadReport report;
  ValidateChunkOptions(options.ingest.chunk);
  if (path == "-") {
    std::string text = ReadFd(STDIN_FILENO, "stdin");
    Workspace::WriteTransaction tx(ws);
    auto embedder = WorkspaceEmbedder(ws, options.ingest.embedder);
    report.loaded.push_back(
        IngestNew(ws, *embedder, options.name.empty() ? "stdin" : options.name, "-", text, options.ingest, nullptr));
    tx.Commit();
    return report;
  }
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw NotFound("file not found: " + path, "Verify the file path exists", ErrorType::kFileNotFound);
  Workspace::WriteTransaction tx(ws);
  auto embedder = WorkspaceEmbedder(ws, options.ingest.embedder);
  if (fs::is_directory(st)) {
    LoadDirectory(ws, *embedder, path, options, report);
  } else {
    MappedFile map(path);
    std::string name = options.name.empty() ? fs::path(path).filename().string() : options.name;
    IngestOptions io = options.ingest;
    if (io.chunk.path.empty()) io.chunk.path = path;
    report.loaded.push_back(IngestNew(ws, *embedder, name, path, map.view(), io, &map));
  }
  tx.Commit();
  return report;
}

LoadedBuffer AddBuffer(Workspace& ws, const std::string& name, std::string_view text, const std::string& source,
                       const IngestOptions& options) {
  Workspace::WriteTransaction tx(ws);
  auto embedder = WorkspaceEmbedder(ws, options.embedder);
  LoadedBuffer out = IngestNew(ws, *embedder, name, source.empty() ? name : source, text, options, nullptr);
  out.info.source = source;
  ws.UpdateBuffer(out.info);
  tx.Commit();
  return out;
}

LoadedBuffer UpdateBufferText(Workspace& ws, std::string_view id_or_name, std::string_view text,
                              const IngestOptions& options) {
  ValidateChunkOptions(options.chunk);
  Workspace::WriteTransaction tx(ws);
  auto embedder = WorkspaceEmbedder(ws, options.embedder);
  LoadedBuffer out;
  out.info = ws.GetBuffer(id_or_name);
  size_t bom = utf8::BomLength(text);
  text.remove_prefix(bom);
  if (text.empty()) throw InvalidInput("new content for buffer '" + out.info.name + "' is empty");
  IngestOptions o = options;
  o.source_offset = bom;
  out.stats = IngestText(ws, *embedder, out.info, text, o, nullptr);
  tx.Commit();
  return out;
}

}  // namespace rlm
