#!/usr/bin/env bash
# Benchmark 1: semantic chunking throughput, rlm vs LangChain, same file, same run.
#
#   rlm semantic (1 thread), rlm parallel (1 and 2 threads)   -> build/bench/chunk_bench
#   LangChain RecursiveCharacterTextSplitter (node)           -> bench/node/langchain_split.mjs
#
# Both split the whole file held in memory with size 3000 / overlap 500; only the split is timed; each side
# reports the median of its repetitions after WARMUP untimed ones. LangChain counts UTF-16 code units, rlm
# counts UTF-8 bytes (the same on ASCII text). MB = 1e6 bytes of input.
#
# A split by rlm takes milliseconds, so rlm gets more repetitions (RLM_REPS) than LangChain (REPS): a
# scheduler hiccup then cannot move its median.
#
# Usage: bench/chunk.sh [FILE]     env: RLM_REPS (default 51), REPS (9), WARMUP (2), THREADS (2)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

FILE="${1:-${DATA:+$DATA/large_text/debian/python3.11.info}}"
REPS="${REPS:-9}"
RLM_REPS="${RLM_REPS:-51}"
WARMUP="${WARMUP:-2}"
THREADS="${THREADS:-2}"
if [ -z "$FILE" ] || [ ! -f "$FILE" ]; then
  skip "chunking: input file not found (expected ../shared/data/large_text/debian/python3.11.info; set RLM_BENCH_DATA or pass a file)"
fi
need_bench_tool chunk_bench

echo "## Chunking: $(basename "$FILE") ($(stat -c %s "$FILE") bytes), size 3000, overlap 500"
echo "median (and best) of $RLM_REPS (rlm) / $REPS (LangChain) runs after $WARMUP warm-up runs; MB/s = input bytes / 1e6 / median seconds;"
echo "speed-ups are ratios of medians"
echo

rows="$("$BUILD/bench/chunk_bench" "$FILE" --size 3000 --overlap 500 --reps "$RLM_REPS" --warmup "$WARMUP" \
  --threads "$THREADS" --json)"

NODE_DIR="$REPO/bench/node"
peer_note=""
if ! command -v node >/dev/null; then
  peer_note="LangChain skipped: node is not installed (apt-get install nodejs npm)"
else
  if [ ! -d "$NODE_DIR/node_modules/@langchain/textsplitters" ]; then
    echo "installing the LangChain peer (npm ci in bench/node) ..." >&2
    (cd "$NODE_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2) ||
      peer_note="LangChain skipped: npm ci failed in bench/node"
  fi
  if [ -z "$peer_note" ]; then
    rows+=$'\n'"$(cd "$NODE_DIR" && node langchain_split.mjs "$FILE" --size 3000 --overlap 500 \
      --reps "$REPS" --warmup "$WARMUP" --json)"
  fi
fi

# One row per implementation; speed-up columns relative to LangChain and to rlm semantic.
printf '%s\n' "$rows" | awk '
  function field(k,   m) {
    if (match($0, "\"" k "\":(\"[^\"]*\"|[-0-9.eE+]+)")) {
      m = substr($0, RSTART + length(k) + 3, RLENGTH - length(k) - 3); gsub(/"/, "", m); return m
    }
    return ""
  }
  { n++; name[n] = field("name"); thr[n] = field("threads"); chunks[n] = field("chunks");
    maxb[n] = field("max_chunk_bytes"); sec[n] = field("median_seconds"); mbs[n] = field("mb_per_s");
    best[n] = field("min_seconds");
    if (name[n] == "langchain-recursive") lc = n
    if (name[n] == "rlm-semantic") sem = n }
  END {
    printf "| implementation | threads | chunks | largest chunk (bytes) | median ms | best ms | MB/s | vs LangChain | vs rlm semantic |\n"
    printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    for (i = 1; i <= n; i++) {
      vs_lc = lc ? sprintf("%.1fx", sec[lc] / sec[i]) : "n/a"
      vs_sem = sem ? sprintf("%.2fx", sec[sem] / sec[i]) : "n/a"
      printf "| %s | %s | %s | %s | %.1f | %.1f | %.1f | %s | %s |\n", name[i], thr[i], chunks[i], maxb[i],
        sec[i] * 1000, best[i] * 1000, mbs[i], vs_lc, vs_sem
    }
  }'
if [ -n "$peer_note" ]; then echo; echo "$peer_note"; fi
