// libFuzzer target: the -R qrels_prefs and -R prefs parsers (by the input's size, odd: prefs) and the
// preference measures over whatever they accept. The input is split at the first "\n\n" into a relevance
// part and a run part (no separator: both parsers get the whole input). Only rlm::Error may escape.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "eval/measures.h"
#include "eval/trec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t cut = text.find("\n\n");
  std::string_view rel_text = cut == std::string_view::npos ? text : text.substr(0, cut);
  std::string_view run_text = cut == std::string_view::npos ? text : text.substr(cut + 2);
  static const rlm::trec::MeasureSet measures =
      rlm::trec::MeasureSet::FromArgs(std::vector<std::string>{"all_prefs"});
  try {
    rlm::trec::Qrels qrels = rlm::trec::ParseQrels(
        rel_text, "fuzz.prefs", size % 2 ? rlm::trec::RelFormat::kPrefs : rlm::trec::RelFormat::kQrelsPrefs);
    rlm::trec::Run run = rlm::trec::ParseRun(run_text, "fuzz.run");
    rlm::trec::EvalOptions options;
    options.max_retrieved = size % 7 == 0 ? 3 : INT64_MAX;
    options.relevance_level = static_cast<int64_t>(size % 3);
    options.average_complete = size % 2 == 0;
    rlm::trec::Evaluation ev = rlm::trec::Evaluate(qrels, run, measures, options);
    (void)rlm::trec::FormatTrecEval(ev, measures, true);
  } catch (const rlm::Error&) {
  }
  return 0;
}
