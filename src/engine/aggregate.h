// Aggregate: merges the findings that analyst subagents report per chunk (the `aggregate` command):
// filters them by relevance, sorts, groups and de-duplicates them.
//
// Input is a JSON array of records {chunk_id, relevance, findings, summary?, follow_up?}. A finding is a
// string or an object such as {type, description, evidence, line_hint} (what the rlm-rs plugin's analysts
// emit; rlm-rs itself rejected objects). Objects are kept as they are; their identity for de-duplication
// is their "description" string, or their JSON text when they have none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rlm {

struct AnalystFinding {
  int64_t chunk_id = 0;
  std::string relevance;
  std::vector<nlohmann::json> findings;  // each a string or an object
  std::optional<std::string> summary;
  std::vector<std::string> follow_up;
};

// Parses the findings JSON. `source` names the input in messages ("stdin", "buffer 'x'"). Throws
// InvalidInput naming the line and column of a syntax error, or the record index and field of a missing
// or mistyped field. Unknown fields are ignored; `chunk_id` may be an integer or a string of digits;
// `findings` and `follow_up` may be absent, and `summary` absent or null.
std::vector<AnalystFinding> ParseFindings(std::string_view json_text, const std::string& source);

// Rank of a relevance level, case-insensitive: high 0, medium 1, low 2, none 3, anything else 4.
int RelevanceRank(std::string_view relevance);

enum class GroupBy { kRelevance, kChunkId, kNone };
enum class SortBy { kRelevance, kChunkId, kFindingsCount, kNone };
// Parse the option values (case-insensitive); throw InvalidInput listing the accepted values.
// Minimum relevance: high | medium | low | none | all (all keeps records of unknown relevance too).
int ParseMinRelevance(std::string_view s);
GroupBy ParseGroupBy(std::string_view s);  // relevance | chunk_id | none
SortBy ParseSortBy(std::string_view s);    // relevance | chunk_id | findings_count | none

struct AggregateOptions {
  int min_relevance = 2;  // keep records whose RelevanceRank is <= this (2: low and above)
  GroupBy group_by = GroupBy::kRelevance;
  SortBy sort_by = SortBy::kRelevance;
};

struct AggregateResult {
  std::vector<AnalystFinding> findings;  // kept records, sorted (all sorts are stable)
  // Groups in key order (std::string order, as rlm-rs's BTreeMap): relevance groups are keyed by the
  // lowercased level for the known levels (the raw string otherwise), chunk_id groups by the decimal id,
  // and without grouping there is one group "all". Each group lists indices into `findings`, in order.
  std::vector<std::pair<std::string, std::vector<size_t>>> groups;
  std::vector<nlohmann::json> unique_findings;  // first occurrence of each identity, in sorted order
  size_t high = 0, medium = 0, low = 0;         // records per level (case-insensitive)
};

AggregateResult Aggregate(std::vector<AnalystFinding> records, const AggregateOptions& options);

// The identity of a finding for de-duplication, also its one-line text: the string itself, an object's
// "description" string, or else the compact JSON of the value.
std::string FindingText(const nlohmann::json& finding);

// A record as JSON with rlm-rs's keys. sorted_keys: chunk_id, findings, follow_up, relevance, summary (as
// rlm-rs's reports print it); otherwise struct order chunk_id, relevance, findings, summary, follow_up.
nlohmann::ordered_json FindingJson(const AnalystFinding& f, bool sorted_keys);

// The text `aggregate -o` stores: the kept, sorted records as a pretty JSON array (struct key order).
std::string FindingsDocument(const std::vector<AnalystFinding>& findings);

}  // namespace rlm
