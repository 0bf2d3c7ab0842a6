#include "cli/redis_flags.h"

#include <cstdlib>

#include "core/error.h"

namespace rlm::cli {

void AddRedisFlags(CLI::App* sub, RedisFlags& flags, bool from_environment) {
  CLI::Option* url =
      sub->add_option("--redis", flags.url,
                      from_environment ? "redis://[[user]:password@]host[:port][/db] [$RLM_REDIS_URL]"
                                       : "Run the jobs on `rlm worker` processes through Redis: "
                                         "redis://[[user]:password@]host[:port][/db]");
  if (from_environment) url->envname("RLM_REDIS_URL")->required();
  sub->add_option("--redis-password-file", flags.password_file,
                  "Read the Redis password from this file's first line (keeps it out of ps)");
}

RedisUrl ResolveRedisUrl(Context& ctx, const RedisFlags& flags) {
  RedisUrl url = ParseRedisUrl(flags.url);
  if (!flags.password_file.empty()) {
    if (!url.password.empty()) {
      throw UsageError("the Redis password is given twice: in the URL " + url.Redacted() +
                       " and in --redis-password-file");
    }
    url.password = ReadRedisPasswordFile(flags.password_file);
  } else if (!url.password.empty()) {
    const char* env = std::getenv("RLM_REDIS_URL");
    if (!env || flags.url != env) {
      ctx.Note(
          "warning: the Redis password on the command line is visible to other users (ps); use "
          "RLM_REDIS_URL or --redis-password-file");
    }
  }
  return url;
}

}  // namespace rlm::cli
