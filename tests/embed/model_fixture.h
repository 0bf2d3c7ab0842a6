// Model fixtures for the transformer encoder tests. A fixture folder (tests/fixtures/models/<name>/, written
// by tools/gen_models.py) commits configs, tokenizer files, a weights recipe (weights.json) and torch
// reference outputs (reference.json), but not the weights: MaterializeModel regenerates model.safetensors
// from the recipe with the same PRNG as the Python script, byte for byte. Everything here is test support:
// errors are thrown as rlm::InvalidInput / rlm::IoError, functions are thread-compatible (no shared state).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace rlm::test {

// RLM_SOURCE_DIR/tests/fixtures/models/<name>.
std::filesystem::path ModelFixtureDir(std::string_view name);

// Writes out_dir/model.safetensors from fixture_dir/weights.json (identical bytes to what tools/gen_models.py
// writes), copies every other file and folder of the fixture (config.json, tokenizer files, 1_Pooling/, ...)
// except weights.json, reference.json, external_files.json and a committed model.safetensors, and, when the
// fixture has external_files.json, copies the files it names from the shared data folder ($RLM_SHARED_DATA,
// default /work/shared/data) if they exist there (a missing one is skipped silently: callers check for the
// file they need). Creates out_dir. Returns out_dir. Malformed recipe: InvalidInput; write failure: IoError.
std::filesystem::path MaterializeModel(const std::filesystem::path& fixture_dir,
                                       const std::filesystem::path& out_dir);

// The PRNG of the recipe, exposed for tests. Tensor stream: seed = Mix64(model_seed ^ Fnv1a64(name));
// element i = Mix64(seed + (i + 1) * 0x9E3779B97F4A7C15) (splitmix64).
uint64_t Fnv1a64(std::string_view s);
uint64_t Mix64(uint64_t z);
// Element i of a uniform tensor: float(int(x >> 40) - 2^23) * float(scale / 2^23) [+ float(offset)].
// `scale` must be a power of two, which makes the product exact.
float RecipeValue(uint64_t tensor_seed, uint64_t i, double scale, double offset);
// Round to nearest even, as numpy's astype(float16) and the BF16 rounding of tools/gen_models.py.
uint16_t FloatToF16(float f);
uint16_t FloatToBf16(float f);

// One reference case: a batch of token id rows (right-padded with the pad id, attention mask 0 there) and the
// sentence embeddings torch computed for it (pooled, L2-normalized if the model normalizes), one per row.
// Case names: "short", "max_seq_length", "max_positions" (when it differs), "len_<n>", "batch4" and
// "batch4_row<i>_alone" (the same rows one at a time), "texts" (rows tokenized from `texts`).
struct ReferenceCase {
  std::string name;
  std::vector<std::string> texts;  // only in the "texts" case: the text of each row (ids include [CLS]/[SEP])
  std::vector<std::vector<int32_t>> input_ids;
  std::vector<std::vector<int32_t>> attention_mask;
  std::vector<std::vector<float>> embeddings;
  std::vector<float> first_token_hidden;  // last_hidden_state[0][0], for debugging
};

struct ModelReference {
  std::string model;
  std::string dtype;    // of the stored weights: "F32", "F16", "BF16"
  std::string pooling;  // "mean", "cls", "lasttoken"
  bool normalize = false;
  std::vector<ReferenceCase> cases;
};

// Parses fixture_dir/reference.json. Malformed file: InvalidInput.
ModelReference LoadReference(const std::filesystem::path& fixture_dir);

}  // namespace rlm::test
