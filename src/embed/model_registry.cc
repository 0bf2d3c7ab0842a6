#include "embed/model_registry.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file.h"
#include "core/file_lock.h"

namespace rlm {
namespace fs = std::filesystem;
using nlohmann::json;

fs::path ConfigDir() {
  if (const char* d = std::getenv("RLM_CONFIG_DIR"); d != nullptr && *d != '\0') return d;
  if (const char* d = std::getenv("XDG_CONFIG_HOME"); d != nullptr && *d != '\0') return fs::path(d) / "rlm";
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return fs::path(home) / ".config" / "rlm";
  }
  throw InvalidInput("cannot find a config directory: HOME is not set", "set RLM_CONFIG_DIR");
}

fs::path ModelRegistryPath() {
  return ConfigDir() / "models.json";
}

std::vector<RegisteredModel> ListModels() {
  const fs::path file = ModelRegistryPath();
  std::vector<RegisteredModel> models;
  if (!fs::exists(file)) return models;
  json root;
  try {
    root = json::parse(ReadFile(file.string()));
  } catch (const json::exception& e) {
    throw InvalidInput(file.string() + ": not valid JSON: " + e.what(), "fix or delete the file");
  }
  if (!root.is_object() || !root.contains("models") || !root["models"].is_object()) {
    throw InvalidInput(file.string() + ": expected {\"models\": {NAME: {\"path\": ...}}}",
                       "fix or delete the file");
  }
  for (const auto& [name, entry] : root["models"].items()) {
    if (!entry.is_object() || !entry.contains("path") || !entry["path"].is_string()) {
      throw InvalidInput(file.string() + ": models." + name + ".path is not a string",
                         "fix or delete the file");
    }
    models.push_back({name, entry["path"].get<std::string>()});
  }
  std::sort(models.begin(), models.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return models;
}

std::optional<RegisteredModel> FindModel(std::string_view name) {
  for (RegisteredModel& m : ListModels()) {
    if (m.name == name) return m;
  }
  return std::nullopt;
}

void AddModel(const RegisteredModel& model) {
  const bool valid = !model.name.empty() && model.name.size() <= 128 &&
                     std::all_of(model.name.begin(), model.name.end(), [](unsigned char c) {
                       return std::isalnum(c) || c == '.' || c == '_' || c == '-';
                     });
  if (!valid) {
    throw InvalidInput("invalid model name '" + model.name + "'", "use letters, digits, '.', '_' and '-'");
  }
  std::error_code ec;
  fs::create_directories(ConfigDir(), ec);
  if (ec) throw IoError("cannot create " + ConfigDir().string() + ": " + ec.message());
  // Read, change and write back under one lock: without it, of several processes adding at once each wrote
  // the registry it had read plus its own model, and all but the last additions were lost.
  FileLock lock(ModelRegistryPath().string(), FileLock::Wait::kBlock, "model registry");
  std::vector<RegisteredModel> models = ListModels();
  std::erase_if(models, [&](const RegisteredModel& m) { return m.name == model.name; });
  models.push_back({model.name, fs::absolute(model.path).lexically_normal()});
  json root = {{"models", json::object()}};
  for (const RegisteredModel& m : models) root["models"][m.name] = {{"path", m.path.string()}};
  WriteFileAtomic(ModelRegistryPath().string(), root.dump(2) + "\n");
}

fs::path ResolveModelFolder(std::string_view folder_or_name) {
  const fs::path as_path(folder_or_name);
  if (fs::is_directory(as_path)) return fs::absolute(as_path).lexically_normal();
  if (auto m = FindModel(folder_or_name)) return m->path;
  throw NotFound("no model folder or registered model named '" + std::string(folder_or_name) + "'",
                 "pass a Hugging Face model folder, or register one with `rlm model add NAME FOLDER`",
                 ErrorType::kModelNotFound);
}

}  // namespace rlm
