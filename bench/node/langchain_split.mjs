// The peer of bench/chunk_bench: LangChain's RecursiveCharacterTextSplitter (npm @langchain/textsplitters)
// splitting one file with the same size and overlap, timed the same way (warm-up, then the median of
// several repetitions of the split alone; reading the file is not timed).
//
// LangChain measures chunkSize and chunkOverlap in UTF-16 code units (String.length), rlm in UTF-8 bytes:
// on mostly-ASCII text the two agree; on multi-byte text LangChain's chunks are larger in bytes.
// MB/s is computed from the file's size in bytes (1 MB = 1e6 bytes) for both sides.
//
// Usage: node langchain_split.mjs FILE [--size 3000] [--overlap 500] [--reps 7] [--warmup 2] [--json]
import { readFileSync } from "node:fs";
import { RecursiveCharacterTextSplitter } from "@langchain/textsplitters";

function parseArgs(argv) {
  const opts = { file: null, size: 3000, overlap: 500, reps: 7, warmup: 2, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--size") opts.size = Number(next());
    else if (a === "--overlap") opts.overlap = Number(next());
    else if (a === "--reps") opts.reps = Number(next());
    else if (a === "--warmup") opts.warmup = Number(next());
    else if (a === "--json") opts.json = true;
    else if (a.startsWith("-")) throw new Error(`unknown option ${a}`);
    else opts.file = a;
  }
  if (!opts.file) throw new Error("usage: node langchain_split.mjs FILE [--size N] [--overlap N] [--reps N] [--warmup N] [--json]");
  return opts;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const opts = parseArgs(process.argv.slice(2));
const bytes = readFileSync(opts.file);
const text = bytes.toString("utf8");
const splitter = new RecursiveCharacterTextSplitter({ chunkSize: opts.size, chunkOverlap: opts.overlap });

let chunks = [];
for (let i = 0; i < opts.warmup; i++) chunks = await splitter.splitText(text);
const seconds = [];
for (let i = 0; i < opts.reps; i++) {
  const t0 = process.hrtime.bigint();
  chunks = await splitter.splitText(text);
  seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
}
const med = median(seconds);
const maxChunkBytes = chunks.reduce((m, c) => Math.max(m, Buffer.byteLength(c, "utf8")), 0);
const result = {
  name: "langchain-recursive",
  impl: `@langchain/textsplitters RecursiveCharacterTextSplitter (node ${process.version})`,
  threads: 1,
  file: opts.file,
  bytes: bytes.length,
  size: opts.size,
  overlap: opts.overlap,
  reps: opts.reps,
  chunks: chunks.length,
  max_chunk_bytes: maxChunkBytes,
  median_seconds: med,
  min_seconds: Math.min(...seconds),
  mb_per_s: bytes.length / 1e6 / med,
};
if (opts.json) {
  console.log(JSON.stringify(result));
} else {
  console.log(`${result.name}: ${result.chunks} chunks, median ${(med * 1000).toFixed(1)} ms, ` +
              `${result.mb_per_s.toFixed(1)} MB/s`);
}
