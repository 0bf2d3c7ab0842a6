// TREC qrels and run files, read with trec_eval 10.0's rules, into memory laid out for fast evaluation.
//
// Qrels lines are `qid iter docid rel` (exactly four whitespace-separated fields; rel an integer, negative
// meaning "in the pool but unjudged"). Run lines are `qid Q0 docid rank score runid [ignored ...]`; the rank
// field is ignored, as trec_eval ignores it: documents are ranked by score, descending, ties broken by docid
// in decreasing strcmp order. A line whose first character is '#' is a comment (in run files also after
// leading blanks, as trec_eval); blank lines are skipped. The runid of a run is the one on its last line.
//
// trec_eval's -R formats read the same four columns differently (RelFormat): `qrels_jg` takes column 2 as a
// user judgment group (a document may be judged once per group; measures average over groups) and
// `qrels_prefs` takes it as a judgment group whose real-valued levels (column 4) order its documents into
// preferences. `prefs` has five columns, `qid group subgroup docid level`: preferences hold within each
// subgroup, and a group's subgroups together (with their transitive consequences) are its preferences.
//
// Stricter than trec_eval (which uses atol/atof and accepts anything): a non-integer grade, a non-numeric
// score, a wrong number of columns and a document listed twice for one query are InvalidInput errors that
// name `file:line` and the field. trec_eval also rejects duplicates, but only when it evaluates the query.
//
// Judged document ids are interned in the qrels' DocIdTable; a run keeps its docids as views into the
// memory-mapped file and hashes each once, so parsing allocates nothing per line, and evaluation finds a
// document's grade with one probe of a small per-query table of that query's judged documents. Grades
// above 65535 are rejected when the query is evaluated (trec_eval keeps an array indexed by grade too).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rlm::trec {

// Interns document ids: equal strings get equal dense ids 0, 1, 2, ... Names are copied into arena blocks,
// so a view stays valid for the table's lifetime. Not thread-safe for Intern; Name/size are safe to call
// concurrently once interning is done.
class DocIdTable {
 public:
  DocIdTable();
  ~DocIdTable();
  DocIdTable(const DocIdTable&) = delete;
  DocIdTable& operator=(const DocIdTable&) = delete;

  // Returns the id of `name`, adding it when new.
  uint32_t Intern(std::string_view name);
  // Returns the id of `name`, or kMissing when it was never interned. `tag` is Tag(name), when known.
  uint32_t Find(std::string_view name) const { return Find(name, Tag(name)); }
  uint32_t Find(std::string_view name, uint32_t tag) const;
  // The 32-bit hash the table uses (never 0, so 0 can mean "not computed").
  static uint32_t Tag(std::string_view name);
  std::string_view Name(uint32_t id) const { return names_[id]; }
  // Tag(Name(id)), kept from interning.
  uint32_t TagOf(uint32_t id) const;
  size_t size() const { return names_.size(); }

  static constexpr uint32_t kMissing = UINT32_MAX;

 private:
  struct Map;
  std::string_view Store(std::string_view name);
  std::vector<std::string_view> names_;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t block_used_ = 0, block_size_ = 0;
  std::unique_ptr<Map> map_;
};

struct Judgment {
  uint32_t doc;
  int32_t rel;    // the qrels grade; negative: in the pool but unjudged
  uint32_t line;  // 1-based source line, 0 when built in memory
};

// One judgment group of a query (-R qrels_jg, qrels_prefs): column 2 of the relevance file.
struct JudgmentGroup {
  std::string name;
  std::vector<Judgment> judgments;  // sorted by (subgroup, doc id), one per document and subgroup;
                                    // qrels_jg: the integer grade
  std::vector<double> levels;       // qrels_prefs, prefs: the level as a real number, parallel to judgments
  std::vector<uint32_t> subgroups;  // prefs: index into subgroup_names, parallel to judgments
  std::vector<std::string> subgroup_names;  // prefs: by name (strcmp order)
};

struct QrelsQuery {
  std::string qid;
  std::vector<Judgment> judgments;    // qrels: one per document, sorted by doc id (for binary search)
  std::vector<JudgmentGroup> groups;  // qrels_jg, qrels_prefs: by group name (strcmp order)

  // The judgment of `doc`, or nullptr when it is not in the pool.
  const Judgment* Find(uint32_t doc) const;
};

// trec_eval's -R: how a relevance file is read.
enum class RelFormat : uint8_t {
  kQrels,       // qid iter docid grade
  kQrelsJg,     // qid group docid grade: each user judgment group judged separately
  kQrelsPrefs,  // qid group docid level: preferences between the levels of each group
  kPrefs,       // qid group subgroup docid level: preferences within each subgroup of a group
};
// The format trec_eval calls `name` ("qrels", "qrels_jg", "qrels_prefs", "prefs"). Throws InvalidInput
// otherwise.
RelFormat ParseRelFormat(std::string_view name);
const char* RelFormatName(RelFormat format);

// All judgments of a qrels file. Queries are sorted by qid (strcmp order, as trec_eval).
struct Qrels {
  std::shared_ptr<DocIdTable> docs;
  std::vector<QrelsQuery> queries;
  RelFormat format = RelFormat::kQrels;

  // The query `qid`, or nullptr.
  const QrelsQuery* Find(std::string_view qid) const;
};

struct RunEntry {
  std::string_view docid;  // a view into the run's text (Run::storage) or the caller's memory
  double score;
  uint32_t line;  // 1-based source line, 0 when built in memory
  uint32_t tag;   // DocIdTable::Tag(docid), or 0 when unknown (computed on demand)
};

struct RunQuery {
  std::string qid;
  std::vector<RunEntry> entries;  // in file order; RankEntries gives trec_eval's order
};

// A ranked run. Queries are sorted by qid (strcmp order). Run documents are not interned: evaluation looks
// each one up in the qrels' DocIdTable, and documents never judged need no id.
struct Run {
  std::vector<RunQuery> queries;
  std::string runid;                    // from the last line, as trec_eval
  std::shared_ptr<const void> storage;  // keeps the bytes behind the entries' docids alive

  const RunQuery* Find(std::string_view qid) const;
};

// Parses qrels text; `name` is the file name used in error messages. `docs` may be null (a new table).
// Throws InvalidInput "name:line: ..." on a malformed line or a document judged twice for one query.
Qrels ParseQrels(std::string_view text, std::string_view name, std::shared_ptr<DocIdTable> docs = nullptr);
// Memory-maps and parses a qrels file. Also throws NotFound / IoError.
Qrels LoadQrels(const std::string& path, std::shared_ptr<DocIdTable> docs = nullptr);
// The same for a relevance file in `format`: qrels_jg grades must be integers, qrels_prefs and prefs levels
// numbers; a document judged twice in one group (prefs: subgroup) is an error naming both lines.
Qrels ParseQrels(std::string_view text, std::string_view name, RelFormat format,
                 std::shared_ptr<DocIdTable> docs = nullptr);
Qrels LoadQrels(const std::string& path, RelFormat format, std::shared_ptr<DocIdTable> docs = nullptr);

// Parses run text. The entries' docids are views into `text`, which must outlive the Run. Throws
// InvalidInput "name:line: ..." on a malformed line or a document retrieved twice for one query.
Run ParseRun(std::string_view text, std::string_view name);
// Memory-maps and parses a run file; the map is kept in Run::storage. `path` "-" reads standard input to its
// end instead (as trec_eval 10.0), kept in Run::storage; errors then name "stdin". Also throws NotFound /
// IoError.
Run LoadRun(const std::string& path);

// Sorts `entries` into trec_eval's ranking: score descending, then docid descending (strcmp).
void RankEntries(std::vector<RunEntry>& entries);

// Throws InvalidInput when a document occurs twice in `entries` (naming `name`, the lines and `qid`).
void CheckNoDuplicates(std::span<const RunEntry> entries, std::string_view name, std::string_view qid);

}  // namespace rlm::trec
