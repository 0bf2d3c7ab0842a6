// The Redis flags every distributed command shares: --redis URL (for `worker` and `jobs`, $RLM_REDIS_URL when
// not given) and --redis-password-file, so that a password need not appear in argv (ps, /proc/*/cmdline).
#pragma once

#include <string>

#include "cli/context.h"
#include "jobs/redis.h"

namespace rlm::cli {

struct RedisFlags {
  std::string url;
  std::string password_file;
};

// Adds --redis and --redis-password-file to `sub`. `from_environment`: --redis defaults to $RLM_REDIS_URL
// (and is required unless that is set); otherwise --redis is optional (eval run: given means distributed).
void AddRedisFlags(CLI::App* sub, RedisFlags& flags, bool from_environment);

// The URL with the password from the file when given. Throws UsageError when the password is given both in
// the URL and in a file; notes a warning when a password was written in argv.
RedisUrl ResolveRedisUrl(Context& ctx, const RedisFlags& flags);

}  // namespace rlm::cli
