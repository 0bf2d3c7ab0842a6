// Rank fusion of several ranked lists over the same document ordinals: the methods and normalisations of
// ranx (ranx/fusion/*.py, ranx/normalization/*.py), registered once by name (FusionMethods, FusionNorms)
// for the CLI, the docs and the experiment config to read, and computed by one function, FuseLists /
// FusionQuery::Fuse, for one query at a time.
//
// Conventions shared by every method (n lists; list i ranks n_i documents, position p = 0, 1, ... best
// first; a document d "in" list i has position p_i(d) and normalised score s_i(d); S(d) = the lists
// containing d; m = the number of distinct documents over all lists; w_i = weight of list i):
//   - A list with no documents takes no part: it gives no Borda points, casts no Condorcet vote and adds no
//     BayesFuse missing-document odds. `eval fuse` passes a query absent from a run as an empty list, so a
//     query missing from some runs is fused from the runs that have it (ranx refuses such runs).
//   - A document absent from a list gets nothing from it (ranx's 0 for sums), except where the method says
//     otherwise (Borda, Condorcet, BayesFuse, and the borda normalisation, which gives absent documents a
//     score so that they count as present in that list for the score-based methods, as in ranx).
//   - Rank-based methods read positions of the input ranking; no normalisation changes them, and the
//     documents borda normalisation adds to a list are not ranked in it (ranx ranks them in hash-set order).
//   - A document repeated within one list counts once, at its first position.
//   - Output: every document of any list, fused score descending, ties by lower ordinal.
// Deviations from ranx, where ranx's result depends on hash-set order or fails: Condorcet is a stable merge
// sort of the candidates in ordinal order (see kCondorcet); BayesFuse gives positions past its last
// trained position the missing-document odds (ranx raises IndexError); ties in the output break by ordinal
// (ranx's order among equal scores is numba's unstable argsort).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "index/scored.h"

namespace rlm {

// One entry of a ranked list. Scores are doubles: run files carry more precision than ScoredDoc's float.
struct RankedDoc {
  uint32_t doc = 0;
  double score = 0;
  bool operator==(const RankedDoc&) const = default;
};

// Per-list score normalisations, each over the list's own documents (ranx's formulas, 1e-9 floors included):
enum class FusionNorm {
  kNone,    // the raw score
  kMinMax,  // (s - min) / max(max - min, 1e-9): every score equal -> 0 for all
  kMax,     // s / max(max, 1e-9)
  kSum,     // (s - min) / max(sum - n * min, 1e-9)
  kZmuv,    // (s - mean) / max(sd, 1e-9), population sd (z-score)
  kRank,    // 1 - p / n_i
  kBorda,   // 1 - p / m in the list; absent documents 0.5 - (n_i - 1) / (2m) (over every non-empty list)
};

enum class FusionMethod {
  kCombMin,            // min over S(d) of s_i(d)
  kCombMax,            // max over S(d) of s_i(d)
  kCombMed,            // median over S(d) of s_i(d) (mean of the two middle values when |S| is even)
  kCombSum,            // sum over S(d) of s_i(d)
  kCombAnz,            // CombSUM / |S(d)|
  kCombMnz,            // CombSUM * |S(d)|
  kCombGmnz,           // CombSUM * |S(d)|^gamma
  kRrf,                // sum over S(d) of 1 / (k + p + 1)
  kIsr,                // sum over S(d) of 1 / (p + 1)^2, times |S(d)|
  kLogIsr,             // sum over S(d) of 1 / (p + 1)^2, times ln |S(d)| (0 for a document in one list)
  kLognIsr,            // sum over S(d) of 1 / (p + 1)^2, times ln(|S(d)| + sigma)
  kRbc,                // sum over S(d) of (1 - phi) * phi^p (rank-biased centroid)
  kBorda,              // sum over non-empty lists of points: m - p in the list, (m - n_i + 1) / 2 if absent
  kWeightedBorda,      // the same points times w_i
  kCondorcet,          // candidates merge-sorted by pairwise majority, score m - rank (see below)
  kWeightedCondorcet,  // the same with votes weighted by w_i
  kWsum,               // sum over S(d) of w_i * s_i(d)
  kWmnz,               // CombSUM * (sum over S(d) of w_i)
  kMixed,              // (sum over S(d) of w_i * s_i(d)) * sqrt(|S(d)|)
  kPosFuse,            // sum over S(d) of P_i(p) (trained; 0 past the trained positions)
  kProbFuse,           // sum over S(d) of P_i(k) / (k + 1), segment k = p / ceil(n_i / segments)
  kSegFuse,    // sum over S(d) of P_i(seg(p)) * (s_i(d) + 1), segments 0-4, 5-14, 15-34, ... 2555-5114
  kSlideFuse,  // sum over S(d) of the mean of P_i over positions [max(p-w,0), min(p+w,n_i-1)] (untrained: 0)
  kMapFuse,    // sum over S(d) of MAP_i / (p + 1)
  kBayesFuse,  // sum over non-empty lists of log-odds_i(p), ln(0.001/0.999) when d is absent
};
// Condorcet: x beats y when the (weighted) votes of lists ranking x above y exceed those ranking y above x
// (a document absent from a list ranks below every document in it; two absent ones get no vote). The
// candidates, in ascending ordinal order, are merge-sorted with "y goes first only if y beats x", so equal
// votes keep the ordinal order; the document at rank r (0-based) scores m - r.

// Method parameters; each method reads only those the registry lists for it.
struct FusionParams {
  double k = 60;         // rrf
  double gamma = 1;      // gmnz (ranx has no default; 1 makes it CombMNZ)
  double sigma = 0.01;   // logn_isr
  double phi = 0.8;      // rbc (ranx has no default)
  double segments = 25;  // probfuse: segments per list (Lillis et al. 2006's best on TREC)
  double window = 5;     // slidefuse: w positions either side
};

// Trained per-list statistics of the supervised methods (estimated by EstimateFusionModel, eval/fuse.h),
// lists[i] for input list i:
//   posfuse, slidefuse: P(relevant | position p), p = 0, 1, ...
//   probfuse:           P(relevant | segment k), `segments` entries
//   segfuse:            P(relevant | segment k), 10 entries (the fixed segments above)
//   mapfuse:            one entry, the list's MAP on the training queries
//   bayesfuse:          log-odds of relevance by position (1000 entries, constant within ranx's cut-offs)
struct FusionModel {
  std::vector<std::vector<double>> lists;
};

struct FusionSpec {
  FusionMethod method = FusionMethod::kRrf;
  FusionNorm norm = FusionNorm::kMinMax;
  std::vector<double> weights;  // one per list for methods that use weights; empty: 1 for every list
  FusionParams params;
};

// The registry. `params` names the FusionParams fields a method reads; `grid` is what --optimize searches
// (ranx's optimize_* grids). A weighted method's weights are searched on a grid of `step` that sums to 1.
struct FusionParamInfo {
  const char* name;
  double FusionParams::*field;
  double min, max;  // the valid range, inclusive
  bool integer;
  double grid_lo, grid_hi, grid_step;
  const char* summary;
};
struct FusionMethodInfo {
  FusionMethod method;
  const char* name;     // ranx's name (the alias ranx's fuse() takes)
  const char* aliases;  // other accepted names, comma-separated ("" when none)
  const char* summary;
  bool uses_weights;
  bool needs_training;  // supervised: needs training qrels (EstimateFusionModel)
  bool rank_based;      // reads positions only, so the normalisation does not change the result
  std::vector<const FusionParamInfo*> params;
};
struct FusionNormInfo {
  FusionNorm norm;
  const char* name;
  const char* aliases;
  const char* summary;
};
std::span<const FusionMethodInfo> FusionMethods();
std::span<const FusionNormInfo> FusionNorms();
// Lookups by name or alias, case-insensitive ('-' and '_' alike). Throw InvalidInput listing the valid names.
const FusionMethodInfo& FindFusionMethod(std::string_view name);
const FusionNormInfo& FindFusionNorm(std::string_view name);
const FusionMethodInfo& FusionMethodOf(FusionMethod method);
const FusionNormInfo& FusionNormOf(FusionNorm norm);
// Sets parameter `name` of `params` after checking that `method` reads it and `value` is in range.
void SetFusionParam(const FusionMethodInfo& method, std::string_view name, double value,
                    FusionParams& params);

// Throws InvalidInput when `spec` cannot fuse `num_lists` lists: weights of the wrong count or not finite, a
// parameter out of range, or a supervised method whose `model` is null or has the wrong number of lists.
void CheckFusionSpec(const FusionSpec& spec, size_t num_lists, const FusionModel* model);

// One query's lists prepared for fusion: documents mapped to local candidates, scores normalised. Built
// once and scored many times by the optimiser. Immutable after construction; safe to share across threads.
class FusionQuery {
 public:
  // Throws InvalidInput on a score that is not finite.
  FusionQuery(std::span<const std::vector<RankedDoc>> lists, FusionNorm norm);

  size_t num_lists() const { return list_size_.size(); }
  size_t num_candidates() const { return docs_.size(); }

  // Fuses into `out` (cleared first). `spec.norm` is ignored (the constructor's applies); CheckFusionSpec
  // must have passed for this number of lists.
  void Fuse(const FusionSpec& spec, const FusionModel* model, std::vector<RankedDoc>& out) const;

 private:
  static constexpr uint32_t kUnranked = UINT32_MAX;  // present only through borda normalisation
  struct Entry {
    uint32_t list;
    uint32_t pos;  // kUnranked: not ranked in the list
    double score;  // normalised
  };
  std::vector<uint32_t> docs_;       // candidate -> ordinal, first-seen order
  std::vector<uint32_t> begin_;      // candidate c's entries are entries_[begin_[c], begin_[c+1])
  std::vector<Entry> entries_;       // by candidate, then list
  std::vector<uint32_t> list_size_;  // n_i
  size_t nonempty_lists_ = 0;
};

// Fuses one query's lists (each best first): FusionQuery(lists, spec.norm).Fuse(spec, model). Checks `spec`
// with CheckFusionSpec first.
std::vector<RankedDoc> FuseLists(std::span<const std::vector<RankedDoc>> lists, const FusionSpec& spec,
                                 const FusionModel* model = nullptr);

// ---- Entry points of the retrievers (rlm search, eval variants), over ScoredDoc lists ----

// Reciprocal rank fusion (Cormack et al. 2009): score(d) = sum over lists containing d of 1 / (k + rank),
// rank starting at 1. Returns every document of any list, ordered by RanksBefore (ties: lower ordinal).
// Sums are taken in double, list by list, then rounded to float before ranking. A document repeated
// within one list counts only at its first (best) rank. Throws InvalidInput when k is negative or not finite.
std::vector<ScoredDoc> ReciprocalRankFusion(std::span<const std::vector<ScoredDoc>> lists, double k = 60.0);

// Score normalisation applied to each list before score-based fusion.
//   kMinMax: (s - min) / (max - min), 1 for every document when max == min;
//   kZScore: (s - mean) / sd (population sd), 0 for every document when sd == 0;
//   kNone:   the raw score.
// (FusionNorm::kMinMax follows ranx instead: 0 when max == min.)
enum class ScoreNorm { kNone, kMinMax, kZScore };

// Score-based fusion of lists over the same ordinals, after normalising each list:
//   kWeighted: sum over lists of weight[i] * norm_i(d), where a document missing from list i gets that
//              list's lowest normalised score (so absence is never rewarded above the worst retrieved);
//   kCombSum:  sum of norm_i(d) over the lists containing d;
//   kCombMnz:  CombSUM times the number of lists containing d.
// Returns every document of any list ordered by RanksBefore. `weights` must have one finite entry per list
// for kWeighted (ignored otherwise); InvalidInput otherwise. A document repeated within one list counts
// once, with its first score.
enum class ScoreFusion { kWeighted, kCombSum, kCombMnz };
std::vector<ScoredDoc> FuseScores(std::span<const std::vector<ScoredDoc>> lists, ScoreFusion fusion,
                                  ScoreNorm norm, std::span<const double> weights = {});

}  // namespace rlm
