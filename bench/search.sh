#!/usr/bin/env bash
# Benchmark 3: search latency in a fresh process on a workspace of about 100k chunks, rlm vs SQLite FTS5.
#
# Corpus (--corpus):
#   books      (default) every file under ../shared/data/large_text (Python docs, four Gutenberg novels, the
#              Rust book; ~32 MB; copied with NUL bytes removed) loaded as a directory with small chunks (SEARCH_CHUNK_SIZE/SEARCH_OVERLAP,
#              default 400/60 bytes) so that it makes ~100k chunks;
#   generated  bench/gen_text output of GEN_BYTES (default 225 MB) with rlm's default chunks (3000/500).
# Then:
#   1. the first `rlm search` after the load is timed alone ("cold": it builds the derived indexes);
#   2. bench/fts5_export copies the same chunk texts into an FTS5 table (tokenize='porter unicode61', as
#      rlm-rs), rowid = rlm chunk id;
#   3. ROUNDS rounds over 30 queries; per query, each side runs as a new process, one after the other:
#        rlm search "<query>"                       (hybrid: BM25 + hash-embedder cosine, RRF k=60, top 10)
#        rlm search "<query>" -m bm25               (BM25 alone, for reference)
#        rlm search "<query>" -m semantic           (exact dense search alone, for reference)
#        sqlite3 -readonly FTS "... MATCH '<terms OR-ed>' ORDER BY bm25(chunks_fts) LIMIT 10"
#      plus the bare process start of each program (`rlm --version`, `sqlite3 -version`) as a floor.
#      The FTS5 query is the query's terms joined with OR, minus the 33 English stop words rlm's analyzer drops,
#      so both match the same terms (FTS5's default is AND, which finds fewer chunks and is cheaper).
# Latency is wall time around each process (bash $EPOCHREALTIME), p50/p90 by nearest rank over all rounds.
#
# Usage: bench/search.sh [--corpus books|generated]   env: ROUNDS (3), SEARCH_CHUNK_SIZE, SEARCH_OVERLAP,
#        GEN_BYTES (generated corpus size)
set -euo pipefail
source "$(dirname "$0")/lib.sh"

CORPUS="books"
if [ "${1:-}" = "--corpus" ]; then CORPUS="${2:-}"; fi
ROUNDS="${ROUNDS:-3}"

need_binary "$RLM"
need_bench_tool fts5_export
command -v sqlite3 >/dev/null || { echo "bench: sqlite3 is missing (apt-get install sqlite3)" >&2; exit 1; }
make_scratch
DB="$SCRATCH/ws.db"
FTS="$SCRATCH/fts.db"

case "$CORPUS" in
  books)
    if [ -z "$DATA" ] || [ ! -d "$DATA/large_text" ]; then
      skip "search (books corpus): ../shared/data/large_text not found (set RLM_BENCH_DATA, or use --corpus generated)"
    fi
    SOURCE="$SCRATCH/large_text"
    text_copy "$DATA/large_text" "$SOURCE"  # python3.11.info has NUL bytes, which rlm rejects as binary
    CHUNK_SIZE="${SEARCH_CHUNK_SIZE:-400}"
    OVERLAP="${SEARCH_OVERLAP:-60}"
    ;;
  generated)
    need_bench_tool gen_text
    GEN_BYTES="${GEN_BYTES:-225000000}"
    SOURCE="$SCRATCH/generated.txt"
    "$BUILD/bench/gen_text" "$GEN_BYTES" --seed 7 -o "$SOURCE"
    CHUNK_SIZE="${SEARCH_CHUNK_SIZE:-3000}"
    OVERLAP="${SEARCH_OVERLAP:-500}"
    ;;
  *) echo "usage: bench/search.sh [--corpus books|generated]" >&2; exit 2 ;;
esac

# Agent-style queries over the books corpus (Python docs, War and Peace, Les Miserables, Monte Cristo, Moby
# Dick, the Rust book). The generated corpus replaces them below with word runs taken from its own text.
QUERIES=(
  "how to read a file line by line"
  "asyncio event loop run until complete"
  "regular expression named groups"
  "dictionary comprehension syntax"
  "exception handling try except finally"
  "unicode string encoding and decoding"
  "subprocess pipe stdout stderr"
  "decorators with arguments"
  "thread pool executor futures"
  "json serialization of custom objects"
  "ownership and borrowing rules"
  "lifetimes in function signatures"
  "traits and generic types"
  "error handling with Result and the question mark operator"
  "smart pointers Box Rc RefCell"
  "pattern matching with enums"
  "cargo workspaces and crates"
  "the white whale and captain Ahab"
  "harpoon the sperm whale"
  "Napoleon at the battle of Borodino"
  "Prince Andrew wounded"
  "Natasha and Pierre"
  "Jean Valjean and the bishop candlesticks"
  "Javert pursues the convict"
  "Cosette and Marius in the garden"
  "Edmond Dantes escapes the Chateau d'If"
  "the treasure of Monte Cristo"
  "revenge on Fernand and Danglars"
  "memory safety without garbage collection"
  "iterate over a list in reverse order"
)

STOP=" a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with "
fts_match() {  # the FTS5 MATCH expression for a query: its terms OR-ed, stop words dropped, each quoted
  local out="" w
  for w in $(tr '[:upper:]' '[:lower:]' <<<"$1" | tr -c '[:alnum:]\n' ' '); do
    [[ "$STOP" == *" $w "* ]] && continue
    out+="${out:+ OR }\"$w\""
  done
  echo "$out"
}

elapsed_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", (b - a) / 1000 }'; }

echo "## Search: fresh process per query, ~100k chunks ($CORPUS corpus)"
echo

# ---- build the workspace ---------------------------------------------------------------------------------------
"$RLM" -q -d "$DB" init >/dev/null
t0="$(now_us)"
"$RLM" -q -d "$DB" load "$SOURCE" -n corpus --chunk-size "$CHUNK_SIZE" --overlap "$OVERLAP" >/dev/null
t1="$(now_us)"
load_ms="$(elapsed_ms "$t0" "$t1")"
status="$("$RLM" --format json -d "$DB" status)"
chunks="$(grep -o '"chunk_count": *[0-9]*' <<<"$status" | grep -o '[0-9]*$')"
buffers="$(grep -o '"buffer_count": *[0-9]*' <<<"$status" | grep -o '[0-9]*$')"
bytes="$(grep -o '"total_content_size": *[0-9]*' <<<"$status" | grep -o '[0-9]*$')"
if [ "$CORPUS" = generated ]; then
  # 30 queries of 3-6 words from lines spread over the text (its words are made up, so the book queries
  # would mostly find nothing); then the file goes.
  mapfile -t QUERIES < <(awk -v step="$((GEN_BYTES / 80 / 31))" -v stop="$STOP" '
    NR % step == 0 { want = 2 + (NR / step) % 4; q = ""; k = 0
      for (i = 1; i <= NF && k < want; i++) { w = tolower($i); gsub(/[^a-z]/, "", w)
        if (length(w) > 1 && index(stop, " " w " ") == 0) { q = q (k ? " " : "") w; k++ } }
      if (k >= 2) print q }' "$SOURCE" | head -30)
  rm -f "$SOURCE"
fi

# ---- cold: the first search after the load builds the derived indexes ----------------------------------------
t0="$(now_us)"
"$RLM" -d "$DB" --format json search "${QUERIES[0]}" >"$SCRATCH/cold.json"
t1="$(now_us)"
cold_ms="$(elapsed_ms "$t0" "$t1")"

t0="$(now_us)"
"$BUILD/bench/fts5_export" "$DB" "$FTS" >/dev/null
t1="$(now_us)"
fts_build_ms="$(elapsed_ms "$t0" "$t1")"
sqlite3 -readonly "$FTS" "SELECT count(*) FROM chunks_fts;" >/dev/null  # open once, like rlm's cold run

# ---- warm: ROUNDS x 30 queries, each a new process ----------------------------------------------------------
for f in hybrid bm25 semantic fts5 rlm_floor sqlite_floor; do : >"$SCRATCH/$f"; done
hits_rlm=0 hits_fts=0 empty_rlm=0 empty_fts=0
for ((r = 0; r < ROUNDS; r++)); do
  for q in "${QUERIES[@]}"; do
    m="$(fts_match "$q")"
    sql="SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH '${m//\'/\'\'}' ORDER BY bm25(chunks_fts) LIMIT 10;"

    t0="$(now_us)"; "$RLM" -d "$DB" --format json search "$q" >"$SCRATCH/out.json"; t1="$(now_us)"
    elapsed_ms "$t0" "$t1" >>"$SCRATCH/hybrid"
    t0="$(now_us)"; "$RLM" -d "$DB" --format json search "$q" -m bm25 >/dev/null; t1="$(now_us)"
    elapsed_ms "$t0" "$t1" >>"$SCRATCH/bm25"
    t0="$(now_us)"; "$RLM" -d "$DB" --format json search "$q" -m semantic >/dev/null; t1="$(now_us)"
    elapsed_ms "$t0" "$t1" >>"$SCRATCH/semantic"
    t0="$(now_us)"; sqlite3 -readonly "$FTS" "$sql" >"$SCRATCH/out.txt"; t1="$(now_us)"
    elapsed_ms "$t0" "$t1" >>"$SCRATCH/fts5"
    t0="$(now_us)"; "$RLM" --version >/dev/null; t1="$(now_us)"
    elapsed_ms "$t0" "$t1" >>"$SCRATCH/rlm_floor"
    t0="$(now_us)"; sqlite3 -version >/dev/null; t1="$(now_us)"
    elapsed_ms "$t0" "$t1" >>"$SCRATCH/sqlite_floor"

    if [ "$r" -eq 0 ]; then
      n="$(grep -o '"count": *[0-9]*' "$SCRATCH/out.json" | head -1 | grep -o '[0-9]*$' || echo 0)"
      hits_rlm=$((hits_rlm + n)); [ "$n" -eq 0 ] && empty_rlm=$((empty_rlm + 1))
      n="$(wc -l <"$SCRATCH/out.txt")"
      hits_fts=$((hits_fts + n)); [ "$n" -eq 0 ] && empty_fts=$((empty_fts + 1))
    fi
  done
done

nq=${#QUERIES[@]}
echo "corpus: $SOURCE -> $buffers buffers, $bytes bytes, $chunks chunks (chunk size $CHUNK_SIZE, overlap $OVERLAP)"
index_bytes="$(stat -c %s "$DB.index" 2>/dev/null || echo 0)"
echo "derived index $DB.index: $(awk -v b="$index_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB (memory-mapped by each search); workspace $(awk -v b="$(stat -c %s "$DB")" 'BEGIN { printf "%.1f", b / 1e6 }') MB; FTS5 database $(awk -v b="$(stat -c %s "$FTS")" 'BEGIN { printf "%.1f", b / 1e6 }') MB"
echo "rlm load: $(awk -v m="$load_ms" 'BEGIN { printf "%.1f", m / 1000 }') s; FTS5 table built from the workspace in $(awk -v m="$fts_build_ms" 'BEGIN { printf "%.1f", m / 1000 }') s"
echo "results in round 1: rlm $hits_rlm over $nq queries ($empty_rlm empty), FTS5 $hits_fts ($empty_fts empty)"
echo
echo "| process per query | runs | p50 ms | p90 ms | min ms | max ms |"
echo "|---|---:|---:|---:|---:|---:|"
row() {
  local label="$1" file="$2"
  printf '| %s | %d | %s | %s | %s | %s |\n' "$label" "$(wc -l <"$file")" \
    "$(percentile 50 <"$file")" "$(percentile 90 <"$file")" \
    "$(percentile 0 <"$file")" "$(percentile 100 <"$file")"
}
printf '| rlm search, cold (first after load: builds the indexes) | 1 | %s | | | |\n' "$cold_ms"
row "rlm search (hybrid, default settings)" "$SCRATCH/hybrid"
row "rlm search -m bm25" "$SCRATCH/bm25"
row "rlm search -m semantic" "$SCRATCH/semantic"
row "sqlite3 FTS5 bm25() ORDER BY ... LIMIT 10" "$SCRATCH/fts5"
row "floor: rlm --version" "$SCRATCH/rlm_floor"
row "floor: sqlite3 -version" "$SCRATCH/sqlite_floor"
