// A small synchronous Redis client over hiredis: URLs with password and database number, replies copied
// into owned values (so they can be validated and decoded without hiredis lifetimes), pipelines, and
// reconnection with backoff when the connection drops or the server is restarting. The password is never
// part of a message: errors name the server by RedisUrl::Redacted(). Replies are bounded: every byte read
// from the server passes a RespBoundsChecker (jobs/resp_bounds.h) before hiredis's reader parses it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "jobs/resp_bounds.h"

struct redisContext;

namespace rlm {

// redis://[[user]:password@]host[:port][/db]   (also rediss-less plain "host:port")
struct RedisUrl {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user;      // Redis 6 ACL user; empty = the default user
  std::string password;  // empty = no AUTH
  int db = 0;
  // redis://host:port/db with the credentials replaced by "***" when present.
  std::string Redacted() const;
};

// Throws InvalidInput naming the (redacted) URL and the bad part.
RedisUrl ParseRedisUrl(std::string_view url);

// The password kept in `path` (its first line, without the line break), so that it never appears in a
// command line. Throws IoError naming the file when it cannot be read, InvalidInput when it is empty.
std::string ReadRedisPasswordFile(const std::string& path);

// An owned Redis reply.
struct RedisValue {
  enum class Type { kNil, kString, kInteger, kArray, kStatus, kError };
  Type type = Type::kNil;
  std::string str;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<RedisValue> elements;  // kArray

  bool IsNil() const { return type == Type::kNil; }
  bool IsError() const { return type == Type::kError; }
  // The checked accessors throw IoError ("Redis reply to <what>: expected ..., got ...").
  const std::string& String(std::string_view what) const;  // kString or kStatus
  int64_t Integer(std::string_view what) const;            // kInteger, or a kString holding a number
  const std::vector<RedisValue>& Array(std::string_view what) const;
};

// Parses RESP bytes into values (hiredis's own reader, behind the same RespBoundsChecker as connections).
// Throws IoError on a protocol error or a count or length over `limits`; returns the complete replies and
// leaves an incomplete tail unparsed. Used by the fuzz target and tests.
std::vector<RedisValue> ParseResp(std::string_view bytes, RespLimits limits = {});

// How long clients keep retrying a lost or unreachable server: $RLM_REDIS_RETRY_MS, default 60000.
int DefaultRedisRetryMs();

struct RedisOptions {
  int connect_timeout_ms = 2000;
  int io_timeout_ms = 0;                              // 0: no timeout on replies (commands may BLOCK)
  int reconnect_deadline_ms = DefaultRedisRetryMs();  // keep trying this long after the connection is lost
  int64_t max_reply_elements = RespLimits{}.max_elements;  // array elements announced in one reply
  int64_t max_bulk_bytes = RespLimits{}.max_bulk;          // one string (Redis's own proto-max-bulk-len)
  // When set (SIGINT/SIGTERM), waiting for a lost or unreachable server ends at once with an Error of type
  // kInterrupted instead of lasting until the reconnect deadline; commands to a live server go on.
  const std::atomic<bool>* stop = nullptr;
};

class RedisClient {
 public:
  // Connects (retrying until the reconnect deadline), authenticates and selects the database. Throws
  // IoError when the server cannot be reached in time, InvalidInput when AUTH is refused, an Error of type
  // kInterrupted when options.stop is set while waiting.
  explicit RedisClient(RedisUrl url, RedisOptions options = {});
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command. A lost connection (or a server still loading its data after a restart) is retried
  // with backoff until the reconnect deadline, then IoError (kInterrupted once options.stop is set). A reply
  // over the limits is an IoError at once (the connection is dropped and made again by the next command).
  // An error reply is returned, not thrown: callers decide (e.g. BUSYGROUP); CommandOk() throws it.
  RedisValue Command(const std::vector<std::string>& args);
  RedisValue CommandOk(const std::vector<std::string>& args);

  // Sends every command, then reads every reply (one round trip). On a lost connection the whole batch is
  // sent again after reconnecting, so batches must be safe to repeat (this project's are idempotent).
  std::vector<RedisValue> Pipeline(const std::vector<std::vector<std::string>>& commands);

  const RedisUrl& url() const { return url_; }
  uint64_t reconnects() const { return reconnects_; }

 private:
  void Connect();
  void ConnectWithRetry();
  bool Stopped() const;
  // Sleeps `ms`, or less when stop is set; then throws kInterrupted if it is.
  void Backoff(int ms, const std::string& error) const;
  bool TrySend(const std::vector<std::vector<std::string>>& commands, std::vector<RedisValue>& replies,
               std::string& error);

  RedisUrl url_;
  RedisOptions options_;
  redisContext* ctx_ = nullptr;
  RespBoundsChecker bounds_;  // follows the replies of ctx_; renewed with each connection
  uint64_t reconnects_ = 0;
};

}  // namespace rlm
