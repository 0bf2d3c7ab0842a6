// libFuzzer target: the tokenizer.json loader, and tokenization with whatever it accepts (a few fixed texts
// and the input itself).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "embed/wordpiece.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto tokenizer = rlm::LoadWordPieceFromJson(text, "fuzz.json");
    static constexpr std::string_view kTexts[] = {"", "Hello, world! [CLS] [MASK] naïve café",
                                                  "Äpfel 我们 😀‍👩 \u200b\t\r\n x",
                                                  "a##b ## [UNK]"};
    for (std::string_view t : kTexts) (void)tokenizer->Encode(t, 16);
    (void)tokenizer->Encode(text, 0);
    (void)tokenizer->Fingerprint();
  } catch (const rlm::Error&) {
  }
  return 0;
}
