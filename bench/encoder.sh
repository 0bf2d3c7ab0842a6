#!/usr/bin/env bash
# Benchmark 4: transformer encoder throughput, rlm's encoder vs ONNX Runtime, same model, same batches, same run;
# and the `hash` embedder's MB/s.
#
#   rlm Encoder (embed/encoder.h, sgemm in TBB tasks)             -> build/bench/encoder_bench, once per GEMM
#     library in GEMMS (RLM_GEMM=onednn: the default; openblas: the fallback)
#   ONNX Runtime CPU EP on the same weights' model.onnx          -> bench/node/ort_encoder.mjs
#   hash embedder on the chunks of the largest shared file       -> build/bench/hash_embed_bench
#
# The model is a 6-layer all-MiniLM-L6-v2-shaped encoder with random weights (hidden 384, 12 heads, FFN 1536),
# written by tools/gen_models.py --bench into $BUILD/bench-models/minilm6 the first time (~20 s): speed does
# not depend on the weights' values. encoder_bench writes BATCHES batches of BATCH sequences of exactly SEQ
# token ids for each SEQ; both sides run those same batches (no padding on either side). Before timing, ORT's
# last_hidden_state for batch 0 is saved and encoder_bench compares its own with it (max |diff|), so both do
# the same work. Each round runs rlm, then ORT, for every SEQ x THREADS; each run reports the median of REPS
# timed batches after WARMUP; the table gives the median over ROUNDS rounds of those medians.
# GFLOP/s uses the exact FLOP count of encoder_bench.cc (projections, FFN and attention matrix products).
#
# Usage: bench/encoder.sh    env: SEQS ("128 256"), THREADS ("1 2"), GEMMS ("onednn openblas"), BATCH (32),
#                               BATCHES (4), REPS (5), WARMUP (1), ROUNDS (3), ENCODER_MODEL (model folder), HASH_FILE
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SEQS="${SEQS:-128 256}"
THREADS="${THREADS:-1 2}"
GEMMS="${GEMMS:-onednn openblas}"
BATCH="${BATCH:-32}"
BATCHES="${BATCHES:-4}"
REPS="${REPS:-5}"
WARMUP="${WARMUP:-1}"
ROUNDS="${ROUNDS:-3}"
MODEL="${ENCODER_MODEL:-$BUILD/bench-models/minilm6}"
HASH_FILE="${HASH_FILE:-${DATA:+$DATA/large_text/debian/python3.11.info}}"

need_bench_tool encoder_bench
need_bench_tool hash_embed_bench
if [ ! -f "$MODEL/model.safetensors" ] || [ ! -f "$MODEL/model.onnx" ]; then
  echo "generating the bench model in $MODEL (tools/gen_models.py --bench, ~20 s) ..." >&2
  mkdir -p "$MODEL"
  MODEL="$(cd "$MODEL" && pwd)"
  /usr/bin/python3 "$REPO/tools/gen_models.py" --bench "$MODEL" >&2
fi
MODEL="$(cd "$MODEL" && pwd)"

NODE_DIR="$REPO/bench/node"
peer_note=""
if ! command -v node >/dev/null; then
  peer_note="ONNX Runtime skipped: node is not installed (apt-get install nodejs npm)"
elif [ ! -d "$NODE_DIR/node_modules/onnxruntime-node" ]; then
  echo "installing the ONNX Runtime peer (npm ci in bench/node) ..." >&2
  (cd "$NODE_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2) ||
    peer_note="ONNX Runtime skipped: npm ci failed in bench/node"
fi
make_scratch

BENCH="$BUILD/bench/encoder_bench"
peak="$("$BENCH" --peak --json)"
rows=""
ep_note=""
for seq in $SEQS; do
  tokens="$SCRATCH/tokens-$seq.bin"
  "$BENCH" --write-tokens "$tokens" --seq "$seq" --batch "$BATCH" --batches "$BATCHES"
  check=()
  if [ -z "$peer_note" ]; then
    # ORT's output for batch 0 (and, once, which execution provider ran each node).
    profile=()
    [ -z "$ep_note" ] && profile=(--profile)
    out="$(cd "$NODE_DIR" && node ort_encoder.mjs "$MODEL/model.onnx" "$tokens" --threads 1 --reps 1 --warmup 0 \
      --dump "$SCRATCH/ort-$seq.f32" "${profile[@]}" --json)"
    if [ -z "$ep_note" ]; then
      ep_note="$(printf '%s' "$out" | sed -n 's/.*"providers":\({[^}]*}\).*/\1/p')"
    fi
    check=(--check "$SCRATCH/ort-$seq.f32")
  fi
  for round in $(seq "$ROUNDS"); do
    for t in $THREADS; do
      for gemm in $GEMMS; do
        rows+="$(RLM_GEMM="$gemm" "$BENCH" "$MODEL" --seq "$seq" --batch "$BATCH" --batches "$BATCHES" --threads "$t" \
          --reps "$REPS" --warmup "$WARMUP" "${check[@]}" --json | sed "s/^{/{\"round\":$round,/")"$'\n'
      done
      if [ -z "$peer_note" ]; then
        rows+="$(cd "$NODE_DIR" && node ort_encoder.mjs "$MODEL/model.onnx" "$tokens" --threads "$t" --reps "$REPS" \
          --warmup "$WARMUP" --json | sed "s/^{/{\"round\":$round,/")"$'\n'
      fi
    done
  done
done

field_awk='
  function field(k,   m) {
    if (match($0, "\"" k "\":(\"[^\"]*\"|[-0-9.eE+]+)")) {
      m = substr($0, RSTART + length(k) + 3, RLENGTH - length(k) - 3); gsub(/"/, "", m); return m
    }
    return ""
  }'
paper="$(printf '%s\n' "$peak" | awk "$field_awk"' { print field("paper_core_gflops") }')"
sgemm="$(printf '%s\n' "$peak" | awk "$field_awk"' { print field("sgemm_core_gflops") }')"
mhz="$(printf '%s\n' "$peak" | awk "$field_awk"' { print field("cpu_mhz") }')"
sgemm_onednn="$(printf '%s\n' "$peak" | awk "$field_awk"' { print field("onednn_core_gflops") }')"
sgemm_openblas="$(printf '%s\n' "$peak" | awk "$field_awk"' { print field("openblas_core_gflops") }')"

echo "## Encoder: MiniLM-L6 shape (6 layers, hidden 384, FFN 1536), batch $BATCH, rlm vs ONNX Runtime"
echo "median over $ROUNDS rounds of each run's median of $REPS batches after $WARMUP warm-up; each round runs"
echo "rlm with every GEMM library ($GEMMS), then ORT; GFLOP/s = exact matmul FLOPs / median time;"
echo "% peak is of threads x the best measured single-core sgemm"
echo
printf '%s' "$rows" | awk -v sgemm="$sgemm" "$field_awk"'
  function median(list,   a, n, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function num(x) { return x == "" ? "n/a" : x }
  NF {
    key = field("seq") SUBSEP field("threads")
    if (!(key in seen)) { seen[key] = 1; order[++nk] = key }
    if (field("name") == "rlm-encoder") {
      g = field("gemm"); if (!(g in gseen)) { gseen[g] = 1; gemms[++ng] = g }
      rlm[g, key] = rlm[g, key] " " field("median_seconds"); gflop[key] = field("gflop_per_batch")
      diff[g, key] = field("max_abs_diff"); batch[key] = field("batch")
    } else {
      ort[key] = ort[key] " " field("median_seconds")
    }
  }
  END {
    printf "| seq | threads | ORT sent/s | ORT GFLOP/s |"
    for (j = 1; j <= ng; j++) printf " rlm %s sent/s | rlm %s / ORT | rlm %s GFLOP/s | %% peak | max abs diff vs ORT |", gemms[j], gemms[j], gemms[j]
    printf "\n|---:|---:|---:|---:|"
    for (j = 1; j <= ng; j++) printf "---:|---:|---:|---:|---:|"
    printf "\n"
    for (i = 1; i <= nk; i++) {
      k = order[i]; split(k, st, SUBSEP)
      o = (k in ort) ? median(ort[k]) : 0
      printf "| %s | %s | %s | %s |", st[1], st[2], o ? sprintf("%.1f", batch[k] / o) : "n/a",
        o ? sprintf("%.1f", gflop[k] / o) : "n/a"
      for (j = 1; j <= ng; j++) {
        g = gemms[j]; r = median(rlm[g, k])
        printf " %.1f | %s | %.1f | %.0f%% | %s |", batch[k] / r, o ? sprintf("**%.2fx**", o / r) : "n/a", gflop[k] / r,
          100 * gflop[k] / r / (st[2] * sgemm), diff[g, k] == "-1" ? "n/a" : diff[g, k]
      }
      printf "\n"
    }
  }'
echo
echo "peak per core: single-threaded sgemm 2048^3 measured at oneDNN $sgemm_onednn, OpenBLAS $sgemm_openblas GFLOP/s;"
echo "paper $paper GFLOP/s"
echo "(AVX-512: 2 FMA units x 16 floats x 2 flops x $mhz MHz as /proc/cpuinfo reports it)"
[ -n "$ep_note" ] && echo "ORT nodes per execution provider (profiled run): $ep_note"
[ -n "$peer_note" ] && echo "$peer_note"
echo
echo "Raw runs (JSON, one per line):"
echo
printf '%s' "$rows" | sed 's/^/    /'

echo
if [ -z "$HASH_FILE" ] || [ ! -f "$HASH_FILE" ]; then
  echo "hash embedder: SKIPPED (input file not found; expected ../shared/data/large_text/debian/python3.11.info)"
  exit 0
fi
echo "## hash embedder: $(basename "$HASH_FILE") split by the semantic chunker (3000/500), Embed alone timed"
echo
echo "| threads | chunks | chunk MB (with overlap) | median ms | MB/s | chunks/s |"
echo "|---:|---:|---:|---:|---:|---:|"
for t in $THREADS; do
  "$BUILD/bench/hash_embed_bench" "$HASH_FILE" --threads "$t" --reps "$REPS" --warmup "$WARMUP" --json |
    awk "$field_awk"'{ printf "| %s | %s | %.2f | %.0f | %.1f | %.0f |\n", field("threads"), field("chunks"),
      field("chunk_bytes") / 1e6, field("median_seconds") * 1000, field("mb_per_s"), field("chunks_per_s") }'
done
