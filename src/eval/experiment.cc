#include "eval/experiment.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <span>
#include <utility>

#include "core/error.h"
#include "core/file.h"
#include "core/suggest.h"
#include "core/utf8.h"
#include "embed/embedder.h"
#include "eval/measures.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;
using Keys = std::span<const std::string_view>;

// ---------------------------------------------------------------------------------------------------------
// Names and suggestions

char Lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string Nearest(std::string_view name, const std::vector<std::string>& valid) {
  return NearestName(name, valid);
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::vector<std::string> ToStrings(Keys keys) {
  return {keys.begin(), keys.end()};
}

// "did you mean 'x'? valid: a, b, c"
std::string SuggestFrom(std::string_view got, const std::vector<std::string>& valid, std::string_view what) {
  const std::string near = Nearest(got, valid);
  return (near.empty() ? "" : "did you mean '" + near + "'? ") + std::string(what) + ": " + Join(valid);
}

// `s` with bytes that do not start well-formed UTF-8 replaced by U+FFFD: yaml-cpp's messages may quote a
// single byte of a multi-byte character, and messages end up in JSON.
std::string ValidUtf8(std::string_view s) {
  std::string out;
  while (const std::optional<size_t> bad = utf8::FindInvalid(s)) {
    out.append(s.substr(0, *bad));
    out += "\xEF\xBF\xBD";
    s.remove_prefix(*bad + 1);
  }
  out.append(s);
  return out;
}

// `s` quoted for a message, cut at 80 bytes on a code-point boundary.
std::string Quote(std::string_view s) {
  const std::string_view cut = utf8::Truncate(s, 80);
  return "'" + ValidUtf8(cut) + (cut.size() < s.size() ? "...'" : "'");
}

// ---------------------------------------------------------------------------------------------------------
// Reading YAML nodes with locations

struct Context {
  std::string source;    // file path, or "--variant NAME"
  std::string base_dir;  // relative paths resolve against it
  const EnvLookup* env = nullptr;
};

class Reader {
 public:
  explicit Reader(const Context& ctx) : ctx_(ctx) {}

  std::string Where(const YAML::Node& n) const {
    const YAML::Mark m = n.Mark();
    if (m.is_null() || m.line < 0) return ctx_.source;
    return ctx_.source + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  }

  [[noreturn]] void Fail(const YAML::Node& at, const std::string& path, const std::string& what,
                         std::string suggestion = "") const {
    std::string msg = Where(at) + ": ";
    if (!path.empty()) msg += path + ": ";
    // yaml-cpp guesses UTF-16/32 from NUL bytes, so keys need not be UTF-8 even when the text was.
    throw InvalidInput(ValidUtf8(msg + what), ValidUtf8(suggestion), ErrorType::kInvalidExperiment);
  }

  // Rethrows a registry's InvalidInput with this node's location.
  template <typename Fn>
  auto Located(const YAML::Node& at, const std::string& path, Fn&& fn) const -> decltype(fn()) {
    try {
      return fn();
    } catch (const InvalidInput& e) {
      Fail(at, path, e.what(), e.suggestion());
    }
  }

  // Checks that `node` is a map whose keys are all in `valid` (and appear once).
  void RequireMap(const YAML::Node& node, const std::string& path, Keys valid) const {
    if (!node.IsMap())
      Fail(node, path, "expected a mapping of " + Join(ToStrings(valid)) + ", got " + Kind(node));
    std::set<std::string, std::less<>> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key = it->first;
      if (!key.IsScalar()) Fail(key, path, "keys must be plain names");
      const std::string& k = key.Scalar();
      const std::string key_path = path.empty() ? k : path + "." + k;
      if (std::find(valid.begin(), valid.end(), k) == valid.end()) {
        const std::string near = Nearest(k, ToStrings(valid));
        Fail(key, "",
             "unknown key " + Quote(k) + " at " + key_path +
                 (near.empty() ? "" : "; did you mean '" + near + "'?"),
             (near.empty() ? "" : "did you mean '" + near + "'? ") +
                 "valid keys here: " + Join(ToStrings(valid)));
      }
      if (!seen.insert(k).second) Fail(key, key_path, "key given twice");
    }
  }

  // A scalar value with ${ENV} substituted.
  std::string Str(const YAML::Node& node, const std::string& path) const {
    if (node.IsNull()) Fail(node, path, "has no value");
    if (!node.IsScalar()) Fail(node, path, "expected a single value, got " + Kind(node));
    std::string s = Substitute(node.Scalar(), node, path);
    // The text was valid UTF-8, but escapes ("\uD800") and environment values need not be.
    if (utf8::FindInvalid(s)) Fail(node, path, "is not valid UTF-8 (after escapes and ${...} substitution)");
    return s;
  }

  // A setting that ends up in folder names, reports and results.json (name, output): environment variables
  // are not expanded there, so a secret in the environment never leaks into them; `$${` still writes `${`.
  std::string Literal(const YAML::Node& node, const std::string& path) const {
    if (node.IsScalar()) {
      const std::string& raw = node.Scalar();
      for (size_t i = raw.find("${"); i != std::string::npos; i = raw.find("${", i + 2)) {
        if (i > 0 && raw[i - 1] == '$') continue;
        Fail(node, path,
             "environment variables are not expanded here: " + path +
                 " is written into folder names and reports",
             "write the value itself (or $${ for a literal ${)");
      }
    }
    std::string s = Str(node, path);
    if (s.empty()) Fail(node, path, "must not be empty");
    return s;
  }

  std::string NonEmpty(const YAML::Node& node, const std::string& path) const {
    std::string s = Str(node, path);
    if (s.empty()) Fail(node, path, "must not be empty");
    return s;
  }

  double Number(const YAML::Node& node, const std::string& path, double lo, double hi) const {
    const std::string s = Str(node, path);
    double v = 0;
    const char* b = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
    auto [p, ec] = std::from_chars(b, s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) {
      Fail(node, path, "expected a number, got " + Quote(s));
    }
    if (v < lo || v > hi) Fail(node, path, "must be between " + Fmt(lo) + " and " + Fmt(hi) + ", got " + s);
    return v;
  }

  bool Bool(const YAML::Node& node, const std::string& path) const {
    const std::string s = Str(node, path);
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
    Fail(node, path, "expected true or false, got " + Quote(s));
  }

  uint64_t Integer(const YAML::Node& node, const std::string& path, uint64_t lo, uint64_t hi) const {
    const std::string s = Str(node, path);
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) {
      Fail(node, path, "expected a whole number, got " + Quote(s));
    }
    if (v < lo || v > hi) {
      Fail(node, path, "must be between " + std::to_string(lo) + " and " + std::to_string(hi) + ", got " + s);
    }
    return v;
  }

  std::string Path(const std::string& p) const {
    if (p.empty() || ctx_.base_dir.empty() || fs::path(p).is_absolute()) return p;
    return (fs::path(ctx_.base_dir) / p).lexically_normal().string();
  }

  static std::string Kind(const YAML::Node& n) {
    switch (n.Type()) {
      case YAML::NodeType::Map:
        return "a mapping";
      case YAML::NodeType::Sequence:
        return "a list";
      case YAML::NodeType::Scalar:
        return "a value";
      case YAML::NodeType::Null:
        return "nothing";
      default:
        return "nothing";
    }
  }

 private:
  static std::string Fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }

  // ${NAME}, ${NAME:-fallback}, $${ for a literal ${.
  std::string Substitute(std::string_view s, const YAML::Node& node, const std::string& path) const {
    if (s.find('$') == std::string_view::npos) return std::string(s);
    std::string out;
    for (size_t i = 0; i < s.size();) {
      if (s.substr(i, 3) == "$${") {
        out += "${";
        i += 3;
        continue;
      }
      if (s.substr(i, 2) != "${") {
        out += s[i++];
        continue;
      }
      const size_t close = s.find('}', i + 2);
      if (close == std::string_view::npos) {
        Fail(node, path, "unterminated ${ in " + Quote(s), "write ${NAME}, or $${ for a literal ${");
      }
      std::string_view inner = s.substr(i + 2, close - i - 2);
      std::optional<std::string_view> fallback;
      if (const size_t dash = inner.find(":-"); dash != std::string_view::npos) {
        fallback = inner.substr(dash + 2);
        inner = inner.substr(0, dash);
      }
      const bool valid_name =
          !inner.empty() && !(inner[0] >= '0' && inner[0] <= '9') &&
          std::all_of(inner.begin(), inner.end(), [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
          });
      if (!valid_name) Fail(node, path, "bad environment variable name " + Quote(inner) + " in " + Quote(s));
      std::optional<std::string> value = ctx_.env != nullptr && *ctx_.env ? (*ctx_.env)(inner) : std::nullopt;
      if (value && !(value->empty() && fallback)) {
        out += *value;
      } else if (fallback) {
        out += *fallback;
      } else {
        Fail(node, path, "environment variable " + std::string(inner) + " is not set",
             "export " + std::string(inner) + "=..., or write ${" + std::string(inner) + ":-default}");
      }
      i = close + 1;
    }
    return out;
  }

  const Context& ctx_;
};

// `parent[key]` when present (IsDefined), else an undefined node.
YAML::Node Get(const YAML::Node& parent, std::string_view key) {
  for (auto it = parent.begin(); it != parent.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string Sub(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

// ---------------------------------------------------------------------------------------------------------
// Enumerations of the variant settings (the names are those of the YAML and of the canonical JSON)

template <typename E>
struct Named {
  std::string_view name;
  E value;
};

constexpr Named<RetrievalKind> kRetrievals[] = {
    {"bm25", RetrievalKind::kBm25}, {"dense", RetrievalKind::kDense}, {"hybrid", RetrievalKind::kHybrid}};
constexpr Named<FusionKind> kFusions[] = {{"rrf", FusionKind::kRrf},
                                          {"weighted", FusionKind::kWeighted},
                                          {"combsum", FusionKind::kCombSum},
                                          {"combmnz", FusionKind::kCombMnz}};
constexpr Named<ScoreNorm> kNorms[] = {
    {"minmax", ScoreNorm::kMinMax}, {"zscore", ScoreNorm::kZScore}, {"none", ScoreNorm::kNone}};
constexpr Named<RerankKind> kReranks[] = {{"none", RerankKind::kNone}, {"mmr", RerankKind::kMmr}};
constexpr Named<AggregateKind> kAggregates[] = {
    {"max", AggregateKind::kMax}, {"sum", AggregateKind::kSum}, {"first", AggregateKind::kFirst}};

template <typename E, size_t N>
std::string NameOf(const Named<E> (&table)[N], E value) {
  for (const Named<E>& n : table) {
    if (n.value == value) return std::string(n.name);
  }
  return "?";
}

template <typename E, size_t N>
E Choose(const Reader& r, const YAML::Node& node, const std::string& path, const Named<E> (&table)[N]) {
  const std::string s = r.Str(node, path);
  std::vector<std::string> names;
  for (const Named<E>& n : table) {
    if (n.name == s) return n.value;
    names.emplace_back(n.name);
  }
  r.Fail(node, path, "unknown value " + Quote(s), SuggestFrom(s, names, "use one of"));
}

// ---------------------------------------------------------------------------------------------------------
// Variants

constexpr std::string_view kVariantKeys[] = {"retrieval", "embedder", "chunker",   "bm25", "analyzer",
                                             "fusion",    "rerank",   "aggregate", "depth"};
constexpr std::string_view kChunkerKeys[] = {"name", "size", "overlap"};
constexpr std::string_view kBm25Keys[] = {"k1", "b"};
constexpr std::string_view kAnalyzerKeys[] = {"stem", "stopwords"};
constexpr std::string_view kFusionKeys[] = {"method",  "k",     "alpha", "normalization",
                                            "weights", "gamma", "sigma", "phi"};
constexpr std::string_view kRerankKeys[] = {"method", "lambda"};

bool ValidVariantName(std::string_view name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(),
                     [](char c) {
                       return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                              c == '_' || c == '.' || c == '-';
                     }) &&
         name != "." && name != "..";
}

// `node` is the variant's mapping (or a scalar: the retrieval alone). `at` locates messages about the
// variant as a whole.
VariantSpec ParseVariant(const Reader& r, const YAML::Node& node, const std::string& name,
                         const std::string& path, const YAML::Node& at) {
  if (!ValidVariantName(name)) {
    r.Fail(at, path, "variant names are 1 to 64 letters, digits, '_', '.' or '-' (they name run files)");
  }
  VariantSpec v;
  v.name = name;
  RetrieverConfig& c = v.retrieval;
  if (node.IsScalar()) {
    c.retrieval = Choose(r, node, path, kRetrievals);
    return v;
  }
  r.RequireMap(node, path, kVariantKeys);
  const YAML::Node retrieval = Get(node, "retrieval");
  if (!retrieval.IsDefined()) {
    r.Fail(at, path, "missing retrieval", "add retrieval: bm25 | dense | hybrid");
  }
  c.retrieval = Choose(r, retrieval, Sub(path, "retrieval"), kRetrievals);
  const bool lexical = c.retrieval != RetrievalKind::kDense;
  const bool hybrid = c.retrieval == RetrievalKind::kHybrid;

  // Chunker: a name, or {name, size, overlap}.
  if (const YAML::Node n = Get(node, "chunker"); n.IsDefined()) {
    const std::string p = Sub(path, "chunker");
    if (n.IsMap()) r.RequireMap(n, p, kChunkerKeys);
    // (Never assign one YAML::Node to another: yaml-cpp's operator= rewrites the shared node.)
    const YAML::Node name_node = n.IsMap() ? Get(n, "name") : n;
    if (!name_node.IsDefined()) {
      r.Fail(n, p, "size/overlap given without a chunker name",
             "add chunker.name (chunker=NAME in --variant)");
    }
    const std::string chunker = r.NonEmpty(name_node, Sub(p, "name"));
    if (chunker != "none") {
      const std::vector<std::string> names = ChunkerNames();
      if (std::find(names.begin(), names.end(), chunker) == names.end()) {
        std::vector<std::string> all = names;
        all.insert(all.begin(), "none");
        r.Fail(name_node, Sub(p, "name"), "unknown chunker " + Quote(chunker),
               SuggestFrom(chunker, all, "use one of"));
      }
      v.chunker = chunker;
    }
    if (n.IsMap()) {
      for (std::string_view key : {"size", "overlap"}) {
        const YAML::Node x = Get(n, key);
        if (!x.IsDefined()) continue;
        if (v.chunker.empty()) r.Fail(x, Sub(p, key), "applies only with a chunker (not none)");
        const uint64_t value = r.Integer(x, Sub(p, key), key == "size" ? 1 : 0, uint64_t{1} << 32);
        (key == "size" ? v.chunk.size : v.chunk.overlap) = static_cast<size_t>(value);
      }
      if (!v.chunker.empty() && v.chunk.overlap >= v.chunk.size) {
        r.Fail(n, p,
               "overlap " + std::to_string(v.chunk.overlap) + " must be smaller than size " +
                   std::to_string(v.chunk.size) + " (defaults: size 3000, overlap 500)",
               "set chunker.overlap below chunker.size");
      }
    }
  }

  // BM25 parameters.
  if (const YAML::Node n = Get(node, "bm25"); n.IsDefined()) {
    const std::string p = Sub(path, "bm25");
    if (!lexical) r.Fail(n, p, "applies to bm25 and hybrid retrieval, not dense");
    r.RequireMap(n, p, kBm25Keys);
    if (const YAML::Node x = Get(n, "k1"); x.IsDefined()) c.bm25.k1 = r.Number(x, Sub(p, "k1"), 0, 1000);
    if (const YAML::Node x = Get(n, "b"); x.IsDefined()) c.bm25.b = r.Number(x, Sub(p, "b"), 0, 1);
  }

  // Analyzer settings of the BM25 side.
  if (const YAML::Node n = Get(node, "analyzer"); n.IsDefined()) {
    const std::string p = Sub(path, "analyzer");
    if (!lexical) r.Fail(n, p, "applies to bm25 and hybrid retrieval, not dense");
    r.RequireMap(n, p, kAnalyzerKeys);
    if (const YAML::Node x = Get(n, "stem"); x.IsDefined()) c.analyzer.stem = r.Bool(x, Sub(p, "stem"));
    if (const YAML::Node x = Get(n, "stopwords"); x.IsDefined())
      c.analyzer.stopwords = r.Bool(x, Sub(p, "stopwords"));
  }

  // Fusion: a method name, or {method, k, alpha, normalization, weights, gamma, sigma, phi}. rrf, weighted,
  // combsum and combmnz are the original four; any other unsupervised name of the fusion registry
  // (index/fusion.h) fuses as `rlm eval fuse` does.
  if (const YAML::Node n = Get(node, "fusion"); n.IsDefined()) {
    const std::string p = Sub(path, "fusion");
    if (!hybrid) r.Fail(n, p, "applies to hybrid retrieval only");
    const YAML::Node method_node = n.IsMap() ? Get(n, "method") : n;
    if (n.IsMap()) r.RequireMap(n, p, kFusionKeys);
    if (method_node.IsDefined()) {
      const std::string mp = n.IsMap() ? Sub(p, "method") : p;
      const std::string name = r.Str(method_node, mp);
      const bool original = std::any_of(std::begin(kFusions), std::end(kFusions),
                                        [&](const Named<FusionKind>& f) { return f.name == name; });
      if (original) {
        c.fusion = Choose(r, method_node, mp, kFusions);
      } else {
        const FusionMethodInfo& info =
            r.Located(method_node, mp, [&]() -> const FusionMethodInfo& { return FindFusionMethod(name); });
        if (info.needs_training) {
          r.Fail(method_node, mp, std::string(info.name) + " is supervised: it needs training qrels",
                 "fuse run files with `rlm eval fuse --method " + std::string(info.name) + " --qrels TRAIN`");
        }
        c.fusion = FusionKind::kRegistry;
        c.registry.method = info.method;
      }
    }
    if (n.IsMap()) {
      const bool registry = c.fusion == FusionKind::kRegistry;
      const FusionMethodInfo* info = registry ? &FusionMethodOf(c.registry.method) : nullptr;
      const std::string method = registry ? std::string(info->name) : NameOf(kFusions, c.fusion);
      for (const char* param : {"k", "gamma", "sigma", "phi"}) {
        const YAML::Node x = Get(n, param);
        if (!x.IsDefined()) continue;
        if (!registry) {
          if (std::string_view(param) != "k" || c.fusion != FusionKind::kRrf) {
            r.Fail(x, Sub(p, param), "does not apply to " + method + " fusion");
          }
          c.rrf_k = r.Number(x, Sub(p, "k"), 0, 1e9);
          continue;
        }
        const double v = r.Number(x, Sub(p, param), -1e9, 1e9);
        r.Located(x, Sub(p, param), [&] { SetFusionParam(*info, param, v, c.registry.params); });
      }
      if (const YAML::Node x = Get(n, "alpha"); x.IsDefined()) {
        const bool weighted = registry ? info->uses_weights : c.fusion == FusionKind::kWeighted;
        if (!weighted) r.Fail(x, Sub(p, "alpha"), "applies to weighted fusion, not " + method);
        c.alpha = r.Number(x, Sub(p, "alpha"), 0, 1);
        if (registry) c.registry.weights = {1 - c.alpha, c.alpha};
      }
      if (const YAML::Node x = Get(n, "weights"); x.IsDefined()) {
        if (!registry || !info->uses_weights) r.Fail(x, Sub(p, "weights"), method + " takes no weights");
        if (!x.IsSequence() || x.size() != 2) {
          r.Fail(x, Sub(p, "weights"), "expected two weights: [bm25, dense]");
        }
        c.registry.weights = {r.Number(x[0], Sub(p, "weights[0]"), -1e9, 1e9),
                              r.Number(x[1], Sub(p, "weights[1]"), -1e9, 1e9)};
      }
      if (const YAML::Node x = Get(n, "normalization"); x.IsDefined()) {
        const bool ranks = registry ? info->rank_based : c.fusion == FusionKind::kRrf;
        if (ranks) {
          r.Fail(x, Sub(p, "normalization"),
                 method + " fuses ranks, not scores: normalization does not apply");
        }
        if (registry) {
          const std::string name = r.Str(x, Sub(p, "normalization"));
          c.registry.norm = r.Located(x, Sub(p, "normalization"), [&] { return FindFusionNorm(name).norm; });
        } else {
          c.norm = Choose(r, x, Sub(p, "normalization"), kNorms);
        }
      }
    }
  }

  // Re-ranking: a method name, or {method, lambda}.
  if (const YAML::Node n = Get(node, "rerank"); n.IsDefined()) {
    const std::string p = Sub(path, "rerank");
    if (n.IsMap()) {
      r.RequireMap(n, p, kRerankKeys);
      if (const YAML::Node x = Get(n, "method"); x.IsDefined())
        c.rerank = Choose(r, x, Sub(p, "method"), kReranks);
      if (const YAML::Node x = Get(n, "lambda"); x.IsDefined()) {
        if (c.rerank != RerankKind::kMmr) r.Fail(x, Sub(p, "lambda"), "applies to rerank method mmr");
        c.mmr_lambda = r.Number(x, Sub(p, "lambda"), 0, 1);
      }
    } else {
      c.rerank = Choose(r, n, p, kReranks);
    }
  }

  if (const YAML::Node n = Get(node, "aggregate"); n.IsDefined()) {
    if (v.chunker.empty()) {
      r.Fail(n, Sub(path, "aggregate"), "applies only with a chunker: whole documents need no aggregation");
    }
    c.aggregate = Choose(r, n, Sub(path, "aggregate"), kAggregates);
  }
  if (const YAML::Node n = Get(node, "depth"); n.IsDefined()) {
    v.depth_override = r.Integer(n, Sub(path, "depth"), 1, 100'000'000);
  }

  // Embedder: required exactly when something uses vectors.
  const YAML::Node e = Get(node, "embedder");
  if (c.NeedsVectors()) {
    if (!e.IsDefined()) {
      r.Fail(at, path, "needs an embedder (dense and hybrid retrieval and mmr re-ranking embed text)",
             "add embedder: hash (or local:NAME, openai:MODEL, ollama:MODEL)");
    }
    v.embedder = r.NonEmpty(e, Sub(path, "embedder"));
    const std::string kind = v.embedder.substr(0, v.embedder.find(':'));
    const std::vector<std::string> kinds = EmbedderKinds();
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
      r.Fail(e, Sub(path, "embedder"), "unknown embedder kind " + Quote(kind),
             SuggestFrom(kind, kinds, "kinds"));
    }
  } else if (e.IsDefined()) {
    r.Fail(e, Sub(path, "embedder"), "unused: bm25 retrieval without mmr re-ranking embeds nothing");
  }
  return v;
}

// ---------------------------------------------------------------------------------------------------------
// The experiment

constexpr std::string_view kTopKeys[] = {"name",       "dataset", "depth",       "metrics",
                                         "statistics", "output",  "concurrency", "variants"};
constexpr std::string_view kDatasetKeys[] = {"path",    "format", "split", "corpus",
                                             "queries", "qrels",  "synth"};
constexpr std::string_view kSynthKeys[] = {"queries", "seed"};
constexpr std::string_view kStatisticsKeys[] = {"test",      "wilcoxon", "correction", "permutations",
                                                "bootstrap", "seed",     "alpha",      "baseline"};

void ParseDataset(const Reader& r, const YAML::Node& node, DatasetSpec& d) {
  r.RequireMap(node, "dataset", kDatasetKeys);
  if (const YAML::Node n = Get(node, "format"); n.IsDefined()) {
    const std::string f = r.Str(n, "dataset.format");
    r.Located(n, "dataset.format", [&] { d.format = ParseDatasetFormat(f); });
  }
  const DatasetFormatInfo& info = DatasetFormatOf(d.format);
  const char* format = info.name;
  const YAML::Node path = Get(node, "path");
  if (path.IsDefined()) {
    d.path = r.Path(r.NonEmpty(path, "dataset.path"));
  } else if (info.needs_path) {
    r.Fail(node, "dataset", std::string("missing path (the ") + format + " folder)");
  }
  auto not_for = [&](std::string_view key, bool allowed) {
    const YAML::Node n = Get(node, key);
    if (n.IsDefined() && !allowed) {
      r.Fail(n, Sub("dataset", key), std::string("does not apply to the ") + format + " format");
    }
    return n;
  };
  if (const YAML::Node n = not_for("split", info.takes_split); n.IsDefined()) {
    d.split = r.NonEmpty(n, "dataset.split");
    if (d.split.find('/') != std::string::npos) r.Fail(n, "dataset.split", "must be a plain name, e.g. test");
  }
  const bool files = info.takes_files;
  // Files named relative to dataset.path when it is given, else to the experiment file.
  auto file = [&](const YAML::Node& n, std::string_view key) {
    std::string s = r.NonEmpty(n, Sub("dataset", key));
    return d.path.empty() ? r.Path(s) : s;
  };
  if (const YAML::Node n = not_for("corpus", files); n.IsDefined()) d.corpus = file(n, "corpus");
  if (const YAML::Node n = not_for("queries", files); n.IsDefined()) d.queries = file(n, "queries");
  if (const YAML::Node n = not_for("qrels", info.takes_qrels); n.IsDefined()) {
    d.qrels = file(n, "qrels");
  }
  if (d.format == DatasetFormat::kEmbedEval && d.path.empty() && (d.corpus.empty() || d.queries.empty())) {
    r.Fail(node, "dataset",
           "an embedeval dataset needs a path (with corpus.jsonl and queries.jsonl) or both files",
           "add dataset.path, or dataset.corpus and dataset.queries");
  }
  if (d.format == DatasetFormat::kTrec) {
    for (std::string_view key : {"corpus", "queries", "qrels"}) {
      if (!Get(node, key).IsDefined()) {
        r.Fail(node, "dataset", "a trec dataset needs " + std::string(key) + " (a file name)");
      }
    }
  }
  if (const YAML::Node n = not_for("synth", info.takes_synth); n.IsDefined()) {
    r.RequireMap(n, "dataset.synth", kSynthKeys);
    if (const YAML::Node x = Get(n, "queries"); x.IsDefined()) {
      d.synth_queries = r.Integer(x, "dataset.synth.queries", 1, 10'000'000);
    }
    if (const YAML::Node x = Get(n, "seed"); x.IsDefined())
      d.synth_seed = r.Integer(x, "dataset.synth.seed", 0, UINT64_MAX);
  }
}

void ParseStatistics(const Reader& r, const YAML::Node& node, StatisticsSpec& s) {
  r.RequireMap(node, "statistics", kStatisticsKeys);
  if (const YAML::Node n = Get(node, "test"); n.IsDefined()) {
    const std::string t = r.Str(n, "statistics.test");
    s.test = r.Located(n, "statistics.test", [&] { return ParseComparisonTest(t); });
  }
  if (const YAML::Node n = Get(node, "wilcoxon"); n.IsDefined()) {
    const std::string w = r.Str(n, "statistics.wilcoxon");
    s.wilcoxon = r.Located(n, "statistics.wilcoxon", [&] { return ParseWilcoxonMethod(w); });
  }
  if (const YAML::Node n = Get(node, "correction"); n.IsDefined()) {
    const std::string c = r.Str(n, "statistics.correction");
    s.correction = r.Located(n, "statistics.correction", [&] { return ParsePValueCorrection(c); });
  }
  if (const YAML::Node n = Get(node, "permutations"); n.IsDefined()) {
    s.permutations = r.Integer(n, "statistics.permutations", 1, 100'000'000);
  }
  if (const YAML::Node n = Get(node, "bootstrap"); n.IsDefined()) {
    s.bootstrap = r.Integer(n, "statistics.bootstrap", 1, 100'000'000);
  }
  if (const YAML::Node n = Get(node, "seed"); n.IsDefined())
    s.seed = r.Integer(n, "statistics.seed", 0, UINT64_MAX);
  if (const YAML::Node n = Get(node, "alpha"); n.IsDefined())
    s.alpha = r.Number(n, "statistics.alpha", 1e-12, 0.5);
  if (const YAML::Node n = Get(node, "baseline"); n.IsDefined())
    s.baseline = r.NonEmpty(n, "statistics.baseline");
}

// trec_eval's name for an EmbedEval-style "name@k" ("ndcg@10" -> "ndcg_cut.10"), or "".
std::string TrecNameOf(std::string_view m) {
  const size_t at = m.find('@');
  if (at == std::string_view::npos || at + 1 == m.size()) return "";
  const std::string_view k = m.substr(at + 1);
  if (!std::all_of(k.begin(), k.end(), [](char c) { return c >= '0' && c <= '9'; })) return "";
  std::string base;
  for (char c : m.substr(0, at)) base += Lower(c);
  static constexpr std::pair<std::string_view, std::string_view> kNames[] = {
      {"ndcg", "ndcg_cut"},   {"recall", "recall"}, {"precision", "P"},  {"p", "P"},
      {"map", "map_cut"},     {"mrr", "mrr_cut"},   {"hit", "hit"},      {"hits", "hit"},
      {"success", "success"}, {"err", "err_cut"},   {"judged", "judged"}};
  for (const auto& [from, to] : kNames) {
    if (base == from) return std::string(to) + "." + std::string(k);
  }
  return "";
}

void CheckMetric(const std::string& m) {
  const std::vector<std::string> args = {m};
  try {
    (void)trec::MeasureSet::FromArgs(args);
  } catch (const InvalidInput& e) {
    const std::string trec_name = TrecNameOf(m);
    if (trec_name.empty()) throw;
    throw InvalidInput(e.what(), "measures use trec_eval's names: write '" + trec_name + "'");
  }
}

void ParseMetrics(const Reader& r, const YAML::Node& node, std::vector<std::string>& metrics) {
  std::vector<YAML::Node> items;
  if (node.IsSequence()) {
    for (auto it = node.begin(); it != node.end(); ++it) items.push_back(*it);
  } else {
    items.push_back(node);
  }
  if (items.empty())
    r.Fail(node, "metrics", "is empty", "omit metrics for the defaults, or list trec_eval measures");
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string path = "metrics[" + std::to_string(i) + "]";
    std::string m = r.NonEmpty(items[i], path);
    if (std::find(metrics.begin(), metrics.end(), m) != metrics.end())
      r.Fail(items[i], path, Quote(m) + " listed twice");
    r.Located(items[i], path, [&] { CheckMetric(m); });
    metrics.push_back(std::move(m));
  }
}

Experiment ParseRoot(const Reader& r, const YAML::Node& root, const Context& ctx) {
  if (root.IsNull() || !root.IsDefined())
    r.Fail(root, "", "the experiment is empty", "see docs for the schema");
  r.RequireMap(root, "", kTopKeys);
  Experiment e;
  if (const YAML::Node n = Get(root, "name"); n.IsDefined()) {
    e.name = r.Literal(n, "name");
  } else {
    e.name = fs::path(ctx.source).stem().string();
  }
  const YAML::Node dataset = Get(root, "dataset");
  if (!dataset.IsDefined()) r.Fail(root, "", "missing dataset", "add dataset: {path: FOLDER, format: beir}");
  ParseDataset(r, dataset, e.dataset);
  if (const YAML::Node n = Get(root, "depth"); n.IsDefined()) e.depth = r.Integer(n, "depth", 1, 100'000'000);
  if (const YAML::Node n = Get(root, "metrics"); n.IsDefined()) ParseMetrics(r, n, e.metrics);
  if (const YAML::Node n = Get(root, "statistics"); n.IsDefined()) ParseStatistics(r, n, e.statistics);
  if (const YAML::Node n = Get(root, "output"); n.IsDefined()) {
    e.output = r.Path(r.Literal(n, "output"));
  } else {
    e.output = r.Path("results/" + e.name);
  }
  if (const YAML::Node n = Get(root, "concurrency"); n.IsDefined()) {
    e.concurrency = r.Integer(n, "concurrency", 0, 4096);
  }
  const YAML::Node variants = Get(root, "variants");
  if (!variants.IsDefined()) r.Fail(root, "", "missing variants", "add variants: {bm25: {retrieval: bm25}}");
  if (!variants.IsMap() || variants.size() == 0) {
    r.Fail(variants, "variants",
           "expected a mapping of variant names to settings, e.g. bm25: {retrieval: bm25}");
  }
  std::set<std::string, std::less<>> names;
  for (auto it = variants.begin(); it != variants.end(); ++it) {
    if (!it->first.IsScalar()) r.Fail(it->first, "variants", "variant names must be plain names");
    const std::string& name = it->first.Scalar();
    if (!names.insert(name).second) r.Fail(it->first, "variants." + name, "variant defined twice");
    e.variants.push_back(ParseVariant(r, it->second, name, "variants." + name, it->first));
  }
  if (!e.statistics.baseline.empty() && !names.contains(e.statistics.baseline)) {
    const YAML::Node at = Get(Get(root, "statistics"), "baseline");
    r.Fail(at, "statistics.baseline", "names no variant: " + Quote(e.statistics.baseline),
           SuggestFrom(e.statistics.baseline, {names.begin(), names.end()}, "variants"));
  }
  return e;
}

// ---------------------------------------------------------------------------------------------------------
// Canonical JSON

nlohmann::json VariantJson(const VariantSpec& v) {
  const RetrieverConfig& c = v.retrieval;
  nlohmann::json j;
  j["name"] = v.name;
  j["retrieval"] = NameOf(kRetrievals, c.retrieval);
  if (!v.embedder.empty()) j["embedder"] = v.embedder;
  if (v.chunker.empty()) {
    j["chunker"] = "none";
  } else {
    j["chunker"] = {{"name", v.chunker}, {"size", v.chunk.size}, {"overlap", v.chunk.overlap}};
    j["aggregate"] = NameOf(kAggregates, c.aggregate);
  }
  if (c.retrieval != RetrievalKind::kDense) {
    j["bm25"] = {{"k1", c.bm25.k1}, {"b", c.bm25.b}};
    j["analyzer"] = {{"stem", c.analyzer.stem}, {"stopwords", c.analyzer.stopwords}};
  }
  if (c.retrieval == RetrievalKind::kHybrid) {
    nlohmann::json f;
    if (c.fusion == FusionKind::kRegistry) {
      const FusionMethodInfo& info = FusionMethodOf(c.registry.method);
      f["method"] = info.name;
      if (!info.rank_based) f["normalization"] = FusionNormOf(c.registry.norm).name;
      if (info.uses_weights) f["weights"] = c.registry.weights;
      for (const FusionParamInfo* param : info.params) f[param->name] = c.registry.params.*(param->field);
    } else if (c.fusion == FusionKind::kRrf) {
      f["method"] = "rrf";
      f["k"] = c.rrf_k;
    } else {
      f["method"] = NameOf(kFusions, c.fusion);
      f["normalization"] = NameOf(kNorms, c.norm);
      if (c.fusion == FusionKind::kWeighted) f["alpha"] = c.alpha;
    }
    j["fusion"] = f;
  }
  j["rerank"] = {{"method", NameOf(kReranks, c.rerank)}};
  if (c.rerank == RerankKind::kMmr) j["rerank"]["lambda"] = c.mmr_lambda;
  j["depth"] = c.depth;
  return j;
}

nlohmann::json DatasetIdentity(const DatasetSpec& d) {
  nlohmann::json j = {{"format", DatasetFormatName(d.format)}};
  if (d.format == DatasetFormat::kBeir) j["split"] = d.split;
  if (d.format == DatasetFormat::kSynth) j["synth"] = {{"queries", d.synth_queries}, {"seed", d.synth_seed}};
  return j;
}

// Parses with yaml-cpp, converting its exceptions (and any other non-rlm one) into InvalidInput.
YAML::Node LoadYaml(std::string_view text, const std::string& source) {
  if (const std::optional<size_t> bad = utf8::FindInvalid(text)) {
    const std::string_view before = text.substr(0, *bad);
    const size_t nl = before.rfind('\n');
    throw InvalidInput(source + ":" + std::to_string(1 + utf8::CountNewlines(before)) + ":" +
                           std::to_string(*bad - (nl == std::string_view::npos ? 0 : nl + 1) + 1) +
                           ": invalid UTF-8",
                       "save the experiment as UTF-8", ErrorType::kInvalidExperiment);
  }
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    std::string where = source;
    if (!e.mark.is_null())
      where += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    throw InvalidInput(where + ": YAML syntax error: " + ValidUtf8(e.msg), "", ErrorType::kInvalidExperiment);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------

std::vector<std::string> DefaultMetrics() {
  return {"ndcg_cut.10", "recall.100", "map", "recip_rank", "P.10"};
}

std::optional<std::string> ProcessEnv(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

Experiment ParseExperiment(std::string_view text, const std::string& source, const std::string& base_dir,
                           const EnvLookup& env) {
  Context ctx{source, base_dir, &env};
  Reader r(ctx);
  try {
    const YAML::Node root = LoadYaml(text, source);
    Experiment e = ParseRoot(r, root, ctx);
    FinalizeExperiment(e);
    return e;
  } catch (const Error&) {
    throw;
  } catch (const YAML::Exception& e) {  // a conversion deep in yaml-cpp: still the input's fault
    throw InvalidInput(source + ": cannot read the experiment: " + ValidUtf8(e.what()), "",
                       ErrorType::kInvalidExperiment);
  } catch (const std::exception& e) {
    throw InvalidInput(source + ": cannot read the experiment: " + ValidUtf8(e.what()), "",
                       ErrorType::kInvalidExperiment);
  }
}

Experiment LoadExperiment(const std::string& path, const EnvLookup& env) {
  const std::string text = ReadFile(path);
  const std::string base = fs::path(path).parent_path().string();
  return ParseExperiment(text, path, base, env);
}

VariantSpec ParseVariantFlag(std::string_view flag) {
  static constexpr std::string_view kFlagKeys[] = {
      "embedder", "chunker", "size",  "overlap",       "k1",     "b",      "stem",      "stopwords",
      "fusion",   "k",       "alpha", "normalization", "rerank", "lambda", "aggregate", "depth",
      "gamma",    "sigma",   "phi"};
  const std::string head = "--variant " + ValidUtf8(utf8::Truncate(flag.substr(0, flag.find(',')), 80));
  if (utf8::FindInvalid(flag)) {
    throw InvalidInput(head + ": not valid UTF-8", "", ErrorType::kInvalidExperiment);
  }
  auto fail = [&](const std::string& what, std::string suggestion = "") {
    throw InvalidInput(head + ": " + what, std::move(suggestion), ErrorType::kInvalidExperiment);
  };
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t comma = flag.find(',', start);
    parts.push_back(
        flag.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  const size_t eq = parts[0].find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == parts[0].size()) {
    fail("expected NAME=RETRIEVAL[,key=value...]", "e.g. --variant hyb=hybrid,embedder=hash,fusion=rrf,k=60");
  }
  const std::string name(parts[0].substr(0, eq));
  YAML::Node node(YAML::NodeType::Map);
  node["retrieval"] = std::string(parts[0].substr(eq + 1));
  std::set<std::string, std::less<>> given;
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t e = parts[i].find('=');
    if (e == std::string_view::npos || e == 0) fail("expected key=value, got " + Quote(parts[i]));
    std::string key(parts[i].substr(0, e));
    const std::string value(parts[i].substr(e + 1));
    if (key == "norm") key = "normalization";
    if (std::find(std::begin(kFlagKeys), std::end(kFlagKeys), key) == std::end(kFlagKeys)) {
      const std::vector<std::string> valid = ToStrings(kFlagKeys);
      const std::string near = Nearest(key, valid);
      fail("unknown key " + Quote(key) + (near.empty() ? "" : "; did you mean '" + near + "'?"),
           (near.empty() ? "" : "did you mean '" + near + "'? ") + "valid keys: " + Join(valid));
    }
    if (!given.insert(key).second) fail("key " + Quote(key) + " given twice");
    if (key == "embedder" || key == "aggregate" || key == "depth") {
      node[key] = value;
    } else if (key == "chunker") {
      node["chunker"]["name"] = value;
    } else if (key == "size" || key == "overlap") {
      node["chunker"][key] = value;
    } else if (key == "k1" || key == "b") {
      node["bm25"][key] = value;
    } else if (key == "stem" || key == "stopwords") {
      node["analyzer"][key] = value;
    } else if (key == "fusion") {
      node["fusion"]["method"] = value;
    } else if (key == "k" || key == "alpha" || key == "normalization" || key == "gamma" || key == "sigma" ||
               key == "phi") {
      node["fusion"][key] = value;
    } else if (key == "rerank") {
      node["rerank"]["method"] = value;
    } else if (key == "lambda") {
      node["rerank"]["lambda"] = value;
    }
  }
  Context ctx{head, "", nullptr};
  Reader r(ctx);
  return ParseVariant(r, node, name, "", node);
}

void FinalizeExperiment(Experiment& e) {
  auto fail = [](const std::string& what, std::string suggestion = "") {
    throw InvalidInput("experiment: " + what, std::move(suggestion), ErrorType::kInvalidExperiment);
  };
  if (e.name.empty()) e.name = "experiment";
  if (e.output.empty()) e.output = "results/" + e.name;
  if (e.depth == 0) fail("depth must be at least 1");
  if (e.metrics.empty()) e.metrics = DefaultMetrics();
  for (const std::string& m : e.metrics) {
    try {
      CheckMetric(m);
    } catch (const InvalidInput& x) {
      fail(std::string("metrics: ") + x.what(), x.suggestion());
    }
  }
  if (e.variants.empty()) fail("no variants", "add one, e.g. --variant bm25=bm25");
  std::set<std::string, std::less<>> names;
  for (VariantSpec& v : e.variants) {
    if (!ValidVariantName(v.name)) fail("bad variant name " + Quote(v.name));
    if (!names.insert(v.name).second) fail("variant " + Quote(v.name) + " defined twice");
    v.retrieval.depth = v.depth_override != 0 ? v.depth_override : e.depth;
  }
  if (e.statistics.baseline.empty()) e.statistics.baseline = e.variants.front().name;
  if (!names.contains(e.statistics.baseline)) {
    fail("statistics.baseline names no variant: " + Quote(e.statistics.baseline),
         SuggestFrom(e.statistics.baseline, {names.begin(), names.end()}, "variants"));
  }
}

nlohmann::json ExperimentToJson(const Experiment& e) {
  const DatasetSpec& d = e.dataset;
  nlohmann::json dataset = DatasetIdentity(d);
  dataset["path"] = d.path;
  if (d.format != DatasetFormat::kTrec || (!d.corpus.empty() && !d.queries.empty() && !d.qrels.empty())) {
    for (const DatasetFile& f : DatasetFormatOf(d.format).files(d)) dataset[f.role] = f.name;
  }
  nlohmann::json variants = nlohmann::json::array();
  for (const VariantSpec& v : e.variants) variants.push_back(VariantJson(v));
  const StatisticsSpec& s = e.statistics;
  return {
      {"name", e.name},
      {"dataset", dataset},
      {"depth", e.depth},
      {"metrics", e.metrics},
      {"statistics",
       {{"test", std::string(ComparisonTestName(s.test))},
        {"wilcoxon", std::string(WilcoxonMethodName(s.wilcoxon))},
        {"correction", std::string(PValueCorrectionName(s.correction))},
        {"permutations", s.permutations},
        {"bootstrap", s.bootstrap},
        {"seed", s.seed},
        {"alpha", s.alpha},
        {"baseline", s.baseline}}},
      {"output", e.output},
      {"concurrency", e.concurrency},
      {"variants", variants},
  };
}

Hash128 ExperimentFingerprint(const Experiment& e) {
  nlohmann::json variants = nlohmann::json::array();
  for (const VariantSpec& v : e.variants) variants.push_back(VariantJson(v));
  const nlohmann::json identity = {
      {"version", 1}, {"dataset", DatasetIdentity(e.dataset)}, {"variants", variants}};
  return ContentHash(identity.dump());
}

}  // namespace rlm
