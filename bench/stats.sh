#!/usr/bin/env bash
# Benchmark: the cost of rlm's significance statistics (bench/stats_bench.cc) beside scipy 1.10 computing
# the same things on the same generated scores in the same run: scipy.stats.wilcoxon (exact only exists
# there without ties and zeros, up to any n; tied rows use permutation_test, which enumerates 2^n and is
# only feasible for n <= 20), the randomization test as permutation_test (exact up to n = 20, else 10000
# resamples), studentized_range.sf / .ppf and tukey_hsd with its confidence_interval(). Median of REPS
# calls each, in ms. The peer needs Debian's python3-scipy; without it its column says SKIPPED.
#
# Usage: bench/stats.sh   env: REPS (5)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

REPS="${REPS:-5}"
need_bench_tool stats_bench

echo "== statistics: rlm vs scipy (median of $REPS calls, ms)"
machine_info
RLM_TABLE="$("$BUILD/bench/stats_bench" --reps "$REPS")"
if ! /usr/bin/python3 -c 'import scipy' 2>/dev/null; then
  echo "$RLM_TABLE"
  echo "scipy: SKIPPED (apt-get install python3-scipy)"
  exit 0
fi
SCIPY_TABLE="$(REPS="$REPS" /usr/bin/python3 - <<'PY'
import math, os, statistics, time, warnings
import numpy as np
import scipy, scipy.stats as st

reps = int(os.environ["REPS"])
warnings.simplefilter("ignore")

def scores(n, f, phase, tied):
    v = 0.5 + 0.3 * np.sin(f * np.arange(n) + phase)
    return np.round(v * 10) / 10 if tied else v

def ms(fn):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)

def r_plus(a, b):
    d = a - b
    ranks = np.zeros(len(d))
    ranks[d != 0] = st.rankdata(np.abs(d[d != 0]))
    return lambda x, y, axis: np.sum(ranks * ((x - y) > 0), axis=axis)

def perm(a, b, stat, n_resamples):
    return st.permutation_test((a, b), stat, permutation_type="samples", vectorized=True,
                               n_resamples=n_resamples, batch=1 << 14)

mean_diff = lambda x, y, axis: np.mean(x - y, axis=axis)
rows = {}
for n in [50, 200, 500, 1000]:
    a, b = scores(n, 1.3, 0, False), scores(n, 0.7, 1, False)
    rows[f"wilcoxon exact n={n}"] = ms(lambda: st.wilcoxon(a, b, method="exact"))
    rows[f"wilcoxon exact n={n} tied"] = None  # scipy 1.10 has no exact test with ties or zeros
    rows[f"wilcoxon approx n={n}"] = ms(lambda: st.wilcoxon(a, b, method="approx"))
    rows[f"bootstrap 10000 n={n}"] = ms(lambda: st.bootstrap((a - b,), np.mean, n_resamples=10000,
                                                             method="percentile", random_state=1))
for m in [16, 20, 21, 100]:
    a, b = scores(m, 1.3, 0, False), scores(m, 0.7, 1, False)
    label = f"randomization n={m}" + (" (exact)" if m <= 20 else " (10000)")
    rows[label] = ms(lambda: perm(a, b, mean_diff, np.inf if m <= 20 else 10000))
rows["studentized range sf q=3.5 k=3 df=147"] = ms(lambda: st.studentized_range.sf(3.5, 3, 147))
rows["studentized range ppf 0.95 k=3 df=147"] = ms(lambda: st.studentized_range.ppf(0.95, 3, 147))
for k, n in [(3, 300), (10, 100)]:
    groups = [scores(n, 0.7 + 0.1 * g, g, False) for g in range(k)]
    rows[f"tukey hsd k={k} n={n}"] = ms(lambda: st.tukey_hsd(*groups).confidence_interval(0.95))
rows["wilcoxon exact n=16 tied (permutation_test)"] = ms(
    lambda: perm(scores(16, 1.3, 0, True), scores(16, 0.7, 1, True),
                 r_plus(scores(16, 1.3, 0, True), scores(16, 0.7, 1, True)), np.inf))
for label, value in rows.items():
    print(f"{label}\t{'n/a' if value is None else f'{value:.3f}'}")
print(f"scipy\t{scipy.__version__}")
PY
)"
echo
echo "| operation | rlm ms | scipy ms |"
echo "|---|---:|---:|"
echo "$RLM_TABLE" | tail -n +3 | while IFS='|' read -r _ op rlm_ms _; do
  op="$(echo "$op" | sed 's/^ *//; s/ *$//')"
  peer="$(echo "$SCIPY_TABLE" | awk -F'\t' -v k="$op" '$1 == k { print $2 }')"
  printf '| %s | %s | %s |\n' "$op" "$(echo "$rlm_ms" | tr -d ' ')" "${peer:-n/a}"
done
echo "$SCIPY_TABLE" | awk -F'\t' '$1 ~ /permutation_test/ { printf "| %s | (n/a) | %s |\n", $1, $2 }'
echo
echo "scipy $(echo "$SCIPY_TABLE" | awk -F'\t' '$1 == "scipy" { print $2 }'); rlm's tied exact rows are the exact conditional distribution, which scipy 1.10 only has through permutation_test (2^n work)."
