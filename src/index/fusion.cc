#include "index/fusion.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"

namespace rlm {

// ---- Registry ----

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

const FusionParamInfo kParamK{
    "k", &FusionParams::k, 0, kInf, false, 10, 100, 10, "RRF's rank offset: 1 / (k + rank)"};
const FusionParamInfo kParamGamma{"gamma",
                                  &FusionParams::gamma,
                                  0,
                                  kInf,
                                  false,
                                  0.01,
                                  1,
                                  0.01,
                                  "CombGMNZ's exponent of the number of lists"};
const FusionParamInfo kParamSigma{
    "sigma", &FusionParams::sigma, 0, 1, false, 0.01, 1, 0.01, "LogN_ISR's offset: ln(|S| + sigma)"};
const FusionParamInfo kParamPhi{
    "phi", &FusionParams::phi, 0, 1, false, 0.01, 1, 0.01, "RBC's persistence: (1 - phi) * phi^position"};
const FusionParamInfo kParamSegments{"segments", &FusionParams::segments,       1, 1e6, true, 1, 100,
                                     1,          "ProbFuse's segments per list"};
const FusionParamInfo kParamWindow{
    "window", &FusionParams::window, 0, 1e6, true, 1, 100, 1, "SlideFuse's window: positions either side"};

using M = FusionMethod;
const std::vector<FusionMethodInfo>& MethodTable() {
  // name, aliases, summary, uses_weights, needs_training, rank_based, params
  static const std::vector<FusionMethodInfo> table = {
      {M::kCombMin, "min", "combmin", "CombMIN: the lowest score", false, false, false, {}},
      {M::kCombMax, "max", "combmax", "CombMAX: the highest score", false, false, false, {}},
      {M::kCombMed, "med", "combmed", "CombMED: the median score", false, false, false, {}},
      {M::kCombSum, "sum", "combsum", "CombSUM: the sum of scores", false, false, false, {}},
      {M::kCombAnz,
       "anz",
       "combanz",
       "CombANZ: CombSUM / lists containing the document",
       false,
       false,
       false,
       {}},
      {M::kCombMnz,
       "mnz",
       "combmnz",
       "CombMNZ: CombSUM * lists containing the document",
       false,
       false,
       false,
       {}},
      {M::kCombGmnz,
       "gmnz",
       "combgmnz",
       "CombGMNZ: CombSUM * lists^gamma",
       false,
       false,
       false,
       {&kParamGamma}},
      {M::kRrf, "rrf", "", "Reciprocal rank fusion: sum of 1 / (k + rank)", false, false, true, {&kParamK}},
      {M::kIsr, "isr", "", "ISR: sum of 1 / rank^2, times lists", false, false, true, {}},
      {M::kLogIsr, "log_isr", "", "Log_ISR: sum of 1 / rank^2, times ln(lists)", false, false, true, {}},
      {M::kLognIsr,
       "logn_isr",
       "",
       "LogN_ISR: sum of 1 / rank^2, times ln(lists + sigma)",
       false,
       false,
       true,
       {&kParamSigma}},
      {M::kRbc,
       "rbc",
       "",
       "Rank-biased centroid: sum of (1 - phi) * phi^(rank - 1)",
       false,
       false,
       true,
       {&kParamPhi}},
      {M::kBorda, "bordafuse", "borda", "BordaFuse: Borda points", false, false, true, {}},
      {M::kWeightedBorda,
       "w_bordafuse",
       "weighted_bordafuse,wborda",
       "Weighted BordaFuse",
       true,
       false,
       true,
       {}},
      {M::kCondorcet, "condorcet", "", "CondorcetFuse: sorted by pairwise majority", false, false, true, {}},
      {M::kWeightedCondorcet,
       "w_condorcet",
       "weighted_condorcet,wcondorcet",
       "Weighted CondorcetFuse",
       true,
       false,
       true,
       {}},
      {M::kWsum, "wsum", "weighted_sum", "Weighted sum of scores", true, false, false, {}},
      {M::kWmnz,
       "wmnz",
       "",
       "Weighted MNZ: CombSUM * the weights of the lists containing it",
       true,
       false,
       false,
       {}},
      {M::kMixed, "mixed", "", "Mixed: weighted sum * sqrt(lists)", true, false, false, {}},
      {M::kPosFuse, "posfuse", "", "PosFuse: trained P(relevant | position)", false, true, true, {}},
      {M::kProbFuse,
       "probfuse",
       "",
       "ProbFuse: trained P(relevant | segment) / segment",
       false,
       true,
       true,
       {&kParamSegments}},
      {M::kSegFuse,
       "segfuse",
       "",
       "SegFuse: trained P(relevant | segment) * (score + 1)",
       false,
       true,
       false,
       {}},
      {M::kSlideFuse,
       "slidefuse",
       "",
       "SlideFuse: trained P(relevant | position), window mean",
       false,
       true,
       true,
       {&kParamWindow}},
      {M::kMapFuse, "mapfuse", "", "MAPFuse: trained MAP / rank", false, true, true, {}},
      {M::kBayesFuse,
       "bayesfuse",
       "",
       "BayesFuse: trained log-odds of relevance by position",
       false,
       true,
       true,
       {}},
  };
  return table;
}

using N = FusionNorm;
constexpr FusionNormInfo kNorms[] = {
    {N::kNone, "none", "", "the raw scores"},
    {N::kMinMax, "min-max", "min_max,minmax", "(s - min) / (max - min)"},
    {N::kMax, "max", "", "s / max"},
    {N::kSum, "sum", "", "(s - min) / (sum - n * min)"},
    {N::kZmuv, "zmuv", "z-score,zscore", "(s - mean) / sd (zero mean, unit variance)"},
    {N::kRank, "rank", "", "1 - (rank - 1) / n"},
    {N::kBorda, "borda", "", "1 - (rank - 1) / candidates; absent documents share the remaining points"},
};

// Lower case, '-' as '_'.
std::string Canonical(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = c == '-' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool Matches(std::string_view name, const char* primary, const char* aliases) {
  const std::string want = Canonical(name);
  if (want == Canonical(primary)) return true;
  std::string_view rest = aliases;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    if (Canonical(rest.substr(0, comma)) == want) return true;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::span<const FusionMethodInfo> FusionMethods() {
  return MethodTable();
}
std::span<const FusionNormInfo> FusionNorms() {
  return kNorms;
}

const FusionMethodInfo& FindFusionMethod(std::string_view name) {
  for (const FusionMethodInfo& m : FusionMethods()) {
    if (Matches(name, m.name, m.aliases)) return m;
  }
  std::string names;
  for (const FusionMethodInfo& m : FusionMethods())
    names += (names.empty() ? "" : ", ") + std::string(m.name);
  throw InvalidInput("unknown fusion method '" + std::string(name) + "'", "use one of: " + names);
}

const FusionNormInfo& FindFusionNorm(std::string_view name) {
  for (const FusionNormInfo& n : kNorms) {
    if (Matches(name, n.name, n.aliases)) return n;
  }
  std::string names;
  for (const FusionNormInfo& n : kNorms) names += (names.empty() ? "" : ", ") + std::string(n.name);
  throw InvalidInput("unknown normalization '" + std::string(name) + "'", "use one of: " + names);
}

const FusionMethodInfo& FusionMethodOf(FusionMethod method) {
  for (const FusionMethodInfo& m : FusionMethods()) {
    if (m.method == method) return m;
  }
  throw InternalError("fusion method missing from the registry");
}

const FusionNormInfo& FusionNormOf(FusionNorm norm) {
  for (const FusionNormInfo& n : kNorms) {
    if (n.norm == norm) return n;
  }
  throw InternalError("normalization missing from the registry");
}

namespace {

void CheckParam(const FusionMethodInfo& method, const FusionParamInfo& p, double value) {
  if (!std::isfinite(value) || value < p.min || value > p.max || (p.integer && value != std::floor(value))) {
    std::string range = p.max == kInf ? ">= " + std::to_string(static_cast<int64_t>(p.min))
                                      : "in [" + std::to_string(p.min) + ", " + std::to_string(p.max) + "]";
    if (p.min == 0 && p.max == 1) range = "in [0, 1]";
    throw InvalidInput(std::string(method.name) + " parameter " + p.name + " must be " +
                       (p.integer ? "an integer " : "a number ") + range);
  }
}

}  // namespace

void SetFusionParam(const FusionMethodInfo& method, std::string_view name, double value,
                    FusionParams& params) {
  for (const FusionParamInfo* p : method.params) {
    if (Canonical(name) == p->name) {
      CheckParam(method, *p, value);
      params.*(p->field) = value;
      return;
    }
  }
  std::string names;
  for (const FusionParamInfo* p : method.params) names += (names.empty() ? "" : ", ") + std::string(p->name);
  throw InvalidInput(
      "fusion method " + std::string(method.name) + " has no parameter '" + std::string(name) + "'",
      names.empty() ? "it takes no parameters" : "its parameters: " + names);
}

void CheckFusionSpec(const FusionSpec& spec, size_t num_lists, const FusionModel* model) {
  const FusionMethodInfo& info = FusionMethodOf(spec.method);
  for (const FusionParamInfo* p : info.params) CheckParam(info, *p, spec.params.*(p->field));
  if (info.uses_weights && !spec.weights.empty()) {
    if (spec.weights.size() != num_lists) {
      throw InvalidInput(std::string(info.name) + " needs one weight per run: " + std::to_string(num_lists) +
                         " runs, " + std::to_string(spec.weights.size()) + " weights");
    }
    for (double w : spec.weights) {
      if (!std::isfinite(w)) throw InvalidInput("fusion weights must be finite numbers");
    }
  }
  if (info.needs_training) {
    if (model == nullptr) {
      throw InvalidInput(std::string(info.name) +
                         " is supervised: it needs training qrels to estimate its "
                         "parameters");
    }
    if (model->lists.size() != num_lists) {
      throw InvalidInput(std::string(info.name) + " was trained on " + std::to_string(model->lists.size()) +
                         " runs, not " + std::to_string(num_lists));
    }
    for (const std::vector<double>& l : model->lists) {
      const bool ok = spec.method == M::kSegFuse    ? l.size() == 10
                      : spec.method == M::kMapFuse  ? l.size() == 1
                      : spec.method == M::kProbFuse ? !l.empty()
                                                    : true;
      if (!ok) throw InvalidInput(std::string(info.name) + ": the trained model has the wrong shape");
    }
  }
}

// ---- FusionQuery ----

FusionQuery::FusionQuery(std::span<const std::vector<RankedDoc>> lists, FusionNorm norm) {
  const size_t n = lists.size();
  list_size_.resize(n);
  size_t total = 0;
  for (const auto& l : lists) total += l.size();
  // Ordinal -> candidate: a dense array when the ordinals are small (eval fuse numbers each query's documents
  // from 0), a hash map otherwise (search passes corpus-wide ordinals).
  uint32_t max_doc = 0;
  for (const auto& l : lists) {
    for (const RankedDoc& d : l) max_doc = std::max(max_doc, d.doc);
  }
  const bool dense = max_doc < 4 * total + 1024;
  std::vector<uint32_t> dense_local(dense ? max_doc + 1 : 0, UINT32_MAX);
  std::unordered_map<uint32_t, uint32_t> local;
  if (!dense) local.reserve(total);
  const auto candidate = [&](uint32_t doc) -> std::pair<uint32_t, bool> {
    const uint32_t next = static_cast<uint32_t>(docs_.size());
    if (dense) {
      if (dense_local[doc] != UINT32_MAX) return {dense_local[doc], false};
      return {dense_local[doc] = next, true};
    }
    auto [it, inserted] = local.try_emplace(doc, next);
    return {it->second, inserted};
  };
  std::vector<uint32_t> last_list;  // candidate -> the last list it was seen in (dedupes within a list)
  struct Raw {
    uint32_t cand, list, pos;
    double score;
  };
  std::vector<Raw> raw;
  raw.reserve(total);
  struct Stats {
    double min = kInf, max = -kInf, sum = 0, sd = 0;
    size_t count = 0;
  };
  std::vector<Stats> stats(n);
  for (size_t i = 0; i < n; ++i) {
    const std::vector<RankedDoc>& list = lists[i];
    list_size_[i] = static_cast<uint32_t>(list.size());
    if (!list.empty()) ++nonempty_lists_;
    Stats& st = stats[i];
    for (size_t p = 0; p < list.size(); ++p) {
      const double s = list[p].score;
      if (!std::isfinite(s)) throw InvalidInput("fusion input: a score is not a finite number");
      const auto [c, inserted] = candidate(list[p].doc);
      if (inserted) {
        docs_.push_back(list[p].doc);
        last_list.push_back(UINT32_MAX);
      }
      if (last_list[c] == i) continue;
      last_list[c] = static_cast<uint32_t>(i);
      raw.push_back({c, static_cast<uint32_t>(i), static_cast<uint32_t>(p), s});
      st.min = std::min(st.min, s);
      st.max = std::max(st.max, s);
      st.sum += s;
      ++st.count;
    }
  }
  const size_t m = docs_.size();
  if (norm == FusionNorm::kZmuv) {
    for (const Raw& r : raw) {
      const double mean = stats[r.list].sum / static_cast<double>(stats[r.list].count);
      stats[r.list].sd += (r.score - mean) * (r.score - mean);
    }
    for (Stats& st : stats) {
      if (st.count) st.sd = std::sqrt(st.sd / static_cast<double>(st.count));
    }
  }
  for (Raw& r : raw) {
    const Stats& st = stats[r.list];
    const double n_i = static_cast<double>(list_size_[r.list]);
    double& s = r.score;
    switch (norm) {
      case FusionNorm::kNone:
        break;
      case FusionNorm::kMinMax:
        s = (s - st.min) / std::max(st.max - st.min, 1e-9);
        break;
      case FusionNorm::kMax:
        s = s / std::max(st.max, 1e-9);
        break;
      case FusionNorm::kSum:
        s = (s - st.min) / std::max(st.sum - st.min * static_cast<double>(st.count), 1e-9);
        break;
      case FusionNorm::kZmuv:
        s = (s - st.sum / static_cast<double>(st.count)) / std::max(st.sd, 1e-9);
        break;
      case FusionNorm::kRank:
        s = 1 - static_cast<double>(r.pos) / n_i;
        break;
      case FusionNorm::kBorda:
        s = 1 - static_cast<double>(r.pos) / static_cast<double>(m);
        break;
    }
  }
  // Group by candidate, keeping list order within a candidate (raw is in list order: a stable counting sort).
  std::vector<uint32_t> count(m + 1, 0);
  for (const Raw& r : raw) ++count[r.cand + 1];
  if (norm == FusionNorm::kBorda) {
    for (size_t c = 0; c < m; ++c) count[c + 1] = static_cast<uint32_t>(nonempty_lists_);
  }
  begin_.assign(m + 1, 0);
  for (size_t c = 0; c < m; ++c) begin_[c + 1] = begin_[c] + count[c + 1];
  entries_.resize(begin_[m]);
  std::vector<uint32_t> fill(begin_.begin(), begin_.end() - 1);
  if (norm != FusionNorm::kBorda) {
    for (const Raw& r : raw) entries_[fill[r.cand]++] = {r.list, r.pos, r.score};
    return;
  }
  // Borda normalisation: every candidate gets an entry in every non-empty list, absent ones unranked.
  std::vector<std::vector<const Raw*>> by_cand(m);
  for (const Raw& r : raw) by_cand[r.cand].push_back(&r);
  for (size_t c = 0; c < m; ++c) {
    size_t next = 0;
    for (uint32_t i = 0; i < n; ++i) {
      if (list_size_[i] == 0) continue;
      if (next < by_cand[c].size() && by_cand[c][next]->list == i) {
        const Raw& r = *by_cand[c][next++];
        entries_[fill[c]++] = {r.list, r.pos, r.score};
      } else {
        const double absent = 0.5 - (static_cast<double>(list_size_[i]) - 1) / (2.0 * static_cast<double>(m));
        entries_[fill[c]++] = {i, kUnranked, absent};
      }
    }
  }
}

namespace {

// SegFuse's segment boundaries: 0 and 10 * 2^(k-1) - 5 for k = 1..10.
constexpr uint32_t kSegBounds[] = {0, 5, 15, 35, 75, 155, 315, 635, 1275, 2555, 5115};

double Median(std::vector<double>& v) {
  std::sort(v.begin(), v.end());
  const size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

}  // namespace

void FusionQuery::Fuse(const FusionSpec& spec, const FusionModel* model, std::vector<RankedDoc>& out) const {
  const size_t m = docs_.size(), n = list_size_.size();
  out.clear();
  out.reserve(m);
  const auto weight = [&](uint32_t i) { return spec.weights.empty() ? 1.0 : spec.weights[i]; };
  const FusionParams& prm = spec.params;
  const double min_odd = std::log(0.001 / 0.999);

  if (spec.method == M::kCondorcet || spec.method == M::kWeightedCondorcet) {
    const bool weighted = spec.method == M::kWeightedCondorcet;
    std::vector<uint32_t> pos(n * m, kUnranked);  // list-major
    for (size_t c = 0; c < m; ++c) {
      for (uint32_t e = begin_[c]; e < begin_[c + 1]; ++e) pos[entries_[e].list * m + c] = entries_[e].pos;
    }
    // y beats x: more (weighted) lists rank y above x than x above y.
    const auto beats = [&](uint32_t y, uint32_t x) {
      double vy = 0, vx = 0;
      for (size_t i = 0; i < n; ++i) {
        const uint32_t py = pos[i * m + y], px = pos[i * m + x];
        const double w = weighted ? weight(static_cast<uint32_t>(i)) : 1.0;
        if (py < px)
          vy += w;
        else if (px < py)
          vx += w;
      }
      return vy > vx;
    };
    std::vector<uint32_t> order(m), buf(m);
    for (uint32_t c = 0; c < m; ++c) order[c] = c;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return docs_[a] < docs_[b]; });
    for (size_t width = 1; width < m; width *= 2) {
      for (size_t lo = 0; lo < m; lo += 2 * width) {
        const size_t mid = std::min(lo + width, m), hi = std::min(lo + 2 * width, m);
        size_t a = lo, b = mid, o = lo;
        while (a < mid && b < hi) buf[o++] = beats(order[b], order[a]) ? order[b++] : order[a++];
        while (a < mid) buf[o++] = order[a++];
        while (b < hi) buf[o++] = order[b++];
      }
      order.swap(buf);
    }
    for (size_t r = 0; r < m; ++r) out.push_back({docs_[order[r]], static_cast<double>(m - r)});
    return;  // distinct scores, already in ranking order
  }

  std::vector<double> scratch;
  for (size_t c = 0; c < m; ++c) {
    const Entry* first = entries_.data() + begin_[c];
    const Entry* last = entries_.data() + begin_[c + 1];
    double sum = 0, score = 0;
    size_t present = 0, ranked = 0;
    for (const Entry* e = first; e != last; ++e) {
      sum += e->score;
      ++present;
      if (e->pos != kUnranked) ++ranked;
    }
    switch (spec.method) {
      case M::kCombMin: {
        score = kInf;
        for (const Entry* e = first; e != last; ++e) score = std::min(score, e->score);
        break;
      }
      case M::kCombMax: {
        score = -kInf;
        for (const Entry* e = first; e != last; ++e) score = std::max(score, e->score);
        break;
      }
      case M::kCombMed: {
        scratch.clear();
        for (const Entry* e = first; e != last; ++e) scratch.push_back(e->score);
        score = Median(scratch);
        break;
      }
      case M::kCombSum:
        score = sum;
        break;
      case M::kCombAnz:
        score = sum / static_cast<double>(present);
        break;
      case M::kCombMnz:
        score = sum * static_cast<double>(present);
        break;
      case M::kCombGmnz:
        score = sum * std::pow(static_cast<double>(present), prm.gamma);
        break;
      case M::kRrf:
        for (const Entry* e = first; e != last; ++e) {
          if (e->pos != kUnranked) score += 1.0 / (prm.k + (e->pos + 1.0));
        }
        break;
      case M::kIsr:
      case M::kLogIsr:
      case M::kLognIsr: {
        for (const Entry* e = first; e != last; ++e) {
          if (e->pos != kUnranked) score += 1.0 / ((e->pos + 1.0) * (e->pos + 1.0));
        }
        const double r = static_cast<double>(ranked);
        score *= spec.method == M::kIsr      ? r
                 : spec.method == M::kLogIsr ? std::log(r)
                                             : std::log(r + prm.sigma);
        break;
      }
      case M::kRbc:
        for (const Entry* e = first; e != last; ++e) {
          if (e->pos != kUnranked) score += (1 - prm.phi) * std::pow(prm.phi, static_cast<double>(e->pos));
        }
        break;
      case M::kBorda:
      case M::kWeightedBorda: {
        const bool weighted = spec.method == M::kWeightedBorda;
        const Entry* e = first;
        for (uint32_t i = 0; i < n; ++i) {
          while (e != last && e->list < i) ++e;
          if (list_size_[i] == 0) continue;
          const double points = e != last && e->list == i && e->pos != kUnranked
                                    ? static_cast<double>(m) - e->pos
                                    : (static_cast<double>(m) - list_size_[i] + 1) / 2;
          score += weighted ? weight(i) * points : points;
        }
        break;
      }
      case M::kWsum:
        for (const Entry* e = first; e != last; ++e) score += weight(e->list) * e->score;
        break;
      case M::kWmnz: {
        double w = 0;
        for (const Entry* e = first; e != last; ++e) w += weight(e->list);
        score = sum * w;
        break;
      }
      case M::kMixed:
        for (const Entry* e = first; e != last; ++e) score += e->score * weight(e->list);
        score *= std::sqrt(static_cast<double>(present));
        break;
      case M::kPosFuse:
        for (const Entry* e = first; e != last; ++e) {
          const std::vector<double>& p = model->lists[e->list];
          if (e->pos < p.size()) score += p[e->pos];
        }
        break;
      case M::kProbFuse:
        for (const Entry* e = first; e != last; ++e) {
          if (e->pos == kUnranked) continue;
          const std::vector<double>& p = model->lists[e->list];
          const size_t segment_size = (list_size_[e->list] + p.size() - 1) / p.size();
          const size_t k = e->pos / segment_size;
          score += p[k] / static_cast<double>(k + 1);
        }
        break;
      case M::kSegFuse:
        for (const Entry* e = first; e != last; ++e) {
          if (e->pos == kUnranked || e->pos >= kSegBounds[10]) continue;
          const size_t k = std::upper_bound(std::begin(kSegBounds), std::end(kSegBounds), e->pos) -
                           std::begin(kSegBounds) - 1;
          score += model->lists[e->list][k] * (e->score + 1);
        }
        break;
      case M::kSlideFuse:
        for (const Entry* e = first; e != last; ++e) {
          if (e->pos == kUnranked) continue;
          const std::vector<double>& p = model->lists[e->list];
          const int64_t w = static_cast<int64_t>(prm.window), pos = e->pos;
          const int64_t a = std::max<int64_t>(pos - w, 0);
          const int64_t b = std::min<int64_t>(pos + w, static_cast<int64_t>(list_size_[e->list]) - 1);
          double window = 0;
          for (int64_t j = a; j <= std::min<int64_t>(b, static_cast<int64_t>(p.size()) - 1); ++j)
            window += p[j];
          score += window / static_cast<double>(b - a + 1);
        }
        break;
      case M::kMapFuse:
        for (const Entry* e = first; e != last; ++e) {
          if (e->pos != kUnranked) score += model->lists[e->list][0] / (e->pos + 1.0);
        }
        break;
      case M::kBayesFuse: {
        const Entry* e = first;
        for (uint32_t i = 0; i < n; ++i) {
          while (e != last && e->list < i) ++e;
          if (list_size_[i] == 0) continue;
          const std::vector<double>& odds = model->lists[i];
          const bool in = e != last && e->list == i && e->pos != kUnranked;
          score += in && e->pos < odds.size() ? odds[e->pos] : min_odd;
        }
        break;
      }
      case M::kCondorcet:
      case M::kWeightedCondorcet:
        break;  // handled above
    }
    out.push_back({docs_[c], score});
  }
  std::sort(out.begin(), out.end(), [](const RankedDoc& a, const RankedDoc& b) {
    return a.score != b.score ? a.score > b.score : a.doc < b.doc;
  });
}

std::vector<RankedDoc> FuseLists(std::span<const std::vector<RankedDoc>> lists, const FusionSpec& spec,
                                 const FusionModel* model) {
  CheckFusionSpec(spec, lists.size(), model);
  std::vector<RankedDoc> out;
  FusionQuery(lists, spec.norm).Fuse(spec, model, out);
  return out;
}

// ---- The retrievers' entry points ----

std::vector<ScoredDoc> ReciprocalRankFusion(std::span<const std::vector<ScoredDoc>> lists, double k) {
  if (!std::isfinite(k) || k < 0) throw InvalidInput("RRF k must be a finite number >= 0");
  std::vector<std::vector<RankedDoc>> ranked(lists.size());
  for (size_t i = 0; i < lists.size(); ++i) {
    ranked[i].reserve(lists[i].size());
    for (const ScoredDoc& d : lists[i]) ranked[i].push_back({d.doc, 0.0});  // RRF reads positions only
  }
  FusionSpec spec;
  spec.method = FusionMethod::kRrf;
  spec.norm = FusionNorm::kNone;
  spec.params.k = k;
  std::vector<ScoredDoc> out;
  for (const RankedDoc& d : FuseLists(ranked, spec)) out.push_back({d.doc, static_cast<float>(d.score)});
  std::sort(out.begin(), out.end(), RanksBefore);  // rounding to float can tie what double told apart
  return out;
}

namespace {

// One list's normalised scores, first occurrence of each document only.
std::vector<std::pair<uint32_t, double>> Normalised(const std::vector<ScoredDoc>& list, ScoreNorm norm) {
  std::vector<std::pair<uint32_t, double>> out;
  std::unordered_set<uint32_t> seen;
  for (const ScoredDoc& d : list) {
    if (seen.insert(d.doc).second) out.emplace_back(d.doc, static_cast<double>(d.score));
  }
  if (out.empty() || norm == ScoreNorm::kNone) return out;
  if (norm == ScoreNorm::kMinMax) {
    double lo = out[0].second, hi = out[0].second;
    for (const auto& [doc, s] : out) {
      lo = std::min(lo, s);
      hi = std::max(hi, s);
    }
    for (auto& [doc, s] : out) s = hi > lo ? (s - lo) / (hi - lo) : 1.0;
    return out;
  }
  double mean = 0;
  for (const auto& [doc, s] : out) mean += s;
  mean /= static_cast<double>(out.size());
  double var = 0;
  for (const auto& [doc, s] : out) var += (s - mean) * (s - mean);
  const double sd = std::sqrt(var / static_cast<double>(out.size()));
  for (auto& [doc, s] : out) s = sd > 0 ? (s - mean) / sd : 0.0;
  return out;
}

}  // namespace

std::vector<ScoredDoc> FuseScores(std::span<const std::vector<ScoredDoc>> lists, ScoreFusion fusion,
                                  ScoreNorm norm, std::span<const double> weights) {
  if (fusion == ScoreFusion::kWeighted) {
    if (weights.size() != lists.size()) {
      throw InvalidInput("weighted fusion needs one weight per list (" + std::to_string(lists.size()) + ")");
    }
    for (double w : weights) {
      if (!std::isfinite(w)) throw InvalidInput("fusion weights must be finite numbers");
    }
  }
  std::unordered_map<uint32_t, std::pair<double, int>> acc;  // sum, lists containing the document
  std::vector<uint32_t> first_seen;
  std::vector<double> floor(lists.size(), 0.0);  // the lowest normalised score of each list
  std::vector<std::unordered_set<uint32_t>> members(lists.size());
  for (size_t i = 0; i < lists.size(); ++i) {
    const auto normalised = Normalised(lists[i], norm);
    const double w = fusion == ScoreFusion::kWeighted ? weights[i] : 1.0;
    if (!normalised.empty()) floor[i] = normalised[0].second;
    for (const auto& [doc, s] : normalised) {
      floor[i] = std::min(floor[i], s);
      auto [it, inserted] = acc.try_emplace(doc, 0.0, 0);
      if (inserted) first_seen.push_back(doc);
      it->second.first += w * s;
      it->second.second += 1;
      members[i].insert(doc);
    }
  }
  if (fusion == ScoreFusion::kWeighted) {
    for (size_t i = 0; i < lists.size(); ++i) {
      if (members[i].empty()) continue;
      for (uint32_t doc : first_seen) {
        if (!members[i].count(doc)) acc[doc].first += weights[i] * floor[i];
      }
    }
  }
  std::vector<ScoredDoc> out;
  out.reserve(first_seen.size());
  for (uint32_t doc : first_seen) {
    const auto& [sum, count] = acc[doc];
    const double score = fusion == ScoreFusion::kCombMnz ? sum * count : sum;
    out.push_back({doc, static_cast<float>(score)});
  }
  std::sort(out.begin(), out.end(), RanksBefore);
  return out;
}

}  // namespace rlm
