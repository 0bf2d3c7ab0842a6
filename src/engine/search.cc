#include "engine/search.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "core/error.h"
#include "embed/embedder.h"
#include "engine/corpus_index.h"
#include "engine/ingest.h"
#include "index/dense.h"
#include "index/fusion.h"

namespace rlm {

SearchMode ParseSearchMode(std::string_view raw) {
  std::string s(raw);
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (s == "hybrid") return SearchMode::kHybrid;
  if (s == "semantic" || s == "dense") return SearchMode::kSemantic;
  if (s == "bm25" || s == "lexical") return SearchMode::kBm25;
  throw InvalidInput(
      "unknown search mode '" + std::string(raw) + "' (rlm-rs silently searched in hybrid mode; rlm rejects the value)",
      "use --mode hybrid, semantic or bm25", ErrorType::kInvalidArgument);
}

const char* SearchModeName(SearchMode m) {
  switch (m) {
    case SearchMode::kHybrid: return "hybrid";
    case SearchMode::kSemantic: return "semantic";
    case SearchMode::kBm25: return "bm25";
  }
  return "hybrid";
}

SearchResult Search(Workspace& ws, const SearchOptions& o) {
  if (o.query.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw InvalidInput("the search query is empty");
  }
  if (o.top_k == 0) throw InvalidInput("--top-k must be at least 1");
  SearchResult result;
  Analyzer analyzer(o.analyzer);
  auto embedder = WorkspaceEmbedder(ws, o.embedder);
  auto index = CorpusIndex::OpenOrBuild(ws, analyzer, *embedder, &result.index_rebuilt);

  DocFilter filter;
  const DocFilter* filter_ptr = nullptr;
  if (!o.buffer_ids.empty()) {
    filter.assign(index->num_docs(), 0);
    for (size_t d = 0; d < index->num_docs(); ++d) {
      filter[d] = std::find(o.buffer_ids.begin(), o.buffer_ids.end(), index->buffer_id(static_cast<uint32_t>(d))) !=
                  o.buffer_ids.end();
    }
    filter_ptr = &filter;
  }

  const size_t depth = o.mode == SearchMode::kHybrid ? 2 * o.top_k : o.top_k;
  std::vector<ScoredDoc> semantic, lexical;
  if (o.mode != SearchMode::kBm25) {
    std::vector<float> q(embedder->Dims());
    std::string_view text = o.query;
    embedder->Embed(std::span(&text, 1), EmbedRole::kQuery, q.data());
    semantic = DenseTopK(index->vectors(), q.data(), depth, static_cast<float>(o.threshold), filter_ptr,
                         &result.stats);
  }
  if (o.mode != SearchMode::kSemantic) {
    std::vector<std::string> terms = analyzer.Analyze(o.query);
    lexical = index->bm25().Search(terms, depth, o.bm25, filter_ptr, &result.stats);
  }
  result.candidates_semantic = semantic.size();
  result.candidates_bm25 = lexical.size();

  std::unordered_map<uint32_t, float> sem_score, bm25_score;
  for (const auto& s : semantic) sem_score[s.doc] = s.score;
  for (const auto& s : lexical) bm25_score[s.doc] = s.score;

  std::vector<ScoredDoc> ranked;
  switch (o.mode) {
    case SearchMode::kSemantic: ranked = semantic; break;
    case SearchMode::kBm25: ranked = lexical; break;
    case SearchMode::kHybrid: {
      std::vector<ScoredDoc> lists[2] = {semantic, lexical};
      ranked = ReciprocalRankFusion(lists, o.rrf_k);
      break;
    }
  }
  if (ranked.size() > o.top_k) ranked.resize(o.top_k);
  for (const ScoredDoc& d : ranked) {
    SearchHit h;
    h.chunk_id = index->chunk_id(d.doc);
    h.buffer_id = index->buffer_id(d.doc);
    h.index = index->chunk_index(d.doc);
    h.score = d.score;
    if (auto it = sem_score.find(d.doc); it != sem_score.end()) h.semantic_score = it->second;
    if (auto it = bm25_score.find(d.doc); it != bm25_score.end()) h.bm25_score = it->second;
    result.hits.push_back(h);
  }
  return result;
}

}  // namespace rlm
