// libFuzzer target: the findings JSON parser and the aggregation of whatever it accepts.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "engine/aggregate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto records = rlm::ParseFindings(text, "fuzz");
    auto result = rlm::Aggregate(records, {});
    for (const auto& f : result.unique_findings) (void)rlm::FindingText(f);
    (void)rlm::FindingsDocument(result.findings);
  } catch (const rlm::Error&) {
  }
  return 0;
}
