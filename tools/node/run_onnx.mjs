// Runs an ONNX model with onnxruntime-node (a dependency of @huggingface/transformers) so tools/gen_models.py
// can check its torch.onnx export without a Python ONNX runtime. Not part of rlm.
//
//   node tools/node/run_onnx.mjs MODEL.onnx FEEDS.json   (FEEDS: {"name": [[int, ...], ...], ...}, int64 2-D)
// Prints {"output_name": {"dims": [...], "data": [...]}, ...} as JSON on stdout.
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

const [model, feedsPath] = process.argv.slice(2);
const raw = JSON.parse(readFileSync(feedsPath, 'utf8'));
const feeds = {};
for (const [name, rows] of Object.entries(raw)) {
  const flat = rows.flat().map((v) => BigInt(v));
  feeds[name] = new ort.Tensor('int64', BigInt64Array.from(flat), [rows.length, rows[0].length]);
}
const session = await ort.InferenceSession.create(model);
const results = await session.run(feeds);
const out = {};
for (const [name, t] of Object.entries(results)) out[name] = { dims: t.dims, data: Array.from(t.data) };
process.stdout.write(JSON.stringify(out));
