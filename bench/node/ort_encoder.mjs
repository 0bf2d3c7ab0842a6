// The peer of bench/encoder_bench: ONNX Runtime (npm onnxruntime-node, CPU execution provider) running the
// bench model's model.onnx on the very batches encoder_bench wrote (--write-tokens), timed the same way:
// warm-up runs, then the median of the timed runs, batch i % batches at run i. Only session.run is timed;
// the int64 input tensors (input_ids, attention_mask of ones, token_type_ids of zeros) are built beforehand.
//
// Session: intraOpNumThreads = --threads, interOpNumThreads = 1, graphOptimizationLevel "all", sequential
// execution, executionProviders ["cpu"].
//
//   --dump FILE     writes last_hidden_state of batch 0 (float32, tokens x hidden) for encoder_bench --check
//   --profile       runs batch 0 once more in a profiling session and reports which execution providers ran
//                   the nodes and the time per operator type (ORT's own profiler; the profile file is deleted)
//
// Usage: node ort_encoder.mjs MODEL.onnx TOKENS.bin [--threads 1] [--reps 5] [--warmup 1] [--dump FILE]
//                             [--profile] [--json]
import { readFileSync, writeFileSync, rmSync } from "node:fs";
import ort from "onnxruntime-node";

function parseArgs(argv) {
  const opts = { model: null, tokens: null, threads: 1, reps: 5, warmup: 1, dump: null, profile: false, json: false };
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--threads") opts.threads = Number(next());
    else if (a === "--reps") opts.reps = Number(next());
    else if (a === "--warmup") opts.warmup = Number(next());
    else if (a === "--dump") opts.dump = next();
    else if (a === "--profile") opts.profile = true;
    else if (a === "--json") opts.json = true;
    else if (a.startsWith("-")) throw new Error(`unknown option ${a}`);
    else positional.push(a);
  }
  [opts.model, opts.tokens] = positional;
  if (!opts.model || !opts.tokens) {
    throw new Error("usage: node ort_encoder.mjs MODEL.onnx TOKENS.bin [--threads N] [--reps N] [--warmup N] " +
      "[--dump FILE] [--profile] [--json]");
  }
  return opts;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// encoder_bench --write-tokens: int32 batches, batch, seq, then the ids.
function readBatches(path) {
  const buf = readFileSync(path);
  const all = new Int32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const [batches, batch, seq] = all;
  const dims = [batch, seq];
  const feeds = [];
  for (let b = 0; b < batches; b++) {
    const ids = all.subarray(3 + b * batch * seq, 3 + (b + 1) * batch * seq);
    feeds.push({
      input_ids: new ort.Tensor("int64", BigInt64Array.from(ids, (v) => BigInt(v)), dims),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(batch * seq).fill(1n), dims),
      token_type_ids: new ort.Tensor("int64", new BigInt64Array(batch * seq), dims),
    });
  }
  return { batches, batch, seq, feeds };
}

function sessionOptions(threads) {
  return {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
    executionMode: "sequential",
  };
}

// One profiled run of `feeds`: the execution providers that ran nodes, and microseconds per operator type.
async function profile(model, threads, feeds) {
  const prefix = `/tmp/ort_encoder_profile_${process.pid}`;
  const session = await ort.InferenceSession.create(model, {
    ...sessionOptions(threads),
    enableProfiling: true,
    profileFilePrefix: prefix,
  });
  await session.run(feeds);
  await session.run(feeds);
  session.endProfiling();
  await session.release();
  const { readdirSync } = await import("node:fs");
  const file = readdirSync("/tmp").filter((f) => f.startsWith(`ort_encoder_profile_${process.pid}`)).map((f) => `/tmp/${f}`)[0];
  const events = JSON.parse(readFileSync(file, "utf8"));
  rmSync(file);
  const providers = {};
  const opUs = {};
  // Two runs were profiled; keep the second (warm) one: the events of the last "model_run".
  const runs = events.filter((e) => e.cat === "Session" && e.name === "model_run");
  const last = runs[runs.length - 1];
  for (const e of events) {
    if (e.cat !== "Node" || !e.name.endsWith("_kernel_time")) continue;
    providers[e.args.provider] = (providers[e.args.provider] || 0) + 1;
    if (last && (e.ts < last.ts || e.ts > last.ts + last.dur)) continue;
    opUs[e.args.op_name] = (opUs[e.args.op_name] || 0) + e.dur;
  }
  return { providers, op_us: opUs, run_us: last ? last.dur : null };
}

const opts = parseArgs(process.argv.slice(2));
const { batches, batch, seq, feeds } = readBatches(opts.tokens);
const session = await ort.InferenceSession.create(opts.model, sessionOptions(opts.threads));

if (opts.dump) {
  const out = await session.run(feeds[0]);
  const t = out.last_hidden_state;
  writeFileSync(opts.dump, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}
for (let i = 0; i < opts.warmup; i++) await session.run(feeds[i % batches]);
const seconds = [];
for (let i = 0; i < opts.reps; i++) {
  const f = feeds[i % batches];
  const t0 = process.hrtime.bigint();
  await session.run(f);
  seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
}
await session.release();
const med = median(seconds);
const result = {
  name: "onnxruntime",
  impl: `onnxruntime-node ${ort.env.versions.common} (node ${process.version}), CPU EP`,
  threads: opts.threads,
  seq,
  batch,
  reps: opts.reps,
  median_seconds: med,
  min_seconds: Math.min(...seconds),
  sentences_per_s: batch / med,
  ms_per_batch: med * 1e3,
};
if (opts.profile) result.profile = await profile(opts.model, opts.threads, feeds[0]);

if (opts.json) {
  console.log(JSON.stringify(result));
} else {
  console.log(`${result.impl}: batch ${batch} x seq ${seq}, ${opts.threads} threads, median of ${opts.reps} after ` +
    `${opts.warmup} warm-up`);
  console.log(`  ${result.sentences_per_s.toFixed(1)} sentences/s, ${result.ms_per_batch.toFixed(1)} ms/batch ` +
    `(best ${(result.min_seconds * 1e3).toFixed(1)})`);
  if (result.profile) {
    const p = result.profile;
    console.log(`  nodes per execution provider: ${JSON.stringify(p.providers)}`);
    const total = Object.values(p.op_us).reduce((a, b) => a + b, 0);
    const rows = Object.entries(p.op_us).sort((a, b) => b[1] - a[1]);
    console.log(`  profiled run ${(p.run_us / 1e3).toFixed(1)} ms; kernel time by operator type:`);
    for (const [op, us] of rows) console.log(`    ${op.padEnd(28)} ${(us / 1e3).toFixed(1).padStart(8)} ms  ${(100 * us / total).toFixed(1)}%`);
  }
}
