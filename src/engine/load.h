// Loading sources into a workspace: a regular file, a directory (recursive, include/exclude globs,
// binary/unreadable/empty files skipped with a note; symbolic links out of the folder only with `follow`),
// or stdin ("-"). Every load runs in the two phases of engine/ingest.h: reading, chunking and embedding
// without the write lock, then one write transaction, so after a crash or an error the workspace holds all
// of it or none of it, and a slow file or embedding server never locks other processes out.
#pragma once

#include <string>
#include <vector>

#include "engine/ingest.h"
#include "store/workspace.h"

namespace rlm {

struct LoadOptions {
  std::string name;  // buffer name (file: default the file name; directory: prefix for relative paths)
  IngestOptions ingest;
  std::vector<std::string> include;  // globs; a file must match one (when any are given)
  std::vector<std::string> exclude;  // globs; a file matching one is skipped
  // Directory loads: follow symbolic links to files and folders outside the loaded folder (each real
  // folder is read once). Without it such links are skipped with a note; links inside the folder load.
  bool follow = false;
};

struct LoadedBuffer {
  BufferInfo info;
  IngestStats stats;
};

struct SkippedFile {
  std::string path;
  std::string reason;
};

struct LoadReport {
  std::vector<LoadedBuffer> loaded;
  std::vector<SkippedFile> skipped;
};

// Loads `path` ("-" for stdin). Throws NotFound for a missing path, InvalidInput for invalid UTF-8, NUL
// bytes or an empty file (naming the file and byte offset), for a path that is not a regular file or
// directory (type NotRegularFile: a FIFO, device, /proc file), and for a file that changed while it was
// read (type FileChanged); Conflict when a buffer name is taken; a directory with no loadable file is
// InvalidInput. Globs match the path relative to the directory, and a
// glob without '/' also matches the file name alone ("*.md" matches "docs/a.md").
LoadReport LoadPath(Workspace& ws, const std::string& path, const LoadOptions& options);

// Creates buffer `name` with `text` (chunked and embedded like a load).
LoadedBuffer AddBuffer(Workspace& ws, const std::string& name, std::string_view text,
                       const std::string& source, const IngestOptions& options);

// Replaces the text of an existing buffer; chunks with unchanged content keep their ids and vectors.
LoadedBuffer UpdateBufferText(Workspace& ws, std::string_view id_or_name, std::string_view text,
                              const IngestOptions& options);

}  // namespace rlm
