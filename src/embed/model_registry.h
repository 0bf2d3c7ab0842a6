// Named local models: `rlm model add NAME FOLDER` records a model folder under a short name, so
// `--embedder local:NAME` works from any directory. The registry is one JSON file,
// `<config dir>/models.json`, where the config dir is $RLM_CONFIG_DIR, else $XDG_CONFIG_HOME/rlm, else
// ~/.config/rlm. Writes are atomic (temp file + rename), and AddModel's read-modify-write holds an
// exclusive lock (`models.json.lock`, core/file_lock.h), so concurrent additions are all kept.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rlm {

struct RegisteredModel {
  std::string name;
  std::filesystem::path path;  // absolute
};

std::filesystem::path ConfigDir();
std::filesystem::path ModelRegistryPath();

// Sorted by name. A missing file is an empty registry; a malformed one is InvalidInput naming it.
std::vector<RegisteredModel> ListModels();
std::optional<RegisteredModel> FindModel(std::string_view name);
// Adds or replaces `name` (letters, digits, '.', '_', '-'; InvalidInput otherwise).
void AddModel(const RegisteredModel& model);

// Resolves the argument of `local:`: an existing folder, else a registered name. NotFound otherwise.
std::filesystem::path ResolveModelFolder(std::string_view folder_or_name);

}  // namespace rlm
