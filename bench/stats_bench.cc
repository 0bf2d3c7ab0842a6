// stats_bench: the cost of rlm's significance statistics (eval/stats.h) on generated per-query scores, to
// set and check the cut-offs documented there (kWilcoxonExactMaxPairs, kRandomizationExactMaxNonzero).
// bench/stats.sh runs it beside scipy 1.10 computing the same things.
//
// Scores are deterministic: a[i] = 0.5 + 0.3 sin(1.3 i), b[i] = 0.5 + 0.3 sin(0.7 i + 1); "tied" rounds
// both to one decimal (nDCG-like ties and zeros). Each row is the median of --reps timed calls (ms).
//
// Usage: stats_bench [--reps 5]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench_util.h"
#include "eval/stats.h"

namespace {

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr, "stats_bench: %s\nusage: stats_bench [--reps N]\n", why);
  std::exit(2);
}

std::vector<double> Scores(size_t n, double f, double phase, bool tied) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) {
    v[i] = 0.5 + 0.3 * std::sin(f * static_cast<double>(i) + phase);
    if (tied) v[i] = std::round(v[i] * 10) / 10;
  }
  return v;
}

double MedianMs(int reps, const std::function<void()>& fn) {
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return rlm::bench::Median(ms);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 5;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--reps") {
      reps = static_cast<int>(rlm::bench::OptionValue(argc, argv, i, Usage));
      if (reps < 1) Usage("--reps must be at least 1");
    } else {
      Usage("unknown argument");
    }
  }
  std::printf("| operation | rlm ms |\n|---|---:|\n");
  auto row = [&](const std::string& name, const std::function<void()>& fn) {
    std::printf("| %s | %.3f |\n", name.c_str(), MedianMs(reps, fn));
    std::fflush(stdout);
  };
  for (size_t n : {50, 200, 500, 1000}) {
    for (bool tied : {false, true}) {
      const std::vector<double> a = Scores(n, 1.3, 0, tied), b = Scores(n, 0.7, 1, tied);
      row("wilcoxon exact n=" + std::to_string(n) + (tied ? " tied" : ""),
          [&] { rlm::WilcoxonSignedRankTest(a, b, {.method = rlm::WilcoxonMethod::kExact}); });
    }
    const std::vector<double> a = Scores(n, 1.3, 0, false), b = Scores(n, 0.7, 1, false);
    row("wilcoxon approx n=" + std::to_string(n),
        [&] { rlm::WilcoxonSignedRankTest(a, b, {.method = rlm::WilcoxonMethod::kApprox}); });
    row("bootstrap 10000 n=" + std::to_string(n), [&] { rlm::BootstrapMeanDifferenceCI(a, b); });
  }
  for (size_t m : {16, 20, 21, 100}) {
    const std::vector<double> a = Scores(m, 1.3, 0, false), b = Scores(m, 0.7, 1, false);
    row("randomization n=" + std::to_string(m) +
            (m <= rlm::kRandomizationExactMaxNonzero ? " (exact)" : " (10000)"),
        [&] { rlm::PairedRandomizationTest(a, b); });
  }
  row("studentized range sf q=3.5 k=3 df=147", [] { rlm::StudentizedRangeSurvival(3.5, 3, 147); });
  row("studentized range ppf 0.95 k=3 df=147", [] { rlm::StudentizedRangeQuantile(0.95, 3, 147); });
  for (auto [k, n] : {std::pair{3, 300}, std::pair{10, 100}}) {
    std::vector<std::vector<double>> groups;
    for (int g = 0; g < k; ++g) groups.push_back(Scores(n, 0.7 + 0.1 * g, g, false));
    row("tukey hsd k=" + std::to_string(k) + " n=" + std::to_string(n), [&] { rlm::TukeyHsd(groups); });
  }
  return 0;
}
