#include "eval/fuse.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/error.h"
#include "eval/measures.h"

namespace rlm::trec {

AlignedRuns AlignRuns(std::vector<Run> runs, std::span<const std::string> names) {
  AlignedRuns out;
  out.num_runs = runs.size();
  out.missing.assign(runs.size(), 0);
  out.equal_scores.assign(runs.size(), 0);
  for (size_t r = 0; r < runs.size(); ++r) {
    if (runs[r].queries.empty()) {
      throw InvalidInput("run " + (r < names.size() ? names[r] : std::to_string(r + 1)) + " has no queries",
                         "an empty run cannot take part in a fusion; leave it out");
    }
  }
  // The union of the runs' query ids; each run's queries are sorted by qid.
  std::vector<std::string_view> qids;
  for (const Run& run : runs) {
    for (const RunQuery& q : run.queries) qids.push_back(q.qid);
  }
  std::sort(qids.begin(), qids.end());
  qids.erase(std::unique(qids.begin(), qids.end()), qids.end());
  out.queries.resize(qids.size());
  std::vector<std::vector<const RunQuery*>> in(qids.size(),
                                               std::vector<const RunQuery*>(runs.size(), nullptr));
  for (size_t r = 0; r < runs.size(); ++r) {
    size_t i = 0;
    for (const RunQuery& q : runs[r].queries) {
      while (qids[i] != q.qid) ++i;  // both sorted, and every qid is in the union
      in[i][r] = &q;
    }
  }
  for (size_t i = 0; i < qids.size(); ++i) {
    bool partial = false;
    for (size_t r = 0; r < runs.size(); ++r) {
      if (!in[i][r]) {
        ++out.missing[r];
        partial = true;
      }
    }
    out.partial_queries += partial;
  }
  std::vector<std::vector<uint8_t>> equal(qids.size(), std::vector<uint8_t>(runs.size(), 0));
  tbb::parallel_for(size_t{0}, qids.size(), [&](size_t i) {
    AlignedRuns::Query& q = out.queries[i];
    q.qid = std::string(qids[i]);
    q.lists.resize(runs.size());
    size_t total = 0;
    for (size_t r = 0; r < runs.size(); ++r) total += in[i][r] ? in[i][r]->entries.size() : 0;
    // Distinct docids, first-seen order, found through an open-addressing table keyed by the docid's tag.
    std::vector<std::string_view> uniq;
    std::vector<uint32_t> uniq_tags;
    size_t cap = 16;
    while (cap < 2 * total) cap *= 2;
    std::vector<std::pair<uint32_t, uint32_t>> slots(cap, {0, UINT32_MAX});  // (tag, index into uniq)
    const auto intern = [&](const RunEntry& e) {
      const uint32_t tag = e.tag ? e.tag : DocIdTable::Tag(e.docid);
      size_t h = (static_cast<size_t>(tag) * 0x9E3779B1u) & (cap - 1);
      while (slots[h].second != UINT32_MAX) {
        if (slots[h].first == tag && uniq[slots[h].second] == e.docid) return slots[h].second;
        h = (h + 1) & (cap - 1);
      }
      slots[h] = {tag, static_cast<uint32_t>(uniq.size())};
      uniq.push_back(e.docid);
      uniq_tags.push_back(tag);
      return slots[h].second;
    };
    std::vector<RunEntry> ranked;
    for (size_t r = 0; r < runs.size(); ++r) {
      if (!in[i][r]) continue;
      ranked.assign(in[i][r]->entries.begin(), in[i][r]->entries.end());
      RankEntries(ranked);
      std::vector<RankedDoc>& list = q.lists[r];
      list.reserve(ranked.size());
      for (const RunEntry& e : ranked) list.push_back({intern(e), e.score});
      equal[i][r] = !list.empty() && list.front().score == list.back().score;
    }
    // Ordinals in descending docid order.
    std::vector<uint32_t> order(uniq.size()), ordinal(uniq.size());
    for (uint32_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return uniq[a] > uniq[b]; });
    q.docids.resize(uniq.size());
    q.tags.resize(uniq.size());
    for (uint32_t k = 0; k < order.size(); ++k) {
      ordinal[order[k]] = k;
      q.docids[k] = uniq[order[k]];
      q.tags[k] = uniq_tags[order[k]];
    }
    for (std::vector<RankedDoc>& list : q.lists) {
      for (RankedDoc& d : list) d.doc = ordinal[d.doc];
    }
  });
  for (size_t i = 0; i < qids.size(); ++i) {
    for (size_t r = 0; r < runs.size(); ++r) out.equal_scores[r] += equal[i][r];
  }
  for (Run& run : runs) out.storage.push_back(std::move(run.storage));
  return out;
}

std::vector<size_t> TrainingQueries(const Qrels& qrels, const AlignedRuns& runs) {
  std::vector<size_t> out;
  for (size_t i = 0; i < runs.queries.size(); ++i) {
    if (qrels.Find(runs.queries[i].qid)) out.push_back(i);
  }
  return out;
}

namespace {

// Hit lists of run `r` on the training queries that it has: hit[p] = 1 when the document at position p is
// judged relevant.
std::vector<std::vector<uint8_t>> HitLists(const Qrels& qrels, const AlignedRuns& runs,
                                           std::span<const size_t> training, size_t r, int64_t level) {
  std::vector<std::vector<uint8_t>> out;
  for (size_t i : training) {
    const AlignedRuns::Query& q = runs.queries[i];
    if (q.lists[r].empty()) continue;
    const QrelsQuery* judged = qrels.Find(q.qid);
    std::vector<uint8_t>& hits = out.emplace_back(q.lists[r].size(), 0);
    for (size_t p = 0; p < q.lists[r].size(); ++p) {
      const uint32_t id = qrels.docs->Find(q.docids[q.lists[r][p].doc], q.tags[q.lists[r][p].doc]);
      if (id == DocIdTable::kMissing) continue;
      const Judgment* j = judged->Find(id);
      hits[p] = j != nullptr && j->rel >= level;
    }
  }
  return out;
}

// ranx's _estimate_probs: per position, the share of the queries ranking that deep that have a hit there.
std::vector<double> PositionProbs(const std::vector<std::vector<uint8_t>>& hits) {
  size_t longest = 0;
  for (const auto& h : hits) longest = std::max(longest, h.size());
  std::vector<double> num(longest, 0), den(longest, 0);
  for (const auto& h : hits) {
    for (size_t p = 0; p < h.size(); ++p) {
      den[p] += 1;
      num[p] += h[p];
    }
  }
  for (size_t p = 0; p < longest; ++p) num[p] /= den[p];
  return num;
}

// ranx's probfuse estimate_segment_probs: each query's list cut into `segments` segments of
// ceil(length / segments); a segment's hit rate averaged over the queries (empty segments add 0).
std::vector<double> ProbFuseProbs(const std::vector<std::vector<uint8_t>>& hits, size_t segments) {
  std::vector<double> probs(segments, 0);
  for (const auto& h : hits) {
    const size_t size = (h.size() + segments - 1) / segments;
    for (size_t k = 0; k < segments; ++k) {
      const size_t start = std::min(k * size, h.size()), end = std::min((k + 1) * size, h.size());
      if (start == end) continue;
      double sum = 0;
      for (size_t p = start; p < end; ++p) sum += h[p];
      probs[k] += sum / static_cast<double>(end - start);
    }
  }
  for (double& p : probs) p /= static_cast<double>(hits.size());
  return probs;
}

// ranx's segfuse estimate_segment_probs: hits in segment k over its full size, averaged over the queries.
std::vector<double> SegFuseProbs(const std::vector<std::vector<uint8_t>>& hits) {
  constexpr size_t kBounds[] = {0, 5, 15, 35, 75, 155, 315, 635, 1275, 2555, 5115};
  std::vector<double> probs(10, 0);
  for (const auto& h : hits) {
    for (size_t k = 0; k < 10; ++k) {
      double sum = 0;
      for (size_t p = kBounds[k]; p < std::min(kBounds[k + 1], h.size()); ++p) sum += h[p];
      probs[k] += sum / static_cast<double>(kBounds[k + 1] - kBounds[k]);
    }
  }
  for (double& p : probs) p /= static_cast<double>(hits.size());
  return probs;
}

// ranx's _estimate_log_odds: the mean precision of each cut-off segment (0.001 when 0; its complement
// 0.001 when 0), as log-odds for each position of the segment; 1000 positions.
std::vector<double> BayesLogOdds(const std::vector<std::vector<uint8_t>>& hits) {
  constexpr size_t kCuts[] = {0, 5, 10, 15, 20, 30, 100, 200, 500, 1000};
  std::vector<double> odds(1000, 0);
  for (size_t c = 0; c + 1 < std::size(kCuts); ++c) {
    const size_t start = kCuts[c], end = kCuts[c + 1];
    double precision = 0;
    for (const auto& h : hits) {
      double sum = 0;
      for (size_t p = start; p < std::min(end, h.size()); ++p) sum += h[p];
      precision += sum / static_cast<double>(end - start) / static_cast<double>(hits.size());
    }
    if (precision == 0) precision += 0.001;
    double negative = 1 - precision;
    if (negative == 0) negative += 0.001;
    std::fill(odds.begin() + start, odds.begin() + end, std::log(precision / negative));
  }
  return odds;
}

// trec_eval's MAP of run `r` over the training queries it has.
double MeanAveragePrecision(const Qrels& qrels, const AlignedRuns& runs, std::span<const size_t> training,
                            size_t r, int64_t level) {
  const std::vector<std::vector<uint8_t>> hits = HitLists(qrels, runs, training, r, level);
  double total = 0;
  size_t k = 0;
  for (size_t i : training) {
    if (runs.queries[i].lists[r].empty()) continue;
    const std::vector<uint8_t>& h = hits[k++];
    int64_t relevant = 0;
    for (const Judgment& j : qrels.Find(runs.queries[i].qid)->judgments) relevant += j.rel >= level;
    double ap = 0;
    int64_t found = 0;
    for (size_t p = 0; p < h.size(); ++p) {
      if (h[p]) ap += static_cast<double>(++found) / static_cast<double>(p + 1);
    }
    total += relevant ? ap / static_cast<double>(relevant) : 0;
  }
  return k ? total / static_cast<double>(k) : 0;
}

}  // namespace

FusionModel EstimateFusionModel(const Qrels& qrels, const AlignedRuns& runs, const FusionSpec& spec,
                                int64_t relevance_level) {
  const FusionMethodInfo& info = FusionMethodOf(spec.method);
  if (!info.needs_training) throw InvalidInput(std::string(info.name) + " is not a supervised method");
  const std::vector<size_t> training = TrainingQueries(qrels, runs);
  if (training.empty()) {
    throw InvalidInput("no query of the runs is judged in the training qrels",
                       "give qrels of (some of) the runs' queries");
  }
  FusionModel model;
  model.lists.resize(runs.num_runs);
  for (size_t r = 0; r < runs.num_runs; ++r) {
    if (spec.method == FusionMethod::kMapFuse) {
      model.lists[r] = {MeanAveragePrecision(qrels, runs, training, r, relevance_level)};
      continue;
    }
    const auto hits = HitLists(qrels, runs, training, r, relevance_level);
    if (hits.empty()) {
      // The run has none of the training queries: it contributes nothing, as an untrained list.
      model.lists[r] = spec.method == FusionMethod::kSegFuse ? std::vector<double>(10, 0)
                       : spec.method == FusionMethod::kProbFuse
                           ? std::vector<double>(static_cast<size_t>(spec.params.segments), 0)
                       : spec.method == FusionMethod::kBayesFuse
                           ? std::vector<double>(1000, std::log(0.001 / 0.999))
                           : std::vector<double>{};
      continue;
    }
    switch (spec.method) {
      case FusionMethod::kPosFuse:
      case FusionMethod::kSlideFuse:
        model.lists[r] = PositionProbs(hits);
        break;
      case FusionMethod::kProbFuse:
        model.lists[r] = ProbFuseProbs(hits, static_cast<size_t>(spec.params.segments));
        break;
      case FusionMethod::kSegFuse:
        model.lists[r] = SegFuseProbs(hits);
        break;
      case FusionMethod::kBayesFuse:
        model.lists[r] = BayesLogOdds(hits);
        break;
      default:
        throw InternalError("supervised method without an estimator");
    }
  }
  return model;
}

Run FuseRuns(const AlignedRuns& runs, const FusionSpec& spec, const FusionModel* model, size_t depth,
             const std::string& runid, std::span<const size_t> only) {
  CheckFusionSpec(spec, runs.num_runs, model);
  std::vector<size_t> all;
  if (only.empty()) {
    all.resize(runs.queries.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    only = all;
  }
  Run out;
  out.runid = runid;
  out.queries.resize(only.size());
  tbb::parallel_for(size_t{0}, only.size(), [&](size_t k) {
    const AlignedRuns::Query& q = runs.queries[only[k]];
    std::vector<RankedDoc> fused;
    FusionQuery(q.lists, spec.norm).Fuse(spec, model, fused);
    if (depth && fused.size() > depth) fused.resize(depth);
    RunQuery& rq = out.queries[k];
    rq.qid = q.qid;
    rq.entries.reserve(fused.size());
    for (const RankedDoc& d : fused) rq.entries.push_back({q.docids[d.doc], d.score, 0, q.tags[d.doc]});
  });
  return out;
}

std::string FormatRun(const Run& run) {
  std::vector<std::string> parts(run.queries.size());
  tbb::parallel_for(size_t{0}, run.queries.size(), [&](size_t k) {
    const RunQuery& q = run.queries[k];
    std::string& text = parts[k];
    text.reserve(q.entries.size() * (q.qid.size() + run.runid.size() + 48));
    char num[32];
    for (size_t i = 0; i < q.entries.size(); ++i) {
      const RunEntry& e = q.entries[i];
      text += q.qid;
      text += " Q0 ";
      text += e.docid;
      text += ' ';
      text.append(num, std::to_chars(num, num + sizeof num, i + 1).ptr);
      text += ' ';
      text.append(num, std::to_chars(num, num + sizeof num, e.score).ptr);
      text += ' ';
      text += run.runid;
      text += '\n';
    }
  });
  size_t bytes = 0;
  for (const std::string& p : parts) bytes += p.size();
  std::string text;
  text.reserve(bytes);
  for (const std::string& p : parts) text += p;
  return text;
}

namespace {

// Every vector of n non-negative integers summing to `total`, in itertools.product order (the first
// component varies slowest), as ranx enumerates its weight grid.
void Compositions(size_t n, int total, std::vector<int>& cur, std::vector<std::vector<int>>& out) {
  if (cur.size() + 1 == n) {
    cur.push_back(total);
    out.push_back(cur);
    cur.pop_back();
    return;
  }
  for (int v = 0; v <= total; ++v) {
    cur.push_back(v);
    Compositions(n, total - v, cur, out);
    cur.pop_back();
  }
}

}  // namespace

FusionOptimum OptimizeFusion(const Qrels& qrels, const AlignedRuns& runs, const FusionSpec& start,
                             const std::string& measure, double weight_step) {
  const FusionMethodInfo& info = FusionMethodOf(start.method);
  if (!info.uses_weights && info.params.empty() && !info.needs_training) {
    throw InvalidInput(std::string(info.name) + " has no weights or parameters to optimize");
  }
  const MeasureSet measures = MeasureSet::FromArgs(std::vector<std::string>{measure});
  if (measures.values().size() != 1 || measures.values()[0].kind != ValueKind::kFloat) {
    throw InvalidInput("--optimize needs a measure with one value, e.g. ndcg_cut.10 or map; '" + measure +
                       "' has " + std::to_string(measures.values().size()));
  }
  const std::vector<size_t> training = TrainingQueries(qrels, runs);
  if (training.empty()) {
    throw InvalidInput("no query of the runs is judged in the training qrels",
                       "give qrels of (some of) the runs' queries");
  }

  // The configurations, in ranx's order.
  std::vector<FusionSpec> configs;
  if (info.uses_weights) {
    const double steps = 1 / weight_step;
    if (!(weight_step > 0 && weight_step <= 1) || std::abs(steps - std::round(steps)) > 1e-9) {
      throw InvalidInput("--step must divide 1 (0.1, 0.05, 0.25, ...)");
    }
    const int total = static_cast<int>(std::round(steps));
    std::vector<std::vector<int>> grid;
    std::vector<int> cur;
    Compositions(runs.num_runs, total, cur, grid);
    for (const std::vector<int>& g : grid) {
      FusionSpec s = start;
      s.weights.clear();
      for (int v : g) s.weights.push_back(static_cast<double>(v) / total);
      configs.push_back(std::move(s));
    }
  } else if (!info.params.empty()) {
    const FusionParamInfo& p = *info.params[0];
    const int64_t lo = std::llround(p.grid_lo / p.grid_step), hi = std::llround(p.grid_hi / p.grid_step);
    for (int64_t j = lo; j <= hi; ++j) {
      FusionSpec s = start;
      s.params.*(p.field) = std::round(static_cast<double>(j) * p.grid_step * 1e9) / 1e9;
      configs.push_back(std::move(s));
    }
  } else {
    configs.push_back(start);
  }

  // Supervised: one model per configuration only when the parameter changes the estimate (probfuse).
  std::vector<FusionModel> models;
  if (info.needs_training) {
    if (start.method == FusionMethod::kProbFuse) {
      models.resize(configs.size());
      tbb::parallel_for(size_t{0}, configs.size(),
                        [&](size_t c) { models[c] = EstimateFusionModel(qrels, runs, configs[c]); });
    } else {
      models.push_back(EstimateFusionModel(qrels, runs, start));
    }
  }
  const auto model_of = [&](size_t c) -> const FusionModel* {
    return models.empty() ? nullptr : &models[models.size() == 1 ? 0 : c];
  };

  // Prepared once: normalisation does not depend on the configuration.
  std::vector<std::unique_ptr<FusionQuery>> prepared(training.size());
  tbb::parallel_for(size_t{0}, training.size(), [&](size_t k) {
    prepared[k] = std::make_unique<FusionQuery>(runs.queries[training[k]].lists, start.norm);
  });
  std::vector<double> scores(configs.size(), 0);
  tbb::parallel_for(size_t{0}, configs.size(), [&](size_t c) {
    CheckFusionSpec(configs[c], runs.num_runs, model_of(c));
    Run run;
    run.queries.resize(training.size());
    std::vector<RankedDoc> fused;
    for (size_t k = 0; k < training.size(); ++k) {
      prepared[k]->Fuse(configs[c], model_of(c), fused);
      const AlignedRuns::Query& q = runs.queries[training[k]];
      run.queries[k].qid = q.qid;
      run.queries[k].entries.reserve(fused.size());
      for (const RankedDoc& d : fused)
        run.queries[k].entries.push_back({q.docids[d.doc], d.score, 0, q.tags[d.doc]});
    }
    scores[c] = Evaluate(qrels, run, measures).summary[0];
  });
  size_t best = 0;
  for (size_t c = 0; c < configs.size(); ++c) {
    if (scores[c] >= scores[best]) best = c;
  }
  FusionOptimum out;
  out.spec = configs[best];
  if (const FusionModel* m = model_of(best)) out.model = *m;
  out.score = scores[best];
  out.candidates = configs.size();
  out.training_queries = training.size();
  return out;
}

}  // namespace rlm::trec
