// What every command handler shares: the global options, the output (text / JSON / NDJSON on stdout, with a
// closed pipe treated as success), the workspace opener and the progress bar. Command families live in
// cmd_*.cc and are listed once in main.cc.
#pragma once

#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/progress.h"
#include "store/workspace.h"

namespace rlm::cli {

using json = nlohmann::ordered_json;

enum class Format { kText, kJson, kNdjson };

struct GlobalOptions {
  std::string db_path;
  std::string format = "text";
  bool quiet = false;
  int verbose = 0;
  int threads = 0;
  // HTTP limits (--http-*, RLM_HTTP_*), handed to the library by ApplyHttpOptions.
  double http_timeout = 60;          // seconds per attempt
  double http_connect_timeout = 10;  // seconds
  uint64_t http_retries = 5;
  double http_retry_budget = 120;                     // seconds of waiting per request
  uint64_t http_max_response = uint64_t{64} << 20;    // bytes per reply
  uint64_t http_response_memory = uint64_t{1} << 30;  // bytes of replies in flight, process-wide
};

// Thrown when stdout is a closed pipe (`rlm ... | head`): the command stops and exits 0.
struct ClosedPipe {};

// Usage errors (bad flag values found after parsing) exit with code 2 like CLI11's own parse errors.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Context {
 public:
  GlobalOptions global;

  Format format() const;
  bool json_mode() const { return format() != Format::kText; }
  // The workspace path: -d/--db-path, else $RLM_DB_PATH, else .rlm/rlm-state.db.
  std::string DbPath() const;
  std::unique_ptr<Workspace> OpenWorkspace(Workspace::Mode mode = Workspace::Mode::kMustExist) const;

  // Writes raw text to stdout (text mode). Throws ClosedPipe on EPIPE.
  void Print(std::string_view s) const;
  // Text mode: a line to stdout.
  void Line(std::string_view s) const { Print(std::string(s) + "\n"); }
  // JSON mode: one document, pretty-printed; NDJSON mode: compact on one line.
  void Emit(const json& doc) const;
  // NDJSON-aware list output: JSON mode prints the whole array; NDJSON prints one element per line,
  // flushing after each so a reader sees results as they come.
  void EmitList(const json& array) const;
  // A note for the user on stderr (suppressed by -q; also in JSON modes, where stdout stays parseable).
  void Note(std::string_view s) const;
  // A progress callback drawing a bar on stderr when it is a terminal and not -q; empty otherwise.
  ProgressFn Progress() const;
  // A notice callback for library waits (HTTP retries): a Note, so on stderr unless -q. Thread-safe.
  NoticeFn Notices() const;

  // The handler chosen by parsing; main runs it once the global options are applied.
  std::function<void()> run;
};

// While alive, SIGINT and SIGTERM set flag() instead of ending the process (long commands stop cleanly
// between jobs); the previous handlers come back after. One at a time.
class StopOnSignals {
 public:
  StopOnSignals();
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;
  const std::atomic<bool>& flag() const;

 private:
  struct sigaction old_[2]{};  // SIGINT, SIGTERM
};

// Adds the global --http-* options (each also read from its RLM_HTTP_* variable) to `app`.
void AddHttpOptions(CLI::App& app, GlobalOptions& global);
// Hands the --http-* options to the library (SetHttpSettings), with ctx.Notices() for waits. Throws
// UsageError when they contradict each other.
void ApplyHttpOptions(const Context& ctx);

// Makes `fn` the handler of subcommand `sub`.
inline void OnRun(CLI::App* sub, Context& ctx, std::function<void()> fn) {
  sub->callback([&ctx, fn = std::move(fn)] { ctx.run = fn; });
}

// Command families: each adds its subcommands to `app`; handlers run after parsing via the callback.
using CommandRegistrar = void (*)(CLI::App& app, Context& ctx);
void RegisterWorkspaceCommands(CLI::App& app, Context& ctx);
void RegisterLoadCommands(CLI::App& app, Context& ctx);
void RegisterBufferCommands(CLI::App& app, Context& ctx);
void RegisterVarCommands(CLI::App& app, Context& ctx);
void RegisterSearchCommands(CLI::App& app, Context& ctx);
void RegisterChunkCommands(CLI::App& app, Context& ctx);
void RegisterAgentCommands(CLI::App& app, Context& ctx);
void RegisterModelCommands(CLI::App& app, Context& ctx);
void RegisterCacheCommands(CLI::App& app, Context& ctx);
void RegisterEvalCommands(CLI::App& app, Context& ctx);
void RegisterJobsCommands(CLI::App& app, Context& ctx);
// `eval` subcommands defined outside cmd_eval.cc.
void AddEvalRun(CLI::App* eval, Context& ctx);
void AddEvalTools(CLI::App* eval, Context& ctx);
void AddEvalFuse(CLI::App* eval, Context& ctx);
void AddEvalJudge(CLI::App* eval, Context& ctx);

// Shared formatting helpers.
std::string HumanBytes(uint64_t n);
// Left-aligns in `width` columns counting code points, as Rust's `{:<width}` does.
std::string Pad(std::string s, size_t width);
std::string Pad(int64_t n, size_t width);
// rlm-rs's truncate_str: at most `max` bytes, "..." when cut; here never inside a UTF-8 sequence.
std::string TruncateStr(std::string_view s, size_t max);
// A check for unsigned options: CLI11 would wrap "-1" around to a huge number.
extern const CLI::Validator kNonNegative;
// A whole number in [lo, hi], written in decimal digits (no sign, no fraction, no exponent): anything else,
// an overflowing value included, is a usage error (exit 2) that states the valid range. Every count, size
// and length flag uses one, so they all reject bad values the same way.
CLI::Validator WholeInRange(uint64_t lo, uint64_t hi);
// The largest --chunk-size / --overlap a flag accepts: 1 GiB.
inline constexpr uint64_t kMaxChunkBytes = uint64_t{1} << 30;
// A finite number in [lo, hi] (NaN and infinities are refused), stating the range.
CLI::Validator RealInRange(double lo, double hi);
json BufferJson(const BufferInfo& b);

}  // namespace rlm::cli
