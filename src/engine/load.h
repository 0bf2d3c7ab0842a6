// Loading sources into a workspace: a file (memory-mapped), a directory (recursive, include/exclude globs,
// binary/unreadable/empty files skipped with a note), or stdin ("-"). One load is one transaction: after a
// crash or an error the workspace holds all of it or none of it.
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
// bytes or an empty file (naming the file and byte offset), Conflict when a buffer name is taken; a
// directory with no loadable file is InvalidInput. Globs match the path relative to the directory, and a
// glob without '/' also matches the file name alone ("*.md" matches "docs/a.md").
LoadReport LoadPath(Workspace& ws, const std::string& path, const LoadOptions& options);

// Creates buffer `name` with `text` (chunked and embedded like a load).
LoadedBuffer AddBuffer(Workspace& ws, const std::string& name, std::string_view text, const std::string& source,
                       const IngestOptions& options);

// Replaces the text of an existing buffer; chunks with unchanged content keep their ids and vectors.
LoadedBuffer UpdateBufferText(Workspace& ws, std::string_view id_or_name, std::string_view text,
                              const IngestOptions& options);

}  // namespace rlm
