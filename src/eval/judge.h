// Human relevance judgments (`rlm eval judge`): the pool of (query, document) pairs to judge, the files the
// judgments are saved in, and the session that walks the pool. Everything here works without a terminal;
// src/cli/cmd_eval_judge.cc draws the screen and maps keys to JudgeSession calls.
//
// The pool is TREC-style: the union of the top `depth` documents of each run (ranked as trec_eval ranks:
// score descending, docid descending), grouped by query in the dataset's query order. Within a query, pairs
// come by best rank over the runs (ties: the earlier run, then docid ascending), or by docid with
// PoolOrder::kDocId (what TREC assessors see: no hint of any system's ranking).
//
// Two output files, both appended one line per judgment:
//   qrels  TREC qrels `qid 0 docid grade`, readable by trec::ParseQrels and `rlm eval metrics`;
//   notes  JSONL, `{"qid","docid","grade","note","time"}` (time in UTC, ISO 8601), one object per judgment.
// The qrels file is the record of what is judged. A notes line whose pair the qrels lack (a kill between the
// two writes, or an undone judgment whose note was not the last line) is ignored and counted; when a pair
// has several notes lines, the last one counts. Each line is written with one write(2) and fdatasync'd, so a
// kill loses at most the pair on screen.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/file_lock.h"
#include "eval/dataset.h"
#include "eval/trec.h"

namespace rlm {

// ---------------------------------------------------------------------------------------------------------
// The pool

enum class PoolOrder { kRank, kDocId };
// "rank" or "docid"; ParsePoolOrder throws InvalidInput listing both.
const char* PoolOrderName(PoolOrder order);
PoolOrder ParsePoolOrder(std::string_view name);

struct PoolRun {
  std::string name;  // the file, for messages
  trec::Run run;
};

struct JudgePair {
  uint32_t query = 0;      // index into EvalDataset::queries
  uint32_t doc = 0;        // index into EvalDataset::corpus
  uint32_t best_rank = 0;  // 1-based, the best rank any run gave the document
  uint32_t run = 0;        // index of the first run that ranked it best_rank
};

struct JudgePool {
  std::vector<JudgePair> pairs;  // contiguous per query, queries in dataset order
  size_t queries = 0;            // distinct queries with at least one pair
  size_t run_entries = 0;        // entries read from the runs within depth (before removing duplicates)
};

// Pools the top `depth` documents per query of `runs`. Throws InvalidInput naming `run:line` when a run names
// a query the dataset lacks (type "UnknownQuery", with a hint on --split for BEIR) or a document within depth
// that its corpus lacks ("UnknownDocument"), "EmptyPool" when the runs hold no ranked document, and when
// depth is 0.
JudgePool BuildJudgePool(const EvalDataset& dataset, std::span<const PoolRun> runs, size_t depth,
                         PoolOrder order = PoolOrder::kRank);

// ---------------------------------------------------------------------------------------------------------
// The saved judgments

struct JudgeRecord {
  std::string query_id;
  std::string doc_id;
  int32_t grade = 0;
  std::string note;  // may be empty
  std::string time;  // ISO 8601 UTC, e.g. 2024-05-01T09:30:00Z; empty when the notes lack the pair
};

// Formats `t` as ISO 8601 UTC with seconds ("2024-05-01T09:30:00Z").
std::string JudgeTimestamp(std::chrono::system_clock::time_point t);

// The notes file that goes with a qrels file by default: `<qrels>.notes.jsonl`.
std::string DefaultNotesPath(const std::string& qrels_path);

// The judgments saved in a qrels file and its notes file, open for appending. Not thread-safe; one process
// per pair of files (nothing locks them).
class JudgmentLog {
 public:
  // Reads and validates both files when they exist, then opens both for appending (creating them and their
  // folder). Throws InvalidInput "file:line: ..." for a malformed line (qrels: as trec::ParseQrels, including
  // a document judged twice; notes: not a JSON object, a missing or mistyped field, invalid UTF-8),
  // IoError naming the file when it cannot be read, created or opened for writing, Conflict naming the file
  // and the holder's pid when another JudgmentLog (any process) has the qrels file open: its lock,
  // `<qrels>.lock`, is held for the log's life.
  JudgmentLog(std::string qrels_path, std::string notes_path);
  ~JudgmentLog();
  JudgmentLog(const JudgmentLog&) = delete;
  JudgmentLog& operator=(const JudgmentLog&) = delete;

  const std::string& qrels_path() const { return qrels_path_; }
  const std::string& notes_path() const { return notes_path_; }

  // Every saved judgment, in qrels file order, with its note attached.
  const std::vector<JudgeRecord>& records() const { return records_; }
  // The saved judgment of a pair, or nullptr.
  const JudgeRecord* Find(std::string_view query_id, std::string_view doc_id) const;
  // Notes lines that name a pair the qrels lack (ignored), counted when the files were read.
  size_t orphan_notes() const { return orphan_notes_; }

  // Appends the qrels line, then the notes line, each with one write and fdatasync. Throws InvalidInput
  // when the pair is already saved or an id contains whitespace (qrels could not hold it), IoError when a
  // write fails (nothing of that line is kept: the file is truncated back).
  void Append(JudgeRecord record);

  // Removes the last saved judgment: its qrels line always, its notes line when that is the notes file's
  // last line (otherwise the note stays as an orphan). Returns the removed record, or nullopt when there is
  // none. Throws IoError when truncating fails.
  std::optional<JudgeRecord> RemoveLast();

 private:
  struct Line {
    uint64_t offset;  // where the line starts
    std::string key;  // query id '\t' doc id
  };
  void ReadQrels();
  void ReadNotes();
  void WriteLine(int fd, const std::string& path, uint64_t& size, const std::string& line);

  std::string qrels_path_, notes_path_;
  std::unique_ptr<FileLock> lock_;  // on the qrels file, for the log's life
  int qrels_fd_ = -1, notes_fd_ = -1;
  uint64_t qrels_size_ = 0, notes_size_ = 0;
  std::vector<JudgeRecord> records_;
  std::vector<uint64_t> record_offsets_;           // parallel to records_: where each qrels line starts
  std::vector<Line> notes_lines_;                  // every notes line, in file order
  std::unordered_map<std::string, size_t> index_;  // Key -> records_ index
  size_t orphan_notes_ = 0;
};

// ---------------------------------------------------------------------------------------------------------
// The session

// Walks a pool, skipping pairs the log already holds: the current pair is the first unjudged one not
// skipped in this session, searched forward from the last position and then from the start. Holds
// references to the dataset and the log, which must outlive it.
class JudgeSession {
 public:
  JudgeSession(const EvalDataset& dataset, JudgePool pool, JudgmentLog& log);

  const JudgePool& pool() const { return pool_; }
  const EvalDataset& dataset() const { return dataset_; }

  // True when every pair of the pool is judged or was skipped in this session.
  bool done() const { return current_ == pool_.pairs.size(); }
  // Index into pool().pairs of the pair on screen; pool().pairs.size() when done.
  size_t current() const { return current_; }
  // 1-based position of pair `i`'s query among the pool's queries.
  size_t QueryPosition(size_t i) const { return query_position_[i]; }

  // Saves `grade` and `note` for the current pair (see JudgmentLog::Append) and moves on.
  void Judge(int32_t grade, std::string note, std::chrono::system_clock::time_point time);
  // Leaves the current pair unjudged for this session and moves on.
  void Skip();
  // Takes back the last saved judgment and makes its pair current again. Returns false (and changes nothing)
  // when the log is empty or its last judgment is not in this pool.
  bool Undo();
  // The judgment Undo took back, while its pair is current (to show the old grade and keep the note).
  const JudgeRecord* undone() const { return undone_ ? &*undone_ : nullptr; }

  size_t judged() const;  // pairs of the pool saved in the log
  size_t judged_this_session() const { return judged_this_session_; }
  size_t skipped() const;  // pairs skipped in this session and still unjudged
  size_t remaining() const { return pool_.pairs.size() - judged(); }

 private:
  bool IsJudged(size_t i) const;
  void Advance(size_t from);

  const EvalDataset& dataset_;
  JudgePool pool_;
  JudgmentLog& log_;
  std::vector<size_t> query_position_;
  std::unordered_map<std::string, size_t> pair_index_;  // query id '\t' doc id -> index into pool_.pairs
  std::vector<bool> skipped_;
  std::vector<bool> saved_here_;  // judged by this session (and not undone)
  size_t current_ = 0;
  size_t judged_this_session_ = 0;
  std::optional<JudgeRecord> undone_;
};

}  // namespace rlm
