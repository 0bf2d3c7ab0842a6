// Commands for agent workflows: `dispatch` (split a buffer's chunks into batches for subagents) and
// `aggregate` (merge the subagents' findings). Text and JSON as rlm-rs prints them.
#include <unistd.h>

#include <cctype>
#include <memory>
#include <optional>
#include <string>

#include "cli/context.h"
#include "core/error.h"
#include "core/file.h"
#include "core/printable.h"
#include "core/utf8.h"
#include "engine/aggregate.h"
#include "engine/dispatch.h"
#include "engine/load.h"

namespace rlm::cli {

namespace {

// ---- dispatch -------------------------------------------------------------------------------------------

struct DispatchArgs {
  std::string buffer;
  size_t batch_size = 10;
  std::optional<size_t> workers;
  std::optional<std::string> query;
  std::string mode = "hybrid";
  double threshold = 0.3;
};

void RunDispatch(Context& ctx, const DispatchArgs& a) {
  DispatchOptions o;
  o.batch_size = a.batch_size;
  o.workers = a.workers;
  o.query = a.query;
  o.mode = ParseSearchMode(a.mode);
  o.threshold = a.threshold;
  ValidateDispatchOptions(o);  // before the workspace is touched
  auto ws = ctx.OpenWorkspace(Workspace::Mode::kRead);
  DispatchPlan plan = PlanDispatch(*ws, a.buffer, o);

  if (ctx.json_mode()) {
    json batches = json::array();
    for (const DispatchBatch& b : plan.batches) {
      json o;
      o["batch_index"] = b.index;
      o["chunk_count"] = b.chunk_ids.size();
      o["chunk_ids"] = b.chunk_ids;
      batches.push_back(std::move(o));
    }
    json doc;
    doc["batch_count"] = plan.batches.size();
    doc["batch_size"] = plan.batch_size;
    doc["batches"] = std::move(batches);
    doc["buffer_id"] = plan.buffer.id;
    doc["buffer_name"] = plan.buffer.name;
    doc["query_filter"] = a.query ? json(*a.query) : json(nullptr);
    doc["total_chunks"] = plan.chunk_ids.size();
    ctx.Emit(doc);
    return;
  }
  if (plan.buffer_chunks == 0) {
    ctx.Print("No chunks found in buffer '" + EscapeForTerminal(plan.buffer.name) + "'\n");
    return;
  }
  if (plan.chunk_ids.empty()) {
    ctx.Print("No matching chunks found in buffer '" + EscapeForTerminal(plan.buffer.name) + "' for query\n");
    return;
  }
  std::string out = "Dispatch plan for buffer '" + EscapeForTerminal(plan.buffer.name) + "' (" +
                    std::to_string(plan.chunk_ids.size()) + " chunks -> " +
                    std::to_string(plan.batches.size()) + " batches):\n\n";
  for (const DispatchBatch& b : plan.batches) {
    out += "Batch " + std::to_string(b.index) + ": " + std::to_string(b.chunk_ids.size()) + " chunks (IDs: ";
    for (size_t i = 0; i < b.chunk_ids.size() && i < 5; ++i)
      out += (i ? ", " : "") + std::to_string(b.chunk_ids[i]);
    out += b.chunk_ids.size() > 5 ? ", ...)\n" : ")\n";
  }
  out += "\nUsage: Feed each batch to a subagent with 'rlm-rs chunk get <id>'\n";
  ctx.Print(out);
}

// ---- aggregate ------------------------------------------------------------------------------------------

struct AggregateArgs {
  std::string buffer;
  std::string min_relevance = "low";
  std::string group_by = "relevance";
  std::string sort_by = "relevance";
  std::string output_buffer;
};

void RunAggregate(Context& ctx, const AggregateArgs& a) {
  AggregateOptions o;
  o.min_relevance = ParseMinRelevance(a.min_relevance);
  o.group_by = ParseGroupBy(a.group_by);
  o.sort_by = ParseSortBy(a.sort_by);

  std::unique_ptr<Workspace> ws;
  std::string input, source;
  if (!a.buffer.empty()) {
    // Read-only unless the result is stored as a buffer (-o).
    ws = ctx.OpenWorkspace(a.output_buffer.empty() ? Workspace::Mode::kRead : Workspace::Mode::kMustExist);
    Workspace::ReadTransaction snapshot(*ws);
    BufferInfo b = ws->GetBuffer(a.buffer);
    input = ws->ReadText(b.id, 0, b.size);
    source = "buffer '" + b.name + "'";
  } else {
    if (::isatty(STDIN_FILENO)) ctx.Note("reading the findings JSON from stdin (end with Ctrl-D)");
    input = ReadFd(STDIN_FILENO, "stdin");
    source = "stdin";
  }
  AggregateResult r = Aggregate(ParseFindings(input, source), o);

  if (!a.output_buffer.empty()) {
    if (!ws) ws = ctx.OpenWorkspace();
    AddBuffer(*ws, a.output_buffer, FindingsDocument(r.findings), "", IngestOptions{});
  }

  if (ctx.json_mode()) {
    json findings = json::array();
    for (const AnalystFinding& f : r.findings) findings.push_back(FindingJson(f, true));
    json grouped = json::object();
    for (const auto& [key, items] : r.groups) {
      json g = json::array();
      for (size_t i : items) g.push_back(findings[i]);
      grouped[key] = std::move(g);
    }
    json unique = json::array();
    for (const auto& u : r.unique_findings) unique.push_back(json(u));
    json summary;
    summary["high_relevance"] = r.high;
    summary["low_relevance"] = r.low;
    summary["medium_relevance"] = r.medium;
    summary["total_findings"] = r.findings.size();
    summary["unique_findings"] = r.unique_findings.size();
    json doc;
    doc["all_findings_deduplicated"] = std::move(unique);
    doc["findings"] = std::move(findings);
    doc["grouped"] = std::move(grouped);
    doc["output_buffer"] = a.output_buffer.empty() ? json(nullptr) : json(a.output_buffer);
    doc["summary"] = std::move(summary);
    ctx.Emit(doc);
    return;
  }
  std::string out = "Aggregated " + std::to_string(r.findings.size()) +
                    " analyst findings\nRelevance: " + std::to_string(r.high) + " high, " +
                    std::to_string(r.medium) + " medium, " + std::to_string(r.low) +
                    " low\nUnique findings: " + std::to_string(r.unique_findings.size()) + "\n\n";
  for (const auto& [key, items] : r.groups) {
    out += "## " + key + " (" + std::to_string(items.size()) + " chunks)\n";
    for (size_t i : items) {
      const AnalystFinding& f = r.findings[i];
      std::string line = f.summary             ? TruncateStr(*f.summary, 80)
                         : !f.findings.empty() ? TruncateStr(FindingText(f.findings.front()), 80)
                                               : "";
      out += "  Chunk " + std::to_string(f.chunk_id) + ": " + line + "\n";
    }
    out += "\n";
  }
  if (!a.output_buffer.empty()) out += "Results stored in buffer '" + a.output_buffer + "'\n";
  ctx.Print(out);
}

}  // namespace

void RegisterAgentCommands(CLI::App& app, Context& ctx) {
  auto d = std::make_shared<DispatchArgs>();
  CLI::App* dispatch =
      app.add_subcommand("dispatch", "Split a buffer's chunks into batches for parallel subagents");
  dispatch->add_option("buffer", d->buffer, "Buffer id (all digits) or name")->required();
  dispatch->add_option("--batch-size", d->batch_size, "Chunks per batch")->capture_default_str();
  dispatch->add_option("--workers", d->workers,
                       "Number of workers: one batch per worker (overrides --batch-size)");
  dispatch->add_option("-q,--query", d->query,
                       "Only dispatch chunks matching this query, most relevant first");
  dispatch->add_option("-m,--mode", d->mode, "Search mode for --query: hybrid, semantic or bm25")
      ->capture_default_str();
  dispatch->add_option("--threshold", d->threshold, "Minimum cosine similarity for --query")
      ->capture_default_str()
      ->check(RealInRange(-1, 1));
  OnRun(dispatch, ctx, [&ctx, d] { RunDispatch(ctx, *d); });

  auto g = std::make_shared<AggregateArgs>();
  CLI::App* aggregate =
      app.add_subcommand("aggregate", "Merge analyst findings (JSON array on stdin or in a buffer)");
  aggregate->add_option("-b,--buffer", g->buffer, "Read the findings JSON from this buffer instead of stdin");
  aggregate
      ->add_option("--min-relevance", g->min_relevance, "Minimum relevance: high, medium, low, none or all")
      ->capture_default_str();
  aggregate->add_option("--group-by", g->group_by, "relevance, chunk_id or none")->capture_default_str();
  aggregate->add_option("--sort-by", g->sort_by, "relevance, chunk_id, findings_count or none")
      ->capture_default_str();
  aggregate->add_option("-o,--output-buffer", g->output_buffer,
                        "Store the kept findings (JSON) as a new buffer");
  OnRun(aggregate, ctx, [&ctx, g] { RunAggregate(ctx, *g); });
}

}  // namespace rlm::cli
