#!/usr/bin/env bash
# Benchmark: `rlm eval fuse` of 5 runs of 1,000 queries x 1,000 documents (issue 10, item 6), beside the same
# fusion written as a plain Python script (bench/fuse_peer.py, standard library only), in the same run.
#
# The runs are generated here: for each query a pool of 2,500 document ids, from which each run draws its
# 1,000 documents, so the runs overlap as real retrievers do (about 3,000 distinct documents per query over
# the 5 runs). Each run has its own score scale (BM25-like, cosine-like, ...), with 4 decimals so that ties
# occur. Deterministic (awk's srand).
#
# Timed, ROUNDS times each, as a new process (wall time from bash $EPOCHREALTIME), for each METHOD/NORM:
#   rlm eval fuse RUN1..RUN5 --method M --norm N -o OUT
#   /usr/bin/python3 bench/fuse_peer.py fuse RUN1..RUN5 --method M --norm N -o OUT
# and then checks that the two outputs agree (fuse_peer.py check). Prints median and best per command.
#
# Usage: bench/fuse.sh   env: ROUNDS (3), QUERIES (1000), DOCS (1000), RUNS (5),
#                              METHODS ("rrf:min-max sum:min-max mnz:zmuv bordafuse:min-max")
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROUNDS="${ROUNDS:-3}"
QUERIES="${QUERIES:-1000}"
DOCS="${DOCS:-1000}"
RUNS="${RUNS:-5}"
METHODS="${METHODS:-rrf:min-max sum:min-max mnz:zmuv bordafuse:min-max}"
PEER=(/usr/bin/python3 "$REPO/bench/fuse_peer.py")

need_binary "$RLM"
make_scratch
awk -v Q="$QUERIES" -v K="$DOCS" -v R="$RUNS" -v dir="$SCRATCH" 'BEGIN {
  srand(7);
  P = int(K * 2.5);
  for (q = 1; q <= Q; q++) {
    qid = 100000 + q;
    for (r = 1; r <= R; r++) {
      delete seen;
      file = dir "/run" r ".trec";
      for (i = 1; i <= K; i++) {
        do { d = int(rand() * P); } while (d in seen);
        seen[d] = 1;
        if (r % 3 == 1) s = 5 + rand() * 25;       # BM25-like
        else if (r % 3 == 2) s = rand();           # cosine-like
        else s = -rand() * 10;                     # log-probability-like
        printf "%d Q0 D%04d%05d %d %.4f run%d\n", qid, q % 10000, d, i, s, r > file;
      }
    }
  }
}'
RUNFILES=()
for ((r = 1; r <= RUNS; r++)); do RUNFILES+=("$SCRATCH/run$r.trec"); done

echo "== eval fuse: $RUNS runs x $QUERIES queries x $DOCS documents ($(cat "${RUNFILES[@]}" | wc -l) lines, $(du -ch "${RUNFILES[@]}" | tail -1 | cut -f1))"
machine_info
echo "python:  $(/usr/bin/python3 --version)"
cat "${RUNFILES[@]}" >/dev/null  # warm the page cache

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
  printf '%-44s median %7.3f s   best %7.3f s\n' "$label" "$(echo "$med / 1000000" | bc -l)" \
    "$(echo "$best / 1000000" | bc -l)"
}

for mn in $METHODS; do
  method="${mn%%:*}" norm="${mn#*:}"
  time_cmd "rlm eval fuse --method $method --norm $norm" \
    "$RLM" -q eval fuse "${RUNFILES[@]}" --method "$method" --norm "$norm" -o "$SCRATCH/rlm.$method"
  time_cmd "python3 fuse_peer.py --method $method --norm $norm" \
    "${PEER[@]}" fuse "${RUNFILES[@]}" --method "$method" --norm "$norm" -o "$SCRATCH/peer.$method"
  printf '%-44s %s\n' "  outputs agree?" "$("${PEER[@]}" check "$SCRATCH/rlm.$method" "$SCRATCH/peer.$method")"
done
time_cmd "rlm --threads 1 eval fuse --method rrf" \
  "$RLM" -q --threads 1 eval fuse "${RUNFILES[@]}" --method rrf -o "$SCRATCH/rlm1.rrf"
