// libFuzzer target: what a worker or coordinator reads from Redis. The input is RESP bytes (parsed with
// hiredis's reader into owned values, then decoded as stream entries, and every string value as a job
// result, a dead job's value, a corpus blob and a variants blob). Anything thrown but rlm::Error is a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "jobs/eval_jobs.h"
#include "jobs/queue.h"
#include "jobs/redis.h"

namespace {

void Strings(const rlm::RedisValue& v) {
  if (v.type == rlm::RedisValue::Type::kString) {
    try {
      (void)rlm::DecodeJobResult(v.str);
    } catch (const rlm::Error&) {
    }
    try {
      (void)rlm::DecodeCorpus(v.str);
    } catch (const rlm::Error&) {
    }
    try {
      (void)rlm::DecodeVariants(v.str);
    } catch (const rlm::Error&) {
    }
  }
  for (const rlm::RedisValue& e : v.elements) Strings(e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    for (const rlm::RedisValue& v : rlm::ParseResp(bytes)) {
      std::vector<std::string> bad;
      try {
        (void)rlm::DecodeEntries(v, &bad);
      } catch (const rlm::Error&) {
      }
      Strings(v);
    }
  } catch (const rlm::Error&) {
  }
  // The raw bytes as each codec's input too.
  try {
    (void)rlm::DecodeJobResult(bytes);
  } catch (const rlm::Error&) {
  }
  try {
    (void)rlm::DecodeCorpus(bytes);
  } catch (const rlm::Error&) {
  }
  try {
    (void)rlm::DecodeVariants(bytes);
  } catch (const rlm::Error&) {
  }
  return 0;
}
