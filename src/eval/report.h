// Human-readable outputs of an evaluation, written from the one result model (eval/results.h): the
// Markdown summary and one self-contained HTML report (inline CSS and SVG only: no script, no font, no
// network request). The report leads with the measure the user listed first and shows, as a person would
// read them: the summary table; each compared measure's means with 95% confidence intervals on a labelled
// axis; per variant, the per-query differences B - A against the baseline as bars whose tooltips (SVG
// <title>) name the query; the queries that changed most, with their text and the relevant vs retrieved
// documents; the latency distribution; a significance matrix over all pairs; and every comparison.
// Signed numbers are B - A throughout (eval/comparison.h).
#pragma once

#include <string>
#include <string_view>

#include "eval/results.h"

namespace rlm {

std::string ReportMarkdown(const EvalResults& results);
std::string ReportHtml(const EvalResults& results);

// Escapes &, <, >, " and ' for HTML text and attributes.
std::string HtmlEscape(std::string_view s);

}  // namespace rlm
