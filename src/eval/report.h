// Human-readable outputs of an evaluation: the Markdown summary and one self-contained HTML report (inline
// CSS and SVG only: no script, no font, no network request), with the metrics of each variant with 95%
// confidence intervals, the per-query paired differences against the baseline, the latency distribution
// and the significance matrix.
#pragma once

#include <string>
#include <vector>

namespace rlm {

struct ReportMeasure {
  std::string name;                // trec_eval name, e.g. "ndcg_cut.10"
  double mean = 0;
  double ci_low = 0, ci_high = 0;  // bootstrap 95% interval of the mean
  std::vector<double> per_query;   // in ReportData::query_ids order (scored queries)
};

struct ReportVariant {
  std::string name;
  std::vector<ReportMeasure> measures;  // same measures, same order, for every variant
  std::vector<double> latency_ms;
  size_t queries = 0;
  size_t failed = 0;
};

struct ReportComparison {
  std::string a, b, measure, test;
  double mean_a = 0, mean_b = 0, p_value = 1, p_adjusted = 1, effect_size = 0, ci_low = 0, ci_high = 0;
};

struct ReportData {
  std::string title;
  std::string run_id;
  std::string dataset;
  std::string baseline;  // variant the paired differences are against
  std::vector<std::string> query_ids;
  std::vector<ReportVariant> variants;
  std::vector<ReportComparison> comparisons;  // of the primary (first) measure, among others
  double alpha = 0.05;
};

std::string ReportMarkdown(const ReportData& data);
std::string ReportHtml(const ReportData& data);

// Escapes &, <, >, " and ' for HTML text and attributes.
std::string HtmlEscape(std::string_view s);

}  // namespace rlm
