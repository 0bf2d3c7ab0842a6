// How long-running library work reports progress without printing: the caller passes a callback (the CLI
// draws a bar on a terminal; tests and pipes pass nothing).
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

}  // namespace rlm
