#!/usr/bin/env bash
# Benchmark: `rlm eval metrics -m all_trec` on a generated run of ~850k lines (1000 queries x 850 documents,
# bench/gen_run.sh) with ~60 graded judgments per query. Issue 4's peer: trec_eval 10.0 computes -m all_trec
# on such a run in about 0.65 s (measured elsewhere: Debian 12 has no trec-eval package, and nothing may be
# downloaded here). Target: at least 5x faster, i.e. <= 0.13 s.
#
# Timed, ROUNDS times each, as a new process (wall time from bash $EPOCHREALTIME):
#   rlm eval metrics -m all_trec QRELS RUN            (summary only, as in the issue)
#   rlm eval metrics -q -m all_trec QRELS RUN         (per query too: ~96k lines of output)
#   rlm --threads 1 eval metrics -m all_trec ...      (one core)
#   rlm --version                                     (the process start floor)
# Prints median and best per command.
#
# Usage: bench/eval_metrics.sh   env: ROUNDS (7), QUERIES (1000), DOCS_PER_QUERY (850)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROUNDS="${ROUNDS:-7}"
QUERIES="${QUERIES:-1000}"
DOCS_PER_QUERY="${DOCS_PER_QUERY:-850}"

need_binary "$RLM"
if ! "$RLM" eval metrics --help >/dev/null 2>&1; then
  echo "bench: $RLM has no 'eval metrics' command; rebuild" >&2
  exit 1
fi
make_scratch
"$REPO/bench/gen_run.sh" "$SCRATCH" "$QUERIES" "$DOCS_PER_QUERY" 42
RUN="$SCRATCH/run.trec"
QRELS="$SCRATCH/qrels.trec"

echo "== eval metrics: $(wc -l <"$RUN") run lines, $(wc -l <"$QRELS") qrels lines, $(du -h "$RUN" | cut -f1) run file"
machine_info
cat "$RUN" "$QRELS" >/dev/null  # warm the page cache

time_cmd() {  # time_cmd LABEL CMD...: ROUNDS runs, prints median and best in seconds
  local label="$1" t0 t1 times=()
  shift
  for ((i = 0; i < ROUNDS; i++)); do
    t0="$(now_us)"
    "$@" >/dev/null
    t1="$(now_us)"
    times+=("$(((t1 - t0)))")
  done
  local med best
  med="$(printf '%s\n' "${times[@]}" | median)"
  best="$(printf '%s\n' "${times[@]}" | sort -g | head -1)"
  printf '%-44s median %6.3f s   best %6.3f s\n' "$label" "$(echo "$med / 1000000" | bc -l)" \
    "$(echo "$best / 1000000" | bc -l)"
}

time_cmd "rlm eval metrics -m all_trec" "$RLM" eval metrics -m all_trec "$QRELS" "$RUN"
time_cmd "rlm eval metrics -q -m all_trec" "$RLM" eval metrics -q -m all_trec "$QRELS" "$RUN"
time_cmd "rlm --threads 1 eval metrics -m all_trec" "$RLM" --threads 1 eval metrics -m all_trec "$QRELS" "$RUN"
time_cmd "rlm eval metrics (official measures)" "$RLM" eval metrics "$QRELS" "$RUN"
time_cmd "rlm --version (process start)" "$RLM" --version
