#include "engine/load.h"

#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

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

// The length of the UTF-8 byte order mark at the start of `file` (0 or 3).
uint64_t FileBom(const InputFile& file) {
  std::string head;
  file.ReadAt(0, 3, head);
  return utf8::BomLength(head);
}

// Inserts buffer `name` and commits `prepared` into it (phase 2). Runs inside the caller's transaction.
LoadedBuffer CommitNew(Workspace& ws, const Embedder& embedder, const std::string& name,
                       const std::string& source, TextSource& text, const PreparedText& prepared,
                       const IngestOptions& options) {
  LoadedBuffer out;
  out.info.name = name;
  out.info.source = source;
  out.info.chunker = options.chunker;
  out.info.id = ws.InsertBuffer(out.info);
  out.stats = CommitText(ws, embedder, out.info, prepared, text, options);
  return out;
}

// A savepoint: lets a directory load drop one file in phase 2 and keep the rest of its transaction.
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

bool IsInside(const fs::path& path, const fs::path& root) {
  auto [r, p] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  return r == root.end();
}

// The regular files under `dir`, sorted; symbolic links to files outside `dir` are skipped unless
// options.follow, which also descends into linked folders (each real folder once).
std::vector<fs::path> ListFiles(const fs::path& dir, const LoadOptions& options, LoadReport& report) {
  std::vector<fs::path> files;
  std::error_code ec;
  const fs::path root = fs::canonical(dir, ec);
  if (ec) throw IoError("cannot read directory " + dir.string() + ": " + ec.message());
  auto flags = fs::directory_options::skip_permission_denied;
  if (options.follow) flags |= fs::directory_options::follow_directory_symlink;
  auto it = fs::recursive_directory_iterator(dir, flags, ec);
  if (ec) throw IoError("cannot read directory " + dir.string() + ": " + ec.message());
  std::set<std::pair<dev_t, ino_t>> seen_dirs;
  struct stat st;
  if (::stat(dir.c_str(), &st) == 0) seen_dirs.emplace(st.st_dev, st.st_ino);
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) {
      report.skipped.push_back({it->path().string(), ec.message()});
      ec.clear();
      continue;
    }
    const fs::directory_entry& e = *it;
    const std::string fname = e.path().filename().string();
    const bool link = e.is_symlink(ec);
    if (e.is_directory(ec)) {
      if ((fname == ".git" || fname == ".rlm") && !link) {
        it.disable_recursion_pending();
      } else if (options.follow && ::stat(e.path().c_str(), &st) == 0 &&
                 !seen_dirs.emplace(st.st_dev, st.st_ino).second) {
        it.disable_recursion_pending();  // a folder reached twice (a link cycle, or two links to it)
      }
      continue;
    }
    if (!e.is_regular_file(ec)) continue;
    if (link && !options.follow) {
      const fs::path target = fs::canonical(e.path(), ec);
      if (ec || !IsInside(target, root)) {
        report.skipped.push_back(
            {e.path().string(), "symbolic link to " + (ec ? std::string("a missing file") : target.string()) +
                                    ", outside the loaded folder (use --follow to load it)"});
        ec.clear();
        continue;
      }
    }
    files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// A file of a directory load after phase 1.
struct PlannedFile {
  fs::path path;
  std::string name;
  IngestOptions options;
  PreparedText prepared;
};

void LoadDirectory(Workspace& ws, const fs::path& dir, const LoadOptions& options, LoadReport& report) {
  const std::vector<fs::path> files = ListFiles(dir, options, report);
  auto embedder = WorkspaceEmbedder(ws, options.ingest.embedder);
  PendingVectors pending(ws, *embedder);
  std::error_code ec;
  uint64_t total = 0;
  for (const auto& f : files) total += fs::file_size(f, ec);
  uint64_t done_before = 0;
  std::set<std::string> names;

  try {
    // Phase 1, no write lock: read, check, chunk and embed every file.
    std::vector<PlannedFile> plan;
    for (const fs::path& f : files) {
      // Lexically: fs::relative would resolve symlinks, giving a linked file its target's name.
      std::string rel = f.lexically_relative(dir).generic_string();
      if (rel.empty() || rel.rfind("..", 0) == 0) rel = f.filename().string();
      if (!Selected(options, rel)) continue;
      std::string name = options.name.empty() ? rel : options.name + "/" + rel;
      if (!names.insert(name).second) continue;
      try {
        ws.CheckBufferNameFree(name);
      } catch (const InvalidInput& e) {  // a name rlm cannot give a buffer (all digits): skip the file
        report.skipped.push_back({f.string(), e.what()});
        continue;
      }
      if (::access(f.c_str(), R_OK) != 0) {
        report.skipped.push_back({f.string(), "unreadable: " + std::string(std::strerror(errno))});
        continue;
      }
      std::optional<InputFile> file;
      try {
        file.emplace(f.string());
      } catch (const Error& e) {  // vanished, or replaced by something that is not a regular file
        report.skipped.push_back({f.string(), e.what()});
        continue;
      }
      try {
        std::string head;
        file->ReadAt(0, 8192, head);
        if (std::memchr(head.data(), 0, head.size()) != nullptr) {
          report.skipped.push_back({f.string(), "binary file (NUL bytes)"});
          continue;
        }
        const uint64_t bom = utf8::BomLength(head);
        if (bom == file->size()) {
          report.skipped.push_back({f.string(), "empty file"});
          continue;
        }
        PlannedFile p{f, name, options.ingest, {}};
        if (p.options.chunk.path.empty()) p.options.chunk.path = rel;
        p.options.source_offset = bom;
        if (options.ingest.progress) {
          p.options.progress = [&](std::string_view phase, uint64_t done, uint64_t) {
            options.ingest.progress(phase, done_before + done, total);
          };
        }
        FileSource source(*file, bom);
        p.prepared = PrepareText(ws, *embedder, source, f.string(), p.options, pending);
        p.options.progress = nullptr;
        plan.push_back(std::move(p));
      } catch (const InvalidInput& e) {
        // Invalid UTF-8, NUL bytes later in the file, or a file changed while read: skip it, keep the rest.
        // An embedder's failure is not the file's fault and ends the load (nothing is written).
        if (!IsUnloadableText(e) && e.error_type() != ErrorType::kFileChanged) throw;
        report.skipped.push_back({f.string(), e.what()});
      }
      done_before += file->size();
    }
    if (plan.empty()) {
      throw InvalidInput(
          "no loadable text file in " + dir.string() +
              (report.skipped.empty() ? "" : " (" + std::to_string(report.skipped.size()) + " skipped)"),
          "check --include/--exclude");
    }

    // Phase 2, one write transaction: the files read again, checked unchanged, and written.
    Workspace::WriteTransaction tx(ws);
    RecordWorkspaceEmbedder(ws, options.ingest.embedder, *embedder);
    pending.WriteAll();
    for (PlannedFile& p : plan) {
      Savepoint sp(ws);
      try {
        InputFile file(p.path.string());
        FileSource source(file, p.options.source_offset);
        report.loaded.push_back(
            CommitNew(ws, *embedder, p.name, p.path.string(), source, p.prepared, p.options));
        sp.Release();
      } catch (const InvalidInput& e) {
        if (e.error_type() != ErrorType::kFileChanged && e.error_type() != ErrorType::kNotRegularFile) throw;
        report.skipped.push_back({p.path.string(), e.what()});
      } catch (const NotFound& e) {
        report.skipped.push_back({p.path.string(), std::string("removed while loading: ") + e.what()});
      }
    }
    if (report.loaded.empty()) {
      throw InvalidInput("no loadable text file in " + dir.string() + " (" +
                             std::to_string(report.skipped.size()) + " skipped)",
                         "check --include/--exclude");
    }
    tx.Commit();
  } catch (...) {
    pending.Discard();
    throw;
  }
}

// Loads one text (a file, stdin, a string) as buffer `name` with source `source` (messages name the source,
// or the buffer when it has none): phase 1 without the lock, phase 2 in one transaction.
LoadedBuffer LoadOne(Workspace& ws, const std::string& name, const std::string& source, TextSource& text,
                     const IngestOptions& options) {
  ValidateChunkOptions(options.chunk);
  ws.CheckBufferNameFree(name);
  auto embedder = WorkspaceEmbedder(ws, options.embedder);
  PendingVectors pending(ws, *embedder);
  try {
    PreparedText prepared =
        PrepareText(ws, *embedder, text, source.empty() ? name : source, options, pending);
    Workspace::WriteTransaction tx(ws);
    RecordWorkspaceEmbedder(ws, options.embedder, *embedder);
    pending.WriteAll();
    LoadedBuffer out = CommitNew(ws, *embedder, name, source, text, prepared, options);
    tx.Commit();
    return out;
  } catch (...) {
    pending.Discard();
    throw;
  }
}

}  // namespace

LoadReport LoadPath(Workspace& ws, const std::string& path, const LoadOptions& options) {
  LoadReport report;
  ValidateChunkOptions(options.ingest.chunk);
  if (path == "-") {
    std::string text = ReadFd(STDIN_FILENO, "stdin");
    const size_t bom = utf8::BomLength(text);
    if (bom == text.size()) throw InvalidInput("-: is empty (nothing to load)");
    StringSource source(std::string_view(text).substr(bom));
    IngestOptions io = options.ingest;
    io.source_offset = bom;
    report.loaded.push_back(LoadOne(ws, options.name.empty() ? "stdin" : options.name, "-", source, io));
    return report;
  }
  std::error_code ec;
  fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    throw NotFound("file not found: " + path, "Verify the file path exists", ErrorType::kFileNotFound);
  if (fs::is_directory(st)) {
    LoadDirectory(ws, path, options, report);
    return report;
  }
  InputFile file(path);  // refuses a FIFO, device or pseudo-file before anything else
  const uint64_t bom = FileBom(file);
  if (bom == file.size()) throw InvalidInput(path + ": is empty (nothing to load)");
  std::string name = options.name.empty() ? fs::path(path).filename().string() : options.name;
  IngestOptions io = options.ingest;
  if (io.chunk.path.empty()) io.chunk.path = path;
  io.source_offset = bom;
  FileSource source(file, bom);
  report.loaded.push_back(LoadOne(ws, name, path, source, io));
  return report;
}

LoadedBuffer AddBuffer(Workspace& ws, const std::string& name, std::string_view text,
                       const std::string& source, const IngestOptions& options) {
  const size_t bom = utf8::BomLength(text);
  if (bom == text.size())
    throw InvalidInput((source.empty() ? name : source) + ": is empty (nothing to load)");
  StringSource src(text.substr(bom));
  IngestOptions io = options;
  io.source_offset = bom;
  return LoadOne(ws, name, source, src, io);
}

LoadedBuffer UpdateBufferText(Workspace& ws, std::string_view id_or_name, std::string_view text,
                              const IngestOptions& options) {
  ValidateChunkOptions(options.chunk);
  LoadedBuffer out;
  out.info = ws.GetBuffer(id_or_name);
  const size_t bom = utf8::BomLength(text);
  text.remove_prefix(bom);
  if (text.empty()) throw InvalidInput("new content for buffer '" + out.info.name + "' is empty");
  IngestOptions o = options;
  o.source_offset = bom;
  StringSource source(text);
  auto embedder = WorkspaceEmbedder(ws, options.embedder);
  PendingVectors pending(ws, *embedder);
  try {
    PreparedText prepared = PrepareText(
        ws, *embedder, source, out.info.source.empty() ? out.info.name : out.info.source, o, pending);
    Workspace::WriteTransaction tx(ws);
    RecordWorkspaceEmbedder(ws, options.embedder, *embedder);
    // The buffer as it is now: another process may have renamed or deleted it meanwhile.
    if (std::optional<BufferInfo> now = ws.GetBufferById(out.info.id)) {
      out.info = *now;
    } else {
      throw NotFound("buffer '" + out.info.name + "' was deleted while it was being updated", "",
                     ErrorType::kBufferNotFound);
    }
    pending.WriteAll();
    out.stats = CommitText(ws, *embedder, out.info, prepared, source, o);
    tx.Commit();
  } catch (...) {
    pending.Discard();
    throw;
  }
  return out;
}

}  // namespace rlm
