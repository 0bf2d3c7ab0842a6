#!/usr/bin/env bash
# Benchmark: `rlm eval metrics -m all_trec` on a generated run of ~850k lines (1000 queries x 850 documents,
# bench/gen_run.sh) with ~60 graded judgments per query, beside trec_eval 10.0 when its binaries are given:
# TREC_EVAL (built with trec_eval's own Makefile, default flags) and TREC_EVAL_O2 (the same source built with
# -O2); build them from github usnistgov/trec_eval, tag v10.0, outside this repository. Target (issue 10): at
# least 5x trec_eval's default build; the ratio to the -O2 build is reported too. The -q outputs of rlm and
# TREC_EVAL are compared first (they must be identical).
#
# Timed, ROUNDS times each, as a new process (wall time from bash $EPOCHREALTIME):
#   rlm eval metrics -m all_trec QRELS RUN            (summary only, as in the issue)
#   rlm eval metrics -q -m all_trec QRELS RUN         (per query too: ~96k lines of output)
#   rlm --threads 1 eval metrics -m all_trec ...      (one core)
#   rlm --version                                     (the process start floor)
#   $TREC_EVAL -m all_trec QRELS RUN, $TREC_EVAL_O2 ... (when set)
# Prints median and best per command, and the median ratios trec_eval / rlm.
#
# Usage: bench/eval_metrics.sh   env: ROUNDS (7), QUERIES (1000), DOCS_PER_QUERY (850), TREC_EVAL, TREC_EVAL_O2
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

if [ -n "${TREC_EVAL:-}" ]; then
  if cmp -s <("$TREC_EVAL" -q -m all_trec "$QRELS" "$RUN") <("$RLM" eval metrics -q -m all_trec "$QRELS" "$RUN"); then
    echo "outputs: rlm and trec_eval -q -m all_trec are identical"
  else
    echo "outputs: rlm and trec_eval -q -m all_trec DIFFER" >&2
    exit 1
  fi
fi

declare -A MEDIAN
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
  MEDIAN["$label"]="$med"
}

time_cmd "rlm eval metrics -m all_trec" "$RLM" eval metrics -m all_trec "$QRELS" "$RUN"
time_cmd "rlm eval metrics -q -m all_trec" "$RLM" eval metrics -q -m all_trec "$QRELS" "$RUN"
time_cmd "rlm --threads 1 eval metrics -m all_trec" "$RLM" --threads 1 eval metrics -m all_trec "$QRELS" "$RUN"
time_cmd "rlm eval metrics (official measures)" "$RLM" eval metrics "$QRELS" "$RUN"
time_cmd "rlm --version (process start)" "$RLM" --version
if [ -n "${TREC_EVAL:-}" ]; then
  time_cmd "trec_eval -m all_trec (default build)" "$TREC_EVAL" -m all_trec "$QRELS" "$RUN"
  printf 'ratio trec_eval (default build) / rlm: %.2fx\n' \
    "$(echo "${MEDIAN["trec_eval -m all_trec (default build)"]} / ${MEDIAN["rlm eval metrics -m all_trec"]}" | bc -l)"
fi
if [ -n "${TREC_EVAL_O2:-}" ]; then
  time_cmd "trec_eval -m all_trec (-O2 build)" "$TREC_EVAL_O2" -m all_trec "$QRELS" "$RUN"
  printf 'ratio trec_eval (-O2 build) / rlm:     %.2fx\n' \
    "$(echo "${MEDIAN["trec_eval -m all_trec (-O2 build)"]} / ${MEDIAN["rlm eval metrics -m all_trec"]}" | bc -l)"
fi
