// How long-running library work reports progress without printing: the caller passes a callback (the CLI
// draws a bar on a terminal; tests and pipes pass nothing). Waits and other events worth a line (not a
// bar) go to a NoticeFn.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace rlm {

// Called with units done so far and the total (both in the same unit, e.g. bytes). May be called often;
// the receiver throttles its own drawing. Called from the thread that runs the operation. A phase may end in
// " | <detail>" (e.g. "query (redis) | 5 running, 2 waiting to retry"): shown with the bar, not part of the
// phase's identity.
using ProgressFn = std::function<void(std::string_view phase, uint64_t done, uint64_t total)>;

// A one-line notice from library work that waits or degrades, e.g. "openai:m: waiting 5 s: the server asked
// to retry (HTTP 429) at https://api.openai.com/v1/embeddings (retry 1 of 5)". May be called from any
// thread, so the receiver must be thread-safe; the CLI prints it on stderr unless -q. Messages carry no
// secrets (core/redact.h).
using NoticeFn = std::function<void(std::string_view message)>;

}  // namespace rlm
