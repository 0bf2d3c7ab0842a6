#!/usr/bin/env bash
# Writes a synthetic TREC run and qrels for benchmarking `rlm eval metrics`:
#   gen_run.sh OUT_DIR [QUERIES] [DOCS_PER_QUERY] [SEED]
# -> OUT_DIR/run.trec (QUERIES x DOCS_PER_QUERY lines, default 1000 x 850 = 850,000) and OUT_DIR/qrels.trec
# (about 60 judgments per query with grades 0-3, a third of them among the retrieved documents).
# Document ids are drawn from a collection of 8.8M ids (MS MARCO passage size); scores have 4 decimals so
# ties occur and the docid tie-break is exercised. Deterministic for a given seed (awk's srand).
set -euo pipefail
out="${1:?usage: gen_run.sh OUT_DIR [QUERIES] [DOCS_PER_QUERY] [SEED]}"
queries="${2:-1000}"
per_query="${3:-850}"
seed="${4:-42}"
mkdir -p "$out"
awk -v Q="$queries" -v K="$per_query" -v seed="$seed" -v run="$out/run.trec" -v qrels="$out/qrels.trec" 'BEGIN {
  srand(seed);
  N = 8841823;
  for (q = 1; q <= Q; q++) {
    qid = 1000 + q;
    delete seen;
    score = 30 + rand() * 10;
    for (r = 1; r <= K; r++) {
      do { d = int(rand() * N); } while (d in seen);
      seen[d] = 1;
      docs[r] = d;
      score -= rand() * 0.02;
      printf "%d Q0 D%07d %d %.4f bench\n", qid, d, r, score > run;
    }
    for (j = 0; j < 60; j++) {
      if (j % 3 == 0) { d = docs[1 + int(rand() * K)]; } else { d = int(rand() * N); }
      if (d in judged) continue;
      judged[d] = 1;
      printf "%d 0 D%07d %d\n", qid, d, int(rand() * 4) > qrels;
    }
    delete judged;
  }
}'
