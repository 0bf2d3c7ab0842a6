#include "engine/aggregate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"

namespace rlm {
namespace {

std::vector<int64_t> Ids(const std::vector<AnalystFinding>& v) {
  std::vector<int64_t> ids;
  for (const auto& f : v) ids.push_back(f.chunk_id);
  return ids;
}

std::string ErrorOf(std::string_view input) {
  try {
    ParseFindings(input, "stdin");
  } catch (const InvalidInput& e) {
    return e.what();
  }
  return "";
}

TEST(AggregateParse, StringAndObjectFindings) {
  auto v = ParseFindings(R"([
    {"chunk_id": 3, "relevance": "high", "findings": ["a", {"type": "bug", "description": "b", "line_hint": 4}],
     "summary": "s", "follow_up": ["f"], "extra": 1},
    {"chunk_id": "7", "relevance": "low"},
    {"chunk_id": 9, "relevance": "none", "findings": null, "summary": null}
  ])",
                         "stdin");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].chunk_id, 3);
  EXPECT_EQ(v[0].relevance, "high");
  ASSERT_EQ(v[0].findings.size(), 2u);
  EXPECT_EQ(v[0].findings[0], "a");
  EXPECT_TRUE(v[0].findings[1].is_object());
  EXPECT_EQ(v[0].findings[1]["line_hint"], 4);
  EXPECT_EQ(v[0].summary, "s");
  EXPECT_EQ(v[0].follow_up, std::vector<std::string>{"f"});
  EXPECT_EQ(v[1].chunk_id, 7);
  EXPECT_TRUE(v[1].findings.empty());
  EXPECT_FALSE(v[1].summary);
  EXPECT_FALSE(v[2].summary);
}

TEST(AggregateParse, SyntaxErrorNamesLineAndColumn) {
  std::string e = ErrorOf("[\n  {\"chunk_id\": 1,\n   \"relevance\": high}\n]");
  EXPECT_NE(e.find("stdin"), std::string::npos) << e;
  EXPECT_NE(e.find("line 3, column 17"), std::string::npos) << e;
}

TEST(AggregateParse, FieldErrorsNameTheRecordAndField) {
  EXPECT_NE(ErrorOf(R"({"chunk_id": 1})").find("expected an array"), std::string::npos);
  EXPECT_NE(ErrorOf(R"([{"relevance": "high"}])").find("[0]: missing field 'chunk_id'"), std::string::npos);
  EXPECT_NE(ErrorOf(R"([{"chunk_id": 1, "relevance": "high"}, {"chunk_id": 2}])")
                .find("[1]: missing field 'relevance'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"([{"chunk_id": 1, "relevance": "high", "findings": [1]}])").find("[0].findings[0]"),
            std::string::npos);
  EXPECT_NE(ErrorOf(R"([{"chunk_id": "x", "relevance": "high"}])").find("[0].chunk_id"), std::string::npos);
  EXPECT_NE(ErrorOf(R"([{"chunk_id": 1.5, "relevance": "high"}])").find("[0].chunk_id"), std::string::npos);
  EXPECT_NE(ErrorOf("  \n").find("empty"), std::string::npos);
}

TEST(AggregateOptions, ParsingIsCaseInsensitiveAndStrict) {
  EXPECT_EQ(ParseMinRelevance("HIGH"), 0);
  EXPECT_EQ(ParseMinRelevance("low"), 2);
  EXPECT_EQ(ParseMinRelevance("none"), 3);
  EXPECT_EQ(ParseMinRelevance("all"), 4);
  EXPECT_THROW(ParseMinRelevance("very"), InvalidInput);
  EXPECT_EQ(ParseGroupBy("chunk_id"), GroupBy::kChunkId);
  EXPECT_EQ(ParseGroupBy("none"), GroupBy::kNone);
  EXPECT_THROW(ParseGroupBy("buffer"), InvalidInput);
  EXPECT_EQ(ParseSortBy("findings_count"), SortBy::kFindingsCount);
  EXPECT_THROW(ParseSortBy("size"), InvalidInput);
  EXPECT_EQ(RelevanceRank("Medium"), 1);
  EXPECT_EQ(RelevanceRank("critical"), 4);
}

std::vector<AnalystFinding> Sample() {
  return ParseFindings(R"([
    {"chunk_id": 10, "relevance": "low", "findings": ["x"]},
    {"chunk_id": 9, "relevance": "High", "findings": ["x", "y", "z"], "summary": "nine"},
    {"chunk_id": 2, "relevance": "medium", "findings": [{"description": "y", "type": "t"}, {"type": "bare"}]},
    {"chunk_id": 5, "relevance": "none", "findings": ["w"]},
    {"chunk_id": 1, "relevance": "high", "findings": []},
    {"chunk_id": 7, "relevance": "weird", "findings": ["q"]}
  ])",
                       "stdin");
}

TEST(Aggregate, FiltersByMinimumRelevanceCaseInsensitively) {
  AggregateOptions o;  // min low, sort relevance, group relevance
  AggregateResult r = Aggregate(Sample(), o);
  EXPECT_EQ(Ids(r.findings), (std::vector<int64_t>{9, 1, 2, 10}));  // stable within a level
  EXPECT_EQ(r.high, 2u);  // "High" counts as high (rlm-rs counted it only in the total)
  EXPECT_EQ(r.medium, 1u);
  EXPECT_EQ(r.low, 1u);

  o.min_relevance = ParseMinRelevance("high");
  EXPECT_EQ(Ids(Aggregate(Sample(), o).findings), (std::vector<int64_t>{9, 1}));
  o.min_relevance = ParseMinRelevance("none");
  EXPECT_EQ(Aggregate(Sample(), o).findings.size(), 5u);
  o.min_relevance = ParseMinRelevance("all");
  EXPECT_EQ(Ids(Aggregate(Sample(), o).findings), (std::vector<int64_t>{9, 1, 2, 10, 5, 7}));
}

TEST(Aggregate, SortOrders) {
  AggregateOptions o;
  o.min_relevance = 4;
  o.sort_by = SortBy::kChunkId;
  EXPECT_EQ(Ids(Aggregate(Sample(), o).findings), (std::vector<int64_t>{1, 2, 5, 7, 9, 10}));
  o.sort_by = SortBy::kFindingsCount;
  EXPECT_EQ(Ids(Aggregate(Sample(), o).findings), (std::vector<int64_t>{9, 2, 10, 5, 7, 1}));
  o.sort_by = SortBy::kNone;
  EXPECT_EQ(Ids(Aggregate(Sample(), o).findings), (std::vector<int64_t>{10, 9, 2, 5, 1, 7}));
}

TEST(Aggregate, GroupsInKeyOrder) {
  AggregateOptions o;
  o.min_relevance = 4;
  AggregateResult r = Aggregate(Sample(), o);
  std::vector<std::string> keys;
  for (const auto& [k, items] : r.groups) keys.push_back(k);
  // Known levels are lowercased ("High" joins "high"); unknown ones keep their spelling.
  EXPECT_EQ(keys, (std::vector<std::string>{"high", "low", "medium", "none", "weird"}));
  EXPECT_EQ(r.groups[0].second, (std::vector<size_t>{0, 1}));

  o.group_by = GroupBy::kChunkId;
  o.sort_by = SortBy::kChunkId;
  r = Aggregate(Sample(), o);
  keys.clear();
  for (const auto& [k, items] : r.groups) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"1", "10", "2", "5", "7", "9"}));  // string order, as rlm-rs

  o.group_by = GroupBy::kNone;
  r = Aggregate(Sample(), o);
  ASSERT_EQ(r.groups.size(), 1u);
  EXPECT_EQ(r.groups[0].first, "all");
  EXPECT_EQ(r.groups[0].second.size(), 6u);
}

TEST(Aggregate, DeduplicatesStringsAndObjectsByDescription) {
  AggregateOptions o;
  o.min_relevance = 4;
  AggregateResult r = Aggregate(Sample(), o);
  // Sorted order: 9 (x y z), 1 (), 2 ({y}, {bare}), 10 (x), 5 (w), 7 (q).
  ASSERT_EQ(r.unique_findings.size(), 6u);
  EXPECT_EQ(r.unique_findings[0], "x");
  EXPECT_EQ(r.unique_findings[1], "y");
  EXPECT_EQ(r.unique_findings[2], "z");
  EXPECT_TRUE(r.unique_findings[3].is_object());  // {"type": "bare"}: no description, identity is its JSON
  EXPECT_EQ(r.unique_findings[3]["type"], "bare");
  EXPECT_EQ(r.unique_findings[4], "w");
  EXPECT_EQ(r.unique_findings[5], "q");
  EXPECT_EQ(FindingText(nlohmann::json::parse(R"({"type":"bare"})")), R"({"type":"bare"})");
  EXPECT_EQ(FindingText(nlohmann::json::parse(R"({"description":"d","type":"t"})")), "d");
}

TEST(Aggregate, JsonForms) {
  auto v =
      ParseFindings(R"([{"chunk_id": 4, "relevance": "high", "findings": [{"z": 1, "a": 2}]}])", "stdin");
  EXPECT_EQ(FindingJson(v[0], true).dump(),
            R"({"chunk_id":4,"findings":[{"a":2,"z":1}],"follow_up":[],"relevance":"high","summary":null})");
  EXPECT_EQ(FindingJson(v[0], false).dump(),
            R"({"chunk_id":4,"relevance":"high","findings":[{"a":2,"z":1}],"summary":null,"follow_up":[]})");
  std::string doc = FindingsDocument(v);
  EXPECT_EQ(nlohmann::json::parse(doc)[0]["chunk_id"], 4);
  EXPECT_NE(doc.find("\n  {\n    \"chunk_id\": 4,"), std::string::npos) << doc;
}

}  // namespace
}  // namespace rlm

namespace rlm {
namespace {

// Found by tests/fuzz/aggregate_fuzz.cc: a number out of double's range escaped as a non-rlm exception.
TEST(AggregateFuzzRegression, HugeNumberIsInvalidInput) {
  EXPECT_THROW(ParseFindings("9E922", "stdin"), InvalidInput);
  EXPECT_THROW(ParseFindings("[{\"chunk_id\": 1, \"relevance\": \"high\", \"findings\": [1e999]}]", "stdin"),
               InvalidInput);
}

}  // namespace
}  // namespace rlm
