// Experiment files and --variant flags: defaults, every setting, unknown keys with their path, line and
// nearest valid key, wrong types and values, settings that would be ignored, ${ENV} substitution, the
// canonical JSON and the fingerprint's stability.
#include "eval/experiment.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "core/error.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Experiment Parse(const std::string& yaml, const EnvLookup& env = FakeEnv({})) {
  return ParseExperiment(yaml, "exp.yaml", "", env);
}

// The InvalidInput message and suggestion of parsing `yaml` ("" when it parses).
std::pair<std::string, std::string> ErrorOf(const std::string& yaml, const EnvLookup& env = FakeEnv({})) {
  try {
    Parse(yaml, env);
  } catch (const InvalidInput& e) {
    return {e.what(), e.suggestion()};
  }
  return {"", ""};
}

std::string FlagError(const std::string& flag) {
  try {
    ParseVariantFlag(flag);
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "";
}

const char* kFull = R"(name: scifact-ab
dataset:
  path: /data/scifact
  format: beir
  split: test
depth: 500
metrics: [ndcg_cut.10, "P.5,10", map]
statistics:
  test: randomization
  wilcoxon: exact
  correction: bh
  permutations: 2000
  bootstrap: 500
  seed: 7
  alpha: 0.01
  baseline: bm25
output: /tmp/out
concurrency: 2
variants:
  bm25:
    retrieval: bm25
    bm25: {k1: 0.9, b: 0.4}
  dense:
    retrieval: dense
    embedder: hash:128
    chunker: {name: fixed, size: 512, overlap: 50}
    aggregate: sum
  hyb:
    retrieval: hybrid
    embedder: hash
    fusion: {method: weighted, alpha: 0.3, normalization: zscore}
    rerank: {method: mmr, lambda: 0.7}
    depth: 100
)";

TEST(Experiment, ParsesEverySetting) {
  const Experiment e = Parse(kFull);
  EXPECT_EQ(e.name, "scifact-ab");
  EXPECT_EQ(e.dataset.format, DatasetFormat::kBeir);
  EXPECT_EQ(e.dataset.path, "/data/scifact");
  EXPECT_EQ(e.dataset.split, "test");
  EXPECT_EQ(e.depth, 500u);
  EXPECT_EQ(e.metrics, (std::vector<std::string>{"ndcg_cut.10", "P.5,10", "map"}));
  EXPECT_EQ(e.statistics.test, ComparisonTest::kRandomization);
  EXPECT_EQ(e.statistics.wilcoxon, WilcoxonMethod::kExact);
  EXPECT_EQ(e.statistics.correction, PValueCorrection::kBenjaminiHochberg);
  EXPECT_EQ(e.statistics.permutations, 2000u);
  EXPECT_EQ(e.statistics.bootstrap, 500u);
  EXPECT_EQ(e.statistics.seed, 7u);
  EXPECT_DOUBLE_EQ(e.statistics.alpha, 0.01);
  EXPECT_EQ(e.statistics.baseline, "bm25");
  EXPECT_EQ(e.output, "/tmp/out");
  EXPECT_EQ(e.concurrency, 2u);
  ASSERT_EQ(e.variants.size(), 3u);  // file order

  const VariantSpec& bm25 = e.variants[0];
  EXPECT_EQ(bm25.name, "bm25");
  EXPECT_EQ(bm25.retrieval.retrieval, RetrievalKind::kBm25);
  EXPECT_DOUBLE_EQ(bm25.retrieval.bm25.k1, 0.9);
  EXPECT_DOUBLE_EQ(bm25.retrieval.bm25.b, 0.4);
  EXPECT_EQ(bm25.embedder, "");
  EXPECT_EQ(bm25.chunker, "");
  EXPECT_EQ(bm25.retrieval.depth, 500u);

  const VariantSpec& dense = e.variants[1];
  EXPECT_EQ(dense.retrieval.retrieval, RetrievalKind::kDense);
  EXPECT_EQ(dense.embedder, "hash:128");
  EXPECT_EQ(dense.chunker, "fixed");
  EXPECT_EQ(dense.chunk.size, 512u);
  EXPECT_EQ(dense.chunk.overlap, 50u);
  EXPECT_EQ(dense.retrieval.aggregate, AggregateKind::kSum);

  const VariantSpec& hyb = e.variants[2];
  EXPECT_EQ(hyb.retrieval.retrieval, RetrievalKind::kHybrid);
  EXPECT_EQ(hyb.retrieval.fusion, FusionKind::kWeighted);
  EXPECT_DOUBLE_EQ(hyb.retrieval.alpha, 0.3);
  EXPECT_EQ(hyb.retrieval.norm, ScoreNorm::kZScore);
  EXPECT_EQ(hyb.retrieval.rerank, RerankKind::kMmr);
  EXPECT_DOUBLE_EQ(hyb.retrieval.mmr_lambda, 0.7);
  EXPECT_EQ(hyb.depth_override, 100u);
  EXPECT_EQ(hyb.retrieval.depth, 100u);
}

TEST(Experiment, Defaults) {
  const Experiment e = ParseExperiment("dataset: {path: data/scifact}\nvariants: {bm25: bm25}\n",
                                       "/home/x/exps/quick.yaml", "/home/x/exps", FakeEnv({}));
  EXPECT_EQ(e.name, "quick");
  EXPECT_EQ(e.dataset.path, "/home/x/exps/data/scifact");  // relative to the experiment file
  EXPECT_EQ(e.dataset.split, "test");
  EXPECT_EQ(e.depth, 1000u);
  EXPECT_EQ(e.metrics, DefaultMetrics());
  EXPECT_EQ(e.statistics.test, ComparisonTest::kT);
  EXPECT_EQ(e.statistics.correction, PValueCorrection::kHolm);
  EXPECT_EQ(e.statistics.baseline, "bm25");  // the first variant
  EXPECT_EQ(e.output, "/home/x/exps/results/quick");
  EXPECT_EQ(e.concurrency, 0u);
  ASSERT_EQ(e.variants.size(), 1u);
  const RetrieverConfig defaults;
  EXPECT_EQ(e.variants[0].retrieval.bm25.k1, defaults.bm25.k1);
  EXPECT_EQ(e.variants[0].retrieval.depth, 1000u);
}

TEST(Experiment, ReadsJson) {
  const Experiment e = Parse(R"({
	"dataset": {"path": "/d", "format": "embedeval"},
	"metrics": ["ndcg_cut.10"],
	"variants": {"d": {"retrieval": "dense", "embedder": "hash", "chunker": "sentence"}}
})");
  EXPECT_EQ(e.dataset.format, DatasetFormat::kEmbedEval);
  ASSERT_EQ(e.variants.size(), 1u);
  EXPECT_EQ(e.variants[0].chunker, "sentence");
  EXPECT_EQ(e.variants[0].chunk.size, ChunkOptions().size);  // chunker defaults
}

TEST(Experiment, UnknownKeyNamesPathLineAndNearestKey) {
  const auto [msg, suggestion] = ErrorOf(R"(dataset: {path: /d}
variants:
  hyb:
    retrieval: hybrid
    embedder: hash
    fusion:
      method: rrf
      kk: 60
)");
  EXPECT_NE(msg.find("exp.yaml:8:7:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unknown key 'kk' at variants.hyb.fusion.kk"), std::string::npos) << msg;
  EXPECT_NE(msg.find("did you mean 'k'?"), std::string::npos) << msg;
  EXPECT_NE(suggestion.find("method, k, alpha, normalization"), std::string::npos) << suggestion;

  EXPECT_NE(
      ErrorOf("dataset: {path: /d}\ndpeth: 10\nvariants: {b: bm25}\n").first.find("did you mean 'depth'?"),
      std::string::npos);
  EXPECT_NE(ErrorOf("dataset: {path: /d}\nvariants: {b: {retreival: bm25}}\n")
                .first.find("did you mean 'retrieval'?"),
            std::string::npos);
  const std::string far = ErrorOf("dataset: {path: /d}\nzzzzzzzz: 1\nvariants: {b: bm25}\n").first;
  EXPECT_NE(far.find("unknown key 'zzzzzzzz' at zzzzzzzz"), std::string::npos) << far;
  EXPECT_EQ(far.find("did you mean"), std::string::npos) << far;
  EXPECT_NE(ErrorOf("dataset: {path: /d, splt: dev}\nvariants: {b: bm25}\n")
                .first.find("dataset.splt; did you mean 'split'?"),
            std::string::npos);
}

TEST(Experiment, WrongTypesAndValuesNamePathAndLine) {
  auto msg = [](const std::string& yaml) { return ErrorOf(yaml).first; };
  EXPECT_NE(msg("dataset: {path: /d}\ndepth: lots\nvariants: {b: bm25}\n")
                .find("exp.yaml:2:8: depth: expected a whole number, got 'lots'"),
            std::string::npos);
  EXPECT_NE(msg("dataset: {path: /d}\ndepth: 0\nvariants: {b: bm25}\n").find("depth: must be between 1"),
            std::string::npos);
  EXPECT_NE(msg("dataset: {path: /d}\nvariants:\n  b:\n    retrieval: bm25\n    bm25: {k1: 1.2, b: 1.5}\n")
                .find("exp.yaml:5:24: variants.b.bm25.b: must be between 0 and 1, got 1.5"),
            std::string::npos);
  EXPECT_NE(msg("dataset: {path: /d}\nvariants: {b: {retrieval: sparse}}\n")
                .find("variants.b.retrieval: unknown value 'sparse'"),
            std::string::npos);
  EXPECT_NE(msg("dataset: {path: /d}\nvariants: {b: {retrieval: [bm25]}}\n")
                .find("expected a single value, got a list"),
            std::string::npos);
  EXPECT_NE(msg("dataset: {path: /d}\nvariants: {b: {retrieval: hybrid, embedder: hash, fusion: {method: "
                "bordaa}}}\n")
                .find("variants.b.fusion.method: unknown fusion method 'bordaa'"),
            std::string::npos);
  EXPECT_NE(msg("dataset: {path: /d}\nvariants: {b: {retrieval: dense, embedder: word2vec}}\n")
                .find("unknown embedder kind 'word2vec'"),
            std::string::npos);
  EXPECT_NE(msg("dataset: {path: /d}\nvariants: {b: {retrieval: dense, embedder: hash, chunker: fixd}}\n")
                .find("unknown chunker 'fixd'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("dataset: {path: /d}\nvariants: {b: {retrieval: dense, embedder: hash, chunker: fixd}}\n")
                .second.find("did you mean 'fixed'?"),
            std::string::npos);
  EXPECT_NE(msg("dataset: {path: /d}\nmetrics: [ndcg_cutt.10]\nvariants: {b: bm25}\n")
                .find("exp.yaml:2:11: metrics[0]:"),
            std::string::npos);
  EXPECT_NE(ErrorOf("dataset: {path: /d}\nmetrics: [ndcg@10]\nvariants: {b: bm25}\n")
                .second.find("write 'ndcg_cut.10'"),
            std::string::npos);
  EXPECT_NE(
      msg("dataset: {path: /d}\nstatistics: {test: anova}\nvariants: {b: bm25}\n").find("statistics.test:"),
      std::string::npos);
  EXPECT_NE(msg("dataset: {path: /d}\nstatistics: {baseline: bm52}\nvariants: {bm25: bm25}\n")
                .find("statistics.baseline: names no variant"),
            std::string::npos);
  EXPECT_NE(msg("dataset: {path: /d, format: parquet}\nvariants: {b: bm25}\n")
                .find("dataset.format: unknown dataset format"),
            std::string::npos);
  EXPECT_NE(msg("dataset: {format: beir}\nvariants: {b: bm25}\n").find("missing path"), std::string::npos);
  EXPECT_NE(msg("dataset: {path: /d}\n").find("missing variants"), std::string::npos);
  EXPECT_NE(msg("dataset: {format: embedeval, corpus: c.jsonl}\nvariants: {b: bm25}\n").find("needs a path"),
            std::string::npos);
  EXPECT_NE(msg("dataset: {path: /d}\nvariants: {b: bm25, b: dense}\n").find("twice"), std::string::npos);
  EXPECT_NE(msg("dataset: {path: /d}\nvariants: {\"a/b\": bm25}\n").find("variant names"), std::string::npos);
  EXPECT_NE(msg("dataset: {path: /d}\nvariants: {b: {retrieval: bm25, depth: }}\n")
                .find("variants.b.depth: has no value"),
            std::string::npos);
  EXPECT_NE(msg("").find("empty"), std::string::npos);
  EXPECT_NE(
      msg("dataset: {path: /d}\nname: caf\xE9\nvariants: {b: bm25}\n").find("exp.yaml:2:10: invalid UTF-8"),
      std::string::npos);
  EXPECT_NE(ErrorOf("dataset: {path: \"${BAD}\"}\nvariants: {b: bm25}\n", FakeEnv({{"BAD", "\xFF"}}))
                .first.find("dataset.path: is not valid UTF-8"),
            std::string::npos);
  EXPECT_NE(msg("dataset: [unclosed\n").find("exp.yaml:"), std::string::npos);
  EXPECT_NE(msg("dataset: [unclosed\n").find("YAML syntax error"), std::string::npos);
}

TEST(Experiment, SettingsThatWouldBeIgnoredAreErrors) {
  auto msg = [](const std::string& variant) {
    return ErrorOf("dataset: {path: /d}\nvariants:\n  v: " + variant + "\n").first;
  };
  EXPECT_NE(msg("{retrieval: bm25, fusion: rrf}").find("variants.v.fusion: applies to hybrid retrieval only"),
            std::string::npos);
  EXPECT_NE(msg("{retrieval: bm25, embedder: hash}").find("variants.v.embedder: unused"), std::string::npos);
  EXPECT_NE(msg("{retrieval: dense}").find("needs an embedder"), std::string::npos);
  EXPECT_NE(msg("{retrieval: bm25, rerank: mmr}").find("needs an embedder"), std::string::npos);
  EXPECT_NE(msg("{retrieval: dense, embedder: hash, bm25: {k1: 1}}").find("not dense"), std::string::npos);
  EXPECT_NE(msg("{retrieval: hybrid, embedder: hash, fusion: {method: rrf, alpha: 0.5}}")
                .find("applies to weighted fusion"),
            std::string::npos);
  EXPECT_NE(msg("{retrieval: hybrid, embedder: hash, fusion: {method: combsum, k: 5}}")
                .find("does not apply to combsum fusion"),
            std::string::npos);
  EXPECT_NE(
      msg("{retrieval: hybrid, embedder: hash, fusion: {normalization: minmax}}").find("rrf fuses ranks"),
      std::string::npos);
  EXPECT_NE(msg("{retrieval: bm25, rerank: {lambda: 0.5}}").find("applies to rerank method mmr"),
            std::string::npos);
  EXPECT_NE(msg("{retrieval: bm25, aggregate: max}").find("applies only with a chunker"), std::string::npos);
  EXPECT_NE(msg("{retrieval: bm25, chunker: {name: none, size: 10}}").find("applies only with a chunker"),
            std::string::npos);
  EXPECT_NE(msg("{retrieval: bm25, chunker: {size: 10}}").find("without a chunker name"), std::string::npos);
  EXPECT_NE(msg("{retrieval: bm25, chunker: {name: fixed, size: 256}}")
                .find("overlap 500 must be smaller than size 256"),
            std::string::npos);
  EXPECT_NE(ErrorOf("dataset: {path: /d, format: synth, split: dev}\nvariants: {b: bm25}\n")
                .first.find("does not apply"),
            std::string::npos);
  EXPECT_NE(ErrorOf("dataset: {path: /d, format: trec}\nvariants: {b: bm25}\n").first.find("needs corpus"),
            std::string::npos);
}

TEST(Experiment, EnvironmentSubstitution) {
  const EnvLookup env = FakeEnv({{"DATA", "/srv/data"}, {"DEPTH", "250"}, {"EMPTY", ""}});
  const Experiment e = Parse(
      "name: run-250\n"
      "dataset: {path: \"${DATA}/scifact\", split: \"${SPLIT:-test}\"}\n"
      "depth: ${DEPTH}\n"
      "output: \"$${literal}/fallback\"\n"
      "variants: {b: bm25}\n",
      env);
  EXPECT_EQ(e.name, "run-250");
  EXPECT_EQ(e.dataset.path, "/srv/data/scifact");
  EXPECT_EQ(e.dataset.split, "test");
  EXPECT_EQ(e.depth, 250u);
  EXPECT_EQ(e.output, "${literal}/fallback");
  // Names and outputs are written into folder names and reports: no environment value reaches them
  // (issue 11: `name: leak-${OPENAI_API_KEY}` wrote the key into folder names).
  const EnvLookup secret = FakeEnv({{"OPENAI_API_KEY", "sk-secret"}});
  for (const char* doc : {"name: leak-${OPENAI_API_KEY}\ndataset: {path: /d}\nvariants: {b: bm25}\n",
                          "output: \"out/${OPENAI_API_KEY}\"\ndataset: {path: /d}\nvariants: {b: bm25}\n"}) {
    const auto [message, hint] = ErrorOf(doc, secret);
    EXPECT_NE(message.find("environment variables are not expanded here"), std::string::npos) << message;
    EXPECT_EQ(message.find("sk-secret"), std::string::npos) << message;
  }

  const auto [unset, suggestion] = ErrorOf("dataset: {path: \"${NOPE}/x\"}\nvariants: {b: bm25}\n", env);
  EXPECT_NE(unset.find("exp.yaml:1:17: dataset.path: environment variable NOPE is not set"),
            std::string::npos)
      << unset;
  EXPECT_NE(suggestion.find("export NOPE="), std::string::npos);
  EXPECT_NE(ErrorOf("dataset: {path: \"${DATA\"}\nvariants: {b: bm25}\n", env).first.find("unterminated"),
            std::string::npos);
  EXPECT_NE(ErrorOf("dataset: {path: \"${1X}\"}\nvariants: {b: bm25}\n", env)
                .first.find("bad environment variable name"),
            std::string::npos);
}

TEST(Experiment, LoadExperimentResolvesAgainstItsFolder) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("rlm-experiment-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "e.yml") << "dataset: {path: data}\nvariants: {b: bm25}\n";
  const Experiment e = LoadExperiment((dir / "e.yml").string(), FakeEnv({}));
  EXPECT_EQ(e.dataset.path, (dir / "data").string());
  EXPECT_EQ(e.name, "e");
  EXPECT_THROW(LoadExperiment((dir / "missing.yml").string()), NotFound);
  fs::remove_all(dir);
}

TEST(VariantFlag, ParsesTheCliForm) {
  const VariantSpec v = ParseVariantFlag("hyb=hybrid,embedder=hash,fusion=rrf,k=60");
  EXPECT_EQ(v.name, "hyb");
  EXPECT_EQ(v.retrieval.retrieval, RetrievalKind::kHybrid);
  EXPECT_EQ(v.embedder, "hash");
  EXPECT_EQ(v.retrieval.fusion, FusionKind::kRrf);
  EXPECT_DOUBLE_EQ(v.retrieval.rrf_k, 60);

  const VariantSpec b = ParseVariantFlag("bm25=bm25");
  EXPECT_EQ(b.retrieval.retrieval, RetrievalKind::kBm25);
  EXPECT_EQ(b.embedder, "");

  const VariantSpec c = ParseVariantFlag(
      "c=hybrid,embedder=hash:64,chunker=fixed,size=400,overlap=40,aggregate=first,k1=0.9,b=0.4,fusion="
      "weighted,"
      "alpha=0.25,norm=zscore,rerank=mmr,lambda=0.6,depth=50");
  EXPECT_EQ(c.chunker, "fixed");
  EXPECT_EQ(c.chunk.size, 400u);
  EXPECT_EQ(c.chunk.overlap, 40u);
  EXPECT_EQ(c.retrieval.aggregate, AggregateKind::kFirst);
  EXPECT_DOUBLE_EQ(c.retrieval.bm25.k1, 0.9);
  EXPECT_EQ(c.retrieval.fusion, FusionKind::kWeighted);
  EXPECT_DOUBLE_EQ(c.retrieval.alpha, 0.25);
  EXPECT_EQ(c.retrieval.norm, ScoreNorm::kZScore);
  EXPECT_EQ(c.retrieval.rerank, RerankKind::kMmr);
  EXPECT_EQ(c.depth_override, 50u);
  EXPECT_TRUE(c.retrieval.analyzer.stem);  // the default analyzer
  EXPECT_TRUE(c.retrieval.analyzer.stopwords);

  const VariantSpec plain = ParseVariantFlag("plain=bm25,stem=false,stopwords=no");
  EXPECT_FALSE(plain.retrieval.analyzer.stem);
  EXPECT_FALSE(plain.retrieval.analyzer.stopwords);
}

TEST(Experiment, AnalyzerSettingsPerVariant) {
  const Experiment e = ParseExperiment(
      "dataset: {path: /d}\nvariants:\n  a: {retrieval: bm25, analyzer: {stem: false}}\n"
      "  b: {retrieval: hybrid, embedder: hash, analyzer: {stopwords: false}}\n  c: bm25\n",
      "x.yaml", "", FakeEnv({}));
  ASSERT_EQ(e.variants.size(), 3u);
  EXPECT_FALSE(e.variants[0].retrieval.analyzer.stem);
  EXPECT_TRUE(e.variants[0].retrieval.analyzer.stopwords);
  EXPECT_TRUE(e.variants[1].retrieval.analyzer.stem);
  EXPECT_FALSE(e.variants[1].retrieval.analyzer.stopwords);
  EXPECT_EQ(e.variants[2].retrieval.analyzer, AnalyzerOptions{});
  // The settings are part of the resolved experiment, so they change the run id.
  const nlohmann::json j = ExperimentToJson(e);
  EXPECT_EQ(j["variants"][0]["analyzer"], (nlohmann::json{{"stem", false}, {"stopwords", true}}));
  Experiment same_but_stemmed = e;
  same_but_stemmed.variants[0].retrieval.analyzer.stem = true;
  EXPECT_NE(ExperimentFingerprint(e), ExperimentFingerprint(same_but_stemmed));

  auto msg = [](const std::string& variant) {
    return ErrorOf("dataset: {path: /d}\nvariants:\n  v: " + variant + "\n").first;
  };
  EXPECT_NE(msg("{retrieval: dense, embedder: hash, analyzer: {stem: false}}").find("not dense"),
            std::string::npos);
  EXPECT_NE(msg("{retrieval: bm25, analyzer: {stem: maybe}}")
                .find("variants.v.analyzer.stem: expected true or false, got 'maybe'"),
            std::string::npos);
  EXPECT_NE(msg("{retrieval: bm25, analyzer: {stemming: false}}")
                .find("unknown key 'stemming' at variants.v.analyzer.stemming"),
            std::string::npos);
}

TEST(VariantFlag, ValidatesLikeTheFile) {
  EXPECT_NE(FlagError("hyb=hybrid,embedder=hash,kk=60")
                .find("--variant hyb=hybrid: unknown key 'kk'; did you mean 'k'?"),
            std::string::npos)
      << FlagError("hyb=hybrid,embedder=hash,kk=60");
  EXPECT_NE(FlagError("d=dense").find("needs an embedder"), std::string::npos);
  EXPECT_NE(FlagError("b=bm25,fusion=rrf").find("applies to hybrid retrieval only"), std::string::npos);
  EXPECT_NE(FlagError("b=bm25,k1=abc").find("bm25.k1: expected a number, got 'abc'"), std::string::npos);
  EXPECT_NE(FlagError("b=bm42").find("unknown value 'bm42'"), std::string::npos);
  EXPECT_NE(FlagError("b=bm25,size=100").find("without a chunker name"), std::string::npos);
  EXPECT_NE(FlagError("b=bm25,k1=1,k1=2").find("given twice"), std::string::npos);
  EXPECT_NE(FlagError("bm25").find("expected NAME=RETRIEVAL"), std::string::npos);
  EXPECT_NE(FlagError("=bm25").find("expected NAME=RETRIEVAL"), std::string::npos);
  EXPECT_NE(FlagError("b=bm25,depth").find("expected key=value"), std::string::npos);
  EXPECT_NE(FlagError("a/b=bm25").find("variant names"), std::string::npos);
}

TEST(Experiment, FinalizeCompletesExperimentsBuiltFromFlags) {
  Experiment e;
  e.dataset.path = "/d";
  e.depth = 200;
  e.variants.push_back(ParseVariantFlag("bm25=bm25"));
  e.variants.push_back(ParseVariantFlag("dense=dense,embedder=hash,depth=20"));
  FinalizeExperiment(e);
  EXPECT_EQ(e.statistics.baseline, "bm25");
  EXPECT_EQ(e.variants[0].retrieval.depth, 200u);
  EXPECT_EQ(e.variants[1].retrieval.depth, 20u);
  EXPECT_EQ(e.metrics, DefaultMetrics());
  e.variants.push_back(ParseVariantFlag("bm25=bm25"));
  EXPECT_THROW(FinalizeExperiment(e), InvalidInput);
  Experiment none;
  EXPECT_THROW(FinalizeExperiment(none), InvalidInput);
}

TEST(Experiment, CanonicalJsonAndFingerprint) {
  const Experiment e = Parse(kFull);
  const nlohmann::json j = ExperimentToJson(e);
  EXPECT_EQ(j["dataset"]["qrels"], "qrels/test.tsv");
  EXPECT_EQ(j["statistics"]["test"], "randomization");
  ASSERT_EQ(j["variants"].size(), 3u);
  EXPECT_EQ(j["variants"][0]["name"], "bm25");
  EXPECT_FALSE(j["variants"][0].contains("fusion"));  // only what applies
  EXPECT_FALSE(j["variants"][0].contains("embedder"));
  EXPECT_EQ(j["variants"][1]["chunker"]["size"], 512);
  EXPECT_EQ(j["variants"][1]["aggregate"], "sum");
  EXPECT_EQ(j["variants"][2]["fusion"]["method"], "weighted");
  EXPECT_FALSE(j["variants"][2]["fusion"].contains("k"));
  EXPECT_EQ(j["variants"][2]["depth"], 100);
  // A parse of the canonical JSON gives the same experiment back... except relative paths, none here.
  EXPECT_EQ(ExperimentFingerprint(e), ExperimentFingerprint(Parse(kFull)));

  // Spelling out defaults changes nothing; metrics, statistics, output and name change nothing.
  const Experiment a = Parse("dataset: {path: /d}\nvariants: {h: {retrieval: hybrid, embedder: hash}}\n");
  const Experiment b = Parse(
      "name: other\ndataset: {path: /elsewhere, split: test}\ndepth: 1000\nmetrics: [map]\nstatistics: "
      "{test: wilcoxon}\n"
      "output: /o\nconcurrency: 3\n"
      "variants: {h: {retrieval: hybrid, embedder: hash, fusion: {method: rrf, k: 60}, rerank: none, depth: "
      "1000}}\n");
  EXPECT_EQ(ExperimentFingerprint(a), ExperimentFingerprint(b));
  // Anything that changes a ranking changes it.
  for (const char* change :
       {"{retrieval: hybrid, embedder: hash, fusion: {k: 61}}", "{retrieval: hybrid, embedder: hash:64}",
        "{retrieval: hybrid, embedder: hash, depth: 999}", "{retrieval: dense, embedder: hash}",
        "{retrieval: hybrid, embedder: hash, rerank: mmr}"}) {
    const Experiment c = Parse(std::string("dataset: {path: /d}\nvariants: {h: ") + change + "}\n");
    EXPECT_NE(ExperimentFingerprint(a), ExperimentFingerprint(c)) << change;
  }
  const Experiment split =
      Parse("dataset: {path: /d, split: dev}\nvariants: {h: {retrieval: hybrid, embedder: hash}}\n");
  EXPECT_NE(ExperimentFingerprint(a), ExperimentFingerprint(split));
  const Experiment renamed =
      Parse("dataset: {path: /d}\nvariants: {h2: {retrieval: hybrid, embedder: hash}}\n");
  EXPECT_NE(ExperimentFingerprint(a), ExperimentFingerprint(renamed));
}

// Hybrid variants take any unsupervised method of the fusion registry, with its normalization, weights
// (BM25, dense) and parameters; supervised ones and misplaced settings are errors naming the setting.
TEST(Experiment, RegistryFusionMethods) {
  const Experiment e = ParseExperiment(R"(
dataset: {path: /data/scifact}
variants:
  sum: {retrieval: hybrid, embedder: hash, fusion: {method: sum, normalization: zmuv}}
  w: {retrieval: hybrid, embedder: hash, fusion: {method: wsum, weights: [0.7, 0.3]}}
  rbc: {retrieval: hybrid, embedder: hash, fusion: {method: rbc, phi: 0.9}}
  old: {retrieval: hybrid, embedder: hash, fusion: combmnz}
)",
                                       "x.yaml");
  ASSERT_EQ(e.variants.size(), 4u);
  EXPECT_EQ(e.variants[0].retrieval.fusion, FusionKind::kRegistry);
  EXPECT_EQ(e.variants[0].retrieval.registry.method, FusionMethod::kCombSum);
  EXPECT_EQ(e.variants[0].retrieval.registry.norm, FusionNorm::kZmuv);
  EXPECT_EQ(e.variants[1].retrieval.registry.weights, (std::vector<double>{0.7, 0.3}));
  EXPECT_EQ(e.variants[2].retrieval.registry.params.phi, 0.9);
  EXPECT_EQ(e.variants[3].retrieval.fusion, FusionKind::kCombMnz);
  const nlohmann::json j = ExperimentToJson(e);
  EXPECT_EQ(j["variants"][0]["fusion"]["normalization"], "zmuv");
  EXPECT_EQ(j["variants"][2]["fusion"]["phi"], 0.9);
  // Settings are part of the fingerprint: another normalization is another run.
  Experiment other = e;
  other.variants[0].retrieval.registry.norm = FusionNorm::kMinMax;
  EXPECT_NE(ExperimentFingerprint(e).Hex(), ExperimentFingerprint(other).Hex());

  auto error = [](const std::string& fusion) {
    try {
      ParseExperiment("dataset: {path: /d}\nvariants:\n  v: {retrieval: hybrid, embedder: hash, fusion: " +
                          fusion + "}\n",
                      "x.yaml");
    } catch (const InvalidInput& err) {
      return std::string(err.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error("probfuse").find("supervised"), std::string::npos) << error("probfuse");
  EXPECT_NE(error("{method: rrf, phi: 0.5}").find("variants.v.fusion.phi"), std::string::npos);
  EXPECT_NE(error("{method: sum, weights: [1, 2]}").find("takes no weights"), std::string::npos);
  EXPECT_NE(error("{method: isr, normalization: zmuv}").find("fuses ranks"), std::string::npos);
  EXPECT_NE(error("{method: wsum, weights: [1]}").find("two weights"), std::string::npos);
  EXPECT_NE(error("{method: summ}").find("variants.v.fusion.method"), std::string::npos)
      << error("{method: summ}");
}

}  // namespace
}  // namespace rlm
