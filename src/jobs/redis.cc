#include "jobs/redis.h"

#include <hiredis/hiredis.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include "core/error.h"

namespace rlm {
namespace {

using Clock = std::chrono::steady_clock;

const char* TypeName(RedisValue::Type t) {
  switch (t) {
    case RedisValue::Type::kNil:
      return "nil";
    case RedisValue::Type::kString:
      return "a string";
    case RedisValue::Type::kInteger:
      return "an integer";
    case RedisValue::Type::kArray:
      return "an array";
    case RedisValue::Type::kStatus:
      return "a status";
    case RedisValue::Type::kError:
      return "an error";
  }
  return "?";
}

[[noreturn]] void BadReply(std::string_view what, const char* expected, const RedisValue& got) {
  std::string msg =
      "Redis reply to " + std::string(what) + ": expected " + expected + ", got " + TypeName(got.type);
  if (got.type == RedisValue::Type::kError) msg += " (" + got.str + ")";
  throw IoError(msg);
}

RedisValue Convert(const redisReply* r) {
  RedisValue v;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      v.type = RedisValue::Type::kString;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      v.type = RedisValue::Type::kStatus;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      v.type = RedisValue::Type::kError;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      v.type = RedisValue::Type::kInteger;
      v.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      v.type = RedisValue::Type::kArray;
      v.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) v.elements.push_back(Convert(r->element[i]));
      break;
    default:
      v.type = RedisValue::Type::kNil;
  }
  return v;
}

bool Transient(const RedisValue& v) {
  // A restarted server answers LOADING until its data is read back; a replica may say MASTERDOWN.
  return v.IsError() && (v.str.rfind("LOADING", 0) == 0 || v.str.rfind("MASTERDOWN", 0) == 0 ||
                         v.str.rfind("TRYAGAIN", 0) == 0);
}

int ParsePort(std::string_view s, std::string_view url) {
  int port = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), port);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || port < 1 || port > 65535) {
    throw InvalidInput("Redis URL " + std::string(url) + ": bad port '" + std::string(s) + "'",
                       "use redis://[:password@]host:port[/db]", ErrorType::kInvalidRedisUrl);
  }
  return port;
}

// Sends what hiredis has buffered and reads one reply, as redisGetReply does, except that every byte read
// passes `bounds` before hiredis's reader sees it. Returns false with `error` set when the connection
// fails; throws IoError (from the checker) on a reply over the limits.
bool ReadReply(redisContext* c, RespBoundsChecker& bounds, redisReply** out, std::string& error) {
  void* reply = nullptr;
  auto from_reader = [&] {
    if (redisReaderGetReply(c->reader, &reply) != REDIS_OK) {
      error = std::string("protocol error: ") + c->reader->errstr;
      return false;
    }
    return true;
  };
  if (!from_reader()) return false;
  if (!reply) {
    int done = 0;
    do {
      if (redisBufferWrite(c, &done) != REDIS_OK) {
        error = c->errstr;
        return false;
      }
    } while (!done);
  }
  char buf[16 * 1024];
  while (!reply) {
    const ssize_t n = ::read(c->fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;  // a signal (the stop flag is checked between commands)
      error =
          errno == EAGAIN || errno == EWOULDBLOCK ? "timed out waiting for the reply" : std::strerror(errno);
      return false;
    }
    if (n == 0) {
      error = "the server closed the connection";
      return false;
    }
    bounds.Feed(std::string_view(buf, static_cast<size_t>(n)));
    if (redisReaderFeed(c->reader, buf, static_cast<size_t>(n)) != REDIS_OK) {
      error = std::string("protocol error: ") + c->reader->errstr;
      return false;
    }
    if (!from_reader()) return false;
  }
  *out = static_cast<redisReply*>(reply);
  return true;
}

}  // namespace

int DefaultRedisRetryMs() {
  if (const char* v = std::getenv("RLM_REDIS_RETRY_MS")) {
    int ms = 0;
    auto [p, ec] = std::from_chars(v, v + std::strlen(v), ms);
    if (ec == std::errc() && *p == '\0' && ms >= 0) return ms;
  }
  return 60000;
}

// ---- URL ---------------------------------------------------------------------------------------------

std::string RedisUrl::Redacted() const {
  std::string s = "redis://";
  if (!user.empty() || !password.empty()) s += (user.empty() ? "" : user) + ":***@";
  s += host + ":" + std::to_string(port);
  if (db != 0) s += "/" + std::to_string(db);
  return s;
}

RedisUrl ParseRedisUrl(std::string_view url) {
  RedisUrl u;
  std::string_view rest = url;
  // Never echo the credentials: messages show the URL with everything before '@' hidden.
  std::string shown(url);
  if (size_t at = shown.rfind('@'); at != std::string::npos) {
    const size_t scheme = shown.find("://");
    const size_t from = scheme == std::string::npos ? 0 : scheme + 3;
    if (at >= from) shown.replace(from, at - from, "***");
  }
  auto fail = [&](const std::string& what) -> void {
    throw InvalidInput("Redis URL " + shown + ": " + what, "use redis://[[user]:password@]host[:port][/db]",
                       ErrorType::kInvalidRedisUrl);
  };
  if (rest.empty()) fail("empty");
  if (rest.rfind("redis://", 0) == 0) {
    rest.remove_prefix(8);
  } else if (rest.find("://") != std::string_view::npos) {
    fail("only the redis:// scheme is supported (no TLS: tunnel rediss through stunnel or ssh)");
  }
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view cred = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    if (size_t colon = cred.find(':'); colon != std::string_view::npos) {
      u.user = std::string(cred.substr(0, colon));
      u.password = std::string(cred.substr(colon + 1));
    } else {
      u.password = std::string(cred);  // redis://password@host, as redis-cli -u accepts
    }
    // Percent-decoding of the credentials (a password may hold ':' or '@' written as %3A / %40).
    auto decode = [&](std::string& s) {
      std::string out;
      for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
          int v = 0;
          auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
          if (ec != std::errc() || p != s.data() + i + 3) fail("bad percent escape in the credentials");
          out.push_back(static_cast<char>(v));
          i += 2;
        } else if (s[i] == '%') {
          fail("bad percent escape in the credentials");
        } else {
          out.push_back(s[i]);
        }
      }
      s = out;
    };
    decode(u.user);
    decode(u.password);
  }
  std::string_view hostport = rest;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    hostport = rest.substr(0, slash);
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty()) {
      auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), u.db);
      if (ec != std::errc() || p != db.data() + db.size() || u.db < 0 || u.db > 1000000) {
        fail("bad database number '" + std::string(db) + "'");
      }
    }
  }
  if (!hostport.empty() && hostport.front() == '[') {  // [ipv6]:port
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) fail("unclosed '[' in the host");
    u.host = std::string(hostport.substr(1, close - 1));
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') fail("expected ':' after ']'");
      u.port = ParsePort(after.substr(1), shown);
    }
  } else if (size_t colon = hostport.rfind(':'); colon != std::string_view::npos) {
    u.host = std::string(hostport.substr(0, colon));
    u.port = ParsePort(hostport.substr(colon + 1), shown);
  } else {
    u.host = std::string(hostport);
  }
  if (u.host.empty()) fail("no host");
  return u;
}

std::string ReadRedisPasswordFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) ThrowErrno("cannot read the Redis password file " + path);
  std::string password;
  std::getline(in, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (in.bad()) ThrowErrno("cannot read the Redis password file " + path);
  if (password.empty()) {
    throw InvalidInput("the Redis password file " + path + " is empty",
                       "write the password on its first line");
  }
  return password;
}

// ---- values ------------------------------------------------------------------------------------------

const std::string& RedisValue::String(std::string_view what) const {
  if (type != Type::kString && type != Type::kStatus) BadReply(what, "a string", *this);
  return str;
}

int64_t RedisValue::Integer(std::string_view what) const {
  if (type == Type::kInteger) return integer;
  if (type == Type::kString) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(str.data(), str.data() + str.size(), v);
    if (!str.empty() && ec == std::errc() && p == str.data() + str.size()) return v;
  }
  BadReply(what, "an integer", *this);
}

const std::vector<RedisValue>& RedisValue::Array(std::string_view what) const {
  if (type != Type::kArray) BadReply(what, "an array", *this);
  return elements;
}

std::vector<RedisValue> ParseResp(std::string_view bytes, RespLimits limits) {
  RespBoundsChecker(limits).Feed(bytes);  // before hiredis allocates what the headers announce
  redisReader* reader = redisReaderCreate();
  if (!reader) throw InternalError("redisReaderCreate failed");
  std::vector<RedisValue> out;
  auto fail = [&](const std::string& msg) {
    redisReaderFree(reader);
    throw IoError("malformed Redis reply: " + msg);
  };
  if (redisReaderFeed(reader, bytes.data(), bytes.size()) != REDIS_OK) fail(reader->errstr);
  for (;;) {
    void* reply = nullptr;
    if (redisReaderGetReply(reader, &reply) != REDIS_OK) fail(reader->errstr);
    if (!reply) break;
    out.push_back(Convert(static_cast<redisReply*>(reply)));
    freeReplyObject(reply);
  }
  redisReaderFree(reader);
  return out;
}

// ---- client ------------------------------------------------------------------------------------------

RedisClient::RedisClient(RedisUrl url, RedisOptions options) : url_(std::move(url)), options_(options) {
  ConnectWithRetry();
}

RedisClient::~RedisClient() {
  if (ctx_) redisFree(ctx_);
}

void RedisClient::Connect() {
  if (ctx_) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
  timeval tv{options_.connect_timeout_ms / 1000, (options_.connect_timeout_ms % 1000) * 1000};
  redisContext* c = redisConnectWithTimeout(url_.host.c_str(), url_.port, tv);
  if (!c) throw IoError("cannot allocate a Redis connection");
  if (c->err) {
    std::string msg = c->errstr;
    redisFree(c);
    throw IoError("cannot connect to Redis at " + url_.Redacted() + ": " + msg,
                  "start redis-server there, or check --redis");
  }
  if (options_.io_timeout_ms > 0) {
    timeval io{options_.io_timeout_ms / 1000, (options_.io_timeout_ms % 1000) * 1000};
    redisSetTimeout(c, io);
  }
  RespBoundsChecker bounds(RespLimits{options_.max_reply_elements, options_.max_bulk_bytes});
  auto simple = [&](std::vector<std::string> args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const std::string& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    redisReply* r = nullptr;
    std::string error;
    if (redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
      throw IoError("lost the connection to Redis at " + url_.Redacted() + ": " + c->errstr);
    }
    if (!ReadReply(c, bounds, &r, error)) {
      throw IoError("lost the connection to Redis at " + url_.Redacted() + ": " + error);
    }
    RedisValue v = Convert(r);
    freeReplyObject(r);
    return v;
  };
  try {
    if (!url_.password.empty()) {
      RedisValue v =
          url_.user.empty() ? simple({"AUTH", url_.password}) : simple({"AUTH", url_.user, url_.password});
      if (v.IsError()) {
        if (Transient(v)) throw IoError("Redis at " + url_.Redacted() + " is loading");
        throw InvalidInput("Redis at " + url_.Redacted() + " refused the credentials: " + v.str,
                           "check the password in the Redis URL", ErrorType::kRedisAuth);
      }
    }
    if (url_.db != 0) {
      RedisValue v = simple({"SELECT", std::to_string(url_.db)});
      if (v.IsError()) {
        throw InvalidInput(
            "Redis at " + url_.Redacted() + " refused database " + std::to_string(url_.db) + ": " + v.str,
            "use a database number below the server's `databases` setting", ErrorType::kInvalidRedisUrl);
      }
    }
  } catch (...) {
    redisFree(c);
    throw;
  }
  ctx_ = c;
  bounds_ = RespBoundsChecker(RespLimits{options_.max_reply_elements, options_.max_bulk_bytes});
}

bool RedisClient::Stopped() const {
  return options_.stop && options_.stop->load(std::memory_order_relaxed);
}

void RedisClient::Backoff(int ms, const std::string& error) const {
  const auto until = Clock::now() + std::chrono::milliseconds(ms);
  for (;;) {
    if (Stopped()) {
      throw Error(ErrorKind::kConflict,
                  "stopped while Redis at " + url_.Redacted() + " is unreachable: " + error, "",
                  ErrorType::kInterrupted);
    }
    const auto now = Clock::now();
    if (now >= until) return;
    std::this_thread::sleep_for(std::min<Clock::duration>(until - now, std::chrono::milliseconds(20)));
  }
}

void RedisClient::ConnectWithRetry() {
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.reconnect_deadline_ms);
  std::minstd_rand rng(static_cast<unsigned>(Clock::now().time_since_epoch().count()));
  int delay_ms = 20;
  for (;;) {
    try {
      Connect();
      return;
    } catch (const IoError& e) {
      if (Clock::now() >= deadline) throw;
      Backoff(delay_ms / 2 + static_cast<int>(rng() % (delay_ms / 2 + 1)), e.what());
    }
    delay_ms = std::min(delay_ms * 2, 1000);
  }
}

bool RedisClient::TrySend(const std::vector<std::vector<std::string>>& commands,
                          std::vector<RedisValue>& replies, std::string& error) {
  replies.clear();
  if (!ctx_) {
    error = "not connected";
    return false;
  }
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& cmd : commands) {
    argv.clear();
    lens.clear();
    for (const std::string& a : cmd) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()) != REDIS_OK) {
      error = ctx_->errstr;
      return false;
    }
  }
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    redisReply* r = nullptr;
    try {
      if (!ReadReply(ctx_, bounds_, &r, error)) return false;
    } catch (const IoError& e) {  // over the limits: the rest of the stream cannot be trusted
      redisFree(ctx_);
      ctx_ = nullptr;
      throw IoError(std::string(e.what()) + " (from Redis at " + url_.Redacted() + ")",
                    "a reply this large is not one rlm asked for: check the server at --redis");
    }
    replies.push_back(Convert(r));
    freeReplyObject(r);
  }
  return true;
}

std::vector<RedisValue> RedisClient::Pipeline(const std::vector<std::vector<std::string>>& commands) {
  std::vector<RedisValue> replies;
  if (commands.empty()) return replies;
  const auto deadline = Clock::now() + std::chrono::milliseconds(options_.reconnect_deadline_ms);
  int delay_ms = 20;
  std::string error, connect_error;
  for (;;) {
    if (TrySend(commands, replies, error)) {
      bool loading = false;
      for (const RedisValue& v : replies) {
        if (v.IsError() && v.str.rfind("NOAUTH", 0) == 0) {
          throw InvalidInput("Redis at " + url_.Redacted() + " requires a password: " + v.str,
                             "give it with --redis-password-file or in the URL ($RLM_REDIS_URL)",
                             ErrorType::kRedisAuth);
        }
        loading = loading || Transient(v);
      }
      if (!loading) return replies;
      error = "the server is loading its data";
    } else {
      if (ctx_) {
        redisFree(ctx_);
        ctx_ = nullptr;
      }
    }
    if (Clock::now() >= deadline) {
      throw IoError("lost the connection to Redis at " + url_.Redacted() + ": " + error +
                        (connect_error.empty() ? "" : "; reconnecting: " + connect_error),
                    "check that redis-server is running; commands are retried for " +
                        std::to_string(options_.reconnect_deadline_ms / 1000) + " s");
    }
    Backoff(delay_ms, error);
    delay_ms = std::min(delay_ms * 2, 500);
    if (!ctx_) {
      try {
        Connect();
        ++reconnects_;
      } catch (const IoError& e) {
        connect_error = e.what();  // keep trying until the deadline
      }
    }
  }
}

RedisValue RedisClient::Command(const std::vector<std::string>& args) {
  return std::move(Pipeline({args})[0]);
}

RedisValue RedisClient::CommandOk(const std::vector<std::string>& args) {
  RedisValue v = Command(args);
  if (v.IsError()) throw IoError("Redis " + (args.empty() ? std::string() : args[0]) + " failed: " + v.str);
  return v;
}

}  // namespace rlm
