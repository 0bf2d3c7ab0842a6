// A small synchronous Redis client over hiredis: URLs with password and database number, replies copied
// into owned values (so they can be validated and decoded without hiredis lifetimes), pipelines, and
// reconnection with backoff when the connection drops or the server is restarting. The password is never
// part of a message: errors name the server by RedisUrl::Redacted().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

// Parses RESP bytes into values (hiredis's own reader). Throws IoError on a protocol error; returns the
// complete replies and leaves an incomplete tail unparsed. Used by the fuzz target and tests.
std::vector<RedisValue> ParseResp(std::string_view bytes);

// How long clients keep retrying a lost or unreachable server: $RLM_REDIS_RETRY_MS, default 60000.
int DefaultRedisRetryMs();

struct RedisOptions {
  int connect_timeout_ms = 2000;
  int io_timeout_ms = 0;                                // 0: no timeout on replies (commands may BLOCK)
  int reconnect_deadline_ms = DefaultRedisRetryMs();  // keep trying this long after the connection is lost
};

class RedisClient {
 public:
  // Connects (retrying until the reconnect deadline), authenticates and selects the database. Throws
  // IoError when the server cannot be reached in time, InvalidInput when AUTH is refused.
  explicit RedisClient(RedisUrl url, RedisOptions options = {});
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Runs one command. A lost connection (or a server still loading its data after a restart) is retried
  // with backoff until the reconnect deadline, then IoError. An error reply is returned, not thrown:
  // callers decide (e.g. BUSYGROUP); CommandOk() throws it.
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
  bool TrySend(const std::vector<std::vector<std::string>>& commands, std::vector<RedisValue>& replies,
               std::string& error);

  RedisUrl url_;
  RedisOptions options_;
  redisContext* ctx_ = nullptr;
  uint64_t reconnects_ = 0;
};

}  // namespace rlm
