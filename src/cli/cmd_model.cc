// Embedding models from the command line: `embed` (vectors of texts), `tokenize` (token ids of a model's
// tokenizer), and `model list|info|add` (named local model folders). For scripting, debugging and
// cross-checks against other implementations; none of them needs a workspace.
#include <unistd.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/context.h"
#include "core/error.h"
#include "core/file.h"
#include "embed/embedder.h"
#include "embed/local_embedder.h"
#include "embed/model_registry.h"
#include "embed/safetensors.h"

namespace rlm::cli {
namespace {

// The texts of `embed`/`tokenize`: the arguments, else (no argument, or `-` alone) one text per line of
// stdin.
std::vector<std::string> InputTexts(const std::vector<std::string>& args) {
  if (!args.empty() && !(args.size() == 1 && args[0] == "-")) return args;
  const std::string in = ReadFd(STDIN_FILENO, "stdin");
  std::vector<std::string> lines;
  std::istringstream stream(in);
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

std::string FloatText(float f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.8g", static_cast<double>(f));
  return buf;
}

// ---- embed ---------------------------------------------------------------------------------------------

struct EmbedArgs {
  std::string embedder = "hash";
  std::string role = "document";
  std::vector<std::string> texts;
};

void RunEmbed(Context& ctx, const EmbedArgs& a) {
  EmbedRole role;
  if (a.role == "document") {
    role = EmbedRole::kDocument;
  } else if (a.role == "query") {
    role = EmbedRole::kQuery;
  } else {
    throw UsageError("--role must be document or query, not '" + a.role + "'");
  }
  const std::vector<std::string> texts = InputTexts(a.texts);
  auto embedder = MakeEmbedder(a.embedder);
  const size_t dims = embedder->Dims();
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<float> vectors(texts.size() * dims);
  if (!texts.empty()) embedder->Embed(views, role, vectors.data());
  const EmbedCounters& c = embedder->counters();
  if (c.truncated_texts > 0) {
    ctx.Note("note: " + std::to_string(c.truncated_texts.load()) +
             " texts were truncated to the model's window (" + std::to_string(c.truncated_tokens.load()) +
             " tokens dropped); use " + a.embedder + ":window to embed them whole");
  }
  if (ctx.json_mode()) {
    json list = json::array();
    for (size_t i = 0; i < texts.size(); ++i) {
      list.push_back(json{
          {"text_index", i},
          {"dims", dims},
          {"embedding", std::vector<float>(vectors.begin() + i * dims, vectors.begin() + (i + 1) * dims)}});
    }
    ctx.EmitList(list);
    return;
  }
  std::string out;
  for (size_t i = 0; i < texts.size(); ++i) {
    for (size_t j = 0; j < dims; ++j) out += (j ? " " : "") + FloatText(vectors[i * dims + j]);
    out += "\n";
  }
  ctx.Print(out);
}

// ---- tokenize ------------------------------------------------------------------------------------------

struct TokenizeArgs {
  std::string model;
  bool no_special = false;
  size_t max_length = 0;
  std::vector<std::string> texts;
};

void RunTokenize(Context& ctx, const TokenizeArgs& a) {
  const auto tokenizer = LoadTokenizer(ResolveModelFolder(a.model));
  const std::vector<std::string> texts = InputTexts(a.texts);
  json list = json::array();
  std::string out;
  for (size_t i = 0; i < texts.size(); ++i) {
    Encoding e;
    if (a.no_special) {
      e.ids = tokenizer->Tokenize(texts[i]);
      if (a.max_length > 0 && e.ids.size() > a.max_length) {
        e.truncated = e.ids.size() - a.max_length;
        e.ids.resize(a.max_length);
      }
    } else {
      e = tokenizer->Encode(texts[i], a.max_length);
    }
    json item = {{"text_index", i}, {"ids", e.ids}};
    if (e.truncated > 0) item["truncated"] = e.truncated;
    list.push_back(std::move(item));
    for (size_t j = 0; j < e.ids.size(); ++j) out += (j ? " " : "") + std::to_string(e.ids[j]);
    out += "\n";
  }
  if (ctx.json_mode()) {
    ctx.EmitList(list);
  } else {
    ctx.Print(out);
  }
}

// ---- model list | info | add ---------------------------------------------------------------------------

json ModelInfoJson(const LocalEmbedder& e, const std::string& registered_name) {
  const ModelFolder& m = e.folder();
  const EncoderConfig& c = m.config;
  std::map<std::string, int64_t> dtypes;
  int64_t params = 0;
  const WeightFiles weights = WeightFiles::Open(m.path);
  for (const auto& [name, t] : weights.tensors()) {
    dtypes[std::string(DTypeName(t.dtype))] += t.NumElements();
    params += t.NumElements();
  }
  json files = json::array();
  for (const std::string& f : weights.files()) files.push_back(f);
  return json{{"name", registered_name.empty() ? m.name : registered_name},
              {"path", m.path.string()},
              {"architecture", std::string(ArchitectureName(c.arch))},
              {"dims", c.hidden},
              {"layers", c.layers},
              {"heads", c.heads},
              {"intermediate_size", c.intermediate},
              {"vocab_size", c.vocab_size},
              {"max_position_embeddings", c.max_positions},
              {"max_seq_length", e.MaxTokens()},
              {"pooling", std::string(PoolingName(m.pooling))},
              {"normalize", true},  // what rlm does with every model (see ModelFolder::normalize_module)
              {"normalize_module", m.normalize_module},
              {"query_prefix", m.query_prefix},
              {"document_prefix", m.document_prefix},
              {"parameters", params},
              {"weight_dtypes", dtypes},
              {"weight_files", files},
              {"tokenizer", e.tokenizer().Fingerprint()},
              {"fingerprint", e.Fingerprint()}};
}

std::string InfoText(const json& j) {
  std::string out;
  for (const auto& [key, value] : j.items()) {
    std::string v = value.is_string() ? value.get<std::string>() : value.dump();
    out += Pad(key + ":", 26) + " " + v + "\n";
  }
  return out;
}

void RunModelInfo(Context& ctx, const std::string& model) {
  const bool is_folder = std::filesystem::is_directory(model);
  LocalEmbedder e(ReadModelFolder(ResolveModelFolder(model)), LongTextMode::kTruncate);
  const json info = ModelInfoJson(e, is_folder ? "" : model);
  if (ctx.json_mode()) {
    ctx.Emit(info);
  } else {
    ctx.Print(InfoText(info));
  }
}

void RunModelAdd(Context& ctx, const std::string& name, const std::string& folder) {
  // Load it fully first: a model that cannot embed is never registered.
  LocalEmbedder e(ReadModelFolder(std::filesystem::absolute(folder)), LongTextMode::kTruncate);
  AddModel({name, e.folder().path});
  if (ctx.json_mode()) {
    ctx.Emit(json{{"name", name},
                  {"path", e.folder().path.string()},
                  {"dims", e.Dims()},
                  {"fingerprint", e.Fingerprint()},
                  {"registry", ModelRegistryPath().string()}});
  } else {
    ctx.Line("Added model '" + name + "' (" + std::to_string(e.Dims()) + " dims) -> " +
             e.folder().path.string() + "; use --embedder local:" + name);
  }
}

void RunModelList(Context& ctx) {
  json list = json::array();
  std::string out;
  for (const RegisteredModel& m : ListModels()) {
    const bool present = std::filesystem::is_directory(m.path);
    list.push_back(json{{"name", m.name}, {"path", m.path.string()}, {"present", present}});
    out += Pad(m.name, 24) + " " + m.path.string() + (present ? "" : "  (missing)") + "\n";
  }
  if (ctx.json_mode()) {
    ctx.EmitList(list);
  } else {
    ctx.Print(out.empty() ? "No models registered (rlm model add NAME FOLDER).\n" : out);
  }
}

}  // namespace

void RegisterModelCommands(CLI::App& app, Context& ctx) {
  const std::string embedder_help =
      "hash[:DIMS], local:<model folder or name>[:window], openai:<model>, ollama:<model>";
  {
    auto a = std::make_shared<EmbedArgs>();
    auto* sub =
        app.add_subcommand("embed", "Print the embedding vectors of texts (arguments, else stdin lines)");
    sub->add_option("-e,--embedder", a->embedder, embedder_help)->capture_default_str();
    sub->add_option("--role", a->role, "document or query (query uses the model's query prefix)")
        ->capture_default_str();
    sub->add_option("texts", a->texts, "Texts to embed (none or -: one per line of stdin)");
    OnRun(sub, ctx, [&ctx, a] { RunEmbed(ctx, *a); });
  }
  {
    auto a = std::make_shared<TokenizeArgs>();
    auto* sub = app.add_subcommand("tokenize", "Print the token ids of texts under a model's tokenizer");
    sub->add_option("-m,--model", a->model, "Model folder or registered name")->required();
    sub->add_flag("--no-special", a->no_special, "Without the special tokens ([CLS], [SEP], <s>, </s>)");
    sub->add_option("--max-length", a->max_length, "Truncate to this many ids (0: no limit)")
        ->check(kNonNegative);
    sub->add_option("texts", a->texts, "Texts (none or -: one per line of stdin)");
    OnRun(sub, ctx, [&ctx, a] { RunTokenize(ctx, *a); });
  }
  auto* model = app.add_subcommand("model", "Local embedding models: list, info, add");
  model->require_subcommand(1);
  {
    auto* sub = model->add_subcommand("list", "List registered models");
    OnRun(sub, ctx, [&ctx] { RunModelList(ctx); });
  }
  {
    auto name = std::make_shared<std::string>();
    auto* sub =
        model->add_subcommand("info", "Show a model's architecture, pooling, prompts and fingerprint");
    sub->add_option("model", *name, "Model folder or registered name")->required();
    OnRun(sub, ctx, [&ctx, name] { RunModelInfo(ctx, *name); });
  }
  {
    auto name = std::make_shared<std::string>();
    auto folder = std::make_shared<std::string>();
    auto* sub = model->add_subcommand("add", "Register a Hugging Face model folder under a name");
    sub->add_option("name", *name, "Name for --embedder local:NAME")->required();
    sub->add_option("folder", *folder, "The model folder")->required();
    OnRun(sub, ctx, [&ctx, name, folder] { RunModelAdd(ctx, *name, *folder); });
  }
}

}  // namespace rlm::cli
