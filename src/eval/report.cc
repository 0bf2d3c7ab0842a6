#include "eval/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "eval/stats.h"

namespace rlm {
namespace {

std::string Num(double v, int decimals = 4) {
  if (std::isnan(v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string PValue(double p) {
  if (std::isnan(p)) return "n/a";
  if (p < 1e-4) return "<0.0001";
  return Num(p, 4);
}

const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f"};

const char* Color(size_t i) { return kPalette[i % (sizeof kPalette / sizeof kPalette[0])]; }

// Horizontal bars of one measure's means with CI whiskers.
std::string MeasureChart(const ReportData& d, size_t m) {
  const double row = 26, left = 160, width = 420, top = 24;
  const double height = top + row * static_cast<double>(d.variants.size()) + 24;
  double hi = 0;
  for (const ReportVariant& v : d.variants) hi = std::max({hi, v.measures[m].ci_high, v.measures[m].mean});
  if (hi <= 0) hi = 1;
  auto x = [&](double value) { return left + width * std::clamp(value / hi, 0.0, 1.0); };
  std::string svg = "<svg role=\"img\" width=\"" + Num(left + width + 80, 0) + "\" height=\"" + Num(height, 0) +
                    "\" viewBox=\"0 0 " + Num(left + width + 80, 0) + " " + Num(height, 0) + "\">";
  svg += "<text x=\"0\" y=\"14\" class=\"t\">" + HtmlEscape(d.variants[0].measures[m].name) +
         " (mean, 95% CI)</text>";
  for (size_t i = 0; i < d.variants.size(); ++i) {
    const ReportMeasure& me = d.variants[i].measures[m];
    const double y = top + row * static_cast<double>(i);
    svg += "<text x=\"" + Num(left - 6, 0) + "\" y=\"" + Num(y + 15, 1) + "\" text-anchor=\"end\">" +
           HtmlEscape(d.variants[i].name) + "</text>";
    svg += "<rect x=\"" + Num(left, 1) + "\" y=\"" + Num(y + 3, 1) + "\" width=\"" + Num(x(me.mean) - left, 1) +
           "\" height=\"" + Num(row - 8, 1) + "\" fill=\"" + Color(i) + "\"/>";
    const double cy = y + row / 2 - 1;
    svg += "<line x1=\"" + Num(x(me.ci_low), 1) + "\" x2=\"" + Num(x(me.ci_high), 1) + "\" y1=\"" + Num(cy, 1) +
           "\" y2=\"" + Num(cy, 1) + "\" stroke=\"#222\" stroke-width=\"1.5\"/>";
    for (double e : {me.ci_low, me.ci_high}) {
      svg += "<line x1=\"" + Num(x(e), 1) + "\" x2=\"" + Num(x(e), 1) + "\" y1=\"" + Num(cy - 5, 1) + "\" y2=\"" +
             Num(cy + 5, 1) + "\" stroke=\"#222\" stroke-width=\"1.5\"/>";
    }
    svg += "<text x=\"" + Num(x(std::max(me.mean, me.ci_high)) + 6, 1) + "\" y=\"" + Num(y + 15, 1) + "\">" +
           Num(me.mean) + "</text>";
  }
  return svg + "</svg>";
}

// Per-query differences (variant - baseline) of the primary measure, sorted, as thin bars around zero.
std::string DifferenceChart(const ReportData& d, size_t base, size_t v) {
  const std::vector<double>& a = d.variants[v].measures[0].per_query;
  const std::vector<double>& b = d.variants[base].measures[0].per_query;
  std::vector<double> diff;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) diff.push_back(a[i] - b[i]);
  std::sort(diff.begin(), diff.end());
  const double w = 600, h = 160, mid = h / 2;
  double span = 0;
  for (double x : diff) span = std::max(span, std::abs(x));
  if (span == 0) span = 1;
  size_t wins = 0, losses = 0;
  for (double x : diff) {
    if (x > 0) ++wins;
    if (x < 0) ++losses;
  }
  std::string svg = "<svg role=\"img\" width=\"" + Num(w, 0) + "\" height=\"" + Num(h + 20, 0) + "\" viewBox=\"0 0 " +
                    Num(w, 0) + " " + Num(h + 20, 0) + "\">";
  svg += "<text x=\"0\" y=\"12\" class=\"t\">" + HtmlEscape(d.variants[v].name) + " - " +
         HtmlEscape(d.variants[base].name) + ", " + HtmlEscape(d.variants[v].measures[0].name) + " per query: " +
         std::to_string(wins) + " better, " + std::to_string(losses) + " worse</text>";
  svg += "<line x1=\"0\" x2=\"" + Num(w, 0) + "\" y1=\"" + Num(mid + 10, 1) + "\" y2=\"" + Num(mid + 10, 1) +
         "\" stroke=\"#999\"/>";
  const double bw = diff.empty() ? 0 : w / static_cast<double>(diff.size());
  for (size_t i = 0; i < diff.size(); ++i) {
    if (diff[i] == 0) continue;
    const double len = (h / 2 - 12) * std::abs(diff[i]) / span;
    const double y = diff[i] > 0 ? mid + 10 - len : mid + 10;
    svg += "<rect x=\"" + Num(bw * static_cast<double>(i), 2) + "\" y=\"" + Num(y, 1) + "\" width=\"" +
           Num(std::max(bw - 0.3, 0.5), 2) + "\" height=\"" + Num(len, 1) + "\" fill=\"" +
           (diff[i] > 0 ? "#59a14f" : "#e15759") + "\"/>";
  }
  return svg + "</svg>";
}

// Latency box plots (p5, p25, p50, p75, p95) per variant on a shared axis.
std::string LatencyChart(const ReportData& d) {
  const double row = 26, left = 160, width = 420, top = 24;
  const double height = top + row * static_cast<double>(d.variants.size()) + 30;
  std::vector<std::vector<double>> sorted;  // each variant's latencies, ascending
  double hi = 0;
  for (const ReportVariant& v : d.variants) {
    sorted.push_back(v.latency_ms);
    std::sort(sorted.back().begin(), sorted.back().end());
    hi = std::max(hi, SortedQuantile(sorted.back(), 0.95));
  }
  if (hi <= 0) hi = 1;
  auto x = [&](double ms) { return left + width * std::clamp(ms / hi, 0.0, 1.0); };
  std::string svg = "<svg role=\"img\" width=\"" + Num(left + width + 90, 0) + "\" height=\"" + Num(height, 0) +
                    "\" viewBox=\"0 0 " + Num(left + width + 90, 0) + " " + Num(height, 0) + "\">";
  svg += "<text x=\"0\" y=\"14\" class=\"t\">query latency, ms (box: p25-p75, line: median, whiskers: p5-p95)</text>";
  for (size_t i = 0; i < d.variants.size(); ++i) {
    const std::vector<double>& lat = sorted[i];
    const double y = top + row * static_cast<double>(i), cy = y + row / 2;
    const double p5 = SortedQuantile(lat, 0.05), p25 = SortedQuantile(lat, 0.25), p50 = SortedQuantile(lat, 0.5),
                 p75 = SortedQuantile(lat, 0.75), p95 = SortedQuantile(lat, 0.95);
    svg += "<text x=\"" + Num(left - 6, 0) + "\" y=\"" + Num(y + 17, 1) + "\" text-anchor=\"end\">" +
           HtmlEscape(d.variants[i].name) + "</text>";
    svg += "<line x1=\"" + Num(x(p5), 1) + "\" x2=\"" + Num(x(p95), 1) + "\" y1=\"" + Num(cy, 1) + "\" y2=\"" +
           Num(cy, 1) + "\" stroke=\"#555\"/>";
    svg += "<rect x=\"" + Num(x(p25), 1) + "\" y=\"" + Num(y + 5, 1) + "\" width=\"" +
           Num(std::max(x(p75) - x(p25), 1.0), 1) + "\" height=\"" + Num(row - 10, 1) + "\" fill=\"" + Color(i) +
           "\" opacity=\"0.8\"/>";
    svg += "<line x1=\"" + Num(x(p50), 1) + "\" x2=\"" + Num(x(p50), 1) + "\" y1=\"" + Num(y + 5, 1) + "\" y2=\"" +
           Num(y + row - 5, 1) + "\" stroke=\"#111\" stroke-width=\"2\"/>";
    svg += "<text x=\"" + Num(x(p95) + 6, 1) + "\" y=\"" + Num(y + 17, 1) + "\">p50 " + Num(p50, 2) + "</text>";
  }
  svg += "<text x=\"" + Num(left, 0) + "\" y=\"" + Num(height - 4, 0) + "\">0</text><text x=\"" +
         Num(left + width, 0) + "\" y=\"" + Num(height - 4, 0) + "\" text-anchor=\"end\">" + Num(hi, 2) + " ms</text>";
  return svg + "</svg>";
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string ReportMarkdown(const ReportData& d) {
  std::string md = "# " + d.title + "\n\nRun `" + d.run_id + "` on " + d.dataset + ", " +
                   std::to_string(d.query_ids.size()) + " queries.\n\n| variant |";
  if (d.variants.empty()) return md + "\n";
  for (const ReportMeasure& m : d.variants[0].measures) md += " " + m.name + " |";
  md += " failed |\n|---|";
  for (size_t i = 0; i < d.variants[0].measures.size(); ++i) md += "---:|";
  md += "---:|\n";
  for (const ReportVariant& v : d.variants) {
    md += "| " + v.name + " |";
    for (const ReportMeasure& m : v.measures) md += " " + Num(m.mean) + " |";
    md += " " + std::to_string(v.failed) + " |\n";
  }
  if (!d.comparisons.empty()) {
    md += "\n| A | B | measure | test | mean A | mean B | p | p adjusted | effect size |\n|---|---|---|---|---:|---:|---:|---:|---:|\n";
    for (const ReportComparison& c : d.comparisons) {
      md += "| " + c.a + " | " + c.b + " | " + c.measure + " | " + c.test + " | " + Num(c.mean_a) + " | " +
            Num(c.mean_b) + " | " + PValue(c.p_value) + " | " + PValue(c.p_adjusted) +
            (c.p_adjusted < d.alpha ? " *" : "") + " | " + Num(c.effect_size, 3) + " |\n";
    }
    md += "\n`*`: significant at alpha = " + Num(d.alpha, 2) + " after correction.\n";
  }
  return md;
}

std::string ReportHtml(const ReportData& d) {
  std::string h = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + HtmlEscape(d.title) +
                  "</title><style>body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}"
                  "table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:4px 8px;"
                  "text-align:right}th:first-child,td:first-child{text-align:left}svg{display:block;margin:8px 0 18px}"
                  "svg text{font:12px system-ui,sans-serif}svg .t{font-weight:600}.sig{background:#d9f2d9}"
                  ".ns{background:#f4f4f4}</style></head><body>";
  h += "<h1>" + HtmlEscape(d.title) + "</h1><p>Run <code>" + HtmlEscape(d.run_id) + "</code> on " +
       HtmlEscape(d.dataset) + ", " + std::to_string(d.query_ids.size()) + " queries.</p>";
  if (d.variants.empty()) return h + "<p>No variants.</p></body></html>";
  h += "<h2>Summary</h2><table><tr><th>variant</th>";
  for (const ReportMeasure& m : d.variants[0].measures) h += "<th>" + HtmlEscape(m.name) + "</th>";
  h += "<th>queries</th><th>failed</th></tr>";
  for (const ReportVariant& v : d.variants) {
    h += "<tr><td>" + HtmlEscape(v.name) + "</td>";
    for (const ReportMeasure& m : v.measures) {
      h += "<td title=\"95% CI " + Num(m.ci_low) + " - " + Num(m.ci_high) + "\">" + Num(m.mean) + "</td>";
    }
    h += "<td>" + std::to_string(v.queries) + "</td><td>" + std::to_string(v.failed) + "</td></tr>";
  }
  h += "</table><h2>Metrics with 95% confidence intervals</h2>";
  for (size_t m = 0; m < d.variants[0].measures.size(); ++m) h += MeasureChart(d, m);
  size_t base = 0;
  for (size_t i = 0; i < d.variants.size(); ++i) {
    if (d.variants[i].name == d.baseline) base = i;
  }
  if (d.variants.size() > 1) {
    h += "<h2>Per-query differences against " + HtmlEscape(d.variants[base].name) + "</h2>";
    for (size_t v = 0; v < d.variants.size(); ++v) {
      if (v != base) h += DifferenceChart(d, base, v);
    }
  }
  h += "<h2>Latency</h2>" + LatencyChart(d);
  if (!d.comparisons.empty()) {
    const std::string measure = d.comparisons[0].measure;
    h += "<h2>Significance (" + HtmlEscape(measure) + ", " + HtmlEscape(d.comparisons[0].test) +
         ", adjusted p)</h2><table><tr><th></th>";
    for (const ReportVariant& v : d.variants) h += "<th>" + HtmlEscape(v.name) + "</th>";
    h += "</tr>";
    for (const ReportVariant& row : d.variants) {
      h += "<tr><td>" + HtmlEscape(row.name) + "</td>";
      for (const ReportVariant& col : d.variants) {
        const ReportComparison* found = nullptr;
        for (const ReportComparison& c : d.comparisons) {
          if (c.measure == measure && ((c.a == row.name && c.b == col.name) || (c.a == col.name && c.b == row.name))) {
            found = &c;
          }
        }
        if (found == nullptr) {
          h += "<td>-</td>";
        } else {
          h += std::string("<td class=\"") + (found->p_adjusted < d.alpha ? "sig" : "ns") + "\">" +
               PValue(found->p_adjusted) + "</td>";
        }
      }
      h += "</tr>";
    }
    h += "</table><h2>All comparisons</h2><table><tr><th>A</th><th>B</th><th>measure</th><th>test</th><th>mean A</th>"
         "<th>mean B</th><th>p</th><th>p adjusted</th><th>effect size</th><th>95% CI of B - A</th></tr>";
    for (const ReportComparison& c : d.comparisons) {
      h += "<tr><td>" + HtmlEscape(c.a) + "</td><td>" + HtmlEscape(c.b) + "</td><td>" + HtmlEscape(c.measure) +
           "</td><td>" + HtmlEscape(c.test) + "</td><td>" + Num(c.mean_a) + "</td><td>" + Num(c.mean_b) + "</td><td>" +
           PValue(c.p_value) + "</td><td>" + PValue(c.p_adjusted) + "</td><td>" + Num(c.effect_size, 3) + "</td><td>" +
           Num(c.ci_low) + " - " + Num(c.ci_high) + "</td></tr>";
    }
    h += "</table>";
  }
  return h + "</body></html>\n";
}

}  // namespace rlm
