// The chunker registry: one line per chunker. A plain table rather than self-registering statics, which
// the linker drops from a static library.
#include <memory>
#include <string>

#include "chunk/chunker.h"
#include "chunk/code_chunker.h"
#include "chunk/fixed_chunker.h"
#include "chunk/markdown_chunker.h"
#include "chunk/parallel_chunker.h"
#include "chunk/recursive_chunker.h"
#include "chunk/semantic_chunker.h"
#include "chunk/sentence_chunker.h"
#include "core/error.h"

namespace rlm {
namespace {

template <typename T>
std::unique_ptr<Chunker> Make() {
  return std::make_unique<T>();
}

struct Registration {
  std::string_view name;
  std::unique_ptr<Chunker> (*make)();
};

constexpr Registration kChunkers[] = {
    {"fixed", Make<FixedChunker>},         {"semantic", Make<SemanticChunker>},
    {"code", Make<CodeChunker>},           {"parallel", Make<ParallelChunker>},
    {"sentence", Make<SentenceChunker>},   {"markdown", Make<MarkdownChunker>},
    {"recursive", Make<RecursiveChunker>},
};

std::string JoinNames() {
  std::string names;
  for (const Registration& r : kChunkers) {
    if (!names.empty()) names += ", ";
    names += r.name;
  }
  return names;
}

}  // namespace

std::unique_ptr<Chunker> MakeChunker(std::string_view name) {
  for (const Registration& r : kChunkers) {
    if (r.name == name) return r.make();
  }
  throw InvalidInput("unknown chunker '" + std::string(name) + "'; available: " + JoinNames(),
                     "use one of: " + JoinNames());
}

std::vector<std::string> ChunkerNames() {
  std::vector<std::string> names;
  for (const Registration& r : kChunkers) names.emplace_back(r.name);
  return names;
}

}  // namespace rlm
