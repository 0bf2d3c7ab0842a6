#!/usr/bin/env bash
# Runs the four benchmarks of docs/benchmarks.md one after the other and prints their tables (Markdown):
#   bench/chunk.sh    semantic chunking, rlm vs LangChain's RecursiveCharacterTextSplitter
#   bench/load.sh     `rlm load` MB/s on the largest shared file, peak RSS on a generated 1 GB file
#   bench/search.sh   `rlm search` latency in a fresh process on ~100k chunks, beside SQLite FTS5
#   bench/encoder.sh  transformer encoder sentences/s beside ONNX Runtime; the hash embedder's MB/s
#   bench/fuse.sh     `rlm eval fuse` of 5 runs x 1000 queries x 1000 documents beside a plain Python script
#   bench/stats.sh    significance statistics (exact Wilcoxon, randomization, Tukey's HSD) beside scipy
# `make bench` builds first and then runs this. A benchmark whose input data is absent says SKIPPED.
# Nothing here asserts a timing. Pass --quick to skip the 1 GB load. The output is also saved to
# $BUILD/bench-results.md (build/ by default) for pasting into docs/benchmarks.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mkdir -p "$BUILD"
exec > >(tee "$BUILD/bench-results.md") 2>&1

LOAD_ARGS=()
[ "${1:-}" = "--quick" ] && LOAD_ARGS=(--skip-large)

echo "# rlm benchmarks"
echo
machine_info | sed 's/^/    /'
echo
after() { echo; echo "(load average after this benchmark: $(cut -d' ' -f1-3 /proc/loadavg))"; echo; }
"$REPO/bench/chunk.sh"
after
"$REPO/bench/load.sh" "${LOAD_ARGS[@]}"
after
"$REPO/bench/search.sh"
after
"$REPO/bench/encoder.sh"
after
"$REPO/bench/eval_metrics.sh"
after
"$REPO/bench/eval_scifact.sh"
after
"$REPO/bench/jobs.sh"
after
"$REPO/bench/fuse.sh"
after
"$REPO/bench/stats.sh"
after
