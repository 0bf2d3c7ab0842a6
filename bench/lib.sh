# shellcheck shell=bash disable=SC2034
# Helpers shared by the benchmark scripts (sourced, not run). Sets:
#   REPO       the repository root
#   BUILD      the build folder (default build/, override with RLM_BUILD_DIR)
#   RLM        the CLI under test ($BUILD/rlm)
#   DATA       the shared data folder (RLM_BENCH_DATA, else ../shared/data beside the repo, else
#              /work/shared/data), or empty when none exists
# Timings use bash's $EPOCHREALTIME (no extra process around the measured one).

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${RLM_BUILD_DIR:-$REPO/build}"
RLM="$BUILD/rlm"

DATA=""
for d in "${RLM_BENCH_DATA:-}" "$REPO/../shared/data" /work/shared/data; do
  if [ -n "$d" ] && [ -d "$d" ]; then DATA="$(cd "$d" && pwd)"; break; fi
done

# need_binary PATH: fails with a hint when a build product is missing.
need_binary() {
  if [ ! -x "$1" ]; then
    echo "bench: $1 is missing; build first (make build, or cmake --preset release && cmake --build build)" >&2
    exit 1
  fi
}

# need_bench_tool NAME: builds $BUILD/bench/NAME (a no-op when it is up to date), first configuring with
# RLM_BUILD_BENCH=ON if the build folder was configured without the benchmarks. Quiet unless it fails.
# With RLM_BENCH_NO_BUILD=1 it only checks that the binary is there (tools built some other way).
need_bench_tool() {
  local log
  if [ "${RLM_BENCH_NO_BUILD:-0}" = 1 ]; then need_binary "$BUILD/bench/$1"; return; fi
  if ! grep -q '^RLM_BUILD_BENCH:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    cmake -S "$REPO" -B "$BUILD" -DRLM_BUILD_BENCH=ON >/dev/null
  fi
  if ! log="$(cmake --build "$BUILD" --target "$1" 2>&1)"; then
    echo "$log" >&2
    echo "bench: building $1 failed" >&2
    exit 1
  fi
  need_binary "$BUILD/bench/$1"
}

# text_copy SRC DST: copies a file or folder, removing NUL bytes from files that have them. rlm refuses
# text with NUL bytes (as binary); python3.11.info, the largest shared file, has 14 (Info index markers).
text_copy() {
  cp -r "$1" "$2"
  chmod -R u+w "$2"
  find "$2" -type f -print0 | while IFS= read -r -d '' f; do
    if [ "$(tr -cd '\000' <"$f" | head -c1 | wc -c)" -gt 0 ]; then
      tr -d '\000' <"$f" >"$f.nonul" && mv "$f.nonul" "$f"
    fi
  done
}

# skip MESSAGE: a benchmark whose inputs are absent says why and succeeds (so run_all goes on).
skip() {
  echo "SKIPPED: $*"
  exit 0
}

# now_us: wall clock in microseconds.
now_us() {
  local t="${EPOCHREALTIME/./}"
  echo "$t"
}

# percentile P < numbers (one per line): nearest-rank percentile (P in 0..100).
percentile() {
  sort -g | awk -v p="$1" '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    r = int((p / 100) * NR + 0.999999); if (r < 1) r = 1; if (r > NR) r = NR; print v[r] }'
}

# median < numbers
median() { percentile 50; }

# machine_info: one line per fact, for the reports.
machine_info() {
  local cpu ram
  cpu="$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
  ram="$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(nproc) cores, ${cpu}, ${ram} RAM, $(uname -sr)"
  echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-min load average before the run)"
  if [ -x "$RLM" ]; then echo "rlm:     $("$RLM" --version 2>/dev/null | head -1) ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'))"; fi
}

# make_scratch: sets SCRATCH to a new folder under $TMPDIR (default /tmp), removed when the script exits.
# Call it directly, not in $(...): the exit trap belongs to the calling shell.
make_scratch() {
  SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/rlm-bench.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$SCRATCH'" EXIT
}
