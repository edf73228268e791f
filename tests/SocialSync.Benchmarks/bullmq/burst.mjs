// BullMQ's drain of the same burst SocialSync's benchmark measures, on the benchmark's own redis-server: delayed jobs
// all due at one instant, a Worker with a job that does nothing. Progress goes to stderr; the result is one JSON line
// on stdout, read by BullMqBurst.cs.
//
// node burst.mjs --port P [--host H] [--db N] [--jobs N] [--concurrency N] [--warmup-rounds N] [--warmup-jobs N]
import { readFileSync } from 'node:fs';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

const options = parseArguments(process.argv.slice(2), {
  host: '127.0.0.1', port: 6379, db: 1, jobs: 10000, concurrency: 100, 'warmup-rounds': 3, 'warmup-jobs': 4000,
});
const bullmqVersion = JSON.parse(readFileSync(new URL('./node_modules/bullmq/package.json', import.meta.url))).version;
// The benchmark creates posts in batches of 100, eight batches at a time; jobs are added the same way.
const batchSize = 100;
const addConcurrency = 8;
const queueName = 'socialsync-bench';
const connection = { host: options.host, port: options.port, db: options.db, maxRetriesPerRequest: null };

const log = (message) => process.stderr.write(`${message}\n`);

// A database of its own, emptied first: SocialSync's keys stay untouched, and nothing of an earlier run remains.
const admin = new Redis({ host: options.host, port: options.port, db: options.db, lazyConnect: true });
await admin.connect();
await admin.flushdb();

const queue = new Queue(queueName, { connection });
let round = null;
let failed = 0;
// One worker for every round, as one long-running worker process would serve them.
const worker = new Worker(queueName, async () => {}, { connection, concurrency: options.concurrency });
worker.on('completed', (job) => {
  const completedAt = Date.now();
  if (round === null || job.data.round !== round.name) {
    return;
  }
  round.lateness.push(completedAt - round.dueAt);
  if (round.lateness.length === round.jobs) {
    round.done(completedAt);
  }
});
worker.on('failed', (job, error) => {
  failed++;
  log(`job ${job?.id} failed: ${error?.message}`);
});
worker.on('error', (error) => log(`worker error: ${error?.message}`));
await worker.waitUntilReady();

let addRate = null;
const rounds = [];
// The same rounds as SocialSync's warm-up (its services are measured warm, so BullMQ is too), then the measured burst.
for (let i = 1; i <= options['warmup-rounds']; i++) {
  const result = await runRound(`warmup${i}`, options['warmup-jobs'], { measured: false });
  log(`bullmq warm-up round ${i}: ${result.jobs} jobs drained ${result.seconds.toFixed(2)} s after their due instant`);
  rounds.push(result);
}
const burst = await runRound('burst', options.jobs, { measured: true });
log(`bullmq burst: all ${burst.jobs} completed ${burst.seconds.toFixed(2)} s after the due instant`);

const counts = await queue.getJobCounts('completed', 'failed', 'delayed', 'wait', 'active');
const expected = rounds.reduce((sum, r) => sum + r.jobs, 0) + burst.jobs;
await worker.close();
await queue.close();
await admin.flushdb();
admin.disconnect();
if (counts.completed !== expected || failed > 0) {
  log(`bullmq: ${counts.completed} jobs completed in Redis, ${failed} failed; expected ${expected} completed`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({
  bullmqVersion,
  concurrency: options.concurrency,
  jobs: burst.jobs,
  seconds: burst.seconds,
  latenessMs: burst.latenessMs,
  addSeconds: burst.addSeconds,
  completedInRedis: counts.completed,
  warmupRounds: rounds.map((r) => ({ jobs: r.jobs, seconds: r.seconds })),
})}\n`);

/** Adds `jobs` delayed jobs all due at one instant a few seconds ahead, and waits until the worker completed each. */
async function runRound(name, jobs, { measured }) {
  // As SocialSync's: a warm-up round is due ten seconds ahead; the burst twice the expected time to add it, plus five.
  const leadMs = measured ? Math.ceil((jobs / Math.max(addRate ?? 0, 100)) * 2 * 1000) + 5000 : 10000;
  const dueAt = Date.now() + leadMs;
  let done;
  const completed = new Promise((resolve) => { done = resolve; });
  round = { name, jobs, dueAt, lateness: [], done };

  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: addConcurrency }, async () => {
    while (next < jobs) {
      const first = next;
      next = Math.min(next + batchSize, jobs);
      // Every job created at the same timestamp with the same delay: the same due instant to the millisecond.
      const createdAt = Date.now();
      await queue.addBulk(Array.from({ length: next - first }, (_, k) => ({
        name: 'publish',
        data: { round: name, index: first + k },
        opts: { timestamp: createdAt, delay: Math.max(dueAt - createdAt, 1) },
      })));
    }
  }));
  const addSeconds = (performance.now() - started) / 1000;
  addRate = jobs / addSeconds;
  const addedAt = Date.now();
  // A burst whose jobs were still being added at its due instant would not be a burst; a late warm-up still warms up.
  if (measured && addedAt >= dueAt) {
    throw new Error(`${name}: adding ${jobs} jobs ended ${addedAt - dueAt} ms after their due instant`);
  }

  const lastCompletedAt = await completed;
  const lateness = round.lateness.sort((a, b) => a - b);
  round = null;
  return {
    jobs,
    addSeconds,
    seconds: (lastCompletedAt - dueAt) / 1000,
    latenessMs: { p50: percentile(lateness, 0.5), p99: percentile(lateness, 0.99), max: lateness[lateness.length - 1] },
  };
}

function percentile(sorted, p) {
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(Math.max(rank, 0), sorted.length - 1)];
}

function parseArguments(args, defaults) {
  const parsed = { ...defaults };
  for (let i = 0; i < args.length; i += 2) {
    const key = args[i].replace(/^--/, '');
    if (!(key in defaults) || i + 1 >= args.length) {
      throw new Error(`unknown option or missing value: ${args[i]}; options: ${Object.keys(defaults).map((k) => `--${k}`).join(' ')}`);
    }
    parsed[key] = key === 'host' ? args[i + 1] : Number.parseInt(args[i + 1], 10);
  }
  return parsed;
}
