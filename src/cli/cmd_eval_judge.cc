// `rlm eval judge`: a terminal wizard for human relevance judgments. The pool, the files and the walk over
// the pool are the library's (eval/judge.h); this file draws the screen and maps keys.
//
// The screen is drawn on the controlling terminal (/dev/tty) in raw mode on the alternate screen, so stdout
// stays free for the final summary (text, or one JSON document with --format json). Keys: 0..levels-1 save a
// grade (and the note, if one was typed) and move on; n types a note for the pair on screen; s skips it for
// this session; b takes back the last saved judgment; j/k, arrows and PgUp/PgDn scroll a long passage; q
// quits. Every judgment is on disk before the next pair is drawn. Ctrl-C, SIGINT, SIGTERM and SIGHUP restore
// the terminal and end with an "Interrupted" error; the judgments made so far are saved and a re-run resumes.
//
// stdin must be a terminal when there is something to judge (there is no scripted mode: grades that already
// exist belong in a TREC qrels file, which the wizard resumes from).
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <utf8proc.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "cli/context.h"
#include "core/error.h"
#include "core/utf8.h"
#include "eval/dataset.h"
#include "eval/judge.h"
#include "eval/trec.h"

namespace rlm::cli {
namespace {

// ---------------------------------------------------------------------------------------------------------
// Text layout: display widths (wide CJK = 2 columns, combining marks = 0) and word wrapping.

// Display text: tabs become a space, other control characters U+FFFD, so data cannot move the cursor.
std::string Printable(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t len;
    const char32_t cp = utf8::Decode(s, i, &len);
    if (cp == '\t') {
      out += ' ';
    } else if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) {
      if (cp != '\r') out += "\xEF\xBF\xBD";
    } else {
      out.append(s.substr(i, len));
    }
    i += len;
  }
  return out;
}

size_t CodePointWidth(char32_t cp) {
  const int w = utf8proc_charwidth(static_cast<utf8proc_int32_t>(cp));
  return w > 0 ? static_cast<size_t>(w) : 0;
}

size_t Width(std::string_view s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size();) {
    size_t len;
    w += CodePointWidth(utf8::Decode(s, i, &len));
    i += len;
  }
  return w;
}

// The longest prefix of `s` at most `width` columns wide.
std::string_view Cut(std::string_view s, size_t width, size_t* used = nullptr) {
  size_t w = 0, i = 0;
  while (i < s.size()) {
    size_t len;
    const size_t cw = CodePointWidth(utf8::Decode(s, i, &len));
    if (w + cw > width) break;
    w += cw;
    i += len;
  }
  if (used) *used = w;
  return s.substr(0, i);
}

// `s` cut to `width` columns, ending in "…" when something was cut.
std::string Fit(std::string_view s, size_t width) {
  if (Width(s) <= width) return std::string(s);
  if (width == 0) return "";
  return std::string(Cut(s, width - 1)) + "\xE2\x80\xA6";
}

// Greedy word wrap at `width` columns; '\n' starts a new line; a word wider than a line is broken.
std::vector<std::string> Wrap(std::string_view text, size_t width) {
  std::vector<std::string> lines;
  width = std::max<size_t>(width, 1);
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string para = Printable(text.substr(start, nl - start));
    std::string line;
    size_t line_w = 0;
    size_t i = 0;
    while (i < para.size()) {
      if (para[i] == ' ') {
        ++i;
        continue;
      }
      size_t j = para.find(' ', i);
      if (j == std::string::npos) j = para.size();
      std::string_view word = std::string_view(para).substr(i, j - i);
      i = j;
      const size_t w = Width(word);
      if (line_w > 0 && line_w + 1 + w <= width) {
        line += ' ';
        line += word;
        line_w += 1 + w;
        continue;
      }
      if (line_w > 0) lines.push_back(std::move(line));
      line.clear();
      line_w = 0;
      while (Width(word) > width) {  // hard-break a word wider than a line
        size_t used;
        std::string_view piece = Cut(word, width, &used);
        if (piece.empty()) piece = word.substr(0, utf8::SequenceLength(static_cast<unsigned char>(word[0])));
        lines.emplace_back(piece);
        word.remove_prefix(piece.size());
      }
      line = std::string(word);
      line_w = Width(word);
    }
    lines.push_back(std::move(line));
    start = nl + 1;
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------------------
// The terminal: raw mode, alternate screen, keys, signals. Restored by the destructor on every way out.

std::atomic<int> g_signal{0};
std::atomic<bool> g_resized{false};

extern "C" void OnStopSignal(int sig) {
  g_signal.store(sig);
}
extern "C" void OnResize(int) {
  g_resized.store(true);
}

enum Key : int {
  kKeyNone = -1,
  kKeyStop = -2,  // Ctrl-C, a stop signal, or the terminal went away
  kKeyResize = -3,
  kKeyEscape = -4,
  kKeyUp = -5,
  kKeyDown = -6,
  kKeyPageUp = -7,
  kKeyPageDown = -8,
};

class Terminal {
 public:
  Terminal() {
    in_ = out_ = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    owned_ = in_ >= 0;
    if (!owned_) {  // no controlling terminal (e.g. after setsid): the terminal on stdin and stdout/stderr
      in_ = STDIN_FILENO;
      out_ = ::isatty(STDOUT_FILENO) ? STDOUT_FILENO : STDERR_FILENO;
      if (!::isatty(out_)) {
        throw InvalidInput("rlm eval judge needs a terminal to draw on", "run it in an interactive terminal",
                           ErrorType::kNotATerminal);
      }
    }
    if (::tcgetattr(in_, &saved_) != 0) {
      if (owned_) ::close(in_);
      ThrowErrno("cannot read the terminal's settings");
    }
    g_signal = 0;
    g_resized = false;
    struct sigaction sa {};
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a signal interrupts the blocking read
    sa.sa_handler = OnStopSignal;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
    sigaction(SIGHUP, &sa, &old_hup_);
    sa.sa_handler = OnResize;
    sigaction(SIGWINCH, &sa, &old_winch_);

    termios raw = saved_;
    raw.c_iflag &= ~static_cast<tcflag_t>(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
    raw.c_oflag &= ~static_cast<tcflag_t>(OPOST);
    raw.c_cflag |= CS8;
    raw.c_lflag &= ~static_cast<tcflag_t>(ECHO | ICANON | IEXTEN | ISIG);  // Ctrl-C arrives as a byte
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    ::tcsetattr(in_, TCSANOW, &raw);
    Write("\x1b[?1049h\x1b[?25l");  // alternate screen, hidden cursor
  }

  ~Terminal() {
    Write("\x1b[?25h\x1b[?1049l");
    ::tcsetattr(in_, TCSANOW, &saved_);
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    sigaction(SIGHUP, &old_hup_, nullptr);
    sigaction(SIGWINCH, &old_winch_, nullptr);
    if (owned_) ::close(in_);
  }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  void Write(std::string_view s) const {
    while (!s.empty()) {
      ssize_t n = ::write(out_, s.data(), s.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // a terminal that went away: the next read reports it
      s.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Rows and columns (24 x 80 when unknown).
  std::pair<size_t, size_t> Size() const {
    winsize ws{};
    if (::ioctl(out_, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) return {ws.ws_row, ws.ws_col};
    return {24, 80};
  }

  // Blocks for the next key: a byte (0..255) or a Key.
  int ReadKey() const {
    unsigned char c;
    while (true) {
      if (g_signal.load() != 0) return kKeyStop;
      if (g_resized.exchange(false)) return kKeyResize;
      // Polling closes the window between the checks above and a blocking read, where a signal would wait
      // for the next key.
      if (!Pending(200)) continue;
      ssize_t n = ::read(in_, &c, 1);
      if (n == 1) break;
      if (n < 0 && errno == EINTR) continue;
      return kKeyStop;  // end of file or an error: the terminal is gone
    }
    if (c == 3) return kKeyStop;
    if (c != 0x1b) return c;
    // An escape sequence arrives at once; a lone Escape is followed by nothing for a while.
    if (!Pending(50)) return kKeyEscape;
    unsigned char seq[8];
    size_t n = 0;
    while (n < sizeof seq && Pending(10) && ::read(in_, &seq[n], 1) == 1) {
      if (n > 0 && seq[n] >= 0x40 && seq[n] <= 0x7E) {
        ++n;
        break;
      }
      ++n;
    }
    if (n >= 2 && (seq[0] == '[' || seq[0] == 'O')) {
      if (seq[1] == 'A') return kKeyUp;
      if (seq[1] == 'B') return kKeyDown;
      if (n >= 3 && seq[1] == '5' && seq[2] == '~') return kKeyPageUp;
      if (n >= 3 && seq[1] == '6' && seq[2] == '~') return kKeyPageDown;
    }
    return kKeyNone;
  }

 private:
  bool Pending(int ms) const {
    pollfd p{in_, POLLIN, 0};
    return ::poll(&p, 1, ms) == 1;
  }

  int in_ = -1, out_ = -1;
  bool owned_ = false;
  termios saved_{};
  struct sigaction old_int_ {
  }, old_term_{}, old_hup_{}, old_winch_{};
};

// ---------------------------------------------------------------------------------------------------------
// The wizard

struct JudgeArgs {
  std::string dataset;
  std::string dataset_format = "beir";
  std::string split = "test";
  std::vector<std::string> runs;
  size_t depth = 10;
  std::string order = "rank";
  std::string qrels;
  std::string notes;
  int levels = 4;
};

// Names of the grades shown on screen: TREC Deep Learning's four levels, fewer levels by their usual names.
std::vector<std::string> GradeLabels(int levels) {
  static const char* const kFour[] = {"not relevant", "related", "highly relevant", "perfectly relevant"};
  static const char* const kThree[] = {"not relevant", "relevant", "highly relevant"};
  static const char* const kTwo[] = {"not relevant", "relevant"};
  std::vector<std::string> labels;
  for (int g = 0; g < levels; ++g) {
    std::string l = std::to_string(g);
    if (levels == 4) l += " " + std::string(kFour[g]);
    if (levels == 3) l += " " + std::string(kThree[g]);
    if (levels == 2) l += " " + std::string(kTwo[g]);
    labels.push_back(std::move(l));
  }
  return labels;
}

// Packs `items` into lines of at most `width` columns, separated by two spaces.
std::vector<std::string> Pack(const std::vector<std::string>& items, size_t width) {
  std::vector<std::string> lines(1);
  for (const std::string& item : items) {
    if (!lines.back().empty() && Width(lines.back()) + 2 + Width(item) > width) lines.emplace_back();
    if (!lines.back().empty()) lines.back() += "  ";
    lines.back() += item;
  }
  for (std::string& l : lines) l = Fit(l, width);
  return lines;
}

class Wizard {
 public:
  Wizard(JudgeSession& session, int levels)
      : session_(session), levels_(levels), labels_(GradeLabels(levels)) {}

  // Runs until the pool is done or the user quits. Returns false when stopped by Ctrl-C or a signal.
  bool Run() {
    Terminal term;
    while (!session_.done()) {
      Draw(term);
      const int key = term.ReadKey();
      if (key == kKeyStop) return false;
      if (key == kKeyResize || key == kKeyNone) continue;
      if (editing_) {
        EditNote(key);
      } else if (!Command(key)) {
        return true;
      }
    }
    return true;
  }

 private:
  // Handles a key outside note editing; returns false to quit.
  bool Command(int key) {
    const size_t page = std::max<size_t>(passage_rows_, 1);
    if (key >= '0' && key < '0' + levels_) {
      const JudgePair& p = session_.pool().pairs[session_.current()];
      const std::string doc = session_.dataset().corpus[p.doc].id;
      session_.Judge(key - '0', note_, std::chrono::system_clock::now());
      status_ = "saved " + doc + " = " + std::to_string(key - '0') + (note_.empty() ? "" : " with a note");
      NewPair();
    } else if (key == 'n') {
      editing_ = true;
      edit_ = note_;
    } else if (key == 's') {
      status_ = "skipped " + session_.dataset().corpus[session_.pool().pairs[session_.current()].doc].id +
                " (it stays unjudged; a later run asks again)";
      session_.Skip();
      NewPair();
    } else if (key == 'b') {
      if (session_.Undo()) {
        NewPair();
        note_ = session_.undone()->note;
        status_ = "took back " + session_.undone()->doc_id + " = " +
                  std::to_string(session_.undone()->grade) + ": grade it again";
      } else {
        status_ = "nothing to take back in this pool";
      }
    } else if (key == 'q') {
      return false;
    } else if (key == 'j' || key == kKeyDown) {
      ++scroll_;
    } else if (key == 'k' || key == kKeyUp) {
      scroll_ = scroll_ > 0 ? scroll_ - 1 : 0;
    } else if (key == ' ' || key == kKeyPageDown) {
      scroll_ += page;
    } else if (key == kKeyPageUp) {
      scroll_ = scroll_ > page ? scroll_ - page : 0;
    } else if (key == 12) {  // Ctrl-L: the next Draw repaints everything
    } else {
      status_ = "keys: 0-" + std::to_string(levels_ - 1) + " grade, n note, s skip, b back, q quit";
    }
    return true;
  }

  void EditNote(int key) {
    if (key == '\r' || key == '\n') {
      note_ = edit_;
      editing_ = false;
      status_ = note_.empty() ? "note cleared" : "note kept: now grade the pair";
    } else if (key == kKeyEscape) {
      editing_ = false;
      status_ = "note unchanged";
    } else if (key == 0x7F || key == 0x08) {
      while (!edit_.empty() && utf8::IsContinuation(static_cast<unsigned char>(edit_.back())))
        edit_.pop_back();
      if (!edit_.empty()) edit_.pop_back();
    } else if (key == 0x15) {  // Ctrl-U
      edit_.clear();
    } else if (key >= 0x20 && key <= 0xFF && key != 0x7F) {
      edit_ += static_cast<char>(key);
    }
  }

  void NewPair() {
    note_.clear();
    scroll_ = 0;
    editing_ = false;
  }

  void Draw(const Terminal& term) {
    const auto [rows, cols] = term.Size();
    const size_t width = std::max<size_t>(cols, 20);
    const JudgePool& pool = session_.pool();
    const size_t i = session_.current();
    const JudgePair& pair = pool.pairs[i];
    const EvalQuery& query = session_.dataset().queries[pair.query];
    const EvalDocument& doc = session_.dataset().corpus[pair.doc];

    std::vector<std::string> top, bottom;
    std::string progress =
        "rlm eval judge   pair " + std::to_string(i + 1) + "/" + std::to_string(pool.pairs.size()) +
        ", query " + std::to_string(session_.QueryPosition(i)) + "/" + std::to_string(pool.queries) +
        ", judged " + std::to_string(session_.judged()) + "/" + std::to_string(pool.pairs.size());
    if (session_.skipped() > 0) progress += ", skipped " + std::to_string(session_.skipped());
    top.push_back(Fit(progress, width));
    const std::string rule = [&] {
      std::string r;
      for (size_t c = 0; c < width; ++c) r += "\xE2\x94\x80";
      return r;
    }();
    top.push_back(rule);
    top.push_back(Fit("Query " + Printable(query.id), width));
    std::vector<std::string> qlines = Wrap(query.text, width - 2);
    const size_t max_query_lines = 4;
    if (qlines.size() > max_query_lines) {
      qlines.resize(max_query_lines);
      qlines.back() = Fit(qlines.back() + " \xE2\x80\xA6", width - 2);
    }
    for (const std::string& l : qlines) top.push_back("  " + l);
    top.emplace_back();
    top.push_back(
        Fit("Document " + Printable(doc.id) + (doc.title.empty() ? "" : ": " + Printable(doc.title)), width));

    bottom.push_back(rule);
    if (editing_) {
      bottom.push_back(Fit("Note: " + Printable(edit_) + "_", width));
      bottom.push_back(Fit("typing a note: Enter keeps it, Esc cancels, Ctrl-U clears", width));
    } else {
      std::string note = "Note: " + (note_.empty() ? std::string("(none; n to add one)") : Printable(note_));
      if (const JudgeRecord* u = session_.undone())
        note += "   [was graded " + std::to_string(u->grade) + "]";
      bottom.push_back(Fit(note, width));
      for (std::string& l : Pack(labels_, width)) bottom.push_back(std::move(l));
      bottom.push_back(Fit("n note  s skip  b back  j/k scroll  q quit", width));
    }
    bottom.push_back(Fit(status_, width));

    // The passage fills what is left; a passage longer than that is cut with a marker.
    std::vector<std::string> passage = Wrap(doc.text, width - 2);
    const size_t fixed = top.size() + bottom.size();
    const size_t area = rows > fixed ? rows - fixed : 1;
    std::vector<std::string> shown;
    if (passage.size() <= area) {
      scroll_ = 0;
      for (const std::string& l : passage) shown.push_back("  " + l);
      passage_rows_ = area;
    } else {
      const size_t visible = std::max<size_t>(area - 1, 1);
      passage_rows_ = visible;
      scroll_ = std::min(scroll_, passage.size() - visible);
      for (size_t k = scroll_; k < scroll_ + visible; ++k) shown.push_back("  " + passage[k]);
      const size_t below = passage.size() - (scroll_ + visible);
      std::string marker = "  [... lines " + std::to_string(scroll_ + 1) + "-" +
                           std::to_string(scroll_ + visible) + " of " + std::to_string(passage.size());
      marker +=
          below > 0 ? ", " + std::to_string(below) + " more below (j/k, PgDn)]" : " (k, PgUp to go back)]";
      shown.push_back(Fit(marker, width));
    }

    std::string frame = "\x1b[H";
    auto line = [&](const std::string& s) { frame += s + "\x1b[K\r\n"; };
    for (const std::string& s : top) line(s);
    for (const std::string& s : shown) line(s);
    for (size_t k = shown.size(); k < area; ++k) line("");
    for (const std::string& s : bottom) line(s);
    frame.resize(frame.size() - 2);  // no newline after the last row: the screen must not scroll
    frame += "\x1b[J";
    term.Write(frame);
  }

  JudgeSession& session_;
  const int levels_;
  const std::vector<std::string> labels_;
  std::string note_;  // the note that goes with the next grade
  std::string edit_;  // the note being typed
  bool editing_ = false;
  size_t scroll_ = 0;
  size_t passage_rows_ = 1;
  std::string status_ = "grade the passage's relevance to the query";
};

void RunJudge(Context& ctx, const JudgeArgs& a) {
  if (a.levels < 2 || a.levels > 10)
    throw UsageError("--levels must be between 2 and 10 (grades 0..levels-1)");
  if (a.depth == 0) throw UsageError("--depth must be at least 1");
  const PoolOrder order = ParsePoolOrder(a.order);
  DatasetSpec spec;
  spec.format = ParseDatasetFormat(a.dataset_format);
  spec.path = a.dataset;
  spec.split = a.split;
  const EvalDataset dataset = LoadDataset(spec);
  std::vector<PoolRun> runs;
  for (const std::string& path : a.runs) runs.push_back(PoolRun{path, trec::LoadRun(path)});
  JudgePool pool = BuildJudgePool(dataset, runs, a.depth, order);
  const size_t pool_pairs = pool.pairs.size(), pool_queries = pool.queries;
  JudgmentLog log(a.qrels, a.notes.empty() ? DefaultNotesPath(a.qrels) : a.notes);
  if (log.orphan_notes() > 0) {
    ctx.Note("note: " + std::to_string(log.orphan_notes()) + " line(s) of " + log.notes_path() +
             " name pairs the qrels lack (an interrupted or taken-back judgment); they are ignored");
  }
  JudgeSession session(dataset, std::move(pool), log);

  bool stopped = false;
  if (!session.done()) {
    if (!::isatty(STDIN_FILENO)) {
      throw InvalidInput("rlm eval judge is interactive and stdin is not a terminal (" +
                             std::to_string(session.remaining()) + " pairs left to judge)",
                         "run it in a terminal; grades made elsewhere belong in a TREC qrels file",
                         ErrorType::kNotATerminal);
    }
    Wizard wizard(session, a.levels);
    stopped = !wizard.Run();
  }

  const size_t judged = session.judged(), skipped = session.skipped(), remaining = session.remaining();
  if (stopped) {
    throw Error(ErrorKind::kConflict,
                "interrupted: " + std::to_string(judged) + " of " + std::to_string(pool_pairs) +
                    " pairs are judged and saved in " + log.qrels_path(),
                "run the same command again to resume", ErrorType::kInterrupted);
  }
  if (ctx.json_mode()) {
    ctx.Emit(json{{"qrels", log.qrels_path()},
                  {"notes", log.notes_path()},
                  {"pool",
                   {{"pairs", pool_pairs},
                    {"queries", pool_queries},
                    {"depth", a.depth},
                    {"order", PoolOrderName(order)},
                    {"runs", a.runs}}},
                  {"judged", judged},
                  {"judged_this_session", session.judged_this_session()},
                  {"skipped", skipped},
                  {"remaining", remaining},
                  {"complete", remaining == 0}});
    return;
  }
  auto count = [](size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  std::string text = "Judged " + count(session.judged_this_session(), "pair", "pairs") +
                     " in this session; " + std::to_string(judged) + "/" + std::to_string(pool_pairs) +
                     " of the pool (" + count(pool_queries, "query", "queries") + ") are judged";
  if (remaining == 0) {
    text += ": the pool is complete.\n";
  } else {
    text += ", " + std::to_string(remaining) + " left" +
            (skipped > 0 ? " (" + std::to_string(skipped) + " skipped)" : "") +
            ": run the same command to go on.\n";
  }
  text += "qrels: " + log.qrels_path() + "\nnotes: " + log.notes_path() + "\n";
  ctx.Print(text);
}

}  // namespace

void AddEvalJudge(CLI::App* eval, Context& ctx) {
  auto a = std::make_shared<JudgeArgs>();
  auto* sub = eval->add_subcommand(
      "judge",
      "Judge the relevance of pooled run results in the terminal; saves TREC qrels plus notes (resumable)");
  sub->add_option("--dataset", a->dataset, "Dataset folder (queries and corpus)")->required();
  sub->add_option("--dataset-format", a->dataset_format, "beir, trec, embedeval or synth")
      ->capture_default_str();
  sub->add_option("--split", a->split, "BEIR split")->capture_default_str();
  sub->add_option("--run", a->runs, "TREC run file to pool (repeatable)")
      ->required()
      ->allow_extra_args(false);
  sub->add_option("--depth", a->depth, "Documents pooled per query and run")
      ->capture_default_str()
      ->check(kNonNegative);
  sub->add_option("--order", a->order, "Pairs within a query: rank (best rank first) or docid")
      ->capture_default_str();
  sub->add_option("--qrels", a->qrels, "Output TREC qrels (appended; an existing file is resumed)")
      ->required();
  sub->add_option("--notes", a->notes, "Output notes JSONL (default <qrels>.notes.jsonl)");
  sub->add_option("--levels", a->levels, "Number of grades: 0..levels-1")->capture_default_str();
  OnRun(sub, ctx, [&ctx, a] { RunJudge(ctx, *a); });
}

}  // namespace rlm::cli
