// bullmq_bench.mjs — BullMQ peer for `rlm jobs bench` (raw queue throughput, no-op jobs).
// Usage: node bullmq_bench.mjs --redis redis://127.0.0.1:PORT [--jobs N=100000] [--concurrency C=5] [--batch B=1000]
// Produce: N jobs added with queue.addBulk in chunks of B, timed alone -> produce_per_s = N / s.
// Consume: a Worker (autorun:false, started only after producing) with async no-op processor,
//   timed from worker.run() until N `completed` events -> consume_per_s = N / s. Prints one JSON line.
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const VERSION = require('bullmq/package.json').version;

function die(msg) {
  process.stderr.write(`bullmq_bench: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const o = { redis: null, jobs: 100000, concurrency: 5, batch: 1000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const key = a.startsWith('--') ? (eq > 0 ? a.slice(2, eq) : a.slice(2)) : null;
    if (key === 'help' || a === '-h') {
      process.stdout.write('usage: node bullmq_bench.mjs --redis URL [--jobs N] [--concurrency C] [--batch B]\n');
      process.exit(0);
    }
    if (!key || !(key in o)) die(`unknown argument: ${a}`);
    const val = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (val === undefined) die(`missing value for --${key}`);
    if (key === 'redis') {
      o.redis = val;
    } else {
      const n = Number(val);
      if (!Number.isInteger(n) || n < 1) die(`--${key} must be a positive integer, got ${val}`);
      o[key] = n;
    }
  }
  if (!o.redis) die('--redis URL is required (e.g. --redis redis://127.0.0.1:6379)');
  return o;
}

// Fail fast (BullMQ's own connections would retry forever on an unreachable server).
async function checkRedis(url) {
  const c = new IORedis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let lastErr = null;
  c.on('error', (e) => (lastErr = e));
  try {
    await c.connect();
    await c.ping();
  } catch (e) {
    die(`cannot reach Redis at ${url}: ${(lastErr || e).message || lastErr || e}`);
  } finally {
    c.disconnect();
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  await checkRedis(opts.redis);

  const N = opts.jobs;
  // maxRetriesPerRequest:null is what BullMQ requires for Worker connections.
  const connection = { url: opts.redis, maxRetriesPerRequest: null };
  const name = `bench-${process.pid}-${Date.now()}`;
  const queue = new Queue(name, { connection });
  await queue.waitUntilReady();

  // removeOnComplete/removeOnFail: finished jobs are deleted immediately, so Redis memory stays
  // flat and no completed/failed sets are maintained — the fairest (fastest) BullMQ configuration.
  const jobOpts = { removeOnComplete: true, removeOnFail: true };

  // ---- produce ----
  const t0 = process.hrtime.bigint();
  for (let start = 0; start < N; start += opts.batch) {
    const end = Math.min(N, start + opts.batch);
    const chunk = new Array(end - start);
    for (let i = start; i < end; i++) chunk[i - start] = { name: 'noop', data: { i }, opts: jobOpts };
    await queue.addBulk(chunk);
  }
  const produceS = Number(process.hrtime.bigint() - t0) / 1e9;

  // ---- consume ----
  let completed = 0;
  let failed = 0;
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  const worker = new Worker(name, async () => {}, {
    connection,
    concurrency: opts.concurrency,
    autorun: false, // not started until every job is produced: phases are timed separately
  });
  worker.on('completed', () => {
    if (++completed + failed === N) resolveDone();
  });
  worker.on('failed', () => {
    if (completed + ++failed === N) resolveDone();
  });
  worker.on('error', (e) => process.stderr.write(`bullmq_bench: worker error: ${e.message || e}\n`));
  await worker.waitUntilReady();

  const t1 = process.hrtime.bigint();
  const running = worker.run().catch((e) => die(`worker.run failed: ${e.message || e}`));
  await done;
  const consumeS = Number(process.hrtime.bigint() - t1) / 1e9;

  await worker.close();
  await running;
  await queue.obliterate({ force: true });
  await queue.close();

  if (failed) die(`${failed} of ${N} jobs failed`);
  process.stdout.write(
    JSON.stringify({
      peer: 'bullmq',
      version: VERSION,
      jobs: N,
      concurrency: opts.concurrency,
      produce_per_s: Math.round(N / produceS),
      consume_per_s: Math.round(N / consumeS),
    }) + '\n',
  );
}

main().catch((e) => die(e.stack || String(e)));
