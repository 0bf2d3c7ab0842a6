// libFuzzer target: experiment files (YAML or JSON, eval/experiment.h) and the --variant flag form.
// yaml-cpp's own exceptions must be converted inside the parser: anything thrown but rlm::Error is a crash,
// as is any ASan report. The environment is a fixed stand-in so runs do not depend on the fuzzing machine.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/utf8.h"
#include "eval/experiment.h"

// Messages reach JSON error objects: they must be valid UTF-8 whatever the input.
static void CheckMessage(const rlm::Error& e) {
  if (rlm::utf8::FindInvalid(e.what()) || rlm::utf8::FindInvalid(e.suggestion())) __builtin_trap();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const rlm::EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    if (name.size() % 2 == 0) return std::string("value");
    return std::nullopt;
  };
  try {
    const rlm::Experiment e = rlm::ParseExperiment(text, "fuzz.yaml", "", env);
    (void)rlm::ExperimentToJson(e).dump();
    (void)rlm::ExperimentFingerprint(e);
  } catch (const rlm::Error& e) {
    CheckMessage(e);
  }
  if (text.size() < 512 && text.find('\n') == std::string_view::npos) {
    try {
      (void)rlm::ParseVariantFlag(text);
    } catch (const rlm::Error& e) {
      CheckMessage(e);
    }
  }
  return 0;
}
