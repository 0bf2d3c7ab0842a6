// One variant's retrieval over an evaluation corpus: documents are optionally chunked into units, units are
// indexed (BM25 over the analyzer's terms; dense over unit vectors the caller computed), a query's unit
// rankings are turned into document rankings (max, sum or first), fused for hybrid retrieval (RRF or a
// score fusion), optionally re-ranked with MMR, and cut to the retrieval depth.
//
// Building and searching are separate from embedding: the runner (eval/runner.h) embeds units through its
// checkpoint store, so a second run that changes only fusion, re-ranking or depth embeds nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chunk/chunker.h"
#include "index/bm25.h"
#include "index/fusion.h"
#include "index/scored.h"
#include "text/analyzer.h"

namespace rlm {

enum class RetrievalKind { kBm25, kDense, kHybrid };
// kRrf, kWeighted, kCombSum, kCombMnz: the variants' original fusions (index/fusion.h's ReciprocalRankFusion
// and FuseScores); kRegistry: any unsupervised method of the fusion registry (FusionMethods), as
// `rlm eval fuse` computes it, with `registry`'s normalisation, weights (BM25, dense) and parameters.
enum class FusionKind { kRrf, kWeighted, kCombSum, kCombMnz, kRegistry };
enum class RerankKind { kNone, kMmr };
enum class AggregateKind { kMax, kSum, kFirst };

struct RetrieverConfig {
  RetrievalKind retrieval = RetrievalKind::kBm25;
  Bm25Params bm25;
  AnalyzerOptions analyzer;  // documents and queries for BM25 (stemming, stop words)
  FusionKind fusion = FusionKind::kRrf;
  double rrf_k = 60;
  double alpha = 0.5;  // weighted: alpha * dense + (1 - alpha) * bm25
  ScoreNorm norm = ScoreNorm::kMinMax;
  FusionSpec registry;  // kRegistry: method, norm, weights (empty or {bm25, dense}) and parameters
  RerankKind rerank = RerankKind::kNone;
  double mmr_lambda = 0.5;
  AggregateKind aggregate = AggregateKind::kMax;
  size_t depth = 1000;

  bool NeedsVectors() const { return retrieval != RetrievalKind::kBm25 || rerank == RerankKind::kMmr; }
};

// Documents split into retrieval units. With no chunker every document is one unit.
struct CorpusUnits {
  std::vector<std::string_view> texts;  // into the caller's document strings
  std::vector<uint32_t> doc;            // unit -> document ordinal
  std::vector<uint32_t> first_unit;     // document -> its first unit (documents always have one)
  size_t num_docs() const { return first_unit.size(); }
};

// Splits every document with chunker `name` ("" or "none": whole documents), in parallel. An empty document
// becomes one empty unit.
CorpusUnits SplitCorpus(std::span<const std::string> docs, std::string_view chunker,
                        const ChunkOptions& options);

class VariantRetriever {
 public:
  // How many of the top documents MMR re-orders.
  static constexpr size_t kMmrPool = 100;

  // `unit_vectors` holds units.texts.size() rows of `dims` L2-normalised floats when config.NeedsVectors(),
  // else it may be empty. Builds the BM25 index (with config.analyzer) when the retrieval uses it.
  VariantRetriever(const RetrieverConfig& config, const CorpusUnits& units, std::vector<float> unit_vectors,
                   size_t dims);
  ~VariantRetriever();

  // The top `config.depth` documents for `query`; `query_vector` (dims floats) is needed when the config
  // needs vectors. Thread-safe.
  std::vector<ScoredDoc> Retrieve(std::string_view query, std::span<const float> query_vector) const;

 private:
  std::vector<ScoredDoc> ToDocuments(const std::vector<ScoredDoc>& unit_hits) const;

  RetrieverConfig config_;
  const CorpusUnits& units_;
  std::vector<float> vectors_;
  std::vector<float> doc_vectors_;  // MMR: normalised mean of each document's unit vectors
  size_t dims_ = 0;
  Analyzer analyzer_;
  std::unique_ptr<Bm25Index> bm25_;
};

}  // namespace rlm
