// Experiments: what `rlm eval run` evaluates. A dataset, named retrieval variants, the measures, the
// significance settings and an output folder, read from a YAML or JSON file (yaml-cpp reads both) or built
// from command-line flags (`--variant NAME=RETRIEVAL[,key=value...]`).
//
// Validation is complete at parse time: an unknown key anywhere is InvalidInput naming it, its path
// (`variants.hyb.fusion.kk`), the file line, and the nearest valid key; a value of the wrong type or outside
// its range names its path and line; settings that would be silently ignored (fusion on a bm25 variant, an
// embedder nothing uses, size without a chunker) are errors too. Chunker names, embedder kinds, measure
// names, tests and corrections are checked against their registries (chunk/, embed/, eval/measures.h,
// eval/stats.h). Strings may use `${NAME}` (environment; an unset variable is an error naming it; not in
// `name` and `output`, which are written into folder names and reports, so no secret leaks there),
// `${NAME:-fallback}`, and `$${` for a literal `${`. Relative paths are relative to the experiment file.
//
// Schema (defaults in brackets):
//   name: text                                      [the file's stem]
//   dataset:
//     path: folder                                  (required)
//     format: beir | trec | embedeval | synth       [beir]
//     split: test                                   [test] (beir only)
//     corpus / queries / qrels: file names          [the format's defaults; trec needs all three]
//     synth: {queries: 100, seed: 42}               (synth only)
//   depth: 1000                                     documents retrieved per query [1000]
//   metrics: [ndcg_cut.10, recall.100, map, recip_rank, P.10]   trec_eval names [these]
//   statistics:
//     test: t | wilcoxon | randomization | tukey    [t]  (tukey: Tukey's HSD over all variants)
//     wilcoxon: auto | exact | approx               [auto: exact conditional up to 200 pairs, else normal]
//     correction: holm | bonferroni | bh | none     [holm]
//     permutations: 10000, bootstrap: 10000, seed: 42, alpha: 0.05
//     baseline: variant name                        [the first variant]
//   output: folder                                  [results/<name>]
//   concurrency: 0                                  worker threads, 0 = all cores [0]
//   variants:                                       (at least one; names [A-Za-z0-9_.-]+, in file order)
//     NAME:
//       retrieval: bm25 | dense | hybrid            (required)
//       embedder: hash | hash:DIMS | local:... | openai:... | ollama:...  (dense, hybrid, or rerank mmr)
//       chunker: none | NAME | {name, size, overlap}  [none: whole documents; size/overlap in bytes,
//                                                     defaults those of ChunkOptions: 3000 / 500]
//       bm25: {k1, b}                               [Bm25Params: 1.2 / 0.75] (bm25, hybrid)
//       analyzer: {stem, stopwords}                 [true / true: Porter stemming, English stop words]
//                                                   (bm25, hybrid)
//       fusion: rrf | weighted | combsum | combmnz | {method, k, alpha, normalization}   (hybrid)
//               [rrf, k 60; weighted: alpha 0.5 = weight of dense; normalization minmax | zscore | none]
//               or any unsupervised method of the fusion registry (index/fusion.h, as `rlm eval fuse`):
//               {method: sum | mnz | wsum | rbc | isr | bordafuse | condorcet | ..., normalization:
//               min-max | max | sum | zmuv | rank | borda | none [min-max], weights: [bm25, dense] (or
//               alpha), gamma, sigma, phi}
//       rerank: none | mmr | {method, lambda}       [none; mmr lambda 0.5]
//       aggregate: max | sum | first                chunk scores -> document score [max] (with a chunker)
//       depth: N                                    [the experiment's depth]
//
// The same variant as a flag: `hyb=hybrid,embedder=hash,fusion=rrf,k=60`; keys embedder, chunker, size,
// overlap, k1, b, stem, stopwords, fusion, k, alpha, normalization, gamma, sigma, phi, rerank, lambda,
// aggregate, depth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chunk/chunker.h"
#include "core/hash.h"
#include "eval/comparison.h"
#include "eval/dataset.h"
#include "eval/retriever.h"
#include "eval/stats.h"

namespace rlm {

// One variant. Field names follow RunVariant (eval/runner.h) so the runner takes them over one to one.
struct VariantSpec {
  std::string name;
  std::string chunker;        // a registered chunker; empty: whole documents
  ChunkOptions chunk;         // size/overlap when chunker is set
  std::string embedder;       // embedder spec; empty when retrieval.NeedsVectors() is false
  RetrieverConfig retrieval;  // retrieval, bm25, fusion, normalisation, rerank, aggregate, depth
  size_t depth_override = 0;  // the variant's own `depth`, 0 when it inherits the experiment's
};

struct StatisticsSpec {
  ComparisonTest test = ComparisonTest::kT;  // Urbano et al. (SIGIR 2019): the t-test is the best-behaved
  WilcoxonMethod wilcoxon = WilcoxonMethod::kAuto;  // exact up to kWilcoxonExactMaxPairs pairs, then normal
  PValueCorrection correction = PValueCorrection::kHolm;  // family-wise, uniformly stronger than Bonferroni
  size_t permutations = 10000;                            // randomization test
  size_t bootstrap = 10000;                               // bootstrap resamples for confidence intervals
  uint64_t seed = 42;
  double alpha = 0.05;   // significance level
  std::string baseline;  // variant compared against; resolved to the first variant when unset
};

struct Experiment {
  std::string name;
  DatasetSpec dataset;
  size_t depth = 1000;
  std::vector<std::string> metrics;  // trec_eval measure arguments, as given
  StatisticsSpec statistics;
  std::string output;
  size_t concurrency = 0;  // 0: all cores
  std::vector<VariantSpec> variants;
};

// The measures used when an experiment names none.
std::vector<std::string> DefaultMetrics();

// Looks up an environment variable; nullopt when unset. Tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
std::optional<std::string> ProcessEnv(std::string_view name);

// Parses experiment text (YAML or JSON). `source` names it in messages (a path); `base_dir` is what
// relative paths are resolved against ("" keeps them as written). Returns a finalized experiment
// (FinalizeExperiment applied). Throws InvalidInput "source:line:column: ..." for any problem; no other
// exception type escapes (yaml-cpp's are converted).
Experiment ParseExperiment(std::string_view text, const std::string& source, const std::string& base_dir = "",
                           const EnvLookup& env = ProcessEnv);
// Reads and parses an experiment file (relative paths resolved against its folder). Also NotFound/IoError.
Experiment LoadExperiment(const std::string& path, const EnvLookup& env = ProcessEnv);

// Parses `NAME=RETRIEVAL[,key=value...]` with the validation of a YAML variant (messages start with
// "--variant NAME=RETRIEVAL: " and name the setting, e.g. "fusion.k"). depth_override is set when the flag
// gives depth; retrieval.depth is resolved by FinalizeExperiment.
VariantSpec ParseVariantFlag(std::string_view flag);

// Completes an experiment built in code (e.g. from CLI flags) and checks what spans fields: at least one
// variant, unique variant names, the baseline names a variant (default: the first), each variant's
// retrieval.depth = its override or the experiment's depth, default metrics and output. Idempotent.
// Throws InvalidInput.
void FinalizeExperiment(Experiment& experiment);

// The resolved experiment as canonical JSON (sorted keys, every default explicit, only the settings that
// apply to each variant): written to results.json.
nlohmann::json ExperimentToJson(const Experiment& experiment);

// XXH3-128 of the canonical JSON of what determines the ranked lists: the dataset's format, split and
// synthesis settings, the depth and the variants. Not the dataset's path or file names (the data is
// DatasetFingerprint's business), metrics, statistics, output, concurrency or name, which can change
// without invalidating finished retrieval. A stable run id combines it with DatasetFingerprint.
Hash128 ExperimentFingerprint(const Experiment& experiment);

}  // namespace rlm
