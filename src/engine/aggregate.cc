#include "engine/aggregate.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <unordered_set>

#include "core/error.h"

namespace rlm {

namespace {

using nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "stdin: [3].findings[1]: expected ..." style messages.
[[noreturn]] void Bad(const std::string& source, const std::string& where, const std::string& what) {
  throw InvalidInput("invalid findings in " + source + ": " + where + ": " + what,
                     "expected a JSON array of {chunk_id, relevance, findings, summary?, follow_up?}",
                     ErrorType::kInvalidInput);
}

const char* TypeName(const json& v) {
  return v.type_name();
}

int64_t ChunkIdOf(const json& v, const std::string& source, const std::string& where) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      Bad(source, where, "chunk id out of range");
    }
    return v.get<int64_t>();
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d))) return static_cast<int64_t>(d);
    Bad(source, where, "expected an integer chunk id, got " + v.dump());
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    size_t digits = s.size() - (s.starts_with('-') ? 1 : 0);
    if (digits > 0 && digits < 19 &&
        s.find_first_not_of("0123456789", s.size() - digits) == std::string::npos) {
      return std::stoll(s);
    }
    Bad(source, where, "expected an integer chunk id, got \"" + s + "\"");
  }
  Bad(source, where, std::string("expected an integer chunk id, got ") + TypeName(v));
}

// Line and column (1-based, column in bytes) of byte offset `pos` of `text`.
std::pair<size_t, size_t> LineColumn(std::string_view text, size_t pos) {
  pos = std::min(pos, text.size());
  size_t line =
      1 + static_cast<size_t>(std::count(text.begin(), text.begin() + static_cast<ptrdiff_t>(pos), '\n'));
  size_t line_start = text.rfind('\n', pos == 0 ? std::string_view::npos : pos - 1);
  size_t col = line_start == std::string_view::npos || pos == 0 ? pos + 1 : pos - line_start;
  return {line, col};
}

}  // namespace

std::vector<AnalystFinding> ParseFindings(std::string_view json_text, const std::string& source) {
  if (json_text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw InvalidInput("no findings JSON in " + source + " (the input is empty)",
                       "pipe a JSON array of findings to 'rlm aggregate', or pass --buffer", ErrorType::kInvalidInput);
  }
  json doc;
  try {
    doc = json::parse(json_text.begin(), json_text.end());
  } catch (const json::parse_error& e) {
    // e.byte is the 1-based position of the last byte read, where the error was detected.
    auto [line, col] = LineColumn(json_text, e.byte > 0 ? e.byte - 1 : 0);
    std::string detail = e.what();
    if (size_t p = detail.find(": "); p != std::string::npos && detail.find("parse error") < p) {
      detail = detail.substr(p + 2);
    }
    throw InvalidInput("invalid JSON in " + source + " at line " + std::to_string(line) + ", column " +
                           std::to_string(col) + ": " + detail,
                       "the findings must be one JSON array of objects", ErrorType::kInvalidInput);
  } catch (const json::exception& e) {  // e.g. out_of_range for a number such as 9E922 (found by fuzzing)
    throw InvalidInput("invalid JSON in " + source + ": " + e.what(), "the findings must be one JSON array of objects",
                       ErrorType::kInvalidInput);
  }
  if (!doc.is_array()) {
    Bad(source, "top level", std::string("expected an array of finding records, got ") + TypeName(doc));
  }
  std::vector<AnalystFinding> out;
  out.reserve(doc.size());
  for (size_t i = 0; i < doc.size(); ++i) {
    const json& r = doc[i];
    const std::string at = "[" + std::to_string(i) + "]";
    if (!r.is_object()) Bad(source, at, std::string("expected an object, got ") + TypeName(r));
    AnalystFinding f;
    auto id = r.find("chunk_id");
    if (id == r.end()) Bad(source, at, "missing field 'chunk_id'");
    f.chunk_id = ChunkIdOf(*id, source, at + ".chunk_id");
    auto rel = r.find("relevance");
    if (rel == r.end()) Bad(source, at, "missing field 'relevance'");
    if (!rel->is_string())
      Bad(source, at + ".relevance", std::string("expected a string, got ") + TypeName(*rel));
    f.relevance = rel->get<std::string>();
    if (auto it = r.find("findings"); it != r.end() && !it->is_null()) {
      if (!it->is_array())
        Bad(source, at + ".findings", std::string("expected an array, got ") + TypeName(*it));
      for (size_t j = 0; j < it->size(); ++j) {
        const json& v = (*it)[j];
        if (!v.is_string() && !v.is_object()) {
          Bad(source, at + ".findings[" + std::to_string(j) + "]",
              std::string("expected a string or an object, got ") + TypeName(v));
        }
        f.findings.push_back(v);
      }
    }
    if (auto it = r.find("summary"); it != r.end() && !it->is_null()) {
      if (!it->is_string())
        Bad(source, at + ".summary", std::string("expected a string, got ") + TypeName(*it));
      f.summary = it->get<std::string>();
    }
    if (auto it = r.find("follow_up"); it != r.end() && !it->is_null()) {
      if (!it->is_array())
        Bad(source, at + ".follow_up", std::string("expected an array, got ") + TypeName(*it));
      for (size_t j = 0; j < it->size(); ++j) {
        const json& v = (*it)[j];
        if (!v.is_string()) {
          Bad(source, at + ".follow_up[" + std::to_string(j) + "]",
              std::string("expected a string, got ") + TypeName(v));
        }
        f.follow_up.push_back(v.get<std::string>());
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

int RelevanceRank(std::string_view relevance) {
  std::string r = Lower(relevance);
  if (r == "high") return 0;
  if (r == "medium") return 1;
  if (r == "low") return 2;
  if (r == "none") return 3;
  return 4;
}

int ParseMinRelevance(std::string_view s) {
  std::string v = Lower(s);
  if (v == "all") return 4;
  int rank = RelevanceRank(v);
  if (rank == 4) {
    throw InvalidInput("unknown --min-relevance '" + std::string(s) + "'",
                       "use high, medium, low, none or all", ErrorType::kInvalidArgument);
  }
  return rank;
}

GroupBy ParseGroupBy(std::string_view s) {
  std::string v = Lower(s);
  if (v == "relevance") return GroupBy::kRelevance;
  if (v == "chunk_id" || v == "chunk-id" || v == "chunk") return GroupBy::kChunkId;
  if (v == "none" || v == "all") return GroupBy::kNone;
  throw InvalidInput("unknown --group-by '" + std::string(s) + "'", "use relevance, chunk_id or none",
                     ErrorType::kInvalidArgument);
}

SortBy ParseSortBy(std::string_view s) {
  std::string v = Lower(s);
  if (v == "relevance") return SortBy::kRelevance;
  if (v == "chunk_id" || v == "chunk-id" || v == "chunk") return SortBy::kChunkId;
  if (v == "findings_count" || v == "findings-count" || v == "count") return SortBy::kFindingsCount;
  if (v == "none" || v == "input") return SortBy::kNone;
  throw InvalidInput("unknown --sort-by '" + std::string(s) + "'",
                     "use relevance, chunk_id, findings_count or none", ErrorType::kInvalidArgument);
}

std::string FindingText(const json& finding) {
  if (finding.is_string()) return finding.get<std::string>();
  if (finding.is_object()) {
    auto it = finding.find("description");
    if (it != finding.end() && it->is_string()) return it->get<std::string>();
  }
  return finding.dump(-1, ' ', false, json::error_handler_t::replace);
}

AggregateResult Aggregate(std::vector<AnalystFinding> records, const AggregateOptions& options) {
  AggregateResult out;
  for (AnalystFinding& f : records) {
    if (RelevanceRank(f.relevance) <= options.min_relevance) out.findings.push_back(std::move(f));
  }
  auto& v = out.findings;
  switch (options.sort_by) {
    case SortBy::kRelevance:
      std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
        return RelevanceRank(a.relevance) < RelevanceRank(b.relevance);
      });
      break;
    case SortBy::kChunkId:
      std::stable_sort(v.begin(), v.end(),
                       [](const auto& a, const auto& b) { return a.chunk_id < b.chunk_id; });
      break;
    case SortBy::kFindingsCount:
      std::stable_sort(v.begin(), v.end(),
                       [](const auto& a, const auto& b) { return a.findings.size() > b.findings.size(); });
      break;
    case SortBy::kNone:
      break;
  }

  std::map<std::string, std::vector<size_t>> groups;
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < v.size(); ++i) {
    const AnalystFinding& f = v[i];
    int rank = RelevanceRank(f.relevance);
    if (rank == 0) ++out.high;
    if (rank == 1) ++out.medium;
    if (rank == 2) ++out.low;
    std::string key;
    switch (options.group_by) {
      case GroupBy::kRelevance:
        key = rank <= 3 ? Lower(f.relevance) : f.relevance;
        break;
      case GroupBy::kChunkId:
        key = std::to_string(f.chunk_id);
        break;
      case GroupBy::kNone:
        key = "all";
        break;
    }
    groups[key].push_back(i);
    for (const json& finding : f.findings) {
      if (seen.insert(FindingText(finding)).second) out.unique_findings.push_back(finding);
    }
  }
  out.groups.assign(std::make_move_iterator(groups.begin()), std::make_move_iterator(groups.end()));
  return out;
}

nlohmann::ordered_json FindingJson(const AnalystFinding& f, bool sorted_keys) {
  nlohmann::ordered_json findings = nlohmann::ordered_json::array();
  for (const json& x : f.findings) findings.push_back(nlohmann::ordered_json(x));
  nlohmann::ordered_json summary =
      f.summary ? nlohmann::ordered_json(*f.summary) : nlohmann::ordered_json(nullptr);
  nlohmann::ordered_json o;
  o["chunk_id"] = f.chunk_id;
  if (sorted_keys) {
    o["findings"] = std::move(findings);
    o["follow_up"] = f.follow_up;
    o["relevance"] = f.relevance;
    o["summary"] = std::move(summary);
  } else {
    o["relevance"] = f.relevance;
    o["findings"] = std::move(findings);
    o["summary"] = std::move(summary);
    o["follow_up"] = f.follow_up;
  }
  return o;
}

std::string FindingsDocument(const std::vector<AnalystFinding>& findings) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::array();
  for (const AnalystFinding& f : findings) doc.push_back(FindingJson(f, false));
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace rlm
