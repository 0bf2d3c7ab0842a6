#!/usr/bin/env bash
# Benchmark 2: `rlm load` end to end (read, validate UTF-8, chunk with the default semantic chunker 3000/500,
# store text and chunks, embed every chunk with the default hash embedder, commit), each run in a fresh
# workspace (`rlm init` is not timed).
#
#   a) the largest file under ../shared/data/large_text (copied without NUL bytes, which rlm rejects as binary:
#      python3.11.info has 14), LOAD_REPS times: median MB/s and peak RSS; beside it,
#      in the same run, SQLite FTS5 indexing the same chunk texts (bench/fts5_export) and a plain `cp` of the
#      file, as reference points;
#   b) a generated text file of GEN_BYTES (default 1e9 = 1 GB; bench/gen_text) loaded once: time, MB/s and
#      peak RSS against the target peak RSS <= 0.5 x file size + 100 MB. The file and workspace live in a
#      temp folder that is deleted afterwards.
#
# Peak RSS is /usr/bin/time -v's "Maximum resident set size". MB = 1e6 bytes.
# Usage: bench/load.sh [--skip-large]   env: LOAD_REPS (5), GEN_BYTES (1000000000), LOAD_TIMEOUT (1800 s)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

LOAD_REPS="${LOAD_REPS:-5}"
GEN_BYTES="${GEN_BYTES:-1000000000}"
LOAD_TIMEOUT="${LOAD_TIMEOUT:-1800}"
SKIP_LARGE=0
[ "${1:-}" = "--skip-large" ] && SKIP_LARGE=1

need_binary "$RLM"
need_bench_tool gen_text
need_bench_tool fts5_export
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
make_scratch

json_int() {  # json_int KEY < json
  grep -o "\"$1\": *[0-9]*" | head -1 | grep -o '[0-9]*$'
}

# timed_load FILE DB: loads FILE into a fresh workspace DB; sets SECONDS_TAKEN, RSS_KB, STATUS_RC.
timed_load() {
  local file="$1" db="$2" t0 t1
  rm -f "$db" "$db-wal" "$db-shm"
  "$RLM" -q -d "$db" init >/dev/null
  t0="$(now_us)"
  set +e
  timeout "$LOAD_TIMEOUT" /usr/bin/time -v -o "$SCRATCH/time.txt" "$RLM" -q -d "$db" load "$file" -n bench \
    >"$SCRATCH/load.out" 2>"$SCRATCH/load.err"
  STATUS_RC=$?
  set -e
  t1="$(now_us)"
  SECONDS_TAKEN="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')"
  RSS_KB="$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$SCRATCH/time.txt" 2>/dev/null || true)"
  RSS_KB="${RSS_KB:-0}"
  if [ "$STATUS_RC" -ne 0 ]; then
    echo "rlm load exited with $STATUS_RC$([ "$STATUS_RC" -eq 124 ] && echo " (timed out after ${LOAD_TIMEOUT}s)"):" >&2
    head -5 "$SCRATCH/load.err" >&2
  fi
}

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

# ---- a) the largest real file ------------------------------------------------------------------------------
echo "## Load: end to end, hash embedder, semantic 3000/500, fresh workspace per run"
echo
if [ -n "$DATA" ] && [ -d "$DATA/large_text" ]; then
  ORIGINAL="$(find "$DATA/large_text" -type f -printf '%s %p\n' | sort -rn | head -1 | cut -d' ' -f2-)"
  FILE="$SCRATCH/$(basename "$ORIGINAL")"
  text_copy "$ORIGINAL" "$FILE"  # without NUL bytes, which rlm rejects as binary
  nuls=$(($(stat -c %s "$ORIGINAL") - $(stat -c %s "$FILE")))
  BYTES="$(stat -c %s "$FILE")"
  cat "$FILE" >/dev/null  # page cache warm for every run alike
  secs=() rss=()
  for ((i = 0; i < LOAD_REPS; i++)); do
    timed_load "$FILE" "$SCRATCH/ws.db"
    [ "$STATUS_RC" -eq 0 ] || exit 1
    secs+=("$SECONDS_TAKEN") rss+=("$RSS_KB")
  done
  status="$("$RLM" --format json -d "$SCRATCH/ws.db" status)"
  chunks="$(json_int chunk_count <<<"$status")"
  embedded="$(json_int embedded_chunks <<<"$status")"
  db_bytes="$(json_int db_size <<<"$status")"
  med="$(printf '%s\n' "${secs[@]}" | median)"
  med_rss="$(printf '%s\n' "${rss[@]}" | median)"

  # References in the same run: FTS5 indexing of the same chunks, and a plain copy of the file.
  fts_secs=() cp_secs=()
  for ((i = 0; i < LOAD_REPS; i++)); do
    rm -f "$SCRATCH/fts.db"
    t0="$(now_us)"; "$BUILD/bench/fts5_export" "$SCRATCH/ws.db" "$SCRATCH/fts.db" >/dev/null; t1="$(now_us)"
    fts_secs+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')")
    t0="$(now_us)"; cp "$FILE" "$SCRATCH/copy" && sync "$SCRATCH/copy"; t1="$(now_us)"
    cp_secs+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')")
    rm -f "$SCRATCH/copy"
  done
  fts_med="$(printf '%s\n' "${fts_secs[@]}" | median)"
  cp_med="$(printf '%s\n' "${cp_secs[@]}" | median)"

  echo "file: $ORIGINAL, copied without its $nuls NUL bytes ($BYTES bytes); $chunks chunks, $embedded embedded; workspace $(mb "$db_bytes") MB; median of $LOAD_REPS"
  echo
  echo "| what | median s | MB/s | peak RSS (MB) | all runs (s) |"
  echo "|---|---:|---:|---:|---|"
  printf '| rlm load | %.3f | %.1f | %.1f | %s |\n' "$med" "$(awk -v b="$BYTES" -v s="$med" 'BEGIN { print b / 1e6 / s }')" \
    "$(awk -v k="$med_rss" 'BEGIN { print k * 1024 / 1e6 }')" "${secs[*]}"
  printf '| SQLite FTS5 index of the same chunks (fts5_export) | %.3f | %.1f | | %s |\n' "$fts_med" \
    "$(awk -v b="$BYTES" -v s="$fts_med" 'BEGIN { print b / 1e6 / s }')" "${fts_secs[*]}"
  printf '| cp + sync of the file (I/O floor) | %.3f | %.1f | | %s |\n' "$cp_med" \
    "$(awk -v b="$BYTES" -v s="$cp_med" 'BEGIN { print b / 1e6 / s }')" "${cp_secs[*]}"
  rm -f "$SCRATCH"/ws.db* "$SCRATCH/fts.db"
else
  echo "SKIPPED (a): ../shared/data/large_text not found (set RLM_BENCH_DATA)"
fi
echo

# ---- b) a generated 1 GB file --------------------------------------------------------------------------------
[ "$SKIP_LARGE" -eq 1 ] && { echo "generated-file load skipped (--skip-large)"; exit 0; }
free_kb="$(df -Pk "$SCRATCH" | awk 'NR == 2 { print $4 }')"
if [ "$free_kb" -lt $((GEN_BYTES * 3 / 1024)) ]; then
  echo "SKIPPED (b): $SCRATCH has $((free_kb / 1024)) MiB free; the generated load needs about 3x $(mb "$GEN_BYTES") MB"
  exit 0
fi
t0="$(now_us)"
"$BUILD/bench/gen_text" "$GEN_BYTES" --seed 1 -o "$SCRATCH/generated.txt"
t1="$(now_us)"
gen_s="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')"
timed_load "$SCRATCH/generated.txt" "$SCRATCH/big.db"
status="$("$RLM" --format json -d "$SCRATCH/big.db" status 2>/dev/null || true)"
chunks="$(json_int chunk_count <<<"$status" || true)"
db_bytes="$(json_int db_size <<<"$status" || true)"
rm -f "$SCRATCH/generated.txt" "$SCRATCH"/big.db*

rss_bytes="$(awk -v k="$RSS_KB" 'BEGIN { printf "%.0f", k * 1024 }')"
target_bytes="$(awk -v b="$GEN_BYTES" 'BEGIN { printf "%.0f", 0.5 * b + 100e6 }')"
verdict="$(awk -v r="$rss_bytes" -v t="$target_bytes" 'BEGIN { print (r <= t) ? "met" : "MISSED" }')"
[ "$STATUS_RC" -ne 0 ] && verdict="load FAILED (exit $STATUS_RC)"
echo "generated file: $(mb "$GEN_BYTES") MB (bench/gen_text --seed 1, made in ${gen_s}s, deleted afterwards);" \
  "${chunks:-?} chunks; workspace $(mb "${db_bytes:-0}") MB"
echo
echo "| what | seconds | MB/s | peak RSS (MB) | target RSS (MB) | RSS / file size | target |"
echo "|---|---:|---:|---:|---:|---:|---|"
printf '| rlm load, generated %s MB | %.1f | %.1f | %.1f | %.1f | %.2f | %s |\n' "$(mb "$GEN_BYTES")" "$SECONDS_TAKEN" \
  "$(awk -v b="$GEN_BYTES" -v s="$SECONDS_TAKEN" 'BEGIN { print b / 1e6 / s }')" \
  "$(mb "$rss_bytes")" "$(mb "$target_bytes")" "$(awk -v r="$rss_bytes" -v b="$GEN_BYTES" 'BEGIN { print r / b }')" \
  "$verdict"
