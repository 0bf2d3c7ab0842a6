// Search over a workspace: BM25, semantic (exact dense) or hybrid (reciprocal rank fusion of both), with
// buffer filters applied before ranking and deterministic ties (lower chunk ordinal first).
//
// Hybrid follows rlm-rs: each retriever contributes its top 2*top_k candidates (semantic candidates must
// reach the similarity threshold), and RRF with k = rrf_k fuses them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "index/bm25.h"
#include "index/scored.h"
#include "store/workspace.h"
#include "text/analyzer.h"

namespace rlm {

enum class SearchMode { kHybrid, kSemantic, kBm25 };
// Parses "hybrid" | "semantic" | "bm25" (case-insensitive); throws InvalidInput otherwise.
SearchMode ParseSearchMode(std::string_view s);
const char* SearchModeName(SearchMode m);

struct SearchOptions {
  std::string query;
  std::string embedder;  // a --embedder spec that must match the workspace's; empty: the workspace's
  size_t top_k = 10;
  double threshold = 0.3;  // minimum cosine similarity for semantic candidates
  SearchMode mode = SearchMode::kHybrid;
  double rrf_k = 60.0;
  std::vector<int64_t> buffer_ids;  // empty: all buffers
  Bm25Params bm25;
  AnalyzerOptions analyzer;
};

struct SearchHit {
  int64_t chunk_id = 0;
  int64_t buffer_id = 0;
  int64_t index = 0;
  double score = 0;  // the ranking score of the mode (RRF, cosine or BM25)
  std::optional<double> semantic_score;  // cosine, when the chunk was a semantic candidate
  std::optional<double> bm25_score;      // BM25, when the chunk was a BM25 candidate
};

struct SearchResult {
  std::vector<SearchHit> hits;
  SearchStats stats;
  bool index_rebuilt = false;
  size_t candidates_semantic = 0;
  size_t candidates_bm25 = 0;
};

// Throws InvalidInput for an empty query or top_k of 0.
SearchResult Search(Workspace& ws, const SearchOptions& options);

}  // namespace rlm
