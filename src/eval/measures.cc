#include "eval/measures.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "core/error.h"
#include "core/file.h"
#include "core/suggest.h"

namespace rlm::trec {

namespace {

// trec_eval's constants.
constexpr double kMinGeoMean = 0.00001;
constexpr double kInfApEpsilon = 0.00001;
constexpr int32_t kNonPool = -1;   // retrieved, not in the qrels
constexpr int32_t kUnjudged = -2;  // in the qrels with a negative grade
constexpr double kMissingZscore = -1000000.0;

// What trec_eval's form_prefs_counts computes once per query for -R qrels_prefs. Every judged document gets
// a docid rank: retrieved ones 0..num_judged_ret-1 in ranking order (score descending, ties by docid
// ascending, as form_prefs_counts sorts), the others after them in docid order. qrels_prefs has one judgment
// subgroup per group, so each group's preferences are equivalence classes (ECs) of equal level, and every
// document of a higher class is preferred to every document of a lower one.
struct PrefsEc {
  double level;
  size_t begin, count;  // docid ranks in Prefs::pool[begin, begin + count), ascending
};
struct PrefsGroup {
  std::vector<PrefsEc> ecs;    // by level, descending (one subgroup)
  std::vector<uint8_t> array;  // several subgroups (-R prefs): [i * num_judged + j] = i preferred to j,
                               // transitively closed; empty otherwise
  std::vector<double> levels;  // with `array`: per docid rank, the level in this group, -1 if none
  int64_t fulfilled_ret = 0, possible_ret = 0, fulfilled_imp = 0, possible_imp = 0, possible_notoccur = 0;
  int64_t num_nonrel = 0, num_nonrel_ret = 0, num_rel = 0, num_rel_ret = 0;  // relevant: level > 0
};
struct Prefs {
  int64_t num_judged = 0, num_judged_ret = 0;
  std::vector<int64_t> pool;  // the groups' ECs one after the other, as trec_eval's rank_pool
  std::vector<PrefsGroup> groups;
  std::vector<uint16_t> counts;  // [i * num_judged + j]: groups preferring docid rank i to j
  int64_t Count(int64_t i, int64_t j) const { return counts[static_cast<size_t>(i * num_judged + j)]; }
};

// What trec_eval's form_res_rels computes once per query: the grade of each ranked document and the
// number of judged documents at each grade.
struct Ranked {
  std::vector<int32_t> rels;        // per rank: grade, kNonPool or kUnjudged
  std::vector<int64_t> rel_levels;  // judged documents (grade >= 0) per grade
  int64_t num_rel_levels = 0;       // highest grade with a judged document, + 1
  int64_t num_rel = 0;              // judged documents with grade >= relevance_level
  int64_t num_rel_ret = 0;          // retrieved ones among them
  int64_t num_ret = 0;
  std::vector<Ranked> groups;  // -R qrels_jg: one per judgment group (the fields above then unused)
  Prefs prefs;                 // -R qrels_prefs
};

enum class ParamKind : uint8_t {
  kNone,           // a single value
  kLongCutoffs,    // P.5,10 -> P_5, P_10 (sorted, positive, distinct)
  kDoubleCutoffs,  // iprec_at_recall.0,.5 -> iprec_at_recall_0.00, _0.50 (sorted, distinct)
  kDoubleParams,   // utility.1,-1,0,0 -> one value named utility_1,-1,0,0
  kPairs,          // ndcg.1=3,2=9 -> one value named ndcg_1=3,2=9
};

}  // namespace

struct MeasureSet::Instance {
  int family = 0;
  std::vector<int64_t> cutoffs;                       // kLongCutoffs
  std::vector<double> numbers;                        // kDoubleCutoffs, kDoubleParams
  std::vector<std::pair<std::string, double>> pairs;  // kPairs
  size_t offset = 0;                                  // first value in MeasureSet::values()
  size_t count = 0;
};

namespace {

using Instance = MeasureSet::Instance;
using ComputeFn = void (*)(const Ranked& rr, const Instance& m, const EvalOptions& o, double* out,
                           std::string* relstring);

inline bool IsRel(int32_t rel, const EvalOptions& o) {
  return rel >= o.relevance_level;
}

// Runs `step(i)` over ranks and records `value(k)` for each cutoff k before rank k is stepped, as every
// trec_eval cutoff measure does; cutoffs beyond the ranking get the value at its end.
template <typename Step, typename Value>
void ScanCutoffs(int64_t n, const std::vector<int64_t>& cutoffs, double* out, Step step, Value value) {
  size_t ci = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (i == cutoffs[ci]) {
      out[ci] = value(cutoffs[ci]);
      if (++ci == cutoffs.size()) return;
    }
    step(i);
  }
  for (; ci < cutoffs.size(); ++ci) out[ci] = value(cutoffs[ci]);
}

// ---- gains (trec_eval's setup_gains/get_gain) -------------------------------------------------------------

struct RelGain {
  int64_t level;
  int64_t num_at_level;
  double gain;
};

bool ValidInt(const std::string& s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i >= s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

std::vector<RelGain> SetupGains(const Instance& m, const Ranked& rr) {
  std::vector<RelGain> gains;
  gains.reserve(static_cast<size_t>(rr.num_rel_levels) + m.pairs.size());
  for (const auto& [name, value] : m.pairs) {
    if (ValidInt(name)) gains.push_back({std::strtol(name.c_str(), nullptr, 10), 0, value});
  }
  size_t num_params = gains.size();
  for (int64_t i = 0; i < rr.num_rel_levels; ++i) {
    size_t j = 0;
    while (j < num_params && gains[j].level != i) ++j;
    if (j < num_params) {
      gains[j].num_at_level = rr.rel_levels[static_cast<size_t>(i)];
    } else {
      gains.push_back({i, rr.rel_levels[static_cast<size_t>(i)], static_cast<double>(i)});
    }
  }
  // Increasing gain. trec_eval's comparator returns the difference truncated to int, so gains less than 1
  // apart compare equal; a stable insertion sort with that comparator reproduces glibc's order.
  auto cmp = [](const RelGain& a, const RelGain& b) { return static_cast<int>(a.gain - b.gain); };
  for (size_t i = 1; i < gains.size(); ++i) {
    RelGain g = gains[i];
    size_t j = i;
    while (j > 0 && cmp(gains[j - 1], g) > 0) {
      gains[j] = gains[j - 1];
      --j;
    }
    gains[j] = g;
  }
  return gains;
}

double GainOf(int64_t rel, const std::vector<RelGain>& gains) {
  for (const RelGain& g : gains) {
    if (g.level == rel) return g.gain;
  }
  return 0.0;
}

// Walks the ideal ranking (gains in decreasing order, each level as often as it was judged).
class IdealGains {
 public:
  explicit IdealGains(const std::vector<RelGain>& gains)
      : gains_(gains), level_(static_cast<int64_t>(gains.size()) - 1) {
    gain_ = level_ >= 0 ? gains_[static_cast<size_t>(level_)].gain : 0.0;
  }
  double gain() const { return gain_; }
  // Advances to the next rank (trec_eval's num_at_level / cur_level loop).
  void Next() {
    ++num_at_level_;
    while (level_ >= 0 && num_at_level_ > gains_[static_cast<size_t>(level_)].num_at_level) {
      num_at_level_ = 1;
      --level_;
      gain_ = level_ >= 0 ? gains_[static_cast<size_t>(level_)].gain : 0.0;
    }
  }

 private:
  const std::vector<RelGain>& gains_;
  int64_t level_;
  int64_t num_at_level_ = 0;
  double gain_;
};

// ---- the measures ----------------------------------------------------------------------------------------

void CalcNumQ(const Ranked&, const Instance&, const EvalOptions&, double* out, std::string*) {
  out[0] = 1;
}
void CalcNumRet(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  out[0] = static_cast<double>(rr.num_ret);
}
void CalcNumRel(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  out[0] = static_cast<double>(rr.num_rel);
}
void CalcNumRelRet(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  out[0] = static_cast<double>(rr.num_rel_ret);
}
void CalcNothing(const Ranked&, const Instance&, const EvalOptions&, double*, std::string*) {}

double AveragePrecision(const Ranked& rr, const EvalOptions& o) {
  int64_t rel_so_far = 0;
  double sum = 0.0;
  for (int64_t i = 0; i < rr.num_ret; ++i) {
    if (IsRel(rr.rels[static_cast<size_t>(i)], o))
      sum += static_cast<double>(++rel_so_far) / static_cast<double>(i + 1);
  }
  return rel_so_far && rr.num_rel ? sum / static_cast<double>(rr.num_rel) : 0.0;
}

void CalcMap(const Ranked& rr, const Instance&, const EvalOptions& o, double* out, std::string*) {
  out[0] = AveragePrecision(rr, o);
}
void CalcGmMap(const Ranked& rr, const Instance&, const EvalOptions& o, double* out, std::string*) {
  out[0] = std::log(std::max(AveragePrecision(rr, o), kMinGeoMean));
}

void CalcRprec(const Ranked& rr, const Instance&, const EvalOptions& o, double* out, std::string*) {
  int64_t rel_so_far = 0;
  int64_t n = std::min(rr.num_rel, rr.num_ret);
  for (int64_t i = 0; i < n; ++i) rel_so_far += IsRel(rr.rels[static_cast<size_t>(i)], o);
  out[0] = rr.num_rel ? static_cast<double>(rel_so_far) / static_cast<double>(rr.num_rel) : 0.0;
}

double Bpref(const Ranked& rr, const EvalOptions& o) {
  int64_t num_nonrel = 0;
  for (int64_t j = 0; j < o.relevance_level && j < static_cast<int64_t>(rr.rel_levels.size()); ++j) {
    if (j >= 0) num_nonrel += rr.rel_levels[static_cast<size_t>(j)];
  }
  int64_t nonrel_so_far = 0;
  double bpref = 0.0;
  for (int32_t rel : rr.rels) {
    if (rel == kNonPool || rel == kUnjudged) continue;
    if (rel >= 0 && rel < o.relevance_level) {
      ++nonrel_so_far;
    } else if (nonrel_so_far > 0) {
      bpref += 1.0 - static_cast<double>(std::min(nonrel_so_far, rr.num_rel)) /
                         static_cast<double>(std::min(num_nonrel, rr.num_rel));
    } else {
      bpref += 1.0;
    }
  }
  return rr.num_rel ? bpref / static_cast<double>(rr.num_rel) : bpref;
}

void CalcBpref(const Ranked& rr, const Instance&, const EvalOptions& o, double* out, std::string*) {
  out[0] = Bpref(rr, o);
}
void CalcGmBpref(const Ranked& rr, const Instance&, const EvalOptions& o, double* out, std::string*) {
  out[0] = std::log(std::max(Bpref(rr, o), kMinGeoMean));
}

void CalcRecipRank(const Ranked& rr, const Instance&, const EvalOptions& o, double* out, std::string*) {
  for (int64_t i = 0; i < rr.num_ret; ++i) {
    if (IsRel(rr.rels[static_cast<size_t>(i)], o)) {
      out[0] = 1.0 / static_cast<double>(i + 1);
      return;
    }
  }
}

// Interpolated precision at recall fractions (iprec_at_recall, 11pt_avg). Fractions become numbers of
// relevant documents with lround, as in trec_eval 10.0 (9.x added 0.9 and truncated). `visit(index, value)`
// is called for each fraction, from the last to the first, as trec_eval assigns them (11pt_avg sums in
// that order). An empty ranking gives 0/0 (NaN) at the fractions that round to 0 documents, as trec_eval.
template <typename Visit>
void InterpolatedPrecision(const Ranked& rr, const std::vector<double>& fractions, const EvalOptions& o,
                           Visit visit) {
  size_t np = fractions.size();
  std::vector<int64_t> cutoffs(np);
  for (size_t i = 0; i < np; ++i) cutoffs[i] = std::lround(fractions[i] * static_cast<double>(rr.num_rel));
  int64_t current = static_cast<int64_t>(np) - 1;
  while (current >= 0 && cutoffs[static_cast<size_t>(current)] > rr.num_rel_ret) --current;
  double int_precis = static_cast<double>(rr.num_rel_ret) / static_cast<double>(rr.num_ret);
  int64_t rel_so_far = rr.num_rel_ret;
  for (int64_t i = rr.num_ret; i > 0 && rel_so_far > 0; --i) {
    double precis = static_cast<double>(rel_so_far) / static_cast<double>(i);
    if (int_precis < precis) int_precis = precis;
    if (IsRel(rr.rels[static_cast<size_t>(i - 1)], o)) {
      while (current >= 0 && rel_so_far == cutoffs[static_cast<size_t>(current)]) {
        visit(static_cast<size_t>(current--), int_precis);
      }
      --rel_so_far;
    }
  }
  while (current >= 0) visit(static_cast<size_t>(current--), int_precis);
}

void CalcIprecAtRecall(const Ranked& rr, const Instance& m, const EvalOptions& o, double* out, std::string*) {
  InterpolatedPrecision(rr, m.numbers, o, [out](size_t i, double v) { out[i] = v; });
}

void Calc11ptAvg(const Ranked& rr, const Instance& m, const EvalOptions& o, double* out, std::string*) {
  double sum = 0.0;
  InterpolatedPrecision(rr, m.numbers, o, [&sum](size_t, double v) { sum += v; });
  out[0] = sum / static_cast<double>(m.numbers.size());
}

void CalcP(const Ranked& rr, const Instance& m, const EvalOptions& o, double* out, std::string*) {
  int64_t rel_so_far = 0;
  ScanCutoffs(
      rr.num_ret, m.cutoffs, out, [&](int64_t i) { rel_so_far += IsRel(rr.rels[static_cast<size_t>(i)], o); },
      [&](int64_t k) { return static_cast<double>(rel_so_far) / static_cast<double>(k); });
}

void CalcRelstring(const Ranked& rr, const Instance& m, const EvalOptions&, double*, std::string* relstring) {
  int64_t len = std::min(static_cast<int64_t>(m.numbers.empty() ? 10 : m.numbers[0]), rr.num_ret);
  if (len < 0) len = 0;
  relstring->clear();
  for (int64_t i = 0; i < len; ++i) {
    int32_t rel = rr.rels[static_cast<size_t>(i)];
    char c = rel > 9            ? '>'
             : rel >= 0         ? static_cast<char>('0' + rel)
             : rel == kNonPool  ? '-'
             : rel == kUnjudged ? '.'
                                : '<';
    relstring->push_back(c);
  }
}

void CalcRecall(const Ranked& rr, const Instance& m, const EvalOptions& o, double* out, std::string*) {
  int64_t rel_so_far = 0;
  ScanCutoffs(
      rr.num_ret, m.cutoffs, out, [&](int64_t i) { rel_so_far += IsRel(rr.rels[static_cast<size_t>(i)], o); },
      [&](int64_t) {
        return rr.num_rel ? static_cast<double>(rel_so_far) / static_cast<double>(rr.num_rel) : 0.0;
      });
}

void CalcInfAP(const Ranked& rr, const Instance&, const EvalOptions& o, double* out, std::string*) {
  int64_t nonrel_so_far = 0, rel_so_far = 0, pool_unjudged_so_far = 0;
  double inf_ap = 0.0;
  for (int64_t j = 0; j < rr.num_ret; ++j) {
    int32_t rel = rr.rels[static_cast<size_t>(j)];
    if (rel == kNonPool) continue;
    if (rel == kUnjudged) {
      ++pool_unjudged_so_far;
      continue;
    }
    if (rel >= 0 && rel < o.relevance_level) {
      ++nonrel_so_far;
      continue;
    }
    ++rel_so_far;
    if (j == 0) {
      inf_ap += 1.0;
    } else {
      double fj = static_cast<double>(j);
      inf_ap += 1.0 / (fj + 1.0) +
                (fj / (fj + 1.0)) *
                    (static_cast<double>(rel_so_far - 1 + nonrel_so_far + pool_unjudged_so_far) / fj) *
                    ((static_cast<double>(rel_so_far - 1) + kInfApEpsilon) /
                     (static_cast<double>(rel_so_far - 1 + nonrel_so_far) + 2 * kInfApEpsilon));
    }
  }
  out[0] = rr.num_rel ? inf_ap / static_cast<double>(rr.num_rel) : inf_ap;
}

void CalcRprecMult(const Ranked& rr, const Instance& m, const EvalOptions& o, double* out, std::string*) {
  size_t np = m.numbers.size();
  std::vector<int64_t> cutoffs(np);
  // trec_eval 10.0 still adds 0.9 and truncates here (iprec_at_recall and 11pt_avg round instead).
  for (size_t i = 0; i < np; ++i) {
    cutoffs[i] = static_cast<int64_t>(m.numbers[i] * static_cast<double>(rr.num_rel) + 0.9);
  }
  int64_t current = static_cast<int64_t>(np) - 1;
  while (current >= 0 && cutoffs[static_cast<size_t>(current)] > rr.num_ret) {
    int64_t c = cutoffs[static_cast<size_t>(current)];
    out[current--] = c ? static_cast<double>(rr.num_rel_ret) / static_cast<double>(c) : 0.0;
  }
  int64_t rel_so_far = rr.num_rel_ret;
  for (int64_t i = rr.num_ret; i > 0 && rel_so_far > 0; --i) {
    double precis = static_cast<double>(rel_so_far) / static_cast<double>(i);
    while (current >= 0 && i == cutoffs[static_cast<size_t>(current)]) out[current--] = precis;
    if (IsRel(rr.rels[static_cast<size_t>(i - 1)], o)) --rel_so_far;
  }
}

void CalcUtility(const Ranked& rr, const Instance& m, const EvalOptions& o, double* out, std::string*) {
  const std::vector<double>& p = m.numbers;
  out[0] = p[0] * static_cast<double>(rr.num_rel_ret) +
           p[1] * static_cast<double>(rr.num_ret - rr.num_rel_ret) +
           p[2] * static_cast<double>(rr.num_rel - rr.num_rel_ret) +
           p[3] * static_cast<double>(o.num_docs_in_coll + rr.num_rel_ret - rr.num_ret - rr.num_rel);
}

void CalcBinG(const Ranked& rr, const Instance&, const EvalOptions& o, double* out, std::string*) {
  int64_t rel_so_far = 0;
  double sum = 0.0;
  for (int64_t i = 0; i < rr.num_ret; ++i) {
    if (IsRel(rr.rels[static_cast<size_t>(i)], o)) {
      ++rel_so_far;
      sum += 1.0 / std::log2(static_cast<double>(3 + i - rel_so_far));
    }
  }
  if (rel_so_far && rr.num_rel) out[0] = sum / static_cast<double>(rr.num_rel);
}

void CalcG(const Ranked& rr, const Instance& m, const EvalOptions&, double* out, std::string*) {
  std::vector<RelGain> gains = SetupGains(m, rr);
  IdealGains ideal(gains);
  double results_g = 0.0, sum_results = 0.0, sum_ideal = 0.0, sum_cost = 0.0;
  const double min_cost = 1.0;
  int64_t i = 0;
  for (; i < rr.num_ret && ideal.gain() > 0.0; ++i) {
    double g = GainOf(rr.rels[static_cast<size_t>(i)], gains);
    sum_results += g;
    ideal.Next();
    if (ideal.gain() > 0.0) sum_ideal += ideal.gain();
    sum_cost += ideal.gain() >= min_cost ? ideal.gain() : min_cost;
    if (g != 0) results_g += g / std::log2(2 + sum_cost - sum_results);
  }
  for (; i < rr.num_ret; ++i) {
    double g = GainOf(rr.rels[static_cast<size_t>(i)], gains);
    sum_results += g;
    sum_cost += min_cost;
    if (g != 0) results_g += g / std::log2(2 + sum_cost - sum_results);
  }
  while (ideal.gain() > 0.0) {
    ideal.Next();
    if (ideal.gain() > 0.0) sum_ideal += ideal.gain();
  }
  if (sum_ideal > 0.0) out[0] = results_g / sum_ideal;
}

// dcg, ideal_dcg and ndcg share trec_eval's m_ndcg.c; `which` picks the value.
enum class DcgValue { kDcg, kIdeal, kNormalized };
void CalcDcgFamily(const Ranked& rr, const Instance& m, double* out, DcgValue which) {
  std::vector<RelGain> gains = SetupGains(m, rr);
  IdealGains ideal(gains);
  double results_dcg = 0.0, ideal_dcg = 0.0;
  int64_t i = 0;
  for (; i < rr.num_ret && ideal.gain() > 0.0; ++i) {
    double g = GainOf(rr.rels[static_cast<size_t>(i)], gains);
    if (g != 0) results_dcg += g / std::log2(static_cast<double>(i + 2));
    ideal.Next();
    if (ideal.gain() > 0.0) ideal_dcg += ideal.gain() / std::log2(static_cast<double>(i + 2));
  }
  for (; i < rr.num_ret; ++i) {
    double g = GainOf(rr.rels[static_cast<size_t>(i)], gains);
    if (g != 0) results_dcg += g / std::log2(static_cast<double>(i + 2));
  }
  for (; ideal.gain() > 0.0; ++i) {
    ideal.Next();
    if (ideal.gain() > 0.0) ideal_dcg += ideal.gain() / std::log2(static_cast<double>(i + 2));
  }
  switch (which) {
    case DcgValue::kDcg:
      out[0] = results_dcg;
      break;
    case DcgValue::kIdeal:
      out[0] = ideal_dcg;
      break;
    case DcgValue::kNormalized:
      if (ideal_dcg > 0.0) out[0] = results_dcg / ideal_dcg;
      break;
  }
}
void CalcDcg(const Ranked& rr, const Instance& m, const EvalOptions&, double* out, std::string*) {
  CalcDcgFamily(rr, m, out, DcgValue::kDcg);
}
void CalcIdealDcg(const Ranked& rr, const Instance& m, const EvalOptions&, double* out, std::string*) {
  CalcDcgFamily(rr, m, out, DcgValue::kIdeal);
}
void CalcNdcg(const Ranked& rr, const Instance& m, const EvalOptions&, double* out, std::string*) {
  CalcDcgFamily(rr, m, out, DcgValue::kNormalized);
}

void CalcNdcgRel(const Ranked& rr, const Instance& m, const EvalOptions&, double* out, std::string*) {
  std::vector<RelGain> gains = SetupGains(m, rr);
  IdealGains ideal(gains);
  double results_dcg = 0.0, ideal_dcg = 0.0, sum = 0.0;
  int64_t num_rel_ret = 0, num_rel = 0;
  int64_t i = 0;
  for (; i < rr.num_ret && ideal.gain() > 0.0; ++i) {
    double g = GainOf(rr.rels[static_cast<size_t>(i)], gains);
    if (g != 0) results_dcg += g / std::log2(static_cast<double>(i + 2));
    ideal.Next();
    if (ideal.gain() > 0.0) {
      ++num_rel;
      ideal_dcg += ideal.gain() / std::log2(static_cast<double>(i + 2));
    }
    if (g > 0 && ideal_dcg > 0.0) {
      sum += results_dcg / ideal_dcg;
      ++num_rel_ret;
    }
  }
  for (; i < rr.num_ret; ++i) {
    double g = GainOf(rr.rels[static_cast<size_t>(i)], gains);
    if (g != 0) results_dcg += g / std::log2(static_cast<double>(i + 2));
    if (g > 0 && ideal_dcg > 0.0) {
      sum += results_dcg / ideal_dcg;
      ++num_rel_ret;
    }
  }
  for (; ideal.gain() > 0.0; ++i) {
    ideal.Next();
    if (ideal.gain() > 0.0) {
      ++num_rel;
      ideal_dcg += ideal.gain() / std::log2(static_cast<double>(i + 2));
    }
  }
  if (ideal_dcg > 0.0) sum += static_cast<double>(num_rel - num_rel_ret) * results_dcg / ideal_dcg;
  if (sum > 0.0 && num_rel > 0) out[0] = sum / static_cast<double>(num_rel);
}

void CalcRndcg(const Ranked& rr, const Instance& m, const EvalOptions&, double* out, std::string*) {
  if (rr.num_rel == 0) return;
  std::vector<RelGain> gains = SetupGains(m, rr);
  IdealGains ideal(gains);
  double results_dcg = 0.0, ideal_dcg = 0.0, sum = 0.0;
  double old_ideal_gain = ideal.gain();
  int64_t num_changed = 0;
  auto boundary = [&] {
    if (old_ideal_gain != ideal.gain()) {
      if (ideal_dcg > 0.0) {
        sum += results_dcg / ideal_dcg;
        ++num_changed;
      }
      old_ideal_gain = ideal.gain();
    }
  };
  int64_t i = 0;
  for (; i < rr.num_ret && ideal.gain() > 0.0; ++i) {
    double g = GainOf(rr.rels[static_cast<size_t>(i)], gains);
    ideal.Next();
    boundary();
    if (g != 0) results_dcg += g / std::log2(static_cast<double>(i + 2));
    if (ideal.gain() > 0.0) ideal_dcg += ideal.gain() / std::log2(static_cast<double>(i + 2));
  }
  if (i < rr.num_ret) {
    for (; i < rr.num_ret; ++i) {
      double g = GainOf(rr.rels[static_cast<size_t>(i)], gains);
      if (g != 0) results_dcg += g / std::log2(static_cast<double>(i + 2));
    }
    if (ideal_dcg > 0.0) {
      sum += results_dcg / ideal_dcg;
      ++num_changed;
    }
  }
  for (; ideal.gain() > 0.0; ++i) {
    ideal.Next();
    boundary();
    if (ideal.gain() > 0.0) ideal_dcg += ideal.gain() / std::log2(static_cast<double>(i + 2));
  }
  out[0] =
      sum / static_cast<double>(num_changed);  // 0/0 = nan when the ideal gain never changes, as trec_eval
}

// ndcg_cut uses the grades themselves as gains (no gain parameters; -l does not apply).
void CalcNdcgCut(const Ranked& rr, const Instance& m, const EvalOptions&, double* out, std::string*) {
  const std::vector<int64_t>& cutoffs = m.cutoffs;
  double sum = 0.0;
  ScanCutoffs(
      rr.num_ret, cutoffs, out,
      [&](int64_t i) {
        int32_t gain = rr.rels[static_cast<size_t>(i)];
        if (gain > 0) sum += gain / std::log2(static_cast<double>(i + 2));
      },
      [&](int64_t) { return sum; });
  if (rr.num_rel_levels < 2) return;  // no positive grade: the ideal is 0 and values stay unnormalised
  size_t ci = 0;
  int64_t cur_lvl = rr.num_rel_levels - 1, lvl_count = 0;
  double ideal_dcg = 0.0;
  for (int64_t i = 0;; ++i) {
    ++lvl_count;
    while (cur_lvl > 0 && lvl_count > rr.rel_levels[static_cast<size_t>(cur_lvl)]) {
      --cur_lvl;
      lvl_count = 1;
    }
    if (cur_lvl == 0) break;
    if (i == cutoffs[ci]) {
      if (ideal_dcg > 0.0) out[ci] /= ideal_dcg;
      if (++ci == cutoffs.size()) break;
    }
    ideal_dcg += static_cast<double>(cur_lvl) / std::log2(static_cast<double>(i + 2));
  }
  for (; ci < cutoffs.size(); ++ci) {
    if (ideal_dcg > 0.0) out[ci] /= ideal_dcg;
  }
}

void CalcMapCut(const Ranked& rr, const Instance& m, const EvalOptions& o, double* out, std::string*) {
  int64_t rel_so_far = 0;
  double sum = 0.0;
  ScanCutoffs(
      rr.num_ret, m.cutoffs, out,
      [&](int64_t i) {
        if (IsRel(rr.rels[static_cast<size_t>(i)], o))
          sum += static_cast<double>(++rel_so_far) / static_cast<double>(i + 1);
      },
      [&](int64_t) { return rr.num_rel ? sum / static_cast<double>(rr.num_rel) : 0.0; });
}

void CalcRelativeP(const Ranked& rr, const Instance& m, const EvalOptions& o, double* out, std::string*) {
  int64_t rel_so_far = 0;
  ScanCutoffs(
      rr.num_ret, m.cutoffs, out, [&](int64_t i) { rel_so_far += IsRel(rr.rels[static_cast<size_t>(i)], o); },
      [&](int64_t k) {
        int64_t d = std::min(k, rr.num_rel);
        return d ? static_cast<double>(rel_so_far) / static_cast<double>(d) : 0.0;
      });
}

void CalcSuccess(const Ranked& rr, const Instance& m, const EvalOptions& o, double* out, std::string*) {
  int64_t rel_so_far = 0;
  ScanCutoffs(
      rr.num_ret, m.cutoffs, out, [&](int64_t i) { rel_so_far += IsRel(rr.rels[static_cast<size_t>(i)], o); },
      [&](int64_t) { return rel_so_far ? 1.0 : 0.0; });
}

void CalcSetP(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  if (rr.num_ret) out[0] = static_cast<double>(rr.num_rel_ret) / static_cast<double>(rr.num_ret);
}
void CalcSetRelativeP(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  int64_t d = std::min(rr.num_ret, rr.num_rel);
  if (rr.num_ret && d) out[0] = static_cast<double>(rr.num_rel_ret) / static_cast<double>(d);
}
void CalcSetRecall(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  if (rr.num_rel) out[0] = static_cast<double>(rr.num_rel_ret) / static_cast<double>(rr.num_rel);
}
// num_rel_ret^2 / (num_ret * num_rel) in one division, as trec_eval; set_P * set_recall rounds twice and
// can differ in the last bit (250 retrieved, 80 relevant, 29 of them: 0.04205 prints 0.0421, not 0.0420).
void CalcSetMap(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  if (rr.num_ret && rr.num_rel) {
    out[0] = (static_cast<double>(rr.num_rel_ret) * static_cast<double>(rr.num_rel_ret)) /
             (static_cast<double>(rr.num_ret) * static_cast<double>(rr.num_rel));
  }
}
void CalcSetF(const Ranked& rr, const Instance& m, const EvalOptions&, double* out, std::string*) {
  if (!rr.num_rel_ret) return;
  double p = static_cast<double>(rr.num_rel_ret) / static_cast<double>(rr.num_ret);
  double r = static_cast<double>(rr.num_rel_ret) / static_cast<double>(rr.num_rel);
  double x = m.numbers.empty() ? 1.0 : m.numbers[0];
  out[0] = (x + 1.0) * p * r / (x * p + r);
}

void CalcNumNonrelJudgedRet(const Ranked& rr, const Instance&, const EvalOptions& o, double* out,
                            std::string*) {
  int64_t n = 0;
  for (int32_t rel : rr.rels) n += rel >= 0 && rel < o.relevance_level;
  out[0] = static_cast<double>(n);
}

void CalcRbp(const Ranked& rr, const Instance& m, const EvalOptions&, double* out, std::string*) {
  double p = 0.9;
  for (const auto& [name, value] : m.pairs) {
    if (name == "p") p = value;
  }
  std::vector<RelGain> gains = SetupGains(m, rr);
  // Gains are scaled into [0, 1] when any lies outside it (trec_eval, after Moffat).
  double lo = 0.0, hi = 0.0;
  for (const RelGain& g : gains) {
    lo = std::min(lo, g.gain);
    hi = std::max(hi, g.gain);
  }
  if (lo < 0 || hi > 1) {
    for (RelGain& g : gains) g.gain = (g.gain - lo) / (hi - lo);
  }
  double sum = 0.0, cur_p = 1.0;
  for (int32_t rel : rr.rels) {
    double g = GainOf(rel, gains);
    if (g != 0) sum += g * cur_p;
    cur_p *= p;
  }
  out[0] = (1.0 - p) * sum;
}

void CalcRbpResid(const Ranked& rr, const Instance& m, const EvalOptions&, double* out, std::string*) {
  double p = 0.9;
  for (const auto& [name, value] : m.pairs) {
    if (name == "p") p = value;
  }
  double sum = 0.0, cur_p = 1.0;
  int64_t unjudged = 0;
  for (int32_t rel : rr.rels) {
    if (rel < 0) {
      ++unjudged;
      sum += cur_p;
    }
    cur_p *= p;
  }
  if (unjudged) out[0] = cur_p + (1 - p) * sum;
}

void CalcUnj(const Ranked& rr, const Instance& m, const EvalOptions&, double* out, std::string*) {
  int64_t unjudged = 0;
  ScanCutoffs(
      rr.num_ret, m.cutoffs, out,
      [&](int64_t i) {
        int32_t rel = rr.rels[static_cast<size_t>(i)];
        unjudged += rel == kNonPool || rel == kUnjudged;
      },
      [&](int64_t k) { return static_cast<double>(unjudged) / static_cast<double>(k); });
}

void CalcMrrCut(const Ranked& rr, const Instance& m, const EvalOptions& o, double* out, std::string*) {
  int64_t first = -1;
  ScanCutoffs(
      rr.num_ret, m.cutoffs, out,
      [&](int64_t i) {
        if (first < 0 && IsRel(rr.rels[static_cast<size_t>(i)], o)) first = i;
      },
      [&](int64_t) { return first >= 0 ? 1.0 / static_cast<double>(first + 1) : 0.0; });
}

// ---- preference measures (-R qrels_prefs; trec_eval's m_prefs_*.c) -------------------------------------

void CalcPrefsNumPoss(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  int64_t poss = 0;
  for (const PrefsGroup& g : rr.prefs.groups) poss += g.possible_ret + g.possible_imp + g.possible_notoccur;
  out[0] = static_cast<double>(poss);
}
void CalcPrefsNumFul(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  int64_t ful = 0;
  for (const PrefsGroup& g : rr.prefs.groups) ful += g.fulfilled_ret + g.fulfilled_imp;
  out[0] = static_cast<double>(ful);
}
void CalcPrefsNumFulRet(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  int64_t ful = 0;
  for (const PrefsGroup& g : rr.prefs.groups) ful += g.fulfilled_ret;
  out[0] = static_cast<double>(ful);
}

// Which preferences a measure counts: retrieved pairs, pairs with one retrieved (implied), neither.
enum class PrefsArea { kAll, kRet, kImp };

void PrefsSimple(const Ranked& rr, PrefsArea area, double* out) {
  int64_t ful = 0, poss = 0;
  for (const PrefsGroup& g : rr.prefs.groups) {
    ful += g.fulfilled_ret;
    poss += g.possible_ret;
    if (area != PrefsArea::kRet) {
      ful += g.fulfilled_imp;
      poss += g.possible_imp;
    }
    if (area == PrefsArea::kAll) poss += g.possible_notoccur;
  }
  if (poss) out[0] = static_cast<double>(ful) / static_cast<double>(poss);
}
void CalcPrefsSimp(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  PrefsSimple(rr, PrefsArea::kAll, out);
}
void CalcPrefsSimpRet(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  PrefsSimple(rr, PrefsArea::kRet, out);
}
void CalcPrefsSimpImp(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  PrefsSimple(rr, PrefsArea::kImp, out);
}

// The fraction of each document pair's preferences (over groups) that the ranking fulfils, averaged over
// pairs with any preference.
void PrefsPair(const Ranked& rr, PrefsArea area, double* out) {
  const Prefs& p = rr.prefs;
  double sum = 0;
  int64_t num_pairs = 0;
  auto pair = [&](int64_t i, int64_t j, bool add) {
    int64_t a = p.Count(i, j), b = p.Count(j, i);
    if (a || b) {
      ++num_pairs;
      if (add) sum += static_cast<double>(a) / static_cast<double>(a + b);
    }
  };
  for (int64_t i = 0; i < p.num_judged_ret; ++i) {
    for (int64_t j = i + 1; j < p.num_judged_ret; ++j) pair(i, j, true);
  }
  if (area != PrefsArea::kRet) {
    for (int64_t i = 0; i < p.num_judged_ret; ++i) {
      for (int64_t j = p.num_judged_ret; j < p.num_judged; ++j) pair(i, j, true);
    }
  }
  if (area == PrefsArea::kAll) {
    for (int64_t i = p.num_judged_ret; i < p.num_judged; ++i) {
      for (int64_t j = i + 1; j < p.num_judged; ++j) pair(i, j, false);
    }
  }
  if (num_pairs) out[0] = sum / static_cast<double>(num_pairs);
}
void CalcPrefsPair(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  PrefsPair(rr, PrefsArea::kAll, out);
}
void CalcPrefsPairRet(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  PrefsPair(rr, PrefsArea::kRet, out);
}
void CalcPrefsPairImp(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  PrefsPair(rr, PrefsArea::kImp, out);
}

// Each group's fulfilled / possible, averaged over groups.
void PrefsAvgjg(const Ranked& rr, PrefsArea area, double* out) {
  double sum = 0.0;
  for (const PrefsGroup& g : rr.prefs.groups) {
    int64_t ful = g.fulfilled_ret, poss = g.possible_ret;
    if (area != PrefsArea::kRet) {
      ful += g.fulfilled_imp;
      poss += g.possible_imp;
    }
    if (area == PrefsArea::kAll) poss += g.possible_notoccur;
    if (poss) sum += static_cast<double>(ful) / static_cast<double>(poss);
  }
  if (sum > 0.0) out[0] = sum / static_cast<double>(rr.prefs.groups.size());
}
void CalcPrefsAvgjg(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  PrefsAvgjg(rr, PrefsArea::kAll, out);
}
void CalcPrefsAvgjgRet(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  PrefsAvgjg(rr, PrefsArea::kRet, out);
}
void CalcPrefsAvgjgImp(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  PrefsAvgjg(rr, PrefsArea::kImp, out);
}

// prefs_avgjg_Rnonrel(_ret): as prefs_avgjg(_ret), but with only as many nonrelevant documents as relevant
// ones (R). With fewer nonrelevant than relevant documents, R - N virtual nonrelevant ones are added;
// otherwise the preferences are recounted against the first R documents of the last (lowest) class, which
// trec_eval takes to be the nonrelevant one. Its pool is read as trec_eval reads it, past the class into the
// next group's; rlm stops at the end of the query's pool, where trec_eval reads beyond its array.
void PrefsRecount(const Prefs& p, const PrefsGroup& g, int64_t num_new, bool retrieved_only, int64_t& ful,
                  int64_t& poss) {
  ful = poss = 0;
  const int64_t njr = p.num_judged_ret;
  if (!g.array.empty()) {
    // Preference array: nonrelevant documents after the (num_rel + 1)th are left out.
    const int64_t nj = p.num_judged;
    const int64_t scan = retrieved_only ? njr : nj;
    int64_t first = 0, seen = 0;
    for (; first < scan; ++first) {
      if (g.levels[static_cast<size_t>(first)] == 0.0 && ++seen == g.num_rel + 1) break;
    }
    auto skip = [&](int64_t x) { return x >= first && g.levels[static_cast<size_t>(x)] == 0.0; };
    auto pref = [&](int64_t i, int64_t j) { return g.array[static_cast<size_t>(i * nj + j)] != 0; };
    for (int64_t i = 0; i < njr; ++i) {
      if (skip(i)) continue;
      for (int64_t j = 0; j < i; ++j) poss += !skip(j) && pref(i, j);
      for (int64_t j = i + 1; j < njr; ++j) ful += !skip(j) && pref(i, j);
      if (!retrieved_only) {
        for (int64_t j = njr; j < nj; ++j) ful += !skip(j) && pref(i, j);
      }
    }
    if (!retrieved_only) {
      for (int64_t i = njr; i < nj; ++i) {
        if (skip(i)) continue;
        for (int64_t j = 0; j < nj; ++j) poss += !skip(j) && pref(i, j);
      }
    }
    poss += ful;
    return;
  }
  const size_t n = g.ecs.size();
  auto each = [&](size_t begin, size_t count, auto&& fn) {
    size_t end = std::min(begin + count, p.pool.size());
    for (size_t k = begin; k < end; ++k) {
      if (retrieved_only && p.pool[k] >= njr) break;
      fn(p.pool[k]);
    }
  };
  auto count = [&](int64_t r1, int64_t r2) {
    if (r1 < r2 && (retrieved_only || r1 < njr)) {
      ++ful;
    } else {
      ++poss;
    }
  };
  for (size_t e1 = 0; e1 < n; ++e1) {
    for (size_t e2 = e1 + 1; e2 + 1 < n; ++e2) {
      each(g.ecs[e1].begin, g.ecs[e1].count,
           [&](int64_t r1) { each(g.ecs[e2].begin, g.ecs[e2].count, [&](int64_t r2) { count(r1, r2); }); });
    }
  }
  const size_t last = g.ecs[n - 1].begin;
  for (size_t e1 = 0; e1 < n; ++e1) {
    each(g.ecs[e1].begin, g.ecs[e1].count,
         [&](int64_t r1) { each(last, static_cast<size_t>(num_new), [&](int64_t r2) { count(r1, r2); }); });
  }
  poss += ful;
}

void PrefsRnonrel(const Ranked& rr, bool retrieved_only, double* out) {
  double sum = 0.0;
  for (const PrefsGroup& g : rr.prefs.groups) {
    int64_t r = retrieved_only ? g.num_rel_ret : g.num_rel;
    int64_t n = retrieved_only ? g.num_nonrel_ret : g.num_nonrel;
    int64_t ful, poss;
    if (r >= n) {
      ful = g.fulfilled_ret;
      poss = g.possible_ret;
      if (!retrieved_only) {
        ful += g.fulfilled_imp;
        poss += g.possible_imp + g.possible_notoccur;
      }
      ful += g.num_rel_ret * (r - n);
      poss += g.num_rel * (r - n);
    } else {
      PrefsRecount(rr.prefs, g, retrieved_only ? g.num_rel_ret : g.num_rel, retrieved_only, ful, poss);
    }
    sum += static_cast<double>(ful) / static_cast<double>(poss);
  }
  if (sum > 0.0) out[0] = sum / static_cast<double>(rr.prefs.groups.size());
}
void CalcPrefsAvgjgRnonrel(const Ranked& rr, const Instance&, const EvalOptions&, double* out, std::string*) {
  PrefsRnonrel(rr, false, out);
}
void CalcPrefsAvgjgRnonrelRet(const Ranked& rr, const Instance&, const EvalOptions&, double* out,
                              std::string*) {
  PrefsRnonrel(rr, true, out);
}

// The _avgjg measures add each judgment group's value into the output, then divide by the number of
// groups (trec_eval's order; one group: no division).
void DivideByGroups(const Ranked& rr, double* out, size_t n) {
  if (rr.groups.size() > 1) {
    for (size_t i = 0; i < n; ++i) out[i] /= static_cast<double>(rr.groups.size());
  }
}

void CalcMapAvgjg(const Ranked& rr, const Instance&, const EvalOptions& o, double* out, std::string*) {
  for (const Ranked& g : rr.groups) {
    int64_t rel_so_far = 0;
    double sum = 0.0;
    for (int64_t i = 0; i < g.num_ret; ++i) {
      if (IsRel(g.rels[static_cast<size_t>(i)], o))
        sum += static_cast<double>(++rel_so_far) / static_cast<double>(i + 1);
    }
    if (rel_so_far) out[0] += sum / static_cast<double>(g.num_rel);
  }
  DivideByGroups(rr, out, 1);
}

void CalcPAvgjg(const Ranked& rr, const Instance& m, const EvalOptions& o, double* out, std::string*) {
  std::vector<double> one(m.cutoffs.size());
  for (const Ranked& g : rr.groups) {
    int64_t rel_so_far = 0;
    ScanCutoffs(
        g.num_ret, m.cutoffs, one.data(),
        [&](int64_t i) { rel_so_far += IsRel(g.rels[static_cast<size_t>(i)], o); },
        [&](int64_t k) { return static_cast<double>(rel_so_far) / static_cast<double>(k); });
    for (size_t i = 0; i < one.size(); ++i) out[i] += one[i];
  }
  DivideByGroups(rr, out, m.cutoffs.size());
}

void CalcRprecMultAvgjg(const Ranked& rr, const Instance& m, const EvalOptions& o, double* out,
                        std::string*) {
  size_t np = m.numbers.size();
  std::vector<int64_t> cutoffs(np);
  for (const Ranked& g : rr.groups) {
    for (size_t i = 0; i < np; ++i) {
      cutoffs[i] = static_cast<int64_t>(m.numbers[i] * static_cast<double>(g.num_rel) + 0.9);
    }
    int64_t current = static_cast<int64_t>(np) - 1;
    while (current >= 0 && cutoffs[static_cast<size_t>(current)] > g.num_ret) {
      out[current] +=
          static_cast<double>(g.num_rel_ret) / static_cast<double>(cutoffs[static_cast<size_t>(current)]);
      --current;
    }
    int64_t rel_so_far = g.num_rel_ret;
    for (int64_t i = g.num_ret; i > 0 && rel_so_far > 0; --i) {
      double precis = static_cast<double>(rel_so_far) / static_cast<double>(i);
      while (current >= 0 && i == cutoffs[static_cast<size_t>(current)]) out[current--] += precis;
      if (IsRel(g.rels[static_cast<size_t>(i - 1)], o)) --rel_so_far;
    }
  }
  DivideByGroups(rr, out, np);
}

void CalcYaap(const Ranked& rr, const Instance&, const EvalOptions& o, double* out, std::string*) {
  int64_t rel_so_far = 0;
  double sum = 0.0;
  for (int64_t i = 0; i < rr.num_ret; ++i) {
    if (IsRel(rr.rels[static_cast<size_t>(i)], o))
      sum += static_cast<double>(++rel_so_far) / static_cast<double>(i + 1);
  }
  out[0] = std::log((1.0 + sum) / (1.0 + static_cast<double>(rr.num_rel) - sum));
}

// ERR@k as gdeval.pl computes it (ir_measures' ERR provider): grades capped at kErrMaxGrade, negative
// grades and unjudged documents 0, stop probability (2^g - 1) / 2^kErrMaxGrade.
constexpr int32_t kErrMaxGrade = 4;
void CalcErrCut(const Ranked& rr, const Instance& m, const EvalOptions&, double* out, std::string*) {
  double score = 0.0, decay = 1.0;
  const double max_gain = std::ldexp(1.0, kErrMaxGrade);
  ScanCutoffs(
      rr.num_ret, m.cutoffs, out,
      [&](int64_t i) {
        int32_t g = std::min(rr.rels[static_cast<size_t>(i)], kErrMaxGrade);
        if (g <= 0) return;
        double r = (std::ldexp(1.0, g) - 1.0) / max_gain;
        score += r * decay / static_cast<double>(i + 1);
        decay *= 1.0 - r;
      },
      [&](int64_t) { return score; });
}

// Judged@k: judged documents (grade >= 0) among the top min(k, num_ret), over min(k, num_ret).
void CalcJudged(const Ranked& rr, const Instance& m, const EvalOptions&, double* out, std::string*) {
  int64_t judged = 0;
  ScanCutoffs(
      rr.num_ret, m.cutoffs, out, [&](int64_t i) { judged += rr.rels[static_cast<size_t>(i)] >= 0; },
      [&](int64_t k) {
        int64_t n = std::min(k, rr.num_ret);
        return n ? static_cast<double>(judged) / static_cast<double>(n) : 0.0;
      });
}

// ---- the registry ----------------------------------------------------------------------------------------

// The relevance file a measure reads (trec_eval's form_res_rels, form_res_rels_jg, form_prefs_counts).
enum class Input : uint8_t { kAny, kQrels, kQrelsJg, kQrelsPrefs };

struct Family {
  MeasureInfo info;
  ParamKind params;
  ValueKind kind;
  Aggregation aggregation;
  bool per_query;
  ComputeFn compute;
  Input input;
};

constexpr const char* kCuts = "5,10,15,20,30,100,200,500,1000";
constexpr const char* kRecallPoints = "0,.1,.2,.3,.4,.5,.6,.7,.8,.9,1";

// In trec_eval 10.0's output order.
const Family kFamilies[] = {
    {{"runid", "", "the run's id (its last line)", true, true},
     ParamKind::kNone,
     ValueKind::kRunid,
     Aggregation::kNone,
     false,
     CalcNothing,
     Input::kAny},
    {{"num_q", "", "number of queries evaluated", true, true},
     ParamKind::kNone,
     ValueKind::kCount,
     Aggregation::kQueryCount,
     false,
     CalcNumQ,
     Input::kAny},
    {{"num_ret", "", "documents retrieved (summary: sum)", true, true},
     ParamKind::kNone,
     ValueKind::kCount,
     Aggregation::kSum,
     true,
     CalcNumRet,
     Input::kQrels},
    {{"num_rel", "", "relevant documents judged (summary: sum)", true, true},
     ParamKind::kNone,
     ValueKind::kCount,
     Aggregation::kSum,
     true,
     CalcNumRel,
     Input::kQrels},
    {{"num_rel_ret", "", "relevant documents retrieved (summary: sum)", true, true},
     ParamKind::kNone,
     ValueKind::kCount,
     Aggregation::kSum,
     true,
     CalcNumRelRet,
     Input::kQrels},
    {{"map", "", "mean average precision", true, true},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcMap,
     Input::kQrels},
    {{"gm_map", "", "geometric mean of average precision (floor 1e-5)", true, true},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kGeometricMean,
     false,
     CalcGmMap,
     Input::kQrels},
    {{"Rprec", "", "precision after R (= num_rel) documents", true, true},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcRprec,
     Input::kQrels},
    {{"bpref", "", "binary preference", true, true},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcBpref,
     Input::kQrels},
    {{"recip_rank", "", "reciprocal rank of the first relevant document (whole ranking)", true, true},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcRecipRank,
     Input::kQrels},
    {{"iprec_at_recall", kRecallPoints, "interpolated precision at recall levels", true, true},
     ParamKind::kDoubleCutoffs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcIprecAtRecall,
     Input::kQrels},
    {{"P", kCuts, "precision at cutoffs", true, true},
     ParamKind::kLongCutoffs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcP,
     Input::kQrels},
    {{"relstring", "10", "grades of the first N documents (per query only)", false, true},
     ParamKind::kDoubleParams,
     ValueKind::kRelstring,
     Aggregation::kNone,
     true,
     CalcRelstring,
     Input::kQrels},
    {{"recall", kCuts, "recall at cutoffs", false, true},
     ParamKind::kLongCutoffs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcRecall,
     Input::kQrels},
    {{"infAP", "", "inferred average precision (negative grades: unjudged pool sample)", false, true},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcInfAP,
     Input::kQrels},
    {{"gm_bpref", "", "geometric mean of bpref (floor 1e-5)", false, true},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kGeometricMean,
     false,
     CalcGmBpref,
     Input::kQrels},
    {{"Rprec_mult", "0.2,0.4,0.6,0.8,1.0,1.2,1.4,1.6,1.8,2.0", "precision at multiples of R", false, true},
     ParamKind::kDoubleCutoffs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcRprecMult,
     Input::kQrels},
    {{"utility", "1,-1,0,0", "set utility a*relret + b*nonrelret + c*relnonret + d*nonrelnonret", false,
      true},
     ParamKind::kDoubleParams,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcUtility,
     Input::kQrels},
    {{"11pt_avg", "0.0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0",
      "mean interpolated precision at recall levels", false, true},
     ParamKind::kDoubleParams,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     Calc11ptAvg,
     Input::kQrels},
    {{"binG", "", "binary G", false, true},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcBinG,
     Input::kQrels},
    {{"G", "", "G (gains per grade: G.1=3,2=9)", false, true},
     ParamKind::kPairs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcG,
     Input::kQrels},
    {{"dcg", "", "discounted cumulative gain (gains per grade)", false, false},
     ParamKind::kPairs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcDcg,
     Input::kQrels},
    {{"ideal_dcg", "", "ideal discounted cumulative gain (gains per grade)", false, false},
     ParamKind::kPairs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcIdealDcg,
     Input::kQrels},
    {{"ndcg", "", "nDCG over the whole ranking (gains per grade: ndcg.1=3,2=9)", false, true},
     ParamKind::kPairs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcNdcg,
     Input::kQrels},
    {{"ndcg_rel", "", "nDCG averaged over relevant documents (gains per grade)", false, true},
     ParamKind::kPairs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcNdcgRel,
     Input::kQrels},
    {{"Rndcg", "", "nDCG averaged at ideal gain changes (gains per grade)", false, true},
     ParamKind::kPairs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcRndcg,
     Input::kQrels},
    {{"ndcg_cut", kCuts, "nDCG at cutoffs (gain = grade)", false, true},
     ParamKind::kLongCutoffs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcNdcgCut,
     Input::kQrels},
    {{"map_cut", kCuts, "average precision over the top k", false, true},
     ParamKind::kLongCutoffs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcMapCut,
     Input::kQrels},
    {{"relative_P", kCuts, "precision at k relative to min(k, R)", false, true},
     ParamKind::kLongCutoffs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcRelativeP,
     Input::kQrels},
    {{"success", "1,5,10", "1 if a relevant document is in the top k", false, true},
     ParamKind::kLongCutoffs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcSuccess,
     Input::kQrels},
    {{"set_P", "", "precision of the retrieved set", false, true},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcSetP,
     Input::kQrels},
    {{"set_relative_P", "", "set precision relative to min(num_ret, R)", false, true},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcSetRelativeP,
     Input::kQrels},
    {{"set_recall", "", "recall of the retrieved set", false, true},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcSetRecall,
     Input::kQrels},
    {{"set_map", "", "set_P * set_recall", false, true},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcSetMap,
     Input::kQrels},
    {{"set_F", "1.0", "F measure of the retrieved set (parameter: beta)", false, true},
     ParamKind::kDoubleParams,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcSetF,
     Input::kQrels},
    {{"num_nonrel_judged_ret", "", "judged non-relevant documents retrieved (summary: sum)", false, true},
     ParamKind::kNone,
     ValueKind::kCount,
     Aggregation::kSum,
     true,
     CalcNumNonrelJudgedRet,
     Input::kQrels},
    {{"prefs_num_prefs_poss", "", "preferences possible (summary: sum) (-R qrels_prefs)", false, false},
     ParamKind::kNone,
     ValueKind::kCount,
     Aggregation::kSum,
     true,
     CalcPrefsNumPoss,
     Input::kQrelsPrefs},
    {{"prefs_num_prefs_ful", "", "preferences fulfilled (summary: sum) (-R qrels_prefs)", false, false},
     ParamKind::kNone,
     ValueKind::kCount,
     Aggregation::kSum,
     true,
     CalcPrefsNumFul,
     Input::kQrelsPrefs},
    {{"prefs_num_prefs_ful_ret", "",
      "preferences fulfilled between retrieved documents (summary: sum) (-R qrels_prefs)", false, false},
     ParamKind::kNone,
     ValueKind::kCount,
     Aggregation::kSum,
     true,
     CalcPrefsNumFulRet,
     Input::kQrelsPrefs},
    {{"prefs_simp", "", "preferences fulfilled / possible, over all groups (-R qrels_prefs)", false, false},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcPrefsSimp,
     Input::kQrelsPrefs},
    {{"prefs_pair", "",
      "per document pair fraction of groups' preferences fulfilled, averaged (-R qrels_prefs)", false, false},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcPrefsPair,
     Input::kQrelsPrefs},
    {{"prefs_avgjg", "", "preferences fulfilled / possible, averaged over groups (-R qrels_prefs)", false,
      false},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcPrefsAvgjg,
     Input::kQrelsPrefs},
    {{"prefs_avgjg_Rnonrel", "",
      "prefs_avgjg with as many nonrelevant documents as relevant (-R qrels_prefs)", false, false},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcPrefsAvgjgRnonrel,
     Input::kQrelsPrefs},
    {{"prefs_simp_ret", "", "prefs_simp between retrieved documents (-R qrels_prefs)", false, false},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcPrefsSimpRet,
     Input::kQrelsPrefs},
    {{"prefs_pair_ret", "", "prefs_pair between retrieved documents (-R qrels_prefs)", false, false},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcPrefsPairRet,
     Input::kQrelsPrefs},
    {{"prefs_avgjg_ret", "", "prefs_avgjg between retrieved documents (-R qrels_prefs)", false, false},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcPrefsAvgjgRet,
     Input::kQrelsPrefs},
    {{"prefs_avgjg_Rnonrel_ret", "", "prefs_avgjg_Rnonrel between retrieved documents (-R qrels_prefs)",
      false, false},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcPrefsAvgjgRnonrelRet,
     Input::kQrelsPrefs},
    {{"prefs_simp_imp", "", "prefs_simp, pairs with at least one retrieved document (-R qrels_prefs)", false,
      false},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcPrefsSimpImp,
     Input::kQrelsPrefs},
    {{"prefs_pair_imp", "", "prefs_pair, pairs with at least one retrieved document (-R qrels_prefs)", false,
      false},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcPrefsPairImp,
     Input::kQrelsPrefs},
    {{"prefs_avgjg_imp", "", "prefs_avgjg, pairs with at least one retrieved document (-R qrels_prefs)",
      false, false},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcPrefsAvgjgImp,
     Input::kQrelsPrefs},
    {{"map_avgjg", "", "map averaged over the judgment groups of -R qrels_jg", false, false},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcMapAvgjg,
     Input::kQrelsJg},
    {{"P_avgjg", kCuts, "P at cutoffs averaged over the judgment groups of -R qrels_jg", false, false},
     ParamKind::kLongCutoffs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcPAvgjg,
     Input::kQrelsJg},
    {{"Rprec_mult_avgjg", "0.2,0.4,0.6,0.8,1.0,1.2,1.4,1.6,1.8,2.0",
      "Rprec_mult averaged over the judgment groups of -R qrels_jg", false, false},
     ParamKind::kDoubleCutoffs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcRprecMultAvgjg,
     Input::kQrelsJg},
    {{"yaap", "", "yet another average precision: log((1 + sum) / (1 + R - sum)), sum as map's", false,
      false},
     ParamKind::kNone,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcYaap,
     Input::kQrels},
    {{"rbp", "", "rank-biased precision (rbp.p=0.9, gains per grade)", false, true},
     ParamKind::kPairs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcRbp,
     Input::kQrels},
    {{"rbp_resid", "", "rank-biased precision residual (rbp_resid.p=0.9)", false, true},
     ParamKind::kPairs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcRbpResid,
     Input::kQrels},
    {{"unj", "5,10,20", "fraction of unjudged documents in the top k", false, true},
     ParamKind::kLongCutoffs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcUnj,
     Input::kQrels},
    // rlm's own, not trec_eval's.
    {{"mrr_cut", "10", "MRR@k: reciprocal rank of the first relevant document within the top k (rlm)", false,
      false},
     ParamKind::kLongCutoffs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcMrrCut,
     Input::kQrels},
    {{"hit", "1,5,10", "hit@k: 1 if a relevant document is in the top k, as success_k (rlm)", false, false},
     ParamKind::kLongCutoffs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcSuccess,
     Input::kQrels},
    {{"err_cut", "5,10,20", "ERR@k: expected reciprocal rank, grades capped at 4 (gdeval, ir_measures) (rlm)",
      false, false},
     ParamKind::kLongCutoffs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcErrCut,
     Input::kQrels},
    {{"judged", "5,10,20", "Judged@k: fraction of the top min(k, num_ret) that is judged (rlm)", false,
      false},
     ParamKind::kLongCutoffs,
     ValueKind::kFloat,
     Aggregation::kMean,
     true,
     CalcJudged,
     Input::kQrels},
};
constexpr size_t kNumFamilies = sizeof(kFamilies) / sizeof(kFamilies[0]);

const std::vector<MeasureInfo>& RegistryInfos() {
  static const std::vector<MeasureInfo> infos = [] {
    std::vector<MeasureInfo> v;
    for (const Family& f : kFamilies) v.push_back(f.info);
    return v;
  }();
  return infos;
}

// trec_eval's nicknames other than official and all_trec (flags of the registry).
struct Nickname {
  const char* name;
  std::vector<const char*> members;
};
const Nickname kNicknames[] = {
    {"set",
     {"runid", "num_q", "num_ret", "num_rel", "num_rel_ret", "utility", "set_P", "set_recall",
      "set_relative_P", "set_map", "set_F"}},
    {"qrels_jg", {"runid", "num_q", "map_avgjg", "P_avgjg", "Rprec_mult_avgjg"}},
    {"all_prefs",
     {"runid", "num_q", "prefs_num_prefs_poss", "prefs_num_prefs_ful", "prefs_num_prefs_ful_ret",
      "prefs_simp", "prefs_pair", "prefs_avgjg", "prefs_avgjg_Rnonrel", "prefs_simp_ret", "prefs_pair_ret",
      "prefs_avgjg_ret", "prefs_avgjg_Rnonrel_ret", "prefs_simp_imp", "prefs_pair_imp", "prefs_avgjg_imp"}},
    {"prefs",
     {"runid", "num_q", "prefs_num_prefs_poss", "prefs_num_prefs_ful", "prefs_num_prefs_ful_ret",
      "prefs_simp", "prefs_pair", "prefs_avgjg"}},
};

int FindFamily(std::string_view name) {
  for (size_t i = 0; i < kNumFamilies; ++i) {
    if (name == kFamilies[i].info.name) return static_cast<int>(i);
  }
  return -1;
}

const Nickname* FindNickname(std::string_view name) {
  for (const Nickname& n : kNicknames) {
    if (name == n.name) return &n;
  }
  return nullptr;
}

// "did you mean 'ndcg_cut'?" for a misspelt measure, or where to look when nothing is close.
std::string MeasureSuggestion(std::string_view name) {
  std::vector<std::string> names;
  for (const Family& f : kFamilies) names.emplace_back(f.info.name);
  for (const char* n : {"official", "all_trec"}) names.emplace_back(n);
  for (const Nickname& n : kNicknames) names.emplace_back(n.name);
  const std::string near = NearestName(name, names);
  return near.empty() ? "`rlm eval metrics --help` lists the measures" : "did you mean '" + near + "'?";
}

std::vector<std::string> SplitCommas(std::string_view s) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t comma = s.find(',', start);
    parts.emplace_back(
        s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return parts;
}

[[noreturn]] void BadParams(std::string_view measure, std::string_view params, const std::string& why) {
  throw InvalidInput(
      "bad parameters '" + std::string(params) + "' for measure " + std::string(measure) + ": " + why,
      "see `rlm eval metrics --help` for the measures and their parameters");
}

// Fills `inst` from a parameter string (trec_eval's get_*_cutoffs / get_*_params).
void ParseParams(const Family& f, std::string_view params, Instance& inst) {
  std::vector<std::string> parts = SplitCommas(params);
  switch (f.params) {
    case ParamKind::kNone:
      break;  // trec_eval ignores parameters of measures that take none
    case ParamKind::kLongCutoffs: {
      for (const std::string& p : parts) inst.cutoffs.push_back(std::strtol(p.c_str(), nullptr, 10));
      std::sort(inst.cutoffs.begin(), inst.cutoffs.end());
      if (inst.cutoffs[0] <= 0) BadParams(f.info.name, params, "cutoffs must be positive");
      for (size_t i = 1; i < inst.cutoffs.size(); ++i) {
        if (inst.cutoffs[i] == inst.cutoffs[i - 1]) BadParams(f.info.name, params, "duplicate cutoffs");
      }
      break;
    }
    case ParamKind::kDoubleCutoffs: {
      for (const std::string& p : parts) inst.numbers.push_back(std::atof(p.c_str()));
      std::sort(inst.numbers.begin(), inst.numbers.end());
      for (size_t i = 1; i < inst.numbers.size(); ++i) {
        if (inst.numbers[i] == inst.numbers[i - 1]) BadParams(f.info.name, params, "duplicate cutoffs");
      }
      break;
    }
    case ParamKind::kDoubleParams:
      for (const std::string& p : parts) inst.numbers.push_back(std::atof(p.c_str()));
      break;
    case ParamKind::kPairs:
      for (const std::string& p : parts) {
        size_t eq = p.find('=');
        if (eq == std::string::npos || eq == 0 || p.find('=', eq + 1) != std::string::npos) {
          BadParams(f.info.name, params, "expected comma-separated name=value pairs");
        }
        inst.pairs.emplace_back(p.substr(0, eq), std::atof(p.c_str() + eq + 1));
      }
      break;
  }
  if (std::string_view(f.info.name) == "utility" && inst.numbers.size() != 4) {
    BadParams(f.info.name, params, "utility takes exactly 4 coefficients");
  }
  if (std::string_view(f.info.name) == "11pt_avg" && inst.numbers.empty()) {
    BadParams(f.info.name, params, "no recall levels");
  }
}

std::string FormatDouble(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

}  // namespace

std::span<const MeasureInfo> MeasureRegistry() {
  return RegistryInfos();
}

MeasureSet::MeasureSet() = default;
MeasureSet::~MeasureSet() = default;
MeasureSet::MeasureSet(MeasureSet&&) noexcept = default;
MeasureSet& MeasureSet::operator=(MeasureSet&&) noexcept = default;

MeasureSet MeasureSet::FromArgs(std::span<const std::string> args) {
  std::vector<std::string> requests(args.begin(), args.end());
  if (requests.empty()) requests.push_back("official");
  std::vector<bool> marked(kNumFamilies, false);
  std::vector<std::pair<std::string, std::string>> params;  // (measure, params), first wins
  for (const std::string& arg : requests) {
    size_t dot = arg.find('.');
    std::string name = arg.substr(0, dot);
    if (dot != std::string::npos) {
      std::string p = arg.substr(dot + 1);
      if (p.empty()) throw InvalidInput("improper measure '" + arg + "': empty parameters after '.'");
      params.emplace_back(name, p);
    }
    if (name == "official" || name == "all_trec") {
      for (size_t i = 0; i < kNumFamilies; ++i) {
        if (name == "official" ? kFamilies[i].info.official : kFamilies[i].info.all_trec) marked[i] = true;
      }
    } else if (const Nickname* nick = FindNickname(name)) {
      for (const char* n : nick->members) marked[static_cast<size_t>(FindFamily(n))] = true;
    } else {
      int fam = FindFamily(name);
      if (fam < 0) {
        throw InvalidInput("unknown measure '" + name + "'", MeasureSuggestion(name),
                           ErrorType::kUnknownMeasure);
      }
      marked[static_cast<size_t>(fam)] = true;
    }
  }
  MeasureSet set;
  for (size_t fi = 0; fi < kNumFamilies; ++fi) {
    if (!marked[fi]) continue;
    const Family& f = kFamilies[fi];
    Instance inst;
    inst.family = static_cast<int>(fi);
    std::string printable;
    for (const auto& [measure, p] : params) {
      if (measure == f.info.name) {
        printable = p;
        break;
      }
    }
    std::string_view given = printable.empty() ? std::string_view(f.info.default_params) : printable;
    if (!given.empty()) ParseParams(f, given, inst);
    inst.offset = set.values_.size();
    auto add = [&](std::string name) {
      set.values_.push_back(
          MeasureValue{std::move(name), f.kind, f.aggregation, f.per_query, f.kind != ValueKind::kRelstring});
    };
    std::string base = f.info.name;
    switch (f.params) {
      case ParamKind::kLongCutoffs:
        for (int64_t c : inst.cutoffs) add(base + "_" + std::to_string(c));
        break;
      case ParamKind::kDoubleCutoffs:
        for (double c : inst.numbers) add(base + "_" + FormatDouble("%3.2f", c));
        break;
      case ParamKind::kNone:
        add(base);
        break;
      default:
        add(printable.empty() ? base : base + "_" + printable);
        break;
    }
    inst.count = set.values_.size() - inst.offset;
    set.instances_.push_back(std::move(inst));
  }
  return set;
}

int MeasureSet::IndexOf(std::string_view name) const {
  for (size_t i = 0; i < values_.size(); ++i) {
    if (values_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation

namespace {

constexpr int32_t kMaxGrade = 65535;  // grade counts are kept in an array indexed by grade

bool Selected(std::string_view qid, const EvalOptions& o) {
  return o.only_query.empty() || qid == o.only_query;
}

// The run's entries in trec_eval's ranking, cut to -M.
std::vector<RunEntry> RankAndCut(std::span<const RunEntry> entries, const EvalOptions& o) {
  std::vector<RunEntry> ranked(entries.begin(), entries.end());
  RankEntries(ranked);
  if (static_cast<int64_t>(ranked.size()) > o.max_retrieved)
    ranked.resize(static_cast<size_t>(std::max<int64_t>(0, o.max_retrieved)));
  return ranked;
}

// trec_eval's form_res_rels for one set of judgments (a query's, or one judgment group's).
void BuildRanked(std::span<const Judgment> judgments, std::string_view qid, std::span<const RunEntry> ranked,
                 const DocIdTable& docs, const EvalOptions& o, Ranked& rr) {
  int32_t max_rel = -1;
  for (const Judgment& j : judgments) max_rel = std::max(max_rel, j.rel);
  if (max_rel > kMaxGrade) {
    throw InvalidInput("relevance grade " + std::to_string(max_rel) + " for query " + std::string(qid) +
                       " is too large (at most " + std::to_string(kMaxGrade) + ")");
  }
  rr.rel_levels.assign(static_cast<size_t>(max_rel + 1), 0);
  for (const Judgment& j : judgments) {
    if (j.rel >= 0) ++rr.rel_levels[static_cast<size_t>(j.rel)];
  }
  rr.num_rel_levels = 0;
  rr.num_rel = 0;
  for (int64_t i = 0; i <= max_rel; ++i) {
    if (rr.rel_levels[static_cast<size_t>(i)]) {
      rr.num_rel_levels = i + 1;
      if (i >= o.relevance_level) rr.num_rel += rr.rel_levels[static_cast<size_t>(i)];
    }
  }

  // The query's judged documents in a small open-addressing table keyed by docid tag: it stays in L1,
  // where probing the collection-wide DocIdTable would miss the cache for nearly every retrieved document.
  size_t cap = 16;
  size_t num_judged = judgments.size();
  while (cap < num_judged * 2) cap <<= 1;
  std::vector<std::pair<uint32_t, uint32_t>> slots(num_judged ? cap : 0, {0, UINT32_MAX});  // (tag, index)
  auto home = [cap](uint32_t tag) { return (static_cast<size_t>(tag) * 0x9E3779B1u) & (cap - 1); };
  for (size_t k = 0; k < num_judged; ++k) {
    uint32_t tag = docs.TagOf(judgments[k].doc);
    size_t i = home(tag);
    while (slots[i].second != UINT32_MAX) i = (i + 1) & (cap - 1);
    slots[i] = {tag, static_cast<uint32_t>(k)};
  }

  rr.rels.clear();
  rr.rels.reserve(ranked.size());
  rr.num_rel_ret = 0;
  for (const RunEntry& e : ranked) {
    const Judgment* j = nullptr;
    if (num_judged) {
      uint32_t tag = e.tag ? e.tag : DocIdTable::Tag(e.docid);
      for (size_t i = home(tag); slots[i].second != UINT32_MAX; i = (i + 1) & (cap - 1)) {
        if (slots[i].first == tag && docs.Name(judgments[slots[i].second].doc) == e.docid) {
          j = &judgments[slots[i].second];
          break;
        }
      }
    }
    int32_t rel = j == nullptr ? kNonPool : j->rel < 0 ? kUnjudged : j->rel;
    if (o.judged_docs_only && rel < 0) continue;
    if (rel >= 0 && rel >= o.relevance_level) ++rr.num_rel_ret;
    rr.rels.push_back(rel);
  }
  rr.num_ret = static_cast<int64_t>(rr.rels.size());
}

// trec_eval's form_jg_pa and add_pa_pref_to_jg: a group with several subgroups (-R prefs) as an array of
// preferences (each subgroup's higher levels over its lower ones), transitively closed.
void BuildPrefsArray(const QrelsQuery& judged, const JudgmentGroup& jg,
                     const std::unordered_map<uint32_t, int64_t>& rank_of, const DocIdTable& docs, Prefs& p,
                     PrefsGroup& g) {
  const int64_t nj = p.num_judged, njr = p.num_judged_ret;
  const size_t n = static_cast<size_t>(nj);
  struct Line {
    uint32_t sub;
    double level;
    int64_t rank;
    uint32_t doc;
  };
  std::vector<Line> lines;
  for (size_t k = 0; k < jg.judgments.size(); ++k) {
    lines.push_back({jg.subgroups[k], jg.levels[k], rank_of.at(jg.judgments[k].doc), jg.judgments[k].doc});
  }
  std::sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
    if (a.sub != b.sub) return a.sub < b.sub;
    if (a.level != b.level) return a.level > b.level;
    return a.rank < b.rank;
  });
  g.array.assign(n * n, 0);
  g.levels.assign(n, -1.0);
  auto at = [&](int64_t i, int64_t j) -> uint8_t& {
    return g.array[static_cast<size_t>(i) * n + static_cast<size_t>(j)];
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    double& level = g.levels[static_cast<size_t>(lines[i].rank)];
    if ((level > 0.0 && lines[i].level == 0.0) || (level == 0.0 && lines[i].level > 0.0)) {
      throw InvalidInput("query " + judged.qid + ", group " + jg.name + ": document '" +
                         std::string(docs.Name(lines[i].doc)) + "' has both level 0 and a level above 0");
    }
    level = lines[i].level;
    size_t j = i + 1;
    while (j < lines.size() && lines[j].sub == lines[i].sub && lines[j].level == lines[i].level) ++j;
    for (; j < lines.size() && lines[j].sub == lines[i].sub; ++j) at(lines[i].rank, lines[j].rank) = 1;
  }
  // Transitive closure (trec_eval multiplies the array by itself until it stops changing; same result).
  for (int64_t k = 0; k < nj; ++k) {
    for (int64_t i = 0; i < nj; ++i) {
      if (!at(i, k)) continue;
      for (int64_t j = 0; j < nj; ++j) at(i, j) |= at(k, j);
    }
  }
  for (int64_t i = 0; i < nj; ++i) at(i, i) = 0;
  for (int64_t i = 0; i < nj; ++i) {
    for (int64_t j = 0; j < nj; ++j) {
      if (i != j && at(i, j) && at(j, i)) {
        throw InvalidInput("query " + judged.qid + ", group " + jg.name +
                           ": inconsistent preferences (a document is preferred to one preferred to it)");
      }
    }
  }
  for (int64_t i = 0; i < nj; ++i) {
    double level = g.levels[static_cast<size_t>(i)];
    if (level > 0.0) {
      ++g.num_rel;
      g.num_rel_ret += i < njr;
    } else if (level == 0.0) {
      ++g.num_nonrel;
      g.num_nonrel_ret += i < njr;
    }
  }
  for (int64_t i = 0; i < nj; ++i) {
    for (int64_t j = 0; j < nj; ++j) {
      if (i == j || !at(i, j)) continue;
      ++p.counts[static_cast<size_t>(i * nj + j)];
      if (i < njr) {
        if (j < i) {
          ++g.possible_ret;
        } else if (j < njr) {
          ++g.fulfilled_ret;
        } else {
          ++g.fulfilled_imp;
        }
      } else if (j < njr) {
        ++g.possible_imp;
      } else {
        ++g.possible_notoccur;
      }
    }
  }
  g.possible_ret += g.fulfilled_ret;
  g.possible_imp += g.fulfilled_imp;
}

// trec_eval's form_prefs_counts for the groups of one query.
void BuildPrefs(const QrelsQuery& judged, std::span<const RunEntry> entries, const DocIdTable& docs,
                const EvalOptions& o, Prefs& p) {
  std::vector<RunEntry> ranked(entries.begin(), entries.end());
  std::sort(ranked.begin(), ranked.end(), [](const RunEntry& a, const RunEntry& b) {
    if (a.score != b.score) return a.score > b.score;
    return a.docid < b.docid;  // form_prefs_counts breaks ties by docid ascending
  });
  if (static_cast<int64_t>(ranked.size()) > o.max_retrieved)
    ranked.resize(static_cast<size_t>(std::max<int64_t>(0, o.max_retrieved)));

  constexpr int64_t kNone = -1;
  std::unordered_map<uint32_t, int64_t> rank_of;  // judged doc id -> docid rank
  for (const JudgmentGroup& g : judged.groups) {
    for (const Judgment& j : g.judgments) rank_of.emplace(j.doc, kNone);
  }
  constexpr int64_t kMaxJudged = 1 << 14;  // the counts array is num_judged^2 (512 MiB at most)
  if (static_cast<int64_t>(rank_of.size()) > kMaxJudged) {
    throw InvalidInput("query " + judged.qid + " has " + std::to_string(rank_of.size()) +
                       " documents with preferences (at most " + std::to_string(kMaxJudged) + ")");
  }
  int64_t next = 0;
  for (const RunEntry& e : ranked) {
    uint32_t doc = docs.Find(e.docid, e.tag ? e.tag : DocIdTable::Tag(e.docid));
    if (doc == DocIdTable::kMissing) continue;
    auto it = rank_of.find(doc);
    if (it != rank_of.end() && it->second == kNone) it->second = next++;
  }
  p.num_judged_ret = next;
  std::vector<uint32_t> unretrieved;
  for (const auto& [doc, rank] : rank_of) {
    if (rank == kNone) unretrieved.push_back(doc);
  }
  std::sort(unretrieved.begin(), unretrieved.end(),
            [&](uint32_t a, uint32_t b) { return docs.Name(a) < docs.Name(b); });
  for (uint32_t doc : unretrieved) rank_of[doc] = next++;
  p.num_judged = next;
  p.counts.assign(static_cast<size_t>(p.num_judged * p.num_judged), 0);
  p.pool.clear();
  p.groups.assign(judged.groups.size(), PrefsGroup{});

  const int64_t njr = p.num_judged_ret;
  for (size_t gi = 0; gi < judged.groups.size(); ++gi) {
    const JudgmentGroup& jg = judged.groups[gi];
    PrefsGroup& g = p.groups[gi];
    if (jg.subgroup_names.size() > 1) {
      BuildPrefsArray(judged, jg, rank_of, docs, p, g);
      continue;
    }
    std::vector<std::pair<double, int64_t>> lines;  // (level, docid rank)
    for (size_t k = 0; k < jg.judgments.size(); ++k)
      lines.emplace_back(jg.levels[k], rank_of[jg.judgments[k].doc]);
    std::sort(lines.begin(), lines.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    for (size_t k = 0; k < lines.size(); ++k) {
      if (k == 0 || lines[k].first != lines[k - 1].first) g.ecs.push_back({lines[k].first, p.pool.size(), 0});
      p.pool.push_back(lines[k].second);
      ++g.ecs.back().count;
    }
    // add_ec_pref_to_jg
    for (size_t e1 = 0; e1 < g.ecs.size(); ++e1) {
      const PrefsEc& a = g.ecs[e1];
      int64_t ret = 0;
      while (ret < static_cast<int64_t>(a.count) && p.pool[a.begin + static_cast<size_t>(ret)] < njr) ++ret;
      if (a.level > 0.0) {
        g.num_rel_ret += ret;
        g.num_rel += static_cast<int64_t>(a.count);
      } else {
        g.num_nonrel_ret += ret;
        g.num_nonrel += static_cast<int64_t>(a.count);
      }
      for (size_t e2 = e1 + 1; e2 < g.ecs.size(); ++e2) {
        const PrefsEc& b = g.ecs[e2];
        for (size_t x = 0; x < a.count; ++x) {
          int64_t r1 = p.pool[a.begin + x];
          for (size_t y = 0; y < b.count; ++y) {
            int64_t r2 = p.pool[b.begin + y];
            ++p.counts[static_cast<size_t>(r1 * p.num_judged + r2)];
            if (r1 < r2) {
              if (r2 < njr) {
                ++g.fulfilled_ret;
              } else if (r1 < njr) {
                ++g.fulfilled_imp;
              } else {
                ++g.possible_notoccur;
              }
            } else if (r1 < njr) {
              ++g.possible_ret;
            } else if (r2 < njr) {
              ++g.possible_imp;
            } else {
              ++g.possible_notoccur;
            }
          }
        }
      }
    }
    g.possible_ret += g.fulfilled_ret;
    g.possible_imp += g.fulfilled_imp;
  }
}

}  // namespace

void EvaluateQuery(const QrelsQuery* judged, std::span<const RunEntry> entries, const DocIdTable& docs,
                   const MeasureSet& measures, const EvalOptions& options, QueryScores& out) {
  Ranked rr;
  std::vector<RunEntry> ranked = RankAndCut(entries, options);
  std::string_view qid = judged ? std::string_view(judged->qid) : std::string_view();
  if (judged != nullptr && !judged->groups.empty() && !judged->groups[0].levels.empty()) {
    rr.num_ret = static_cast<int64_t>(ranked.size());
    BuildPrefs(*judged, entries, docs, options, rr.prefs);
  } else if (judged == nullptr || judged->groups.empty()) {
    BuildRanked(judged ? std::span<const Judgment>(judged->judgments) : std::span<const Judgment>(), qid,
                ranked, docs, options, rr);
  } else {
    rr.num_ret = static_cast<int64_t>(ranked.size());
    rr.groups.resize(judged->groups.size());
    for (size_t g = 0; g < judged->groups.size(); ++g) {
      BuildRanked(judged->groups[g].judgments, qid, ranked, docs, options, rr.groups[g]);
    }
  }
  out.values.assign(measures.values().size(), 0.0);
  out.relstring.clear();
  for (const Instance& inst : measures.instances()) {
    kFamilies[inst.family].compute(rr, inst, options, out.values.data() + inst.offset, &out.relstring);
  }
}

Evaluation Evaluate(const Qrels& qrels, const Run& run, const MeasureSet& measures,
                    const EvalOptions& options, const ZScores* zscores) {
  const Input input = qrels.format == RelFormat::kQrels     ? Input::kQrels
                      : qrels.format == RelFormat::kQrelsJg ? Input::kQrelsJg
                                                            : Input::kQrelsPrefs;  // qrels_prefs or prefs
  for (const Instance& inst : measures.instances()) {
    const Family& f = kFamilies[inst.family];
    if (f.input != Input::kAny && f.input != input) {
      const char* needs = f.input == Input::kQrels     ? "qrels"
                          : f.input == Input::kQrelsJg ? "qrels_jg"
                                                       : "qrels_prefs or prefs";
      throw InvalidInput(std::string("measure '") + f.info.name + "' needs -R " + needs + " judgments, not " +
                             RelFormatName(qrels.format),
                         qrels.format == RelFormat::kQrelsJg
                             ? "-R qrels_jg gives -m qrels_jg (map_avgjg, P_avgjg, "
                               "Rprec_mult_avgjg)"
                             : "",
                         ErrorType::kIncompatibleMeasure);
    }
  }
  Evaluation ev;
  ev.runid = run.runid;
  struct Job {
    const QrelsQuery* judged;
    const RunQuery* ranked;
  };
  std::vector<Job> jobs;
  size_t i = 0, j = 0;
  while (i < qrels.queries.size() || j < run.queries.size()) {
    int cmp = i == qrels.queries.size() ? 1
              : j == run.queries.size() ? -1
                                        : qrels.queries[i].qid.compare(run.queries[j].qid);
    if (cmp > 0) {
      ++ev.run_queries_without_judgments;
      ++j;
    } else if (cmp < 0) {
      ++ev.judged_queries_without_run;
      if (options.average_complete && Selected(qrels.queries[i].qid, options)) {
        jobs.push_back({&qrels.queries[i], nullptr});
      }
      ++i;
    } else {
      if (Selected(qrels.queries[i].qid, options)) jobs.push_back({&qrels.queries[i], &run.queries[j]});
      ++i;
      ++j;
    }
  }

  // With -c, trec_eval evaluates a judged query missing from the run as a ranking of one document that is
  // not in the pool, then zeroes the values named num_ret, utility (default parameters only), unj_* and
  // rbp_resid (default only) and empties relstring.
  static const RunEntry kBogus{"ceci_nest_pas_un_docno", 1.0, 0, 0};
  const std::vector<MeasureValue>& vals = measures.values();
  std::vector<size_t> zero_when_missing;
  for (size_t v = 0; v < vals.size(); ++v) {
    const std::string& n = vals[v].name;
    if (n == "num_ret" || n == "utility" || n.compare(0, 3, "unj") == 0 || n == "rbp_resid") {
      zero_when_missing.push_back(v);
    }
  }
  ev.queries.resize(jobs.size());
  tbb::parallel_for(size_t{0}, jobs.size(), [&](size_t k) {
    QueryScores& q = ev.queries[k];
    q.qid = jobs[k].judged->qid;
    q.in_run = jobs[k].ranked != nullptr;
    std::span<const RunEntry> entries(&kBogus, 1);
    if (jobs[k].ranked) entries = jobs[k].ranked->entries;
    EvaluateQuery(jobs[k].judged, entries, *qrels.docs, measures, options, q);
    if (!q.in_run) {
      for (size_t v : zero_when_missing) q.values[v] = 0.0;
      q.relstring.clear();
    }
    if (zscores) zscores->Convert(q.qid, measures.values(), q.values);
  });

  // Summary, summed in query order as trec_eval sums.
  // trec_eval divides by the number of judged queries with -c, whichever were evaluated (-D N.qid).
  const int64_t evaluated = static_cast<int64_t>(ev.queries.size());
  ev.num_q = options.average_complete ? static_cast<int64_t>(qrels.queries.size()) : evaluated;
  ev.summary.assign(vals.size(), 0.0);
  for (const QueryScores& q : ev.queries) {
    for (size_t v = 0; v < vals.size(); ++v) ev.summary[v] += q.values[v];
  }
  for (size_t v = 0; v < vals.size(); ++v) {
    double n = static_cast<double>(ev.num_q);
    switch (vals[v].aggregation) {
      case Aggregation::kMean:
        if (ev.num_q) ev.summary[v] /= n;
        break;
      case Aggregation::kGeometricMean:
        if (options.average_complete) {
          ev.summary[v] += static_cast<double>(ev.num_q - evaluated) * std::log(kMinGeoMean);
        }
        if (ev.num_q) ev.summary[v] = std::exp(ev.summary[v] / n);
        break;
      case Aggregation::kQueryCount:
        ev.summary[v] = n;
        break;
      case Aggregation::kSum:
      case Aggregation::kNone:
        break;
    }
  }
  // With -c, trec_eval's num_rel summary counts the judgments with a grade > 0 of every judged query,
  // whatever -l and -D say (m_num_rel.c), instead of summing the evaluated queries' values.
  if (int v = measures.IndexOf("num_rel"); v >= 0 && options.average_complete) {
    int64_t num_rel = 0;
    for (const QrelsQuery& q : qrels.queries) {
      for (const Judgment& j : q.judgments) num_rel += j.rel > 0;
      for (const JudgmentGroup& g : q.groups) {
        for (const Judgment& j : g.judgments) num_rel += j.rel > 0;
      }
    }
    ev.summary[static_cast<size_t>(v)] = static_cast<double>(num_rel);
  }
  return ev;
}

// ---------------------------------------------------------------------------------------------------------
// Output

std::string FormatTrecEval(const Evaluation& ev, const MeasureSet& measures, bool per_query, bool zscores,
                           bool summary) {
  const std::vector<MeasureValue>& vals = measures.values();
  std::string out;
  char buf[512];
  auto line = [&](const MeasureValue& v, std::string_view qid, double value) {
    int n;
    if (v.kind == ValueKind::kCount && !zscores) {
      n = std::snprintf(buf, sizeof buf, "%s%-22s\t%.*s\t%ld\n", zscores ? "Z" : "", v.name.c_str(),
                        static_cast<int>(qid.size()), qid.data(), static_cast<long>(value));
    } else {
      n = std::snprintf(buf, sizeof buf, "%s%-22s\t%.*s\t%6.4f\n", zscores ? "Z" : "", v.name.c_str(),
                        static_cast<int>(qid.size()), qid.data(), value);
    }
    if (n >= static_cast<int>(sizeof buf)) {
      out += (zscores ? "Z" : "") + v.name + "\t" + std::string(qid) + "\t" + FormatDouble("%6.4f", value) +
             "\n";
    } else {
      out.append(buf, static_cast<size_t>(n));
    }
  };
  auto text_line = [&](const MeasureValue& v, std::string_view qid, std::string_view text) {
    std::snprintf(buf, sizeof buf, "%-22s", v.name.c_str());
    out += buf;
    out += '\t';
    out += qid;
    out += '\t';
    out += text;
    out += '\n';
  };
  if (per_query) {
    for (const QueryScores& q : ev.queries) {
      for (size_t v = 0; v < vals.size(); ++v) {
        if (!vals[v].per_query) continue;
        if (vals[v].kind == ValueKind::kRelstring) {
          text_line(vals[v], q.qid, "'" + q.relstring + "'");
        } else {
          line(vals[v], q.qid, q.values[v]);
        }
      }
    }
  }
  for (size_t v = 0; v < vals.size() && summary; ++v) {
    if (!vals[v].summary) continue;
    if (vals[v].kind == ValueKind::kRunid) {
      text_line(vals[v], "all", ev.runid);
    } else {
      line(vals[v], "all", ev.summary[v]);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Z scores

ZScores ZScores::Parse(std::string_view text, std::string_view name) {
  ZScores z;
  size_t pos = 0;
  uint64_t line = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view l = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line;
    std::vector<std::string_view> f;
    size_t k = 0;
    while (k < l.size()) {
      while (k < l.size() && std::isspace(static_cast<unsigned char>(l[k]))) ++k;
      size_t s = k;
      while (k < l.size() && !std::isspace(static_cast<unsigned char>(l[k]))) ++k;
      if (k > s) f.push_back(l.substr(s, k - s));
    }
    if (f.empty() || f[0][0] == '#') continue;
    auto bad = [&](const std::string& why) {
      throw InvalidInput(std::string(name) + ":" + std::to_string(line) + ": " + why);
    };
    if (f.size() != 4) bad("expected 4 columns (qid measure mean stddev), found " + std::to_string(f.size()));
    double mean, sd;
    std::string m(f[2]), s(f[3]);
    char* e1;
    char* e2;
    mean = std::strtod(m.c_str(), &e1);
    sd = std::strtod(s.c_str(), &e2);
    if (*e1 != '\0' || m.empty()) bad("mean '" + m + "' is not a number");
    if (*e2 != '\0' || s.empty()) bad("stddev '" + s + "' is not a number");
    z.table_[std::string(f[0])][std::string(f[1])] = {mean, sd};
  }
  return z;
}

ZScores ZScores::Load(const std::string& path) {
  MappedFile file(path);
  return Parse(file.view(), path);
}

void ZScores::Convert(std::string_view qid, const std::vector<MeasureValue>& names,
                      std::vector<double>& values) const {
  auto q = table_.find(qid);
  for (size_t i = 0; i < values.size(); ++i) {
    if (q == table_.end()) {
      values[i] = kMissingZscore;
      continue;
    }
    auto m = q->second.find(names[i].name);
    if (m == q->second.end()) {
      values[i] = kMissingZscore;
    } else if (m->second.second != 0) {
      values[i] = (values[i] - m->second.first) / m->second.second;
    } else {
      values[i] = values[i] == m->second.first ? 0.0 : kMissingZscore;
    }
  }
}

}  // namespace rlm::trec
