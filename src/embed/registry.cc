// The embedder registry: one table row per kind. Adding an embedder means adding a row here.
#include <charconv>
#include <string>

#include "core/error.h"
#include "embed/embedder.h"
#include "embed/cached_embedder.h"
#include "embed/hash_embedder.h"
#include "embed/http_embedder.h"
#include "embed/local_embedder.h"
#include "embed/model_registry.h"

namespace rlm {
namespace {

struct EmbedderKind {
  std::string_view name;
  std::string_view usage;
  // `arg` is what follows "name:" in the spec; has_arg is false for a bare "name".
  std::unique_ptr<Embedder> (*make)(std::string_view arg, bool has_arg);
};

std::unique_ptr<Embedder> MakeHash(std::string_view arg, bool has_arg) {
  if (!has_arg) return std::make_unique<HashEmbedder>();
  size_t dims = 0;
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), dims);
  if (arg.empty() || ec != std::errc() || end != arg.data() + arg.size() || dims < 1 ||
      dims > HashEmbedder::kMaxDims) {
    throw InvalidInput("bad hash embedder dimensions '" + std::string(arg) + "'",
                       "use hash:DIMS with DIMS between 1 and " + std::to_string(HashEmbedder::kMaxDims));
  }
  return std::make_unique<HashEmbedder>(dims);
}

std::unique_ptr<Embedder> MakeLocal(std::string_view arg, bool has_arg) {
  LongTextMode mode = LongTextMode::kTruncate;
  for (auto [suffix, m] : {std::pair{std::string_view(":window"), LongTextMode::kWindow},
                           std::pair{std::string_view(":truncate"), LongTextMode::kTruncate}}) {
    if (arg.size() > suffix.size() && arg.ends_with(suffix)) {
      arg.remove_suffix(suffix.size());
      mode = m;
      break;
    }
  }
  if (arg.empty()) {
    throw InvalidInput("local embedder needs a model", "use local:<model folder or registered name>[:window]");
  }
  return std::make_unique<LocalEmbedder>(ReadModelFolder(ResolveModelFolder(arg)), mode);
}

constexpr EmbedderKind kKinds[] = {
    {"hash", "hash[:DIMS]  feature hashing of words and character 3-grams (default 256 dims)", MakeHash},
    {"local", "local:<folder|name>[:window]  a Hugging Face BERT/XLM-R model folder run in-process", MakeLocal},
    {"openai", "openai:MODEL  OpenAI-compatible POST $OPENAI_BASE_URL/embeddings (key $OPENAI_API_KEY)",
     [](std::string_view arg, bool) { return MakeOpenAiEmbedder(arg); }},
    {"ollama", "ollama:MODEL  Ollama POST $OLLAMA_HOST/api/embed",
     [](std::string_view arg, bool) { return MakeOllamaEmbedder(arg); }},
};

}  // namespace

std::unique_ptr<Embedder> MakeEmbedder(std::string_view spec) {
  const size_t colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const bool has_arg = colon != std::string_view::npos;
  const std::string_view arg = has_arg ? spec.substr(colon + 1) : std::string_view();
  std::string known;
  for (const EmbedderKind& kind : kKinds) {
    if (kind.name == name) return WithDefaultCache(kind.make(arg, has_arg));
    known += (known.empty() ? "" : ", ") + std::string(kind.name);
  }
  std::string usage;
  for (const EmbedderKind& kind : kKinds) usage += (usage.empty() ? "" : "; ") + std::string(kind.usage);
  throw InvalidInput("unknown embedder '" + std::string(spec) + "'; known kinds: " + known, usage);
}

std::vector<std::string> EmbedderKinds() {
  std::vector<std::string> names;
  for (const EmbedderKind& kind : kKinds) names.emplace_back(kind.name);
  return names;
}

}  // namespace rlm
