// libFuzzer target: the dataset parsers from memory (eval/dataset.h). The input is cut at its first two NUL
// bytes into a corpus, a queries file and a qrels file, parsed as a BEIR folder (JSONL + TSV qrels), as
// EmbedEval JSONL, and as TREC files (TSV corpus and topics, whitespace qrels). Any byte read outside the
// input is an ASan report; anything thrown but rlm::Error is a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "core/utf8.h"
#include "eval/dataset.h"

// Messages reach JSON error objects: they must be valid UTF-8 whatever the input.
static void CheckMessage(const rlm::Error& e) {
  if (rlm::utf8::FindInvalid(e.what()) || rlm::utf8::FindInvalid(e.suggestion())) __builtin_trap();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view parts[3];
  for (int i = 0; i < 2; ++i) {
    const size_t nul = in.find('\0');
    parts[i] = in.substr(0, nul);
    in = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
  }
  parts[2] = in;
  try {
    (void)rlm::ParseBeir({"corpus.jsonl", parts[0]}, {"queries.jsonl", parts[1]},
                         {"qrels/test.tsv", parts[2]}, "test");
  } catch (const rlm::Error& e) {
    CheckMessage(e);
  }
  try {
    (void)rlm::ParseEmbedEval({"corpus.jsonl", parts[0]}, {"queries.jsonl", parts[1]});
  } catch (const rlm::Error& e) {
    CheckMessage(e);
  }
  try {
    (void)rlm::ParseTrec({"docs.tsv", parts[0]}, {"topics.tsv", parts[1]}, {"qrels.txt", parts[2]});
  } catch (const rlm::Error& e) {
    CheckMessage(e);
  }
  return 0;
}
