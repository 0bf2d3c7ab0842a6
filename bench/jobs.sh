#!/usr/bin/env bash
# Benchmark: the Redis job queue (issue 5), side by side with BullMQ on the same redis-server in the same run.
#
#   1. No-op jobs, produce and consume, at concurrency 5 and 50: `rlm jobs bench` against
#      bench/node/bullmq_bench.mjs (bullmq + ioredis, addBulk, removeOnComplete/removeOnFail), ROUNDS
#      alternating rounds each, median and best of each.
#   2. Overhead per query job of a real evaluation: SciFact test split, bm25, in one process vs
#      `rlm eval run --redis` with one `rlm worker` on the same machine (query-phase time / 300 queries).
#
# The script starts its own redis-server (no persistence) on a free loopback port and stops it at the end.
# Usage: bench/jobs.sh   env: ROUNDS (3), JOBS (100000)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ROUNDS="${ROUNDS:-3}"
JOBS="${JOBS:-100000}"
need_binary "$RLM"
command -v redis-server >/dev/null || { echo "bench: redis-server is missing (scripts/setup installs it)" >&2; exit 1; }
make_scratch

# A free loopback port: one nothing answers on (bash's /dev/tcp connects when something listens).
while :; do
  PORT=$((20000 + RANDOM % 40000))
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
done
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --dir "$SCRATCH" \
  --logfile "$SCRATCH/redis.log" &
REDIS_PID=$!
trap 'kill $REDIS_PID 2>/dev/null; rm -rf "$SCRATCH"' EXIT
URL="redis://127.0.0.1:$PORT"
for _ in $(seq 100); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.05; done

NODE_DIR="$REPO/bench/node"
peer=1
if ! command -v node >/dev/null; then
  echo "BullMQ skipped: node is not installed" >&2
  peer=0
elif [ ! -d "$NODE_DIR/node_modules/bullmq" ]; then
  echo "installing the BullMQ peer (npm ci in bench/node) ..." >&2
  (cd "$NODE_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2) || peer=0
fi

echo "== job queue: $JOBS no-op jobs per round, $ROUNDS rounds, redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
machine_info

field() { grep -o "\"$1\": *\"\\?[0-9A-Za-z.]*" | sed 's/.*: *"\?//'; }  # one field of a flat JSON object

for C in 5 50; do
  : >"$SCRATCH/rlm_p"; : >"$SCRATCH/rlm_c"; : >"$SCRATCH/bq_p"; : >"$SCRATCH/bq_c"
  for ((r = 0; r < ROUNDS; r++)); do
    out="$("$RLM" --format json jobs bench --redis "$URL" --jobs "$JOBS" --concurrency "$C" | tr -d '\n')"
    echo "$out" | field produce_per_s >>"$SCRATCH/rlm_p"
    echo "$out" | field consume_per_s >>"$SCRATCH/rlm_c"
    if [ "$peer" = 1 ]; then
      out="$(cd "$NODE_DIR" && node bullmq_bench.mjs --redis "$URL" --jobs "$JOBS" --concurrency "$C")"
      echo "$out" | field produce_per_s >>"$SCRATCH/bq_p"
      echo "$out" | field consume_per_s >>"$SCRATCH/bq_c"
      bq_version="$(echo "$out" | field version)"
    fi
  done
  best() { sort -g "$1" | tail -1; }
  printf '| concurrency %s | rlm produce | rlm consume | BullMQ %s produce | BullMQ consume |\n' "$C" "${bq_version:-}"
  printf '| median | %s | %s | %s | %s |\n' "$(median <"$SCRATCH/rlm_p")" "$(median <"$SCRATCH/rlm_c")" \
    "$(median <"$SCRATCH/bq_p")" "$(median <"$SCRATCH/bq_c")"
  printf '| best | %s | %s | %s | %s |\n' "$(best "$SCRATCH/rlm_p")" "$(best "$SCRATCH/rlm_c")" \
    "$(best "$SCRATCH/bq_p")" "$(best "$SCRATCH/bq_c")"
done

# 2. Overhead per query job on SciFact.
if [ -z "$DATA" ] || [ ! -d "$DATA/scifact" ]; then
  echo "SciFact part skipped: no shared data folder"
  exit 0
fi
echo "== per-query overhead: SciFact test, bm25, depth 1000"
query_s() {  # index + query seconds of the first variant in results.json
  local t
  t="$(tr -d ' \n' <"$1/results.json" | grep -o '"timings_s":{[^}]*}' | head -1)"
  awk -v t="$t" 'BEGIN { n = split(t, a, /[:,{}"]+/); for (i = 1; i < n; i++) v[a[i]] = a[i + 1]; print v["index"] + v["query"] }'
}
for ((r = 0; r < ROUNDS; r++)); do
  t0="$(now_us)"
  "$RLM" -q eval run --dataset "$DATA/scifact" --out "$SCRATCH/local$r" -m ndcg_cut.10 --variant bm25=bm25 >/dev/null
  t1="$(now_us)"
  echo "local: wall $(((t1 - t0) / 1000)) ms, index+query $(query_s "$SCRATCH/local$r") s"
  RLM_CACHE_DIR="$SCRATCH/wcache$r" "$RLM" -q worker --redis "$URL" --concurrency "$(nproc)" &
  WORKER=$!
  t0="$(now_us)"
  "$RLM" -q eval run --redis "$URL" --dataset "$DATA/scifact" --out "$SCRATCH/dist$r" -m ndcg_cut.10 \
    --variant bm25=bm25 >/dev/null
  t1="$(now_us)"
  kill -TERM $WORKER; wait $WORKER || true
  echo "redis, 1 worker: wall $(((t1 - t0) / 1000)) ms, query phase (worker builds the index, runs 300 jobs) $(query_s "$SCRATCH/dist$r") s"
  cmp -s "$SCRATCH/local$r/runs/bm25.trec" "$SCRATCH/dist$r/runs/bm25.trec" && echo "  run files identical"
  "$RLM" -q jobs purge --redis "$URL" --all >/dev/null
done
