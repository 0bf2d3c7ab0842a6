#include "eval/judge.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_lock.h"

namespace rlm {

namespace {

namespace fs = std::filesystem;

std::string Quote(std::string_view s) {
  if (s.size() > 60) return "'" + std::string(s.substr(0, 57)) + "...'";
  return "'" + std::string(s) + "'";
}

std::string Where(std::string_view name, uint64_t line) {
  return std::string(name) + ":" + std::to_string(line);
}

std::string PairKey(std::string_view query_id, std::string_view doc_id) {
  std::string k(query_id);
  k += '\t';
  k += doc_id;
  return k;
}

bool HasSpace(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); });
}

// Visits each line as (text without '\n', byte offset of its start, 1-based number).
template <typename Fn>
void ForEachLine(std::string_view text, Fn&& fn) {
  size_t pos = 0;
  uint64_t number = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    fn(text.substr(pos, end - pos), static_cast<uint64_t>(pos), ++number);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
  }
}

std::string ReadAll(int fd, const std::string& path) {
  std::string out;
  char buf[1 << 16];
  uint64_t offset = 0;
  while (true) {
    ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowErrno("cannot read " + path);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
}

// Opens `path` for reading and appending, creating it (and its folder). `what` names the file's role.
int OpenForAppend(const std::string& path, std::string_view what, std::string_view flag) {
  const std::string suggestion = "choose a writable path with " + std::string(flag);
  if (path.empty()) throw InvalidInput(std::string(what) + " path is empty", suggestion);
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) {
      throw IoError("cannot create the folder of the " + std::string(what) + " " + path + ": " + ec.message(),
                    suggestion, ErrorType::kOutputNotWritable);
    }
  }
  int fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw IoError(
        "cannot open the " + std::string(what) + " " + path + " for writing: " + std::strerror(errno),
        suggestion, ErrorType::kOutputNotWritable);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw IoError("the " + std::string(what) + " " + path + " is not a regular file", suggestion,
                  ErrorType::kOutputNotWritable);
  }
  return fd;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// The pool

const char* PoolOrderName(PoolOrder order) {
  return order == PoolOrder::kDocId ? "docid" : "rank";
}

PoolOrder ParsePoolOrder(std::string_view name) {
  if (name == "rank") return PoolOrder::kRank;
  if (name == "docid") return PoolOrder::kDocId;
  throw InvalidInput("unknown pool order " + Quote(name), "use rank or docid");
}

JudgePool BuildJudgePool(const EvalDataset& dataset, std::span<const PoolRun> runs, size_t depth,
                         PoolOrder order) {
  if (depth == 0) throw InvalidInput("the pool depth must be at least 1", "pass --depth N with N >= 1");
  std::unordered_map<std::string_view, uint32_t> query_index;
  for (uint32_t i = 0; i < dataset.queries.size(); ++i) query_index.emplace(dataset.queries[i].id, i);

  JudgePool pool;
  std::vector<std::vector<JudgePair>> per_query(dataset.queries.size());
  std::vector<std::unordered_map<uint32_t, size_t>> seen(dataset.queries.size());  // doc -> per_query index
  for (uint32_t r = 0; r < runs.size(); ++r) {
    const PoolRun& run = runs[r];
    for (const trec::RunQuery& rq : run.run.queries) {
      auto qi = query_index.find(rq.qid);
      if (qi == query_index.end()) {
        std::string suggestion = "judge runs made on this dataset";
        if (dataset.format == "beir") {
          suggestion = "a BEIR dataset holds only the queries of qrels/" + dataset.split +
                       ".tsv: pass the --split the run was made on, or check --dataset";
        }
        const uint32_t line = rq.entries.empty() ? 0 : rq.entries.front().line;
        throw InvalidInput(Where(run.name, line) + ": query " + Quote(rq.qid) + " is not in the dataset" +
                               (dataset.split.empty() ? "" : " (split " + Quote(dataset.split) + ")"),
                           suggestion, ErrorType::kUnknownQuery);
      }
      std::vector<trec::RunEntry> ranked = rq.entries;
      trec::RankEntries(ranked);
      if (ranked.size() > depth) ranked.resize(depth);
      for (uint32_t k = 0; k < ranked.size(); ++k) {
        const trec::RunEntry& e = ranked[k];
        ++pool.run_entries;
        const uint32_t doc = dataset.FindDoc(e.docid);
        if (doc == kUnknownDoc) {
          throw InvalidInput(Where(run.name, e.line) + ": document " + Quote(e.docid) + " (query " +
                                 Quote(rq.qid) + ") is not in the dataset's corpus",
                             "judge runs made on this dataset's corpus", ErrorType::kUnknownDocument);
        }
        auto [it, inserted] = seen[qi->second].emplace(doc, per_query[qi->second].size());
        if (inserted) {
          per_query[qi->second].push_back(JudgePair{qi->second, doc, k + 1, r});
        } else if (k + 1 < per_query[qi->second][it->second].best_rank) {
          // An earlier run keeps the pair when the ranks tie (runs are visited in order).
          per_query[qi->second][it->second].best_rank = k + 1;
          per_query[qi->second][it->second].run = r;
        }
      }
    }
  }
  for (std::vector<JudgePair>& pairs : per_query) {
    if (pairs.empty()) continue;
    auto doc_id = [&](const JudgePair& p) -> const std::string& { return dataset.corpus[p.doc].id; };
    std::sort(pairs.begin(), pairs.end(), [&](const JudgePair& a, const JudgePair& b) {
      if (order == PoolOrder::kRank) {
        if (a.best_rank != b.best_rank) return a.best_rank < b.best_rank;
        if (a.run != b.run) return a.run < b.run;
      }
      return doc_id(a) < doc_id(b);
    });
    ++pool.queries;
    pool.pairs.insert(pool.pairs.end(), pairs.begin(), pairs.end());
  }
  if (pool.pairs.empty()) {
    throw InvalidInput("nothing to judge: the runs hold no ranked documents", "check the --run files",
                       ErrorType::kEmptyPool);
  }
  return pool;
}

// ---------------------------------------------------------------------------------------------------------
// The saved judgments

std::string JudgeTimestamp(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string DefaultNotesPath(const std::string& qrels_path) {
  return qrels_path + ".notes.jsonl";
}

JudgmentLog::JudgmentLog(std::string qrels_path, std::string notes_path)
    : qrels_path_(std::move(qrels_path)), notes_path_(std::move(notes_path)) {
  if (fs::path(qrels_path_).lexically_normal() == fs::path(notes_path_).lexically_normal()) {
    throw InvalidInput("the qrels and notes outputs are the same file: " + qrels_path_,
                       "give --notes another path (default <qrels>.notes.jsonl)");
  }
  try {
    qrels_fd_ = OpenForAppend(qrels_path_, "qrels output", "--qrels");
    // One session per qrels file: a second would read the file, then both would append and take back lines
    // by offsets the other does not know.
    lock_ = std::make_unique<FileLock>(qrels_path_, FileLock::Wait::kFailFast, "the qrels file");
    notes_fd_ = OpenForAppend(notes_path_, "notes output", "--notes");
    ReadQrels();
    ReadNotes();
  } catch (...) {
    if (qrels_fd_ >= 0) ::close(qrels_fd_);
    if (notes_fd_ >= 0) ::close(notes_fd_);
    throw;
  }
}

JudgmentLog::~JudgmentLog() {
  if (qrels_fd_ >= 0) ::close(qrels_fd_);
  if (notes_fd_ >= 0) ::close(notes_fd_);
}

const JudgeRecord* JudgmentLog::Find(std::string_view query_id, std::string_view doc_id) const {
  auto it = index_.find(PairKey(query_id, doc_id));
  return it == index_.end() ? nullptr : &records_[it->second];
}

void JudgmentLog::ReadQrels() {
  const std::string text = ReadAll(qrels_fd_, qrels_path_);
  qrels_size_ = text.size();
  // trec::ParseQrels validates (4 columns, integer grades, no document judged twice); the line starts
  // recover the file order and where each line begins.
  const trec::Qrels qrels = trec::ParseQrels(text, qrels_path_);
  std::vector<uint64_t> line_start{0};  // line_start[n] = offset of line n (1-based)
  ForEachLine(text, [&](std::string_view, uint64_t offset, uint64_t) { line_start.push_back(offset); });
  struct Row {
    uint32_t line;
    const std::string* qid;
    std::string_view doc;
    int32_t grade;
  };
  std::vector<Row> rows;
  for (const trec::QrelsQuery& q : qrels.queries) {
    for (const trec::Judgment& j : q.judgments)
      rows.push_back({j.line, &q.qid, qrels.docs->Name(j.doc), j.rel});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.line < b.line; });
  for (const Row& r : rows) {
    index_.emplace(PairKey(*r.qid, r.doc), records_.size());
    records_.push_back(JudgeRecord{*r.qid, std::string(r.doc), r.grade, "", ""});
    record_offsets_.push_back(line_start[r.line]);
  }
  if (!text.empty() && text.back() != '\n') WriteLine(qrels_fd_, qrels_path_, qrels_size_, "\n");
}

void JudgmentLog::ReadNotes() {
  const std::string text = ReadAll(notes_fd_, notes_path_);
  notes_size_ = text.size();
  ForEachLine(text, [&](std::string_view line, uint64_t offset, uint64_t number) {
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) return;
    auto fail = [&](const std::string& what) {
      throw InvalidInput(Where(notes_path_, number) + ": " + what,
                         "fix or delete the line (the qrels file is the record of what is judged)",
                         ErrorType::kInvalidNotes);
    };
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      fail("invalid JSON at byte " + std::to_string(e.byte));
    }
    if (!j.is_object()) fail("expected a JSON object");
    auto string_field = [&](const char* key, bool required) -> std::string {
      auto it = j.find(key);
      if (it == j.end() || it->is_null()) {
        if (required) fail(std::string("missing \"") + key + "\"");
        return "";
      }
      if (!it->is_string()) fail(std::string("\"") + key + "\" must be a string");
      return it->get<std::string>();
    };
    JudgeRecord r;
    r.query_id = string_field("qid", true);
    r.doc_id = string_field("docid", true);
    auto grade = j.find("grade");
    if (grade == j.end() || !grade->is_number_integer()) fail("\"grade\" must be an integer");
    r.note = string_field("note", false);
    r.time = string_field("time", false);
    std::string key = PairKey(r.query_id, r.doc_id);
    auto it = index_.find(key);
    if (it == index_.end()) {
      ++orphan_notes_;
    } else {
      records_[it->second].note = std::move(r.note);  // the last line of a pair wins
      records_[it->second].time = std::move(r.time);
    }
    notes_lines_.push_back(Line{offset, std::move(key)});
  });
  if (!text.empty() && text.back() != '\n') WriteLine(notes_fd_, notes_path_, notes_size_, "\n");
}

void JudgmentLog::WriteLine(int fd, const std::string& path, uint64_t& size, const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      (void)!::ftruncate(fd, static_cast<off_t>(size));  // no partial line stays behind
      errno = err;
      ThrowErrno("cannot write to " + path);
    }
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd) != 0 && errno != EINVAL) ThrowErrno("cannot sync " + path);
  size += line.size();
}

void JudgmentLog::Append(JudgeRecord record) {
  if (record.query_id.empty() || record.doc_id.empty() || HasSpace(record.query_id) ||
      HasSpace(record.doc_id)) {
    throw InvalidInput("query id " + Quote(record.query_id) + " or document id " + Quote(record.doc_id) +
                       " is empty or contains whitespace, which TREC qrels cannot hold");
  }
  std::string key = PairKey(record.query_id, record.doc_id);
  if (index_.count(key) != 0) {
    throw InvalidInput("document " + Quote(record.doc_id) + " is already judged for query " +
                           Quote(record.query_id) + " in " + qrels_path_,
                       "", ErrorType::kAlreadyJudged);
  }
  const std::string qrels_line =
      record.query_id + " 0 " + record.doc_id + " " + std::to_string(record.grade) + "\n";
  nlohmann::ordered_json note = {{"qid", record.query_id},
                                 {"docid", record.doc_id},
                                 {"grade", record.grade},
                                 {"note", record.note},
                                 {"time", record.time}};
  const std::string notes_line = note.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";

  const uint64_t qrels_offset = qrels_size_, notes_offset = notes_size_;
  WriteLine(qrels_fd_, qrels_path_, qrels_size_, qrels_line);
  try {
    WriteLine(notes_fd_, notes_path_, notes_size_, notes_line);
  } catch (...) {
    // Keep the files in step: without its notes line the judgment is not saved at all.
    if (::ftruncate(qrels_fd_, static_cast<off_t>(qrels_offset)) == 0) qrels_size_ = qrels_offset;
    throw;
  }
  index_.emplace(key, records_.size());
  notes_lines_.push_back(Line{notes_offset, std::move(key)});
  records_.push_back(std::move(record));
  record_offsets_.push_back(qrels_offset);
}

std::optional<JudgeRecord> JudgmentLog::RemoveLast() {
  if (records_.empty()) return std::nullopt;
  const std::string key = PairKey(records_.back().query_id, records_.back().doc_id);
  const uint64_t offset = record_offsets_.back();
  if (::ftruncate(qrels_fd_, static_cast<off_t>(offset)) != 0) ThrowErrno("cannot truncate " + qrels_path_);
  qrels_size_ = offset;
  if (::fdatasync(qrels_fd_) != 0 && errno != EINVAL) ThrowErrno("cannot sync " + qrels_path_);
  if (!notes_lines_.empty() && notes_lines_.back().key == key) {
    const uint64_t notes_offset = notes_lines_.back().offset;
    if (::ftruncate(notes_fd_, static_cast<off_t>(notes_offset)) != 0)
      ThrowErrno("cannot truncate " + notes_path_);
    notes_size_ = notes_offset;
    notes_lines_.pop_back();
  } else {
    ++orphan_notes_;  // an older notes line of the pair, if any, no longer matches a judgment
  }
  JudgeRecord r = std::move(records_.back());
  records_.pop_back();
  record_offsets_.pop_back();
  index_.erase(key);
  return r;
}

// ---------------------------------------------------------------------------------------------------------
// The session

JudgeSession::JudgeSession(const EvalDataset& dataset, JudgePool pool, JudgmentLog& log)
    : dataset_(dataset), pool_(std::move(pool)), log_(log) {
  const size_t n = pool_.pairs.size();
  query_position_.resize(n);
  size_t position = 0;
  for (size_t i = 0; i < n; ++i) {
    if (i == 0 || pool_.pairs[i].query != pool_.pairs[i - 1].query) ++position;
    query_position_[i] = position;
    const JudgePair& p = pool_.pairs[i];
    pair_index_.emplace(PairKey(dataset_.queries[p.query].id, dataset_.corpus[p.doc].id), i);
  }
  skipped_.assign(n, false);
  saved_here_.assign(n, false);
  Advance(0);
}

bool JudgeSession::IsJudged(size_t i) const {
  const JudgePair& p = pool_.pairs[i];
  return log_.Find(dataset_.queries[p.query].id, dataset_.corpus[p.doc].id) != nullptr;
}

void JudgeSession::Advance(size_t from) {
  const size_t n = pool_.pairs.size();
  from = std::min(from, n);
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (from + k) % n;
    if (!skipped_[i] && !IsJudged(i)) {
      current_ = i;
      return;
    }
  }
  current_ = n;
}

void JudgeSession::Judge(int32_t grade, std::string note, std::chrono::system_clock::time_point time) {
  RLM_ASSERT(!done());
  const JudgePair& p = pool_.pairs[current_];
  log_.Append(JudgeRecord{dataset_.queries[p.query].id, dataset_.corpus[p.doc].id, grade, std::move(note),
                          JudgeTimestamp(time)});
  saved_here_[current_] = true;
  ++judged_this_session_;
  undone_.reset();
  Advance(current_ + 1);
}

void JudgeSession::Skip() {
  RLM_ASSERT(!done());
  skipped_[current_] = true;
  undone_.reset();
  Advance(current_ + 1);
}

bool JudgeSession::Undo() {
  if (log_.records().empty()) return false;
  const JudgeRecord& last = log_.records().back();
  auto it = pair_index_.find(PairKey(last.query_id, last.doc_id));
  if (it == pair_index_.end()) return false;
  undone_ = log_.RemoveLast();
  const size_t i = it->second;
  if (saved_here_[i]) {
    saved_here_[i] = false;
    --judged_this_session_;
  }
  skipped_[i] = false;
  current_ = i;
  return true;
}

size_t JudgeSession::judged() const {
  size_t n = 0;
  for (size_t i = 0; i < pool_.pairs.size(); ++i) n += IsJudged(i);
  return n;
}

size_t JudgeSession::skipped() const {
  size_t n = 0;
  for (size_t i = 0; i < pool_.pairs.size(); ++i) n += skipped_[i] && !IsJudged(i);
  return n;
}

}  // namespace rlm
