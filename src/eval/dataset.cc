#include "eval/dataset.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <iterator>
#include <nlohmann/json.hpp>
#include <span>
#include <unordered_set>
#include <utility>

#include "core/error.h"
#include "core/file.h"
#include "core/random.h"
#include "core/utf8.h"

namespace rlm {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------------------
// Messages

// `s` quoted for a message, cut at 80 bytes on a code-point boundary.
std::string Quote(std::string_view s) {
  std::string_view cut = utf8::Truncate(s, 80);
  return "'" + std::string(cut) + (cut.size() < s.size() ? "...'" : "'");
}

std::string Where(const std::string& name, size_t line, size_t column = 0) {
  std::string w = name + ":" + std::to_string(line);
  if (column > 0) w += ":" + std::to_string(column);
  return w;
}

[[noreturn]] void Fail(const std::string& name, size_t line, size_t column, const std::string& what,
                       std::string suggestion = "") {
  throw InvalidInput(Where(name, line, column) + ": " + what, std::move(suggestion), ErrorType::kInvalidDataset);
}

// `s` with every byte that does not start a well-formed UTF-8 sequence replaced by U+FFFD, so messages stay
// valid UTF-8 (the CLI writes them into JSON). nlohmann's "last read" can end inside a sequence.
std::string ValidUtf8(std::string_view s) {
  std::string out;
  while (true) {
    const std::optional<size_t> bad = utf8::FindInvalid(s);
    if (!bad) break;
    out.append(s.substr(0, *bad));
    out += "\xEF\xBF\xBD";
    s.remove_prefix(*bad + 1);
  }
  out.append(s);
  return out;
}

// First occurrence and count of one kind of non-fatal problem.
struct ProblemLog {
  size_t count = 0;
  std::string first;
  void Add(std::string where_and_what) {
    if (count++ == 0) first = std::move(where_and_what);
  }
  void Report(std::vector<std::string>& out, const std::string& consequence) const {
    if (count == 0) return;
    out.push_back(first + " (" + std::to_string(count) + (count == 1 ? " line" : " lines") + " in all; " +
                  consequence + ")");
  }
};

// ---------------------------------------------------------------------------------------------------------
// Lines

struct Line {
  std::string_view text;  // without the line end ("\n" or "\r\n")
  size_t number = 0;      // 1-based
};

// Splits a file image into lines numbered from `first_number`. A UTF-8 BOM at the very start of a file
// is the caller's to skip (SkipBom).
class LineReader {
 public:
  explicit LineReader(std::string_view data, size_t first_number = 1)
      : data_(data), number_(first_number - 1) {}
  bool Next(Line* line) {
    if (pos_ >= data_.size()) return false;
    const char* begin = data_.data() + pos_;
    const void* nl = std::memchr(begin, '\n', data_.size() - pos_);
    const size_t end =
        nl != nullptr ? static_cast<size_t>(static_cast<const char*>(nl) - data_.data()) : data_.size();
    std::string_view text = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    line->text = text;
    line->number = ++number_;
    return true;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  size_t number_;
};

std::string_view SkipBom(std::string_view data) {
  return data.substr(utf8::BomLength(data));
}

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), IsSpace);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Validates a whole file image at once (one vectorised pass) and names the line and column of a bad byte.
void CheckUtf8(std::string_view data, const std::string& name) {
  const std::optional<size_t> bad = utf8::FindInvalid(data);
  if (!bad) return;
  const std::string_view before = data.substr(0, *bad);
  const size_t line = 1 + utf8::CountNewlines(before);
  const size_t last_nl = before.rfind('\n');
  const size_t column = *bad - (last_nl == std::string_view::npos ? 0 : last_nl + 1) + 1;
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(data[*bad]));
  Fail(name, line, column, std::string("invalid UTF-8 (byte ") + hex + ")", "convert the file to UTF-8");
}

// ---------------------------------------------------------------------------------------------------------
// JSONL records: a SAX handler that keeps the top-level members it is asked for (scalars, and arrays of
// scalars) and skips everything else, so `metadata` of any size or depth costs no allocation.

struct JsonValue {
  enum Kind : uint8_t { kAbsent, kNull, kBool, kInteger, kFloat, kString, kObject, kArray };
  Kind kind = kAbsent;
  std::string text;  // a string's value, or a number's decimal text
  double number = 0;
  std::vector<JsonValue> items;  // kArray: elements (nested containers keep only their kind)
};

const char* KindName(JsonValue::Kind kind) {
  switch (kind) {
    case JsonValue::kAbsent:
      return "absent";
    case JsonValue::kNull:
      return "null";
    case JsonValue::kBool:
      return "a boolean";
    case JsonValue::kInteger:
      return "an integer";
    case JsonValue::kFloat:
      return "a number";
    case JsonValue::kString:
      return "a string";
    case JsonValue::kObject:
      return "an object";
    case JsonValue::kArray:
      return "an array";
  }
  return "?";
}

class RecordHandler final : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit RecordHandler(std::span<const std::string_view> keys) : keys_(keys), values_(keys.size()) {}

  // Parses one line. Returns false with error() set on a syntax error or when the line is not an object.
  bool Parse(std::string_view line) {
    for (JsonValue& v : values_) {
      v.kind = JsonValue::kAbsent;
      v.text.clear();
      v.items.clear();
    }
    depth_ = 0;
    current_ = -1;
    in_array_ = false;
    error_.clear();
    column_ = 0;
    return nlohmann::json::sax_parse(line.begin(), line.end(), this) && error_.empty();
  }
  const JsonValue& value(size_t i) const { return values_[i]; }
  JsonValue& mutable_value(size_t i) { return values_[i]; }
  const std::string& error() const { return error_; }
  size_t column() const { return column_; }

  bool null() override { return Scalar(JsonValue::kNull, {}, 0); }
  bool boolean(bool v) override { return Scalar(JsonValue::kBool, v ? "true" : "false", v); }
  bool number_integer(number_integer_t v) override {
    return Scalar(JsonValue::kInteger, std::to_string(v), static_cast<double>(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    return Scalar(JsonValue::kInteger, std::to_string(v), static_cast<double>(v));
  }
  bool number_float(number_float_t v, const string_t& s) override { return Scalar(JsonValue::kFloat, s, v); }
  bool string(string_t& v) override {
    if (depth_ == 0) return NotObject();
    if (depth_ == 1 && current_ >= 0) {
      JsonValue& out = values_[current_];
      out.kind = JsonValue::kString;
      out.text = std::move(v);
    } else if (depth_ == 2 && in_array_) {
      JsonValue& item = values_[current_].items.emplace_back();
      item.kind = JsonValue::kString;
      item.text = std::move(v);
    }
    return true;
  }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return Open(JsonValue::kObject); }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 0) return NotObject();
    if (depth_ == 1 && current_ >= 0) {
      values_[current_].kind = JsonValue::kArray;
      values_[current_].items.clear();
      in_array_ = true;
    } else if (depth_ == 2 && in_array_) {
      values_[current_].items.emplace_back().kind = JsonValue::kArray;
    }
    ++depth_;
    return true;
  }
  bool end_array() override {
    if (--depth_ == 1) in_array_ = false;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ != 1) return true;
    current_ = -1;
    for (size_t i = 0; i < keys_.size(); ++i) {
      if (keys_[i] == k) {
        current_ = static_cast<int>(i);
        break;
      }
    }
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& ex) override {
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line 1, column 7: syntax error
    // ..."
    std::string_view what = ex.what();
    const size_t colon = what.find(": ");
    if (colon != std::string_view::npos &&
        what.substr(0, colon).find("parse error") != std::string_view::npos) {
      what.remove_prefix(colon + 2);
    }
    const std::string_view cut = utf8::Truncate(what, 240);
    error_ = "bad JSON: " + ValidUtf8(cut) + (cut.size() < what.size() ? "..." : "");
    column_ = position > 0 ? position : 1;
    return false;
  }

 private:
  bool NotObject() {
    error_ = "expected a JSON object per line";
    column_ = 1;
    return false;
  }
  bool Scalar(JsonValue::Kind kind, std::string_view text, double number) {
    if (depth_ == 0) return NotObject();
    JsonValue* out = nullptr;
    if (depth_ == 1 && current_ >= 0) {
      out = &values_[current_];
    } else if (depth_ == 2 && in_array_) {
      out = &values_[current_].items.emplace_back();
    }
    if (out != nullptr) {
      out->kind = kind;
      out->text.assign(text);
      out->number = number;
    }
    return true;
  }
  bool Open(JsonValue::Kind kind) {
    if (depth_ == 1 && current_ >= 0) {
      values_[current_].kind = kind;
    } else if (depth_ == 2 && in_array_) {
      values_[current_].items.emplace_back().kind = kind;
    }
    ++depth_;
    return true;
  }

  std::span<const std::string_view> keys_;
  std::vector<JsonValue> values_;
  int depth_ = 0;
  int current_ = -1;       // index in keys_ of the member being read at depth 1, or -1
  bool in_array_ = false;  // inside the array value of the current kept member
  std::string error_;
  size_t column_ = 0;
};

// Parses the JSONL lines of `src` into records: fn(handler, line, record) fills the record of every
// non-blank line. The file is cut at line ends into pieces of about kPieceBytes parsed in parallel (JSON
// lexing is the whole cost of loading a corpus); records keep file order, and when several pieces hold bad
// lines the first bad line of the file is the one reported.
template <typename Record, typename Fn>
std::vector<Record> ParseJsonl(const DatasetSource& src, std::span<const std::string_view> keys, Fn&& fn) {
  constexpr size_t kPieceBytes = 256 << 10;
  CheckUtf8(src.data, src.name);
  const std::string_view data = SkipBom(src.data);
  struct Piece {
    std::string_view data;
    size_t first_line = 1;
    std::vector<Record> records;
    std::exception_ptr error;
  };
  std::vector<Piece> pieces;
  size_t line = 1;
  for (size_t pos = 0; pos < data.size();) {
    size_t end = std::min(data.size(), pos + kPieceBytes);
    if (end < data.size()) {
      const size_t nl = data.find('\n', end);
      end = nl == std::string_view::npos ? data.size() : nl + 1;
    }
    Piece& p = pieces.emplace_back();
    p.data = data.substr(pos, end - pos);
    p.first_line = line;
    line += utf8::CountNewlines(p.data);
    pos = end;
  }
  auto parse_piece = [&](Piece& p) {
    try {
      RecordHandler handler(keys);
      LineReader reader(p.data, p.first_line);
      Line l;
      while (reader.Next(&l)) {
        if (IsBlank(l.text)) continue;
        if (!handler.Parse(l.text)) Fail(src.name, l.number, handler.column(), handler.error());
        fn(handler, l, p.records.emplace_back());
      }
    } catch (...) {
      p.error = std::current_exception();
    }
  };
  if (pieces.size() == 1) {
    parse_piece(pieces[0]);
  } else {
    tbb::parallel_for(size_t{0}, pieces.size(), [&](size_t i) { parse_piece(pieces[i]); });
  }
  size_t total = 0;
  for (Piece& p : pieces) {
    if (p.error) std::rethrow_exception(p.error);
    total += p.records.size();
  }
  std::vector<Record> out;
  out.reserve(total);
  for (Piece& p : pieces) std::move(p.records.begin(), p.records.end(), std::back_inserter(out));
  return out;
}

// A JSON id: a non-empty string or an integer (some BEIR-style files write numeric ids).
std::string TakeId(JsonValue& v, std::string_view key, const DatasetSource& src, size_t line) {
  if (v.kind == JsonValue::kAbsent) Fail(src.name, line, 0, "missing \"" + std::string(key) + "\"");
  if (v.kind != JsonValue::kString && v.kind != JsonValue::kInteger) {
    Fail(src.name, line, 0,
         "\"" + std::string(key) + "\" must be a string or an integer, not " + KindName(v.kind));
  }
  if (Trim(v.text).empty()) Fail(src.name, line, 0, "\"" + std::string(key) + "\" is empty");
  return std::move(v.text);
}

// A text member: a string; null counts as empty. `required` makes absence an error.
std::string TakeText(JsonValue& v, std::string_view key, bool required, const DatasetSource& src,
                     size_t line) {
  if (v.kind == JsonValue::kAbsent) {
    if (required) Fail(src.name, line, 0, "missing \"" + std::string(key) + "\"");
    return {};
  }
  if (v.kind == JsonValue::kNull) return {};
  if (v.kind != JsonValue::kString) {
    Fail(src.name, line, 0, "\"" + std::string(key) + "\" must be a string, not " + KindName(v.kind));
  }
  return std::move(v.text);
}

// Picks the first present of two alternative member names (e.g. "_id" / "id").
JsonValue& Either(RecordHandler& h, size_t a, size_t b) {
  return h.mutable_value(h.value(a).kind != JsonValue::kAbsent ? a : b);
}

// ---------------------------------------------------------------------------------------------------------
// Records parsed from files, before ids are resolved.

struct DocRecord {
  EvalDocument doc;
  size_t line = 0;
};

struct QueryRecord {
  std::string id;
  std::string text;
  size_t line = 0;
  // EmbedEval inline judgments.
  std::vector<std::string> relevant;
  std::vector<double> scores;  // parallel to relevant when has_scores
  bool has_scores = false;
  std::vector<std::string> tags;
};

struct QrelRecord {
  std::string query_id;
  std::string doc_id;
  int32_t grade = 0;
  size_t line = 0;
};

// Which member names a JSONL file uses first (the other is accepted too); they name the members in messages.
enum class Schema { kBeir, kEmbedEval };

bool IsJsonlName(std::string_view name) {
  return name.ends_with(".jsonl") || name.ends_with(".json");
}

std::vector<DocRecord> ParseCorpusJsonl(const DatasetSource& src, Schema schema) {
  // Member order: the schema's preferred names first.
  const bool beir = schema == Schema::kBeir;
  const std::string_view keys[] = {beir ? "_id" : "id", beir ? "id" : "_id", beir ? "text" : "content",
                                   beir ? "content" : "text", "title"};
  return ParseJsonl<DocRecord>(src, keys, [&](RecordHandler& h, const Line& line, DocRecord& r) {
    r.line = line.number;
    r.doc.id = TakeId(Either(h, 0, 1), keys[0], src, line.number);
    const bool second_text = h.value(2).kind == JsonValue::kAbsent && h.value(3).kind != JsonValue::kAbsent;
    r.doc.text = TakeText(Either(h, 2, 3), keys[second_text ? 3 : 2], true, src, line.number);
    r.doc.title = TakeText(h.mutable_value(4), "title", false, src, line.number);
  });
}

std::vector<QueryRecord> ParseQueriesJsonl(const DatasetSource& src, Schema schema) {
  const bool beir = schema == Schema::kBeir;
  const std::string_view keys[] = {beir ? "_id" : "id",
                                   beir ? "id" : "_id",
                                   beir ? "text" : "query",
                                   beir ? "query" : "text",
                                   "relevantDocs",
                                   "relevanceScores",
                                   "tags"};
  return ParseJsonl<QueryRecord>(src, keys, [&](RecordHandler& h, const Line& line, QueryRecord& r) {
    const size_t n = line.number;
    r.line = n;
    r.id = TakeId(Either(h, 0, 1), keys[0], src, n);
    const bool second_text = h.value(2).kind == JsonValue::kAbsent && h.value(3).kind != JsonValue::kAbsent;
    r.text = TakeText(Either(h, 2, 3), keys[second_text ? 3 : 2], true, src, n);
    if (Trim(r.text).empty()) Fail(src.name, n, 0, "query " + Quote(r.id) + " has empty text");
    if (schema != Schema::kEmbedEval) return;

    const JsonValue& docs = h.value(4);
    if (docs.kind != JsonValue::kAbsent && docs.kind != JsonValue::kNull) {
      if (docs.kind != JsonValue::kArray) {
        Fail(src.name, n, 0, std::string("\"relevantDocs\" must be an array, not ") + KindName(docs.kind));
      }
      for (const JsonValue& d : docs.items) {
        if ((d.kind != JsonValue::kString && d.kind != JsonValue::kInteger) || Trim(d.text).empty()) {
          Fail(src.name, n, 0,
               std::string("\"relevantDocs\" must hold non-empty strings, found ") +
                   (d.kind == JsonValue::kString ? "an empty string" : KindName(d.kind)));
        }
        r.relevant.push_back(d.text);
      }
    }
    const JsonValue& scores = h.value(5);
    if (scores.kind != JsonValue::kAbsent && scores.kind != JsonValue::kNull) {
      if (scores.kind != JsonValue::kArray) {
        Fail(src.name, n, 0,
             std::string("\"relevanceScores\" must be an array, not ") + KindName(scores.kind));
      }
      for (const JsonValue& s : scores.items) {
        if (s.kind != JsonValue::kInteger && s.kind != JsonValue::kFloat) {
          Fail(src.name, n, 0,
               std::string("\"relevanceScores\" must hold numbers, found ") + KindName(s.kind));
        }
        r.scores.push_back(s.number);
      }
      if (r.scores.size() != r.relevant.size()) {
        Fail(
            src.name, n, 0,
            "\"relevanceScores\" has " + std::to_string(r.scores.size()) +
                " entries but \"relevantDocs\" has " + std::to_string(r.relevant.size()),
            "give one score per relevant document, or omit relevanceScores (every document then scores 1.0)");
      }
      r.has_scores = true;
    }
    const JsonValue& tags = h.value(6);
    if (tags.kind == JsonValue::kArray) {
      for (const JsonValue& t : tags.items) {
        if (t.kind != JsonValue::kString) {
          Fail(src.name, n, 0, std::string("\"tags\" must hold strings, found ") + KindName(t.kind));
        }
        r.tags.push_back(t.text);
      }
    } else if (tags.kind != JsonValue::kAbsent && tags.kind != JsonValue::kNull) {
      Fail(src.name, n, 0, std::string("\"tags\" must be an array of strings, not ") + KindName(tags.kind));
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// TSV and whitespace-separated files

struct Field {
  std::string_view text;
  size_t column = 0;  // 1-based byte column of the field's start
};

std::vector<Field> SplitTabs(std::string_view line) {
  std::vector<Field> fields;
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    const size_t end = tab == std::string_view::npos ? line.size() : tab;
    fields.push_back({line.substr(start, end - start), start + 1});
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  return fields;
}

std::vector<Field> SplitWhitespace(std::string_view line) {
  std::vector<Field> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    if (i >= line.size()) break;
    const size_t start = i;
    while (i < line.size() && !IsSpace(line[i])) ++i;
    fields.push_back({line.substr(start, i - start), start + 1});
  }
  return fields;
}

// A grade: an integer, or a decimal with an integral value ("2.0"), within int32.
bool ParseGrade(std::string_view s, int32_t* out) {
  s = Trim(s);
  if (s.empty()) return false;
  int64_t v = 0;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data() + (s[0] == '+' ? 1 : 0), end, v);
  if (ec == std::errc() && p == end) {
    if (v < INT32_MIN || v > INT32_MAX) return false;
    *out = static_cast<int32_t>(v);
    return true;
  }
  double d = 0;
  auto [q, ec2] = std::from_chars(s.data() + (s[0] == '+' ? 1 : 0), end, d);
  if (ec2 != std::errc() || q != end || !std::isfinite(d) || d != std::floor(d) || d < INT32_MIN ||
      d > INT32_MAX) {
    return false;
  }
  *out = static_cast<int32_t>(d);
  return true;
}

// Whether `s` is a number of any form: a first line whose score column is not is the BEIR header.
bool LooksNumeric(std::string_view s) {
  s = Trim(s);
  double d = 0;
  const char* b = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
  auto [p, ec] = std::from_chars(b, s.data() + s.size(), d);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

void RequireFieldCount(const std::vector<Field>& f, size_t want, std::string_view line,
                       const std::string& name, size_t number, const std::string& layout,
                       const char* separator) {
  if (f.size() == want) return;
  const size_t column = f.size() > want ? f[want].column : line.size() + 1;
  Fail(name, number, column,
       "expected " + std::to_string(want) + " " + separator + "-separated columns (" + layout + "), found " +
           std::to_string(f.size()));
}

QrelRecord QrelFrom(const Field& q, const Field& d, const Field& g, const std::string& name, size_t number) {
  QrelRecord r;
  r.line = number;
  const std::string_view qid = Trim(q.text), did = Trim(d.text);
  if (qid.empty()) Fail(name, number, q.column, "empty query id");
  if (did.empty()) Fail(name, number, d.column, "empty document id");
  if (!ParseGrade(g.text, &r.grade)) {
    Fail(name, number, g.column, "grade " + Quote(Trim(g.text)) + " is not an integer",
         "relevance grades are integers (0 non-relevant, 1 relevant, 2 highly relevant, ...)");
  }
  r.query_id = std::string(qid);
  r.doc_id = std::string(did);
  return r;
}

// Calls fn(line) for each non-blank line of a line-oriented source (UTF-8 checked, BOM skipped).
template <typename Fn>
void ForEachDataLine(const DatasetSource& src, Fn&& fn) {
  CheckUtf8(src.data, src.name);
  LineReader reader(SkipBom(src.data));
  Line line;
  while (reader.Next(&line)) {
    if (!IsBlank(line.text)) fn(line);
  }
}

// BEIR qrels: query-id<TAB>corpus-id<TAB>score, with a header line.
std::vector<QrelRecord> ParseBeirQrels(const DatasetSource& src) {
  std::vector<QrelRecord> out;
  bool first = true;
  ForEachDataLine(src, [&](const Line& line) {
    const std::vector<Field> f = SplitTabs(line.text);
    RequireFieldCount(f, 3, line.text, src.name, line.number, "query-id, corpus-id, score", "tab");
    if (first && !LooksNumeric(f[2].text)) {  // the header: "query-id corpus-id score"
      first = false;
      return;
    }
    first = false;
    out.push_back(QrelFrom(f[0], f[1], f[2], src.name, line.number));
  });
  return out;
}

// trec_eval qrels: qid iter docno rel, separated by any whitespace.
std::vector<QrelRecord> ParseTrecQrels(const DatasetSource& src) {
  std::vector<QrelRecord> out;
  ForEachDataLine(src, [&](const Line& line) {
    const std::vector<Field> f = SplitWhitespace(line.text);
    RequireFieldCount(f, 4, line.text, src.name, line.number, "query-id, iteration, document-id, grade",
                      "whitespace");
    out.push_back(QrelFrom(f[0], f[2], f[3], src.name, line.number));
  });
  return out;
}

// Topics TSV: qid<TAB>text (the text may itself contain tabs).
std::vector<QueryRecord> ParseTopicsTsv(const DatasetSource& src) {
  std::vector<QueryRecord> out;
  ForEachDataLine(src, [&](const Line& line) {
    const size_t tab = line.text.find('\t');
    if (tab == std::string_view::npos) {
      Fail(src.name, line.number, line.text.size() + 1, "expected query-id<TAB>text, found no tab");
    }
    QueryRecord& r = out.emplace_back();
    r.line = line.number;
    const std::string_view id = Trim(line.text.substr(0, tab));
    if (id.empty()) Fail(src.name, line.number, 1, "empty query id");
    r.id = std::string(id);
    r.text = std::string(Trim(line.text.substr(tab + 1)));
    if (r.text.empty()) Fail(src.name, line.number, tab + 2, "query " + Quote(r.id) + " has empty text");
  });
  return out;
}

// Corpus TSV: id<TAB>text or id<TAB>title<TAB>text.
std::vector<DocRecord> ParseCorpusTsv(const DatasetSource& src) {
  std::vector<DocRecord> out;
  ForEachDataLine(src, [&](const Line& line) {
    const std::vector<Field> f = SplitTabs(line.text);
    if (f.size() != 2 && f.size() != 3) {
      Fail(src.name, line.number, f.size() > 3 ? f[3].column : line.text.size() + 1,
           "expected 2 or 3 tab-separated columns (id, [title,] text), found " + std::to_string(f.size()));
    }
    DocRecord& r = out.emplace_back();
    r.line = line.number;
    const std::string_view id = Trim(f[0].text);
    if (id.empty()) Fail(src.name, line.number, 1, "empty document id");
    r.doc.id = std::string(id);
    if (f.size() == 3) r.doc.title = std::string(f[1].text);
    r.doc.text = std::string(f.back().text);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Assembly: resolve ids, reject duplicates, attach judgments, count problems.

struct Inputs {
  std::vector<DocRecord> docs;
  std::vector<QueryRecord> queries;
  std::vector<QrelRecord> qrels;
  std::string corpus_name, queries_name, qrels_name;
  bool keep_only_judged = false;  // BEIR: evaluate only the split's queries
};

void Assemble(Inputs& in, EvalDataset& ds) {
  DatasetReport& rep = ds.report;
  // Corpus.
  ds.corpus.reserve(in.docs.size());
  ds.doc_index.reserve(in.docs.size());
  for (DocRecord& r : in.docs) {
    const uint32_t index = static_cast<uint32_t>(ds.corpus.size());
    auto [it, inserted] = ds.doc_index.emplace(r.doc.id, index);
    if (!inserted) {
      Fail(in.corpus_name, r.line, 0,
           "duplicate document id " + Quote(r.doc.id) + " (first on line " +
               std::to_string(in.docs[it->second].line) + ")",
           "document ids must be unique");
    }
    ds.corpus.push_back(std::move(r.doc));
  }
  rep.documents = ds.corpus.size();

  // Queries: ids are unique.
  std::unordered_map<std::string_view, size_t> query_index;
  query_index.reserve(in.queries.size());
  for (size_t i = 0; i < in.queries.size(); ++i) {
    auto [it, inserted] = query_index.emplace(in.queries[i].id, i);
    if (!inserted) {
      Fail(in.queries_name, in.queries[i].line, 0,
           "duplicate query id " + Quote(in.queries[i].id) + " (first on line " +
               std::to_string(in.queries[it->second].line) + ")",
           "query ids must be unique");
    }
  }
  rep.queries_in_file = in.queries.size();

  // Judgments, in qrels order.
  std::vector<std::vector<EvalJudgment>> judged(in.queries.size());
  std::unordered_map<std::string, int32_t> seen;  // "<query index>\t<doc id>" -> grade
  ProblemLog unknown_queries, unknown_docs, duplicates;
  rep.qrels_lines = in.qrels.size();
  for (QrelRecord& q : in.qrels) {
    const std::string where = Where(in.qrels_name, q.line);
    auto qi = query_index.find(q.query_id);
    if (qi == query_index.end()) {
      unknown_queries.Add(where + ": unknown query " + Quote(q.query_id));
      continue;
    }
    std::string key = std::to_string(qi->second);
    key += '\t';
    key += q.doc_id;
    auto [it, inserted] = seen.emplace(std::move(key), q.grade);
    if (!inserted) {
      if (it->second != q.grade) ++rep.qrels_conflicts;
      duplicates.Add(where + ": repeated judgment of " + Quote(q.doc_id) + " for query " + Quote(q.query_id) +
                     (it->second != q.grade ? " with a different grade" : ""));
      continue;
    }
    EvalJudgment j;
    j.doc = ds.FindDoc(q.doc_id);
    if (j.doc == kUnknownDoc) unknown_docs.Add(where + ": unknown document " + Quote(q.doc_id));
    j.doc_id = std::move(q.doc_id);
    j.grade = q.grade;
    judged[qi->second].push_back(std::move(j));
  }
  rep.qrels_unknown_queries = unknown_queries.count;
  rep.qrels_unknown_docs = unknown_docs.count;
  rep.qrels_duplicates = duplicates.count;

  // Queries kept, in queries-file order.
  ProblemLog unjudged;
  for (size_t i = 0; i < in.queries.size(); ++i) {
    QueryRecord& r = in.queries[i];
    if (judged[i].empty()) {
      if (in.keep_only_judged) {
        ++rep.queries_outside_split;
        continue;
      }
      unjudged.Add(Where(in.queries_name, r.line) + ": query " + Quote(r.id) + " has no judgments");
    }
    EvalQuery& q = ds.queries.emplace_back();
    q.id = std::move(r.id);
    q.text = std::move(r.text);
    q.tags = std::move(r.tags);
    q.judgments = std::move(judged[i]);
    rep.judgments += q.judgments.size();
    if (!q.judgments.empty() && std::none_of(q.judgments.begin(), q.judgments.end(),
                                             [](const EvalJudgment& j) { return j.grade > 0; })) {
      ++rep.queries_without_relevant;
    }
  }
  rep.queries = ds.queries.size();
  rep.queries_without_judgments = unjudged.count;

  unknown_queries.Report(rep.warnings, "dropped: the queries file lacks them");
  unknown_docs.Report(rep.warnings,
                      "kept as judged documents that cannot be retrieved, as trec_eval counts them");
  duplicates.Report(rep.warnings, "the first judgment is kept");
  unjudged.Report(rep.warnings, "not scored: metrics skip queries without judgments, as trec_eval does");
}

// ---------------------------------------------------------------------------------------------------------
// Fingerprints

class Fingerprinter {
 public:
  explicit Fingerprinter(std::string_view format) { Part("format", format); }
  // A named part: its name, length and bytes, so parts cannot run into each other.
  void Part(std::string_view role, std::string_view bytes) {
    Bytes(role);
    Bytes(bytes);
  }
  Hash128 Finish() const { return hasher_.Finish(); }

 private:
  void Bytes(std::string_view b) {
    uint64_t n = b.size();
    char len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((n >> (8 * i)) & 0xFF);
    hasher_.Update(std::string_view(len, 8));
    hasher_.Update(b);
  }
  ContentHasher hasher_;
};

std::string_view TextKind(const std::string& name) {
  return IsJsonlName(name) ? "jsonl" : "tsv";
}

Hash128 FingerprintBeir(std::string_view corpus, std::string_view queries, std::string_view qrels,
                        std::string_view split) {
  Fingerprinter f("beir");
  f.Part("corpus", corpus);
  f.Part("queries", queries);
  f.Part("qrels", qrels);
  f.Part("split", split);
  return f.Finish();
}

Hash128 FingerprintTrec(const DatasetSource& corpus, const DatasetSource& queries,
                        const DatasetSource& qrels) {
  Fingerprinter f("trec");
  f.Part(std::string("corpus.") + std::string(TextKind(corpus.name)), corpus.data);
  f.Part(std::string("queries.") + std::string(TextKind(queries.name)), queries.data);
  f.Part("qrels", qrels.data);
  return f.Finish();
}

Hash128 FingerprintEmbedEval(std::string_view corpus, std::string_view queries) {
  Fingerprinter f("embedeval");
  f.Part("corpus", corpus);
  f.Part("queries", queries);
  return f.Finish();
}

// ---------------------------------------------------------------------------------------------------------
// Files

std::string JoinPath(const std::string& base, const std::string& name) {
  if (base.empty() || (!name.empty() && name[0] == '/')) return name;
  return (fs::path(base) / name).string();
}

void RequireFolder(const std::string& folder, std::string_view what) {
  std::error_code ec;
  if (folder.empty()) throw InvalidInput(std::string(what) + " needs a folder path");
  if (!fs::exists(folder, ec)) {
    throw NotFound(std::string(what) + " folder not found: " + folder, "check the dataset path",
                   ErrorType::kFileNotFound);
  }
  if (!fs::is_directory(folder, ec))
    throw InvalidInput(std::string(what) + " path is not a folder: " + folder);
}

// Maps `path`; a missing file is NotFound naming the expected path and what the dataset needs it for.
MappedFile MapRequired(const std::string& path, std::string_view what, const std::string& suggestion = "") {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    throw NotFound("missing " + std::string(what) + ": expected " + path,
                   suggestion.empty() ? "check the dataset folder and file names" : suggestion,
                   ErrorType::kFileNotFound);
  }
  return MappedFile(path);
}

// The splits a BEIR folder offers (qrels/*.tsv), for a missing split's message.
std::string AvailableSplits(const std::string& folder) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(folder) / "qrels", ec)) {
    if (e.path().extension() == ".tsv") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The JSONL files of a folder, for a missing corpus or queries file's message.
std::string JsonlFilesIn(const std::string& folder, std::string_view setting) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    if (e.path().extension() == ".jsonl") names.push_back(e.path().filename().string());
  }
  if (names.empty()) return "";
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return "JSONL files in this folder: " + out + "; name the right one with dataset." + std::string(setting);
}

void RequireFileName(const std::string& name, std::string_view key, std::string_view format) {
  if (name.empty()) {
    throw InvalidInput("a " + std::string(format) + " dataset needs its " + std::string(key) + " file",
                       "set dataset." + std::string(key));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Synthesis

struct FolderFile {
  std::string relative;  // '/'-separated
  std::string bytes;
};

// Every regular file under `folder`, hidden entries skipped, in bytewise order of relative path.
std::vector<FolderFile> ReadFolder(const std::string& folder) {
  RequireFolder(folder, "synthesis");
  std::vector<std::pair<std::string, fs::path>> paths;
  std::error_code ec;
  fs::recursive_directory_iterator it(folder, fs::directory_options::none, ec), end;
  if (ec) throw IoError("cannot read folder " + folder + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) throw IoError("cannot read folder " + folder + ": " + ec.message());
    const std::string leaf = it->path().filename().string();
    if (!leaf.empty() && leaf[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    // lexically: a symlink keeps its own name (fs::relative would resolve it to its target's, a duplicate
    // id).
    paths.emplace_back(it->path().lexically_relative(folder).generic_string(), it->path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<FolderFile> files;
  files.reserve(paths.size());
  for (auto& [rel, path] : paths) files.push_back({rel, ReadFile(path.string())});
  return files;
}

Hash128 FingerprintSynth(const std::vector<FolderFile>& files, size_t n, uint64_t seed) {
  Fingerprinter f("synth-v1");
  for (const FolderFile& file : files) f.Part(file.relative, file.bytes);
  f.Part("queries", std::to_string(n));
  f.Part("seed", std::to_string(seed));
  return f.Finish();
}

// Word spans (byte offsets) of whitespace-separated words.
std::vector<std::pair<size_t, size_t>> Words(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && IsSpace(text[i])) ++i;
    if (i >= text.size()) break;
    const size_t start = i;
    while (i < text.size() && !IsSpace(text[i])) ++i;
    words.emplace_back(start, i);
  }
  return words;
}

size_t CountWords(std::string_view text, size_t stop_at) {
  size_t n = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = IsSpace(c);
    if (!space && !in_word && ++n >= stop_at) return n;
    in_word = !space;
  }
  return n;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------

uint32_t EvalDataset::FindDoc(std::string_view id) const {
  auto it = doc_index.find(id);
  return it == doc_index.end() ? kUnknownDoc : it->second;
}

const char* DatasetFormatName(DatasetFormat format) {
  return DatasetFormatOf(format).name;
}

DatasetFormat ParseDatasetFormat(std::string_view name) {
  std::string names;
  for (const DatasetFormatInfo& f : DatasetFormats()) {
    if (name == f.name) return f.format;
    names += (names.empty() ? "" : ", ") + std::string(f.name);
  }
  throw InvalidInput("unknown dataset format " + Quote(name), "use one of: " + names);
}

EvalDataset ParseBeir(const DatasetSource& corpus, const DatasetSource& queries, const DatasetSource& qrels,
                      std::string_view split) {
  Inputs in;
  in.corpus_name = corpus.name;
  in.queries_name = queries.name;
  in.qrels_name = qrels.name;
  in.keep_only_judged = true;
  in.docs = ParseCorpusJsonl(corpus, Schema::kBeir);
  in.queries = ParseQueriesJsonl(queries, Schema::kBeir);
  in.qrels = ParseBeirQrels(qrels);
  EvalDataset ds;
  ds.format = "beir";
  ds.split = std::string(split);
  Assemble(in, ds);
  ds.fingerprint = FingerprintBeir(corpus.data, queries.data, qrels.data, split);
  return ds;
}

EvalDataset ParseTrec(const DatasetSource& corpus, const DatasetSource& queries, const DatasetSource& qrels) {
  Inputs in;
  in.corpus_name = corpus.name;
  in.queries_name = queries.name;
  in.qrels_name = qrels.name;
  in.docs = IsJsonlName(corpus.name) ? ParseCorpusJsonl(corpus, Schema::kBeir) : ParseCorpusTsv(corpus);
  in.queries =
      IsJsonlName(queries.name) ? ParseQueriesJsonl(queries, Schema::kBeir) : ParseTopicsTsv(queries);
  in.qrels = ParseTrecQrels(qrels);
  EvalDataset ds;
  ds.format = "trec";
  Assemble(in, ds);
  ds.fingerprint = FingerprintTrec(corpus, queries, qrels);
  return ds;
}

EvalDataset ParseEmbedEval(const DatasetSource& corpus, const DatasetSource& queries) {
  Inputs in;
  in.corpus_name = corpus.name;
  in.queries_name = queries.name;
  in.qrels_name = queries.name;  // judgments are inline
  in.docs = ParseCorpusJsonl(corpus, Schema::kEmbedEval);
  in.queries = ParseQueriesJsonl(queries, Schema::kEmbedEval);

  // One scale for the whole dataset: 10^d for the smallest d <= 3 making every score integral.
  auto integral = [](double v) {
    return std::fabs(v - std::nearbyint(v)) <= 1e-9 * std::max(1.0, std::fabs(v));
  };
  int64_t scale = 1;
  for (int64_t s = 1; s <= 1000; s *= 10) {
    scale = s;
    bool all = true;
    for (const QueryRecord& q : in.queries) {
      for (double v : q.scores) all = all && integral(v * static_cast<double>(s));
    }
    if (all) break;
  }
  for (const QueryRecord& q : in.queries) {
    for (size_t i = 0; i < q.relevant.size(); ++i) {
      const double score = q.has_scores ? q.scores[i] : 1.0;
      const double v = std::nearbyint(score * static_cast<double>(scale));
      if (!(std::fabs(v) <= static_cast<double>(INT32_MAX))) {
        Fail(queries.name, q.line, 0,
             "relevance score " + std::to_string(score) + " is out of range (scaled by " +
                 std::to_string(scale) + " it exceeds a 32-bit grade)");
      }
      QrelRecord r;
      r.query_id = q.id;
      r.doc_id = q.relevant[i];
      r.grade = static_cast<int32_t>(v);
      if (score > 0 && r.grade < 1) r.grade = 1;  // positive stays relevant
      r.line = q.line;
      in.qrels.push_back(std::move(r));
    }
  }
  EvalDataset ds;
  ds.format = "embedeval";
  Assemble(in, ds);
  ds.report.grade_scale = scale;
  ds.fingerprint = FingerprintEmbedEval(corpus.data, queries.data);
  return ds;
}

EvalDataset LoadBeir(const std::string& folder, const std::string& split) {
  DatasetSpec spec;
  spec.path = folder;
  spec.split = split;
  return LoadDataset(spec);
}

EvalDataset LoadTrec(const std::string& corpus, const std::string& queries, const std::string& qrels) {
  DatasetSpec spec;
  spec.format = DatasetFormat::kTrec;
  spec.corpus = corpus;
  spec.queries = queries;
  spec.qrels = qrels;
  return LoadDataset(spec);
}

EvalDataset LoadEmbedEval(const std::string& corpus, const std::string& queries) {
  DatasetSpec spec;
  spec.format = DatasetFormat::kEmbedEval;
  spec.corpus = corpus;
  spec.queries = queries;
  return LoadDataset(spec);
}

EvalDataset Synthesize(const std::string& folder, size_t n, uint64_t seed) {
  if (n == 0) throw InvalidInput("synthesis needs at least one query", "ask for n >= 1 queries");
  std::vector<FolderFile> files = ReadFolder(folder);
  EvalDataset ds;
  ds.format = "synth";
  ds.fingerprint = FingerprintSynth(files, n, seed);
  std::vector<uint32_t> candidates;  // documents of at least 5 words
  for (FolderFile& f : files) {
    std::string_view text = f.bytes;
    text.remove_prefix(utf8::BomLength(text));
    if (IsBlank(text) || text.find('\0') != std::string_view::npos || utf8::FindInvalid(text)) {
      ++ds.report.files_skipped;
      continue;
    }
    const uint32_t index = static_cast<uint32_t>(ds.corpus.size());
    if (CountWords(text, 5) >= 5) candidates.push_back(index);
    ds.doc_index.emplace(f.relative, index);
    ds.corpus.push_back({f.relative, "", std::string(text)});
  }
  if (candidates.empty()) {
    throw InvalidInput("no text file in " + folder + " has 5 words to draw a known-item query from",
                       "point synthesis at a folder of UTF-8 text files");
  }
  SplitMix64 rng(seed);
  const size_t width = std::to_string(n).size();
  std::unordered_map<uint32_t, std::vector<std::pair<size_t, size_t>>> word_cache;  // documents drawn so far
  for (size_t i = 0; i < n; ++i) {
    const uint32_t doc = candidates[rng.MultiplyShift(candidates.size())];
    const std::string_view text = ds.corpus[doc].text;
    auto cached = word_cache.find(doc);
    if (cached == word_cache.end()) cached = word_cache.emplace(doc, Words(text)).first;
    const auto& words = cached->second;
    const size_t length = std::min<size_t>(5 + rng.MultiplyShift(8), words.size());
    const size_t start = rng.MultiplyShift(words.size() - length + 1);
    EvalQuery& q = ds.queries.emplace_back();
    std::string id = std::to_string(i + 1);
    q.id = "q" + std::string(width - id.size(), '0') + id;
    for (size_t w = start; w < start + length; ++w) {
      if (!q.text.empty()) q.text += ' ';
      q.text.append(text.substr(words[w].first, words[w].second - words[w].first));
    }
    q.judgments.push_back({ds.corpus[doc].id, doc, 1});
  }
  DatasetReport& rep = ds.report;
  rep.documents = ds.corpus.size();
  rep.queries = rep.queries_in_file = rep.judgments = rep.qrels_lines = ds.queries.size();
  if (rep.files_skipped > 0) {
    rep.warnings.push_back(std::to_string(rep.files_skipped) + " file(s) in " + folder +
                           " skipped: empty, binary or not UTF-8");
  }
  return ds;
}

namespace {

// ---------------------------------------------------------------------------------------------------------
// The format table

std::vector<DatasetFile> BeirFiles(const DatasetSpec& spec) {
  if (spec.split.empty()) throw InvalidInput("a BEIR dataset needs a split (e.g. test)");
  return {{"corpus", spec.corpus.empty() ? "corpus.jsonl" : spec.corpus, "BEIR corpus"},
          {"queries", spec.queries.empty() ? "queries.jsonl" : spec.queries, "BEIR queries"},
          {"qrels", spec.qrels.empty() ? "qrels/" + spec.split + ".tsv" : spec.qrels,
           "qrels of split '" + spec.split + "'"}};
}

EvalDataset BeirParse(const DatasetSpec& spec, std::span<const DatasetSource> in) {
  return ParseBeir(in[0], in[1], in[2], spec.split);
}

Hash128 BeirFingerprint(const DatasetSpec& spec, std::span<const DatasetSource> in) {
  return FingerprintBeir(in[0].data, in[1].data, in[2].data, spec.split);
}

std::vector<DatasetFile> TrecFiles(const DatasetSpec& spec) {
  RequireFileName(spec.corpus, "corpus", "TREC");
  RequireFileName(spec.queries, "queries", "TREC");
  RequireFileName(spec.qrels, "qrels", "TREC");
  return {{"corpus", spec.corpus, "TREC corpus"},
          {"queries", spec.queries, "TREC topics"},
          {"qrels", spec.qrels, "TREC qrels"}};
}

EvalDataset TrecParse(const DatasetSpec&, std::span<const DatasetSource> in) {
  return ParseTrec(in[0], in[1], in[2]);
}

Hash128 TrecFingerprint(const DatasetSpec&, std::span<const DatasetSource> in) {
  return FingerprintTrec(in[0], in[1], in[2]);
}

std::vector<DatasetFile> EmbedEvalFiles(const DatasetSpec& spec) {
  return {{"corpus", spec.corpus.empty() ? "corpus.jsonl" : spec.corpus, "EmbedEval corpus"},
          {"queries", spec.queries.empty() ? "queries.jsonl" : spec.queries, "EmbedEval queries"}};
}

EvalDataset EmbedEvalParse(const DatasetSpec&, std::span<const DatasetSource> in) {
  return ParseEmbedEval(in[0], in[1]);
}

Hash128 EmbedEvalFingerprint(const DatasetSpec&, std::span<const DatasetSource> in) {
  return FingerprintEmbedEval(in[0].data, in[1].data);
}

// A folder of text files: no input files of its own (Synthesize reads the folder).
std::vector<DatasetFile> SynthFiles(const DatasetSpec&) {
  return {};
}

EvalDataset SynthParse(const DatasetSpec& spec, std::span<const DatasetSource>) {
  return Synthesize(spec.path, spec.synth_queries, spec.synth_seed);
}

Hash128 SynthFingerprint(const DatasetSpec& spec, std::span<const DatasetSource>) {
  if (spec.synth_queries == 0) throw InvalidInput("synthesis needs at least one query");
  return FingerprintSynth(ReadFolder(spec.path), spec.synth_queries, spec.synth_seed);
}

constexpr DatasetFormatInfo kFormats[] = {
    // format, name, label, needs path, takes split, qrels, files, synth; files, parse, fingerprint
    {DatasetFormat::kBeir, "beir", "BEIR dataset", true, true, true, true, false, BeirFiles, BeirParse,
     BeirFingerprint},
    {DatasetFormat::kTrec, "trec", "TREC dataset", false, false, true, true, false, TrecFiles, TrecParse,
     TrecFingerprint},
    {DatasetFormat::kEmbedEval, "embedeval", "EmbedEval dataset", false, false, false, true, false,
     EmbedEvalFiles, EmbedEvalParse, EmbedEvalFingerprint},
    {DatasetFormat::kSynth, "synth", "synthesis", true, false, false, false, true, SynthFiles, SynthParse,
     SynthFingerprint},
};

// The files of `spec`, resolved against its path and mapped; a missing one is NotFound naming the expected
// path, with the folder's candidates as the suggestion.
struct OpenedInputs {
  std::vector<MappedFile> maps;
  std::vector<DatasetSource> sources;
};

OpenedInputs Open(const DatasetFormatInfo& f, const DatasetSpec& spec) {
  OpenedInputs o;
  const std::vector<DatasetFile> files = f.files(spec);
  if (!files.empty() && (f.needs_path || !spec.path.empty())) RequireFolder(spec.path, f.label);
  for (const DatasetFile& file : files) {
    const std::string path = JoinPath(spec.path, file.name);
    std::string suggestion;
    if (f.format == DatasetFormat::kBeir && file.role != "qrels")
      suggestion = JsonlFilesIn(spec.path, file.role);
    if (f.format == DatasetFormat::kBeir && file.role == "qrels") {
      const std::string splits = AvailableSplits(spec.path);
      if (!splits.empty()) suggestion = "splits in this folder: " + splits;
    }
    o.maps.push_back(MapRequired(path, file.what, suggestion));
    o.sources.push_back(DatasetSource{path, {}});
  }
  for (size_t i = 0; i < o.maps.size(); ++i) o.sources[i].data = o.maps[i].view();
  return o;
}

}  // namespace

std::span<const DatasetFormatInfo> DatasetFormats() {
  return kFormats;
}

const DatasetFormatInfo& DatasetFormatOf(DatasetFormat format) {
  for (const DatasetFormatInfo& f : kFormats) {
    if (f.format == format) return f;
  }
  throw InternalError("a dataset format without a row in the format table");
}

EvalDataset LoadDataset(const DatasetSpec& spec) {
  const DatasetFormatInfo& f = DatasetFormatOf(spec.format);
  const OpenedInputs in = Open(f, spec);
  return f.parse(spec, in.sources);
}

Hash128 DatasetFingerprint(const DatasetSpec& spec) {
  const DatasetFormatInfo& f = DatasetFormatOf(spec.format);
  const OpenedInputs in = Open(f, spec);
  return f.fingerprint(spec, in.sources);
}

}  // namespace rlm
