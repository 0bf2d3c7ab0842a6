// libFuzzer target: Redact and RedactUrl (core/redact.h), which every message with a server's words or a
// URL passes through. A registered secret spliced into the input at a fuzzer-chosen place must never
// survive Redact, nor the decoded password of registered URL credentials.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/redact.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string kSecret = "sk-fuzz-Secret-0123456789";
  static const bool registered = [] {
    rlm::RegisterSecret(kSecret);
    rlm::RegisterUrlCredentials("alice:p%40ss-word-42");
    return true;
  }();
  (void)registered;
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)rlm::RedactUrl(text);
  const size_t at = size == 0 ? 0 : data[0] % (size + 1);
  text.insert(at, kSecret);
  const std::string once = rlm::Redact(text);
  if (once.find(kSecret) != std::string::npos) std::abort();
  if (once.find("p@ss-word-42") != std::string::npos) std::abort();
  return 0;
}
