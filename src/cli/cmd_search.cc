// `search <query>`: BM25, semantic or hybrid search over the workspace (or some buffers), with rlm-rs's
// flags, text table and JSON fields. NDJSON prints one result object per line.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/context.h"
#include "core/error.h"
#include "core/utf8.h"
#include "engine/search.h"

namespace rlm::cli {

namespace {

struct SearchArgs {
  std::string query;
  size_t top_k = 10;
  double threshold = 0.3;
  std::string mode = "hybrid";
  double rrf_k = 60;
  std::vector<std::string> buffers;
  bool preview = false;
  size_t preview_len = 150;
  double k1 = 1.2;
  double b = 0.75;
  std::string embedder;
};

// Rust's `{:.N}` for f64 (NaN and infinities as Rust spells them).
std::string Fixed(double x, int decimals) {
  if (std::isnan(x)) return "NaN";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

// rlm-rs's format_score: "0" for zero, `{:.2e}` below 1e-4 in magnitude (Rust writes "1.60e-6": no '+',
// no zero padding of the exponent), `{:.4}` otherwise.
std::string FormatScore(double x) {
  if (x == 0.0) return "0";
  if (std::isfinite(x) && std::fabs(x) < 0.0001) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.2e", x);
    std::string s = buf;
    size_t e = s.find('e');
    return s.substr(0, e) + "e" + std::to_string(std::stoi(s.substr(e + 1)));
  }
  return Fixed(x, 4);
}

// rlm-rs's preview: the whole chunk when it fits in `len` bytes, else its first `len` bytes (cut back to a
// code-point boundary, never inside a character) and "...".
std::string Preview(Workspace& ws, int64_t chunk_id, size_t len) {
  auto c = ws.GetChunk(chunk_id);
  if (!c) return "";
  uint64_t size = c->end - c->start;
  // One byte past `len` tells whether the cut falls on a boundary.
  std::string text =
      ws.ReadText(c->buffer_id, c->start, c->start + std::min<uint64_t>(size, uint64_t{len} + 1));
  if (size <= len) return text;
  return std::string(utf8::Truncate(text, len)) + "...";
}

void RunSearch(Context& ctx, const SearchArgs& a) {
  SearchOptions o;
  o.query = a.query;
  o.embedder = a.embedder;
  o.top_k = a.top_k;
  o.threshold = a.threshold;
  o.mode = ParseSearchMode(a.mode);
  if (!std::isfinite(a.rrf_k) || a.rrf_k < 0) {
    throw InvalidInput("--rrf-k must be a non-negative number", "the usual value is 60",
                       ErrorType::kInvalidArgument);
  }
  o.rrf_k = a.rrf_k;
  o.bm25.k1 = a.k1;
  o.bm25.b = a.b;

  auto ws = ctx.OpenWorkspace(Workspace::Mode::kRead);
  for (const std::string& name : a.buffers) {
    int64_t id = ws->GetBuffer(name).id;
    if (std::find(o.buffer_ids.begin(), o.buffer_ids.end(), id) == o.buffer_ids.end())
      o.buffer_ids.push_back(id);
  }
  SearchResult r = Search(*ws, o);

  std::vector<std::string> previews;
  if (a.preview) {
    for (const SearchHit& h : r.hits) previews.push_back(Preview(*ws, h.chunk_id, a.preview_len));
  }

  if (ctx.json_mode()) {
    auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
    json results = json::array();
    for (size_t i = 0; i < r.hits.size(); ++i) {
      const SearchHit& h = r.hits[i];
      json o;  // keys in rlm-rs's (sorted) order
      o["bm25_score"] = opt(h.bm25_score);
      o["buffer_id"] = h.buffer_id;
      o["chunk_id"] = h.chunk_id;
      if (a.preview) o["content_preview"] = previews[i];
      o["index"] = h.index;
      o["score"] = h.score;
      o["semantic_score"] = opt(h.semantic_score);
      results.push_back(std::move(o));
    }
    if (ctx.format() == Format::kNdjson) {
      ctx.EmitList(results);
      return;
    }
    json doc;
    doc["count"] = r.hits.size();
    doc["mode"] = a.mode;
    doc["query"] = a.query;
    doc["results"] = std::move(results);
    ctx.Emit(doc);
    return;
  }

  if (r.hits.empty()) {
    ctx.Print("No results found for query: \"" + a.query + "\"\n");
    return;
  }
  std::string out = "Search results for \"" + a.query + "\" (" + a.mode + " mode, " +
                    std::to_string(r.hits.size()) + " results):\n\n";
  out +=
      Pad("Chunk ID", 10) + " " + Pad("Score", 12) + " " + Pad("Semantic", 12) + " " + Pad("BM25", 12) + "\n";
  out += std::string(50, '-') + "\n";
  for (size_t i = 0; i < r.hits.size(); ++i) {
    const SearchHit& h = r.hits[i];
    out += Pad(std::to_string(h.chunk_id), 10) + " " + Pad(Fixed(h.score, 4), 12) + " " +
           Pad(h.semantic_score ? FormatScore(*h.semantic_score) : "-", 12) + " " +
           Pad(h.bm25_score ? FormatScore(*h.bm25_score) : "-", 12) + "\n";
    if (a.preview) out += "  Preview: " + previews[i] + "\n";
  }
  out += "\nUse 'rlm-rs chunk get <id>' to retrieve chunk content.\n";
  ctx.Print(out);
}

}  // namespace

void RegisterSearchCommands(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<SearchArgs>();
  CLI::App* sub =
      app.add_subcommand("search", "Search chunks: hybrid (RRF of BM25 and semantic), semantic or bm25");
  sub->add_option("query", a->query, "The search query")->required();
  sub->add_option("-k,--top-k", a->top_k, "Number of results")
      ->capture_default_str()
      ->check(WholeInRange(0, 100'000'000));
  sub->add_option("-t,--threshold", a->threshold, "Minimum cosine similarity of semantic candidates")
      ->capture_default_str()
      ->check(RealInRange(-1, 1));
  sub->add_option("-m,--mode", a->mode, "hybrid, semantic or bm25")->capture_default_str();
  sub->add_option("--rrf-k", a->rrf_k, "RRF constant k (hybrid mode)")->capture_default_str();
  sub->add_option("-b,--buffer", a->buffers,
                  "Search only this buffer (id if all digits, else name; repeatable)")
      ->allow_extra_args(false);
  sub->add_flag("-p,--preview", a->preview, "Show a preview of each chunk's content");
  sub->add_option("--preview-len", a->preview_len, "Preview length in bytes (never splits a character)")
      ->capture_default_str()
      ->check(WholeInRange(0, 1 << 20));
  sub->add_option("--k1,--bm25-k1", a->k1, "BM25 term-frequency saturation k1")->capture_default_str();
  sub->add_option("--b,--bm25-b", a->b, "BM25 length normalisation b (0..1)")->capture_default_str();
  sub->add_option("--embedder", a->embedder,
                  "Embedder for the query; must be the workspace's (default: the workspace's)");
  OnRun(sub, ctx, [&ctx, a] { RunSearch(ctx, *a); });
}

}  // namespace rlm::cli
