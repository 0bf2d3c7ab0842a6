// CodeChunker ("code"): chunk boundaries at definitions (functions, methods, classes, structs, enums,
// traits, impls, modules, namespaces) for Rust, Python, JavaScript/TypeScript, Go, Java, C/C++, Ruby and
// PHP. The language comes from options.language, else the extension of options.path, else the content
// (chunk/code_language.h).
//
// Whole definitions (with their doc comments) are packed into a chunk while they fit in options.size; a
// definition that does not fit is cut at its nested definitions (methods) and, failing that, split by the
// semantic rules (chunk/structured_packer.h). Overlap applies only inside such a semantically split
// definition. An unknown language falls back to the semantic chunker. Progress is structural: every step
// consumes at least one section or semantic chunk, so sparse definitions (rlm-rs looped forever with
// definitions only at 0 and ~2910 for size 3000 / overlap 500) cannot stall it.
#pragma once

#include "chunk/chunker.h"

namespace rlm {

class CodeChunker : public Chunker {
 public:
  std::string_view Name() const override { return "code"; }
  std::string_view Description() const override {
    return "Source code cut at function/class boundaries (language from the file extension or content)";
  }
  std::vector<ChunkSpan> Split(std::string_view text, const ChunkOptions& options) const override;
};

}  // namespace rlm
