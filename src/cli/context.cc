#include "cli/context.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "core/redact.h"
#include "core/utf8.h"
#include "embed/http_embedder.h"

namespace rlm::cli {

Format Context::format() const {
  const std::string& f = global.format;
  if (f == "json") return Format::kJson;
  if (f == "ndjson" || f == "jsonl" || f == "stream") return Format::kNdjson;
  return Format::kText;
}

std::string Context::DbPath() const {
  if (!global.db_path.empty()) return global.db_path;
  if (const char* env = std::getenv("RLM_DB_PATH"); env && *env) return env;
  return ".rlm/rlm-state.db";
}

std::unique_ptr<Workspace> Context::OpenWorkspace(Workspace::Mode mode) const {
  return Workspace::Open(DbPath(), mode);
}

void Context::Print(std::string_view s) const {
  if (s.empty()) return;
  if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size() || std::fflush(stdout) != 0) {
    if (errno == EPIPE) throw ClosedPipe{};
    ThrowErrno("cannot write to stdout");
  }
}

void Context::Emit(const json& doc) const {
  if (format() == Format::kNdjson) {
    Print(doc.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
  } else {
    Print(doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
  }
}

void Context::EmitList(const json& array) const {
  if (format() == Format::kNdjson) {
    for (const auto& e : array) Print(e.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
  } else {
    Emit(array);
  }
}

void Context::Note(std::string_view s) const {
  if (global.quiet) return;
  std::string line = Redact(s) + "\n";
  (void)!std::fwrite(line.data(), 1, line.size(), stderr);
}

namespace {
// A one-line bar on stderr: phase, percent, amount, rate and ETA, redrawn at most ten times a second. The
// "load" phase counts bytes; other phases (embed, query jobs) count items. Each phase has its own clock.
class ProgressBar {
 public:
  void Update(std::string_view phase_and_detail, uint64_t done, uint64_t total) {
    std::string_view phase = phase_and_detail, detail;
    if (size_t bar = phase_and_detail.find(" | "); bar != std::string_view::npos) {
      phase = phase_and_detail.substr(0, bar);
      detail = phase_and_detail.substr(bar + 3);
    }
    auto now = std::chrono::steady_clock::now();
    if (!started_ || phase != phase_) {
      if (started_ && last_done_ < last_total_) std::fprintf(stderr, "\n");  // leave the unfinished bar
      start_ = now;
      started_ = true;
      phase_ = phase;
    }
    last_done_ = done;
    last_total_ = total;
    if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
    double frac = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
    int width = 30, filled = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(width - filled), '-');
    double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
    const bool bytes = phase == "load";
    auto amount = [&](double v) {
      return bytes ? HumanBytes(static_cast<uint64_t>(v)) : std::to_string(static_cast<uint64_t>(v));
    };
    std::fprintf(stderr, "\r%.*s [%s] %5.1f%% %s/%s %s/s ETA %.0fs %.*s\x1b[K",
                 static_cast<int>(phase.size()), phase.data(), bar.c_str(), frac * 100,
                 amount(static_cast<double>(done)).c_str(), amount(static_cast<double>(total)).c_str(),
                 amount(rate).c_str(), eta, static_cast<int>(detail.size()), detail.data());
    if (done >= total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  bool started_ = false;
  std::string phase_;
  uint64_t last_done_ = 0, last_total_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};
}  // namespace

namespace {
std::atomic<bool> g_stop{false};
extern "C" void RlmCliStopSignal(int) {
  g_stop.store(true);
}
}  // namespace

StopOnSignals::StopOnSignals() {
  g_stop = false;
  struct sigaction sa {};
  sa.sa_handler = RlmCliStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_[0]);
  sigaction(SIGTERM, &sa, &old_[1]);
}

StopOnSignals::~StopOnSignals() {
  sigaction(SIGINT, &old_[0], nullptr);
  sigaction(SIGTERM, &old_[1], nullptr);
}

const std::atomic<bool>& StopOnSignals::flag() const {
  return g_stop;
}

ProgressFn Context::Progress() const {
  if (global.quiet || !::isatty(STDERR_FILENO)) return {};
  auto bar = std::make_shared<ProgressBar>();
  return [bar](std::string_view phase, uint64_t done, uint64_t total) { bar->Update(phase, done, total); };
}

NoticeFn Context::Notices() const {
  return [this](std::string_view message) { Note(message); };
}

void AddHttpOptions(CLI::App& app, GlobalOptions& g) {
  app.add_option("--http-timeout", g.http_timeout,
                 "Seconds an HTTP request (embedding providers) may take, per attempt (env RLM_HTTP_TIMEOUT)")
      ->envname("RLM_HTTP_TIMEOUT")
      ->check(RealInRange(0.001, 86400))
      ->capture_default_str();
  app.add_option("--http-connect-timeout", g.http_connect_timeout,
                 "Seconds to connect to an HTTP server (env RLM_HTTP_CONNECT_TIMEOUT)")
      ->envname("RLM_HTTP_CONNECT_TIMEOUT")
      ->check(RealInRange(0.001, 3600))
      ->capture_default_str();
  app.add_option(
         "--http-retries", g.http_retries,
         "Retries of an HTTP request after 429, 5xx, timeouts and network errors (env RLM_HTTP_RETRIES)")
      ->envname("RLM_HTTP_RETRIES")
      ->check(WholeInRange(0, 100))
      ->capture_default_str();
  app.add_option("--http-retry-budget", g.http_retry_budget,
                 "Seconds one HTTP request may spend waiting to retry; a longer Retry-After fails at once "
                 "(env RLM_HTTP_RETRY_BUDGET)")
      ->envname("RLM_HTTP_RETRY_BUDGET")
      ->check(RealInRange(0, 86400))
      ->capture_default_str();
  app.add_option("--http-max-response", g.http_max_response,
                 "Bytes one HTTP reply may have (env RLM_HTTP_MAX_RESPONSE)")
      ->envname("RLM_HTTP_MAX_RESPONSE")
      ->check(WholeInRange(1024, uint64_t{1} << 34))
      ->capture_default_str();
  app.add_option("--http-response-memory", g.http_response_memory,
                 "Bytes all HTTP replies in flight may hold together (env RLM_HTTP_RESPONSE_MEMORY)")
      ->envname("RLM_HTTP_RESPONSE_MEMORY")
      ->check(WholeInRange(1024, uint64_t{1} << 36))
      ->capture_default_str();
}

void ApplyHttpOptions(const Context& ctx) {
  const GlobalOptions& g = ctx.global;
  if (g.http_response_memory < g.http_max_response) {
    throw UsageError("--http-response-memory (" + std::to_string(g.http_response_memory) +
                     ") must be at least --http-max-response (" + std::to_string(g.http_max_response) + ")");
  }
  auto ms = [](double seconds) {
    return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
  };
  HttpSettings s;
  s.limits.timeout = std::max(ms(g.http_timeout), std::chrono::milliseconds(1));
  s.limits.connect_timeout = std::max(ms(g.http_connect_timeout), std::chrono::milliseconds(1));
  s.limits.max_retries = static_cast<int>(g.http_retries);
  s.limits.retry_budget = ms(g.http_retry_budget);
  s.limits.max_response_bytes = static_cast<size_t>(g.http_max_response);
  s.response_memory = static_cast<size_t>(g.http_response_memory);
  s.on_wait = ctx.Notices();
  SetHttpSettings(std::move(s));
}

std::string Pad(std::string s, size_t width) {
  size_t chars = 0;
  for (unsigned char c : s) chars += !utf8::IsContinuation(c);
  if (chars < width) s.append(width - chars, ' ');
  return s;
}

std::string Pad(int64_t n, size_t width) {
  return Pad(std::to_string(n), width);
}

std::string TruncateStr(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  if (max <= 3) return std::string(utf8::Truncate(s, max));
  return std::string(utf8::Truncate(s, max - 3)) + "...";
}

const CLI::Validator kNonNegative(
    [](std::string& s) {
      return s.find('-') == std::string::npos ? std::string() : "must not be negative: " + s;
    },
    "");

CLI::Validator WholeInRange(uint64_t lo, uint64_t hi) {
  const std::string range = "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
  return CLI::Validator(
      [lo, hi, range](std::string& s) -> std::string {
        uint64_t v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        const bool digits =
            !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits || ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) {
          return "must be " + range + ", got " + s;
        }
        return std::string();
      },
      "");
}

CLI::Validator RealInRange(double lo, double hi) {
  char range[96];
  std::snprintf(range, sizeof range, "a number from %g to %g", lo, hi);
  return CLI::Validator(
      [lo, hi, what = std::string(range)](std::string& s) -> std::string {
        double v = 0;
        const char* begin = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
        const auto [end, ec] = std::from_chars(begin, s.data() + s.size(), v);
        if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v < lo ||
            v > hi) {
          return "must be " + what + ", got " + s;
        }
        return std::string();
      },
      "");
}

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  }
  return buf;
}

}  // namespace rlm::cli
