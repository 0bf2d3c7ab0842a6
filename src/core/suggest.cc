#include "core/suggest.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace rlm {
namespace {

char Lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

size_t EditDistance(std::string_view a, std::string_view b) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = Lower(a[i - 1]) == Lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && Lower(a[i - 1]) == Lower(b[j - 2]) && Lower(a[i - 2]) == Lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::string NearestName(std::string_view name, std::span<const std::string> valid) {
  if (name.size() > 64) return "";
  std::string best;
  size_t best_d = SIZE_MAX;
  bool best_prefix = false;
  for (const std::string& v : valid) {
    const size_t d = EditDistance(name, v);
    const bool prefix = name.starts_with(v) || std::string_view(v).starts_with(name);
    if (d < best_d || (d == best_d && prefix && !best_prefix)) {
      best_d = d;
      best = v;
      best_prefix = prefix;
    }
  }
  const size_t limit = std::max<size_t>(2, name.size() / 3);
  return best_d <= limit && best_d < std::max(name.size(), best.size()) ? best : "";
}

}  // namespace rlm
