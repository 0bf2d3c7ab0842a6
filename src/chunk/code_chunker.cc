#include "chunk/code_chunker.h"

#include "chunk/code_definitions.h"
#include "chunk/code_language.h"
#include "chunk/semantic_chunker.h"
#include "chunk/structured_packer.h"

namespace rlm {

std::vector<ChunkSpan> CodeChunker::Split(std::string_view text, const ChunkOptions& options) const {
  const CodeLanguage language = DetectCodeLanguage(options.language, options.path, text);
  if (language == CodeLanguage::kUnknown) {
    std::vector<ChunkSpan> chunks;
    AppendSemanticChunks(text, options, 0, &chunks);
    return chunks;
  }
  return PackStructured(text, FindDefinitionCuts(text, language), options);
}

}  // namespace rlm
