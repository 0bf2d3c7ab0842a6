#include "eval/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "eval/stats.h"

namespace rlm {
namespace {

std::string Num(double v, int decimals = 4) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string Signed(double v, int decimals = 4) {
  return (v > 0 ? "+" : "") + Num(v, decimals);
}

std::string PValue(double p) {
  if (std::isnan(p)) return "n/a";
  if (p < 1e-4) return "<0.0001";
  return Num(p, 4);
}

const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759",
                          "#76b7b2", "#edc948", "#b07aa1", "#9c755f"};

const char* Color(size_t i) {
  return kPalette[i % (sizeof kPalette / sizeof kPalette[0])];
}

// Ticks for an axis over [lo, hi]: a step of 1, 2 or 5 times a power of ten giving 4 to 10 ticks.
std::vector<double> Ticks(double lo, double hi) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / 5;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double f : {1.0, 2.0, 5.0, 10.0}) {
    step = f * mag;
    if ((hi - lo) / step <= 6) break;
  }
  std::vector<double> out;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
    out.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return out;
}

// The smallest tick at or above hi (> 0), so an axis ends on a labelled tick.
double NiceMax(double hi) {
  if (!(hi > 0)) return 1;
  const std::vector<double> ticks = Ticks(0, hi);
  if (ticks.size() < 2) return hi;
  const double step = ticks[1] - ticks[0];
  return std::ceil(hi / step - 1e-9) * step;
}

int TickDecimals(const std::vector<double>& ticks) {
  if (ticks.size() < 2) return 2;
  const double step = ticks[1] - ticks[0];
  return std::clamp(static_cast<int>(std::ceil(-std::log10(step) - 1e-9)), 0, 4);
}

struct Svg {
  std::string s;
  Svg(double w, double h, std::string_view label) {
    s = "<svg role=\"img\" aria-label=\"" + HtmlEscape(label) + "\" width=\"100%\" viewBox=\"0 0 " +
        Num(w, 0) + " " + Num(h, 0) + "\" preserveAspectRatio=\"xMinYMin meet\">";
  }
  void Text(double x, double y, std::string_view text, std::string_view attrs = "") {
    s += "<text x=\"" + Num(x, 1) + "\" y=\"" + Num(y, 1) + "\"" + (attrs.empty() ? "" : " ") +
         std::string(attrs) + ">" + HtmlEscape(text) + "</text>";
  }
  void Line(double x1, double y1, double x2, double y2, std::string_view stroke, double width = 1) {
    s += "<line x1=\"" + Num(x1, 1) + "\" y1=\"" + Num(y1, 1) + "\" x2=\"" + Num(x2, 1) + "\" y2=\"" +
         Num(y2, 1) + "\" stroke=\"" + std::string(stroke) + "\" stroke-width=\"" + Num(width, 1) + "\"/>";
  }
  void Rect(double x, double y, double w, double h, std::string_view fill, std::string_view title = "") {
    s += "<rect x=\"" + Num(x, 2) + "\" y=\"" + Num(y, 2) + "\" width=\"" + Num(std::max(w, 0.0), 2) +
         "\" height=\"" + Num(std::max(h, 0.0), 2) + "\" fill=\"" + std::string(fill) + "\"";
    s += title.empty() ? "/>" : "><title>" + HtmlEscape(title) + "</title></rect>";
  }
  // A horizontal value axis at y from x0 (value lo) to x1 (value hi), with ticks, grid lines up to y_top
  // and a label under it.
  void XAxis(double x0, double x1, double y, double y_top, double lo, double hi, std::string_view label) {
    const std::vector<double> ticks = Ticks(lo, hi);
    const int dec = TickDecimals(ticks);
    Line(x0, y, x1, y, "#333");
    for (double t : ticks) {
      const double x = x0 + (x1 - x0) * (t - lo) / (hi - lo);
      Line(x, y_top, x, y, "#e4e4e4");
      Line(x, y, x, y + 4, "#333");
      Text(x, y + 16, Num(t, dec), "text-anchor=\"middle\" class=\"tick\"");
    }
    Text((x0 + x1) / 2, y + 32, label, "text-anchor=\"middle\" class=\"axis\"");
  }
  std::string Done() { return s + "</svg>"; }
};

// One compared measure's means with CI whiskers, one bar per variant, on a labelled axis.
std::string MeasureChart(const EvalResults& r, size_t m) {
  const double row = 28, left = 170, width = 760, top = 26;
  const double plot_bottom = top + row * static_cast<double>(r.variants.size());
  Svg svg(left + width + 90, plot_bottom + 44, r.measures[m].name + " by variant");
  double hi = 0;
  for (const VariantResults& v : r.variants) hi = std::max({hi, v.ci[m].high, v.summary[m]});
  hi = NiceMax(hi);
  auto x = [&](double value) { return left + width * std::clamp(value / hi, 0.0, 1.0); };
  svg.Text(0, 15, r.measures[m].name + ": mean over the evaluated queries, with its 95% bootstrap interval",
           "class=\"t\"");
  svg.XAxis(left, left + width, plot_bottom + 4, top, 0, hi, r.measures[m].name);
  for (size_t i = 0; i < r.variants.size(); ++i) {
    const VariantResults& v = r.variants[i];
    const double y = top + row * static_cast<double>(i);
    svg.Text(left - 8, y + 17, v.name, "text-anchor=\"end\"");
    svg.Rect(left, y + 4, x(v.summary[m]) - left, row - 10, Color(i),
             v.name + ": " + Num(v.summary[m]) + " (95% CI " + Num(v.ci[m].low) + " to " + Num(v.ci[m].high) +
                 ")");
    const double cy = y + row / 2 - 1;
    svg.Line(x(v.ci[m].low), cy, x(v.ci[m].high), cy, "#222", 1.5);
    for (double e : {v.ci[m].low, v.ci[m].high}) svg.Line(x(e), cy - 5, x(e), cy + 5, "#222", 1.5);
    svg.Text(x(std::max(v.summary[m], v.ci[m].high)) + 6, y + 17, Num(v.summary[m]));
  }
  return svg.Done();
}

// The paired per-query differences (B - A) of measure m between variant b and the baseline (index 0), sorted,
// one bar per query, each with a tooltip naming the query and both values.
struct Diff {
  size_t query;
  double a, b;
};

std::vector<Diff> PairedDiffs(const EvalResults& r, size_t b, size_t m) {
  std::vector<Diff> out;
  const VariantResults& base = r.variants[0];
  const VariantResults& var = r.variants[b];
  for (size_t q = 0; q < r.query_ids.size(); ++q) {
    if (base.queries[q].status == QueryStatus::kFailed || var.queries[q].status == QueryStatus::kFailed)
      continue;
    out.push_back(Diff{q, base.queries[q].values[m], var.queries[q].values[m]});
  }
  return out;
}

const Comparison* FindComparison(const EvalResults& r, std::string_view a, std::string_view b,
                                 std::string_view m) {
  for (const Comparison& c : r.comparisons) {
    if (c.measure == m && ((c.a == a && c.b == b) || (c.a == b && c.b == a))) return &c;
  }
  return nullptr;
}

std::string DifferenceChart(const EvalResults& r, size_t b, size_t m) {
  std::vector<Diff> diffs = PairedDiffs(r, b, m);
  std::stable_sort(diffs.begin(), diffs.end(),
                   [](const Diff& x, const Diff& y) { return x.b - x.a < y.b - y.a; });
  const std::string& A = r.variants[0].name;
  const std::string& B = r.variants[b].name;
  const double left = 60, width = 870, top = 30, height = 180;
  Svg svg(left + width + 20, top + height + 44, B + " - " + A + " per query");
  double span = 0;
  for (const Diff& d : diffs) span = std::max(span, std::abs(d.b - d.a));
  if (span == 0) span = 1;
  const std::vector<double> ticks = Ticks(-span, span);
  span = std::max(std::abs(ticks.front()), std::abs(ticks.back()));
  const Comparison* c = FindComparison(r, A, B, r.measures[m].name);
  std::string head = B + " - " + A + ", " + r.measures[m].name + " per query (" +
                     std::to_string(diffs.size()) + " paired queries, sorted)";
  if (c != nullptr) {
    head += ": " + std::to_string(c->better) + " better, " + std::to_string(c->worse) + " worse, " +
            std::to_string(c->tied) + " tied";
  }
  svg.Text(0, 15, head, "class=\"t\"");
  auto y = [&](double v) { return top + height / 2 - (height / 2) * v / span; };
  const int dec = TickDecimals(ticks);
  for (double t : ticks) {
    svg.Line(left, y(t), left + width, y(t), t == 0 ? "#666" : "#e4e4e4");
    svg.Text(left - 6, y(t) + 4, Signed(t, dec), "text-anchor=\"end\" class=\"tick\"");
  }
  svg.Line(left, top, left, top + height, "#333");
  svg.Text(
      14, top + height / 2, B + " - " + A,
      "class=\"axis\" transform=\"rotate(-90 14 " + Num(top + height / 2, 1) + ")\" text-anchor=\"middle\"");
  svg.Text(left + width / 2, top + height + 30, "queries, from the largest loss to the largest gain",
           "text-anchor=\"middle\" class=\"axis\"");
  const double bw = diffs.empty() ? 0 : width / static_cast<double>(diffs.size());
  for (size_t i = 0; i < diffs.size(); ++i) {
    const Diff& d = diffs[i];
    const double delta = d.b - d.a;
    const std::string title = r.query_ids[d.query] + ": " + Signed(delta) + " (" + A + " " + Num(d.a) + ", " +
                              B + " " + Num(d.b) + ") " + r.query_texts[d.query];
    const double x = left + bw * static_cast<double>(i);
    if (delta == 0) {
      svg.Rect(x, y(0) - 1, std::max(bw - 0.3, 0.5), 2, "#bbb", title);
    } else {
      svg.Rect(x, std::min(y(0), y(delta)), std::max(bw - 0.3, 0.5), std::abs(y(delta) - y(0)),
               delta > 0 ? "#59a14f" : "#e15759", title);
    }
  }
  return svg.Done();
}

std::string DocList(const std::vector<std::string>& docs, const std::vector<std::string>& relevant,
                    size_t n) {
  std::string out;
  for (size_t i = 0; i < std::min(n, docs.size()); ++i) {
    const bool rel = std::find(relevant.begin(), relevant.end(), docs[i]) != relevant.end();
    if (!out.empty()) out += " ";
    out += rel ? "<b class=\"rel\">" + HtmlEscape(docs[i]) + "</b>" : HtmlEscape(docs[i]);
  }
  return out.empty() ? "<i>none</i>" : out;
}

// The queries whose value of measure m moved most between the baseline and variant b.
std::string ChangedQueries(const EvalResults& r, size_t b, size_t m, size_t count) {
  std::vector<Diff> diffs = PairedDiffs(r, b, m);
  std::stable_sort(diffs.begin(), diffs.end(),
                   [](const Diff& x, const Diff& y) { return std::abs(x.b - x.a) > std::abs(y.b - y.a); });
  while (!diffs.empty() && diffs.back().b == diffs.back().a) diffs.pop_back();
  if (diffs.size() > count) diffs.resize(count);
  const std::string& A = r.variants[0].name;
  const std::string& B = r.variants[b].name;
  std::string h = "<h3>Queries that changed most: " + HtmlEscape(B) + " against " + HtmlEscape(A) + "</h3>";
  if (diffs.empty()) return h + "<p>No query changed.</p>";
  h += "<table class=\"q\"><tr><th>query</th><th>text</th><th>" + HtmlEscape(A) + "</th><th>" +
       HtmlEscape(B) + "</th><th>B - A</th><th>relevant</th><th>top 5 of " + HtmlEscape(A) +
       "</th><th>top 5 of " + HtmlEscape(B) + "</th></tr>";
  for (const Diff& d : diffs) {
    const std::vector<std::string>& rel = r.relevant[d.query];
    h += "<tr><td>" + HtmlEscape(r.query_ids[d.query]) + "</td><td class=\"txt\">" +
         HtmlEscape(r.query_texts[d.query]) + "</td><td>" + Num(d.a) + "</td><td>" + Num(d.b) +
         "</td><td class=\"" + (d.b > d.a ? "up" : "down") + "\">" + Signed(d.b - d.a) +
         "</td><td class=\"docs\">" + DocList(rel, rel, 5) +
         (rel.size() > 5 ? " (" + std::to_string(rel.size()) + ")" : "") + "</td><td class=\"docs\">" +
         DocList(r.variants[0].queries[d.query].top_docs, rel, 5) + "</td><td class=\"docs\">" +
         DocList(r.variants[b].queries[d.query].top_docs, rel, 5) + "</td></tr>";
  }
  return h + "</table>";
}

// Latency box plots (p5, p25, p50, p75, p95) per variant on a shared, labelled axis.
std::string LatencyChart(const EvalResults& r) {
  const double row = 28, left = 170, width = 760, top = 26;
  const double plot_bottom = top + row * static_cast<double>(r.variants.size());
  Svg svg(left + width + 90, plot_bottom + 44, "query latency");
  std::vector<std::vector<double>> sorted;
  double hi = 0;
  for (const VariantResults& v : r.variants) {
    sorted.push_back(v.latency_ms);
    std::sort(sorted.back().begin(), sorted.back().end());
    hi = std::max(hi, SortedQuantile(sorted.back(), 0.95));
  }
  hi = NiceMax(hi);
  auto x = [&](double ms) { return left + width * std::clamp(ms / hi, 0.0, 1.0); };
  svg.Text(0, 15, "Query latency (box: p25-p75, line: median, whiskers: p5-p95)", "class=\"t\"");
  svg.XAxis(left, left + width, plot_bottom + 4, top, 0, hi, "milliseconds per query");
  for (size_t i = 0; i < r.variants.size(); ++i) {
    const std::vector<double>& lat = sorted[i];
    const double y = top + row * static_cast<double>(i), cy = y + row / 2;
    const double p5 = SortedQuantile(lat, 0.05), p25 = SortedQuantile(lat, 0.25),
                 p50 = SortedQuantile(lat, 0.5), p75 = SortedQuantile(lat, 0.75),
                 p95 = SortedQuantile(lat, 0.95);
    svg.Text(left - 8, y + 18, r.variants[i].name, "text-anchor=\"end\"");
    svg.Line(x(p5), cy, x(p95), cy, "#555");
    svg.Rect(x(p25), y + 5, std::max(x(p75) - x(p25), 1.0), row - 10, Color(i),
             r.variants[i].name + ": p50 " + Num(p50, 2) + " ms, p95 " + Num(p95, 2) + " ms");
    svg.Line(x(p50), y + 5, x(p50), y + row - 5, "#111", 2);
    svg.Text(x(p95) + 6, y + 18, "p50 " + Num(p50, 2));
  }
  return svg.Done();
}

std::string Pairs(const EvalResults& r) {
  return "Signed values are B - A: A is the earlier variant (the baseline comes first), B the later one. "
         "Effect size: Cohen's d_z of the per-query differences. Tests: " +
         r.test + ", p adjusted with " + r.correction + " over all pairs of a measure.";
}

}  // namespace

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string ReportMarkdown(const EvalResults& r) {
  std::string md = "# " + r.title + "\n\nRun `" + r.run_id + "` on " + r.dataset + ", " +
                   std::to_string(r.query_ids.size()) + " judged queries";
  if (r.queries_without_judgments > 0) {
    md += " (" + std::to_string(r.queries_without_judgments) + " without judgments skipped)";
  }
  md += ".\n\n";
  for (const std::string& w : r.warnings) md += "> **Warning:** " + w + "\n>\n";
  if (!r.warnings.empty()) md += "\n";
  if (r.variants.empty()) return md;
  md += "| variant |";
  std::string rule = "|---|";
  for (const MeasureColumn& m : r.measures) {
    if (!m.summary) continue;
    md += " " + m.name + " |";
    rule += "---:|";
  }
  md += " evaluated | empty | failed |\n" + rule + "---:|---:|---:|\n";
  for (const VariantResults& v : r.variants) {
    md += "| " + v.name + " |";
    for (size_t m = 0; m < r.measures.size(); ++m) {
      if (!r.measures[m].summary) continue;
      md += " " + (r.measures[m].kind == trec::ValueKind::kCount ? Num(v.summary[m], 0) : Num(v.summary[m])) +
            " |";
    }
    md += " " + std::to_string(v.evaluated) + " | " + std::to_string(v.empty) + " | " +
          std::to_string(v.failed) + " |\n";
  }
  if (!r.comparisons.empty()) {
    md +=
        "\n| A | B | measure | queries | mean A | mean B | B - A | 95% CI of B - A | p | p adjusted | d_z | "
        "better / worse |\n|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|\n";
    for (const Comparison& c : r.comparisons) {
      md += "| " + c.a + " | " + c.b + " | " + c.measure + " | " + std::to_string(c.queries) + " | " +
            Num(c.mean_a) + " | " + Num(c.mean_b) + " | " + Signed(c.difference) + " | " + Num(c.ci_low) +
            " to " + Num(c.ci_high) + " | " + PValue(c.p_value) + " | " + PValue(c.p_adjusted) +
            (c.p_adjusted < r.alpha ? " *" : "") + " | " + Num(c.effect_size, 3) + " | " +
            std::to_string(c.better) + " / " + std::to_string(c.worse) + " |\n";
    }
    md += "\n`*`: significant at alpha = " + Num(r.alpha, 2) + " after correction. " + Pairs(r) + "\n";
  }
  return md;
}

std::string ReportHtml(const EvalResults& r) {
  std::string h =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width\"><title>" +
      HtmlEscape(r.title) +
      "</title><style>body{font:14px system-ui,sans-serif;margin:24px 32px;color:#222}"
      "table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:4px "
      "8px;text-align:right;"
      "vertical-align:top}th:first-child,td:first-child{text-align:left}td.txt,td.docs{text-align:left}"
      "td.docs{font:12px "
      "ui-monospace,monospace}b.rel{color:#1a7f37}td.up{color:#1a7f37}td.down{color:#c62828}"
      "svg{display:block;margin:8px 0 22px;max-width:100%}svg text{font:12px system-ui,sans-serif}svg "
      ".t{font-weight:600}"
      "svg .tick{fill:#555;font-size:11px}svg .axis{fill:#333}.sig{background:#d9f2d9}.ns{background:#f4f4f4}"
      ".primary{background:#fff6d5}.warn{border-left:4px solid #e0a800;background:#fff8e1;padding:6px 12px;"
      "margin:4px 0}.note{color:#555}</style></head><body>";
  h += "<h1>" + HtmlEscape(r.title) + "</h1><p>Run <code>" + HtmlEscape(r.run_id) + "</code> on " +
       HtmlEscape(r.dataset) + ", " + std::to_string(r.query_ids.size()) + " judged queries";
  if (r.queries_without_judgments > 0) {
    h +=
        " (" + std::to_string(r.queries_without_judgments) + " without judgments skipped, as trec_eval does)";
  }
  h += ".</p>";
  for (const std::string& w : r.warnings) h += "<div class=\"warn\">Warning: " + HtmlEscape(w) + "</div>";
  if (r.variants.empty()) return h + "<p>No variants.</p></body></html>\n";
  const int primary = r.PrimaryMeasure();
  h += "<h2>Summary</h2><table><tr><th>variant</th>";
  for (size_t m = 0; m < r.measures.size(); ++m) {
    if (!r.measures[m].summary) continue;
    h += std::string("<th") + (static_cast<int>(m) == primary ? " class=\"primary\"" : "") + ">" +
         HtmlEscape(r.measures[m].name) + "</th>";
  }
  h += "<th>evaluated</th><th>empty</th><th>failed</th></tr>";
  for (const VariantResults& v : r.variants) {
    h += "<tr><td>" + HtmlEscape(v.name) + "</td>";
    for (size_t m = 0; m < r.measures.size(); ++m) {
      if (!r.measures[m].summary) continue;
      const bool count = r.measures[m].kind == trec::ValueKind::kCount;
      h += std::string("<td") + (static_cast<int>(m) == primary ? " class=\"primary\"" : "");
      if (r.measures[m].compared())
        h += " title=\"95% CI " + Num(v.ci[m].low) + " to " + Num(v.ci[m].high) + "\"";
      h += ">" + (count ? Num(v.summary[m], 0) : Num(v.summary[m])) + "</td>";
    }
    h += "<td>" + std::to_string(v.evaluated) + "</td><td>" + std::to_string(v.empty) + "</td><td>" +
         std::to_string(v.failed) + "</td></tr>";
  }
  h += "</table><p class=\"note\">Means over the evaluated queries; a query that retrieved nothing (empty) "
       "scores 0, "
       "as trec_eval -c scores it; a failed query is in no mean.</p>";
  if (primary < 0) return h + "</body></html>\n";
  const size_t pm = static_cast<size_t>(primary);

  h += "<h2>Measures with 95% confidence intervals</h2>" + MeasureChart(r, pm);
  for (size_t m = 0; m < r.measures.size(); ++m) {
    if (m != pm && r.measures[m].compared()) h += MeasureChart(r, m);
  }
  if (r.variants.size() > 1) {
    h += "<h2>Per-query differences against " + HtmlEscape(r.variants[0].name) + " (" +
         HtmlEscape(r.measures[pm].name) +
         ")</h2><p class=\"note\">One bar per query; hover a bar for the query.</p>";
    for (size_t v = 1; v < r.variants.size(); ++v) h += DifferenceChart(r, v, pm);
    for (size_t v = 1; v < r.variants.size(); ++v) h += ChangedQueries(r, v, pm, 10);
  }
  h += "<h2>Latency</h2>" + LatencyChart(r);

  if (!r.comparisons.empty()) {
    const std::string& measure = r.measures[pm].name;
    h += "<h2>Significance (" + HtmlEscape(measure) + ", " + HtmlEscape(r.test) +
         ", adjusted p)</h2><p class=\"note\">Row A, column B: B - A and its adjusted p.</p><table><tr><th>A "
         "\\ B</th>";
    for (const VariantResults& v : r.variants) h += "<th>" + HtmlEscape(v.name) + "</th>";
    h += "</tr>";
    for (const VariantResults& row : r.variants) {
      h += "<tr><td>" + HtmlEscape(row.name) + "</td>";
      for (const VariantResults& col : r.variants) {
        const Comparison* c = row.name == col.name ? nullptr : FindComparison(r, row.name, col.name, measure);
        if (c == nullptr) {
          h += "<td>-</td>";
          continue;
        }
        const double diff = c->a == row.name ? c->difference : -c->difference;
        h += std::string("<td class=\"") + (c->p_adjusted < r.alpha ? "sig" : "ns") + "\" title=\"" +
             HtmlEscape(col.name + " - " + row.name + " on " + std::to_string(c->queries) + " queries") +
             "\">" + Signed(diff) + "<br>p " + PValue(c->p_adjusted) + "</td>";
      }
      h += "</tr>";
    }
    h += "</table><h2>All comparisons</h2><p class=\"note\">" + HtmlEscape(Pairs(r)) +
         "</p><table><tr><th>A</th><th>B</th><th>measure</th><th>queries</th><th>mean A</th><th>mean B</th>"
         "<th>B - A</th><th>95% CI of B - A</th><th>p</th><th>p adjusted</th><th>d_z</th><th>better / worse "
         "/ tied</th>"
         "<th>note</th></tr>";
    for (const Comparison& c : r.comparisons) {
      h += "<tr><td>" + HtmlEscape(c.a) + "</td><td>" + HtmlEscape(c.b) + "</td><td>" +
           HtmlEscape(c.measure) + "</td><td>" + std::to_string(c.queries) + "</td><td>" + Num(c.mean_a) +
           "</td><td>" + Num(c.mean_b) + "</td><td>" + Signed(c.difference) + "</td><td>" + Num(c.ci_low) +
           " to " + Num(c.ci_high) + "</td><td>" + PValue(c.p_value) + "</td><td>" + PValue(c.p_adjusted) +
           "</td><td>" + Num(c.effect_size, 3) + "</td><td>" + std::to_string(c.better) + " / " +
           std::to_string(c.worse) + " / " + std::to_string(c.tied) + "</td><td>" + HtmlEscape(c.note) +
           "</td></tr>";
    }
    h += "</table>";
  }
  return h + "</body></html>\n";
}

}  // namespace rlm
