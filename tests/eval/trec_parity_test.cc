// Parity with trec_eval 10.0's printed output, character for character, on random qrels and runs
// (tests/fixtures/trec_parity, written by tools/gen_trec_parity_fixtures.py from the real trec_eval): ties,
// graded and unjudged documents, queries missing on either side, counts on rounding boundaries, the
// -q -c -M -l -J -N -D options with all_trec and measures with parameters, and -R qrels_jg / qrels_prefs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "core/file.h"
#include "eval/measures.h"
#include "eval/trec.h"

namespace rlm::trec {
namespace {

namespace fs = std::filesystem;

const std::string kParity = RLM_SOURCE_DIR "/tests/fixtures/trec_parity/";

struct Section {
  std::string rel_file;  // "qrels" or "jg"
  std::vector<std::string> args;
  std::string expected;
};

std::vector<Section> ReadSections(const std::string& path) {
  std::vector<Section> sections;
  std::istringstream in(ReadFile(path));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("@@ ", 0) == 0) {
      Section s;
      std::istringstream words(line.substr(3));
      words >> s.rel_file;
      for (std::string w; words >> w;) s.args.push_back(w);
      sections.push_back(std::move(s));
    } else {
      sections.back().expected += line + "\n";
    }
  }
  return sections;
}

// Runs rlm as trec_eval would run with `args` (the subset of options the generator uses).
std::string RunRlm(const std::string& rel_path, const std::string& run_path,
                   const std::vector<std::string>& args) {
  EvalOptions options;
  std::vector<std::string> measures;
  bool per_query = false;
  std::string format = "qrels";
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-q") {
      per_query = true;
    } else if (a == "-c") {
      options.average_complete = true;
    } else if (a == "-J") {
      options.judged_docs_only = true;
    } else if (a == "-m") {
      measures.push_back(args[++i]);
    } else if (a == "-M") {
      options.max_retrieved = std::atol(args[++i].c_str());
    } else if (a == "-l") {
      options.relevance_level = std::atol(args[++i].c_str());
    } else if (a == "-N") {
      options.num_docs_in_coll = std::atol(args[++i].c_str());
    } else if (a == "-D") {
      const std::string& level = args[++i];
      options.only_query = level.substr(level.find('.') + 1);
    } else if (a == "-R") {
      format = args[++i];
    } else {
      ADD_FAILURE() << "unexpected argument " << a;
    }
  }
  MeasureSet set = MeasureSet::FromArgs(measures);
  Run run = LoadRun(run_path);
  Qrels qrels = LoadQrels(rel_path, ParseRelFormat(format));
  Evaluation ev = Evaluate(qrels, run, set, options);
  return FormatTrecEval(ev, set, per_query);
}

TEST(TrecParity, EveryMeasurePrintsAsTrecEvalPrintsIt) {
  ASSERT_TRUE(fs::exists(kParity)) << kParity;
  size_t cases = 0, sections = 0;
  for (const auto& entry : fs::directory_iterator(kParity)) {
    if (entry.path().extension() != ".out") continue;
    std::string stem = entry.path().parent_path() / entry.path().stem();
    ++cases;
    for (const Section& s : ReadSections(entry.path())) {
      std::string label = entry.path().filename().string() + " @@ " + s.rel_file;
      for (const std::string& a : s.args) label += " " + a;
      ++sections;
      std::string actual = RunRlm(stem + "." + s.rel_file, stem + ".run", s.args);
      EXPECT_EQ(actual, s.expected) << label;
    }
  }
  EXPECT_GE(cases, 20u);
  EXPECT_GE(sections, 150u);
}

// 250 retrieved, 80 relevant, 29 of them retrieved: set_map = 29^2 / (250 * 80) = 841 / 20000 = 0.04205.
// trec_eval computes it in one division, 0.042049999999999997 (prints 0.0420); set_P * set_recall is
// 0.042050000000000004 (prints 0.0421).
TEST(TrecParity, SetMapIsOneDivisionAsTrecEval) {
  Qrels qrels;
  qrels.docs = std::make_shared<DocIdTable>();
  QrelsQuery q;
  q.qid = "1";
  for (int i = 0; i < 80; ++i) q.judgments.push_back({qrels.docs->Intern("r" + std::to_string(i)), 1, 0});
  std::sort(q.judgments.begin(), q.judgments.end(),
            [](const Judgment& a, const Judgment& b) { return a.doc < b.doc; });
  qrels.queries.push_back(std::move(q));
  std::vector<std::string> names;
  for (int i = 0; i < 29; ++i) names.push_back("r" + std::to_string(i));
  for (int i = 29; i < 250; ++i) names.push_back("x" + std::to_string(i));
  trec::Run run;
  run.queries.push_back({"1", {}});
  for (size_t i = 0; i < names.size(); ++i) {
    run.queries[0].entries.push_back({names[i], static_cast<double>(250 - i), 0, 0});
  }
  std::vector<std::string> args = {"set_map", "set_P", "set_recall"};
  MeasureSet set = MeasureSet::FromArgs(args);
  Evaluation ev = Evaluate(qrels, run, set);
  EXPECT_EQ(FormatTrecEval(ev, set, false),
            "set_P                 \tall\t0.1160\n"
            "set_recall            \tall\t0.3625\n"
            "set_map               \tall\t0.0420\n");
}

}  // namespace
}  // namespace rlm::trec
