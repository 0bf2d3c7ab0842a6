#include "eval/retriever.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/error.h"
#include "index/dense.h"
#include "index/mmr.h"

namespace rlm {

CorpusUnits SplitCorpus(std::span<const std::string> docs, std::string_view chunker,
                        const ChunkOptions& options) {
  CorpusUnits u;
  u.first_unit.resize(docs.size());
  if (chunker.empty() || chunker == "none") {
    for (size_t d = 0; d < docs.size(); ++d) {
      u.first_unit[d] = static_cast<uint32_t>(d);
      u.texts.emplace_back(docs[d]);
      u.doc.push_back(static_cast<uint32_t>(d));
    }
    return u;
  }
  ValidateChunkOptions(options);
  const auto c = MakeChunker(chunker);
  std::vector<std::vector<ChunkSpan>> spans(docs.size());
  tbb::parallel_for(size_t{0}, docs.size(), [&](size_t d) { spans[d] = c->Split(docs[d], options); });
  for (size_t d = 0; d < docs.size(); ++d) {
    u.first_unit[d] = static_cast<uint32_t>(u.texts.size());
    if (spans[d].empty()) spans[d].push_back({0, docs[d].size()});
    for (const ChunkSpan& s : spans[d]) {
      u.texts.push_back(std::string_view(docs[d]).substr(s.start, s.end - s.start));
      u.doc.push_back(static_cast<uint32_t>(d));
    }
  }
  return u;
}

VariantRetriever::VariantRetriever(const RetrieverConfig& config, const CorpusUnits& units,
                                   std::vector<float> unit_vectors, size_t dims)
    : config_(config),
      units_(units),
      vectors_(std::move(unit_vectors)),
      dims_(dims),
      analyzer_(config.analyzer) {
  if (config_.depth == 0) throw InvalidInput("retrieval depth must be at least 1");
  if (config_.NeedsVectors() && vectors_.size() != units_.texts.size() * dims_) {
    throw InternalError("unit vectors missing for a dense variant");
  }
  if (config_.retrieval != RetrievalKind::kDense) {
    Bm25Builder builder(analyzer_);
    builder.AddBatch(units_.texts);
    bm25_ = std::make_unique<Bm25Index>(builder.Finish());
  }
  if (config_.rerank == RerankKind::kMmr) {
    doc_vectors_.assign(units_.num_docs() * dims_, 0.0f);
    for (size_t u = 0; u < units_.texts.size(); ++u) {
      float* dst = doc_vectors_.data() + units_.doc[u] * dims_;
      for (size_t j = 0; j < dims_; ++j) dst[j] += vectors_[u * dims_ + j];
    }
    for (size_t d = 0; d < units_.num_docs(); ++d) {
      float* v = doc_vectors_.data() + d * dims_;
      double n = 0;
      for (size_t j = 0; j < dims_; ++j) n += static_cast<double>(v[j]) * v[j];
      const float inv = n > 0 ? static_cast<float>(1.0 / std::sqrt(n)) : 0.0f;
      for (size_t j = 0; j < dims_; ++j) v[j] *= inv;
    }
  }
}

VariantRetriever::~VariantRetriever() = default;

std::vector<ScoredDoc> VariantRetriever::ToDocuments(const std::vector<ScoredDoc>& unit_hits) const {
  const bool whole = units_.texts.size() == units_.num_docs();
  if (whole) return unit_hits;  // one unit per document: ordinals coincide
  std::unordered_map<uint32_t, float> score;
  std::vector<uint32_t> order;
  for (const ScoredDoc& h : unit_hits) {
    const uint32_t d = units_.doc[h.doc];
    if (config_.aggregate == AggregateKind::kFirst && h.doc != units_.first_unit[d]) continue;
    auto [it, inserted] = score.try_emplace(d, h.score);
    if (inserted) {
      order.push_back(d);
    } else if (config_.aggregate == AggregateKind::kSum) {
      it->second += h.score;
    } else {
      it->second = std::max(it->second, h.score);
    }
  }
  std::vector<ScoredDoc> docs;
  docs.reserve(order.size());
  for (uint32_t d : order) docs.push_back({d, score[d]});
  std::sort(docs.begin(), docs.end(), RanksBefore);
  return docs;
}

std::vector<ScoredDoc> VariantRetriever::Retrieve(std::string_view query,
                                                  std::span<const float> query_vector) const {
  // Chunked corpora need more unit candidates than documents wanted.
  const bool whole = units_.texts.size() == units_.num_docs();
  const size_t candidates = std::min(units_.texts.size(), whole ? config_.depth : config_.depth * 4);
  std::vector<std::vector<ScoredDoc>> lists;
  if (config_.retrieval != RetrievalKind::kDense) {
    const std::vector<std::string> terms = analyzer_.Analyze(query);
    lists.push_back(ToDocuments(bm25_->Search(terms, candidates, config_.bm25)));
  }
  if (config_.retrieval != RetrievalKind::kBm25) {
    if (query_vector.size() != dims_) throw InternalError("query vector missing for a dense variant");
    const DenseMatrixView m{vectors_.data(), units_.texts.size(), dims_};
    lists.push_back(ToDocuments(DenseTopK(m, query_vector.data(), candidates, -INFINITY)));
  }
  std::vector<ScoredDoc> ranked;
  if (lists.size() == 1) {
    ranked = std::move(lists[0]);
  } else if (config_.fusion == FusionKind::kRrf) {
    ranked = ReciprocalRankFusion(lists, config_.rrf_k);
  } else if (config_.fusion == FusionKind::kRegistry) {
    std::vector<std::vector<RankedDoc>> in(lists.size());
    for (size_t i = 0; i < lists.size(); ++i) {
      for (const ScoredDoc& d : lists[i]) in[i].push_back({d.doc, static_cast<double>(d.score)});
    }
    for (const RankedDoc& d : FuseLists(in, config_.registry))
      ranked.push_back({d.doc, static_cast<float>(d.score)});
    std::sort(ranked.begin(), ranked.end(), RanksBefore);  // rounding to float can tie what double told apart
  } else {
    // lists[0] is BM25, lists[1] dense: alpha weighs the dense side.
    const double weights[] = {1.0 - config_.alpha, config_.alpha};
    const ScoreFusion f = config_.fusion == FusionKind::kWeighted  ? ScoreFusion::kWeighted
                          : config_.fusion == FusionKind::kCombSum ? ScoreFusion::kCombSum
                                                                   : ScoreFusion::kCombMnz;
    ranked = FuseScores(lists, f, config_.norm, weights);
  }
  if (ranked.size() > config_.depth) ranked.resize(config_.depth);
  if (config_.rerank == RerankKind::kMmr && !ranked.empty()) {
    // MMR re-orders the head of the ranking (kMmrPool documents; it is quadratic in the pool); the tail
    // keeps its order below it.
    const DenseMatrixView docs{doc_vectors_.data(), units_.num_docs(), dims_};
    const size_t pool = std::min(ranked.size(), kMmrPool);
    std::vector<ScoredDoc> head = MmrRerank(std::span(ranked).first(pool), docs, config_.mmr_lambda, pool);
    const size_t n = ranked.size();
    for (size_t i = 0; i < n; ++i) {
      const uint32_t doc = i < pool ? head[i].doc : ranked[i].doc;
      ranked[i] = {doc, static_cast<float>(n - i)};
    }
  }
  return ranked;
}

}  // namespace rlm
