// Shared by the benchmark programs: reading option values and the median of timings.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace rlm::bench {

// `usage` prints why and exits (it does not return).
using UsageFn = void (*)(const char* why);

// The value after option argv[i] (advancing i).
inline const char* OptionText(int argc, char** argv, int& i, UsageFn usage) {
  if (i + 1 >= argc) {
    usage("missing value after an option");
    std::abort();
  }
  return argv[++i];
}

// The non-negative integer after option argv[i] (advancing i).
inline long OptionValue(int argc, char** argv, int& i, UsageFn usage) {
  const char* s = OptionText(argc, argv, i, usage);
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (*end != '\0' || v < 0) {
    usage("option values must be non-negative integers");
    std::abort();
  }
  return v;
}

inline double Median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  const size_t m = xs.size() / 2;
  return xs.size() % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

}  // namespace rlm::bench
