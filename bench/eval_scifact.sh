#!/usr/bin/env bash
# Benchmark: issue 4's end-to-end evaluation on SciFact's test split.
#   1. `rlm eval run` with bm25, hash-dense and hybrid variants, cold (fresh output folder): wall time and
#      each phase's seconds from results.json.
#   2. The BM25 retriever alone, one thread, depth 1000, beside SQLite FTS5's bm25() on the same documents
#      and queries (bench/scifact_bm25_bench): queries/s and nDCG@10 of both.
# Usage: bench/eval_scifact.sh   env: ROUNDS (3)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROUNDS="${ROUNDS:-3}"
need_binary "$RLM"
need_bench_tool scifact_bm25_bench
[ -n "$DATA" ] && [ -d "$DATA/scifact" ] || skip "no shared data folder with scifact/"
make_scratch

echo "== eval run end to end: SciFact test, variants bm25, dense (hash), hybrid (RRF), cold"
machine_info
for ((r = 0; r < ROUNDS; r++)); do
  t0="$(now_us)"
  "$RLM" -q eval run --dataset "$DATA/scifact" --out "$SCRATCH/run$r" -m ndcg_cut.10 -m recall.100 \
    --variant bm25=bm25 --variant dense=dense,embedder=hash --variant hyb=hybrid,embedder=hash >/dev/null
  t1="$(now_us)"
  echo "round $r: wall $(((t1 - t0) / 1000)) ms; seconds of bm25, dense, hyb:" \
    "$(tr -d ' \n' <"$SCRATCH/run$r/results.json" | grep -o '"timings_s":{[^}]*}' | sed 's/"timings_s"://' | tr '\n' ' ')"
done
echo
echo "== BM25 retriever vs SQLite FTS5 bm25(), one thread, depth 1000"
"$BUILD/bench/scifact_bm25_bench" "$DATA/scifact" 1000 "$ROUNDS"
