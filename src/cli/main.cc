// The `rlm` command line: a thin layer that parses flags, calls the library and prints. Also runs as
// `rlm-rs` (a symlink), with the same behaviour.
#include <signal.h>
#include <tbb/global_control.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <iostream>
#include <memory>

#include "cli/context.h"
#include "core/error.h"
#include "core/printable.h"
#include "core/redact.h"

namespace rlm::cli {
namespace {

// The command families, in help order. Adding a family: one file and one line here.
constexpr CommandRegistrar kFamilies[] = {
    RegisterWorkspaceCommands, RegisterLoadCommands,  RegisterBufferCommands, RegisterVarCommands,
    RegisterSearchCommands,    RegisterChunkCommands, RegisterAgentCommands,  RegisterModelCommands,
    RegisterCacheCommands,     RegisterEvalCommands,  RegisterJobsCommands,
};

// JSON error object on stdout in JSON modes, a one-line message on stderr otherwise.
int ReportError(const Context& ctx, const std::string& type, const std::string& raw_message,
                const std::string& raw_suggestion, int code) {
  // A last guard: messages are redacted where they are made, but none may print a secret.
  const std::string message = Redact(raw_message);
  const std::string suggestion = Redact(raw_suggestion);
  if (ctx.json_mode()) {
    // Keys in rlm-rs's (alphabetical) order; a missing suggestion is null as in rlm-rs.
    json err = {{"error",
                 {{"message", message},
                  {"suggestion", suggestion.empty() ? json(nullptr) : json(suggestion)},
                  {"type", type}}},
                {"success", false}};
    try {
      ctx.Emit(err);
    } catch (const ClosedPipe&) {
    }
  } else {
    // Messages name files and buffers, which may hold terminal controls: printed escaped.
    std::string line = "error: " + EscapeForTerminal(message) +
                       (suggestion.empty() ? "" : " (" + EscapeForTerminal(suggestion) + ")") + "\n";
    (void)!std::fwrite(line.data(), 1, line.size(), stderr);
  }
  return code;
}

int Run(int argc, char** argv) {
  Context ctx;
  CLI::App app{"rlm: a context engine for LLM agents and a retrieval evaluation harness"};
  app.set_version_flag("-V,--version", "rlm 0.1.0");
  app.require_subcommand(1);
  app.fallthrough();
  app.add_option("-d,--db-path", ctx.global.db_path,
                 "Workspace database (env RLM_DB_PATH; default .rlm/rlm-state.db)");
  app.add_option("--format", ctx.global.format, "Output format")
      ->transform(CLI::IsMember({"text", "json", "ndjson", "jsonl", "stream"}, CLI::ignore_case))
      ->default_val("text");
  app.add_flag("-q,--quiet", ctx.global.quiet, "No progress bars or notes");
  app.add_flag("-v,--verbose", ctx.global.verbose, "More detail");
  app.add_option("--threads", ctx.global.threads, "Worker threads (default: all cores)")
      ->check(WholeInRange(0, 4096));
  AddHttpOptions(app, ctx.global);
  for (CommandRegistrar reg : kFamilies) reg(app, ctx);

  // The format is needed to report parse errors, so find it before parsing.
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--format") == 0 && i + 1 < argc) ctx.global.format = argv[i + 1];
    if (std::strncmp(argv[i], "--format=", 9) == 0) ctx.global.format = argv[i] + 9;
  }
  // Case-insensitive, as rlm-rs's: `--format JSON` is json.
  std::transform(ctx.global.format.begin(), ctx.global.format.end(), ctx.global.format.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::unique_ptr<tbb::global_control> threads;
  try {
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      return ReportError(ctx, "UsageError", e.what(), "see `rlm --help`", 2);
    }
    if (ctx.global.threads > 0) {
      threads = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                      static_cast<size_t>(ctx.global.threads));
    }
    ApplyHttpOptions(ctx);
    if (ctx.run) ctx.run();
    return 0;
  } catch (const ClosedPipe&) {
    return 0;
  } catch (const UsageError& e) {
    return ReportError(ctx, "UsageError", e.what(), "see `rlm --help`", 2);
  } catch (const Error& e) {
    return ReportError(ctx, e.type(), e.what(), e.suggestion(), 1);
  } catch (const std::bad_alloc&) {
    return ReportError(ctx, "InternalError", "out of memory", "", 1);
  } catch (const std::exception& e) {
    return ReportError(ctx, "InternalError", e.what(), "this is a bug in rlm", 1);
  }
}

}  // namespace
}  // namespace rlm::cli

int main(int argc, char** argv) {
  // A closed stdout (`rlm ... | head`) surfaces as EPIPE on write, handled as a normal exit.
  ::signal(SIGPIPE, SIG_IGN);
  return rlm::cli::Run(argc, argv);
}
