// Simulator speed and memory. Requests and events per second of two models, each next to a
// bare heap-based event loop in plain JS measured in the same process (the ratio is the number
// that survives a busy machine; bench/sim-speed.ts runs them); and peak RSS of `npm run sim
// --no-requests` at 1 M and 10 M requests, each in its own child process, to show memory does
// not grow with the run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { loadExperiment } from '../experiments/schema.ts';
import { V8_FLAGS } from '../scripts/cli.mjs';
import { runPlan } from '../sim/run.ts';
import { MODELS, type Speed } from './sim-speed.ts';

const ROUNDS = 3;

type Model = keyof typeof MODELS;

/**
 * bench/sim-speed.ts bundled as scripts/cli.mjs bundles the CLI (ESM, dependencies external),
 * under .build/ so that its imports resolve to node_modules; then each model in a process of
 * its own, beside the bare loop, with the V8 flags the CLI sets (and the issue's model once
 * more with Node's defaults, to show what the flags are worth).
 */
async function speeds(): Promise<Record<Model | 'issueDefaults', Speed>> {
  const outfile = fileURLToPath(new URL('../.build/bench/sim-speed.mjs', import.meta.url));
  await build({
    entryPoints: [fileURLToPath(new URL('./sim-speed.ts', import.meta.url))], outfile,
    bundle: true, packages: 'external', platform: 'node', format: 'esm', target: 'node24', keepNames: true, logLevel: 'error',
  });
  const run = (model: Model, flags: string[] = V8_FLAGS): Speed => {
    const r = spawnSync(process.execPath, [...flags, outfile, model, String(ROUNDS)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`sim-speed ${model} failed (${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout) as Speed;
  };
  return { rich: run('rich'), issue: run('issue'), issueDefaults: run('issue', []) };
}

export default async function benchSim(): Promise<{ title: string; columns: string[]; rows: (string | number)[][]; notes?: string[] }> {
  const { rich, issue, issueDefaults } = await speeds();
  const issueBareRequestsPerSec = issue.bare.eventsPerSec / 2; // two events per request, as the issue's model
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-bench-sim-'));
  let rss: Array<{ requests: number; seconds: number; events: number; maxRssKb: number }>;
  try {
    rss = [1_000_000, 10_000_000].map((n) => {
      const file = join(dir, `bench-${n}.json`);
      writeFileSync(file, JSON.stringify(MODELS.rich.experiment(n)));
      return { requests: n, ...childRun(file, join(dir, `out-${n}`)) };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const m = (x: number) => (x / 1e6).toFixed(2);
  const k = (x: number) => (x / 1e3).toFixed(0);
  return {
    title: 'Simulator: events per second and peak memory',
    columns: ['measurement', 'requests', 'events', 'seconds', 'M events/s', 'k requests/s', 'peak RSS MB'],
    rows: [
      ['simulation (routing core, no output)', rich.model.requests, rich.model.events, rich.model.seconds.toFixed(2), m(rich.model.eventsPerSec), k(rich.model.requestsPerSec), ''],
      ['bare heap event loop, plain JS', '', rich.bare.events, rich.bare.seconds.toFixed(2), m(rich.bare.eventsPerSec), '', ''],
      ['simulation ÷ bare loop (events/s)', '', '', '', (rich.model.eventsPerSec / rich.bare.eventsPerSec).toFixed(2), '', ''],
      ['issue 18 model: simulation (8 servers, ρ = 0.9, round robin, no network)', issue.model.requests, issue.model.events, issue.model.seconds.toFixed(2), m(issue.model.eventsPerSec), k(issue.model.requestsPerSec), ''],
      ['issue 18 model: bare loop at 2 events per request', '', issue.bare.events, issue.bare.seconds.toFixed(2), m(issue.bare.eventsPerSec), k(issueBareRequestsPerSec), ''],
      ['issue 18 model: simulation ÷ bare loop (requests/s; target ≥ 0.4)', '', '', '', '', (issue.model.requestsPerSec / issueBareRequestsPerSec).toFixed(2), ''],
      ['issue 18 model, Node\'s default V8 flags: simulation ÷ bare loop (requests/s)', '', '', '', '', (issueDefaults.model.requestsPerSec / (issueDefaults.bare.eventsPerSec / 2)).toFixed(2), ''],
      ...rss.map((r) => [
        'npm run sim --no-requests (child process)', r.requests, r.events, r.seconds.toFixed(2),
        m(r.events / r.seconds), k(r.requests / r.seconds), (r.maxRssKb / 1024).toFixed(0),
      ]),
    ],
    notes: [
      `Best of ${ROUNDS} interleaved rounds (bare loop, model) in a process of its own per model, run from an esbuild bundle of bench/sim-speed.ts as \`npm run sim\` runs the simulator (scripts/cli.mjs), with the V8 flags it sets (${V8_FLAGS.join(' ')}; the row marked "Node's default V8 flags" runs without them). A model run after another in one process measures slower: the other's shapes stay in the shared code's inline caches.`,
      'The first model: 10 servers (exponential 1 ms, 80 % load), Poisson 8000 req/s, p2c, constant network hops, per-try timeout and retries: about 6 events per request, so its ratio is one of events per second.',
      'Issue 18\'s model has 2 events per request (arrival, completion), the bare loop\'s unit; its ratio is the issue\'s target, in requests per second (the work per request, not per event, is what a user waits for).',
      'Bare loop: an array-of-objects binary heap with 16 pending events, each event scheduling one more after an exponential delay (the classic hold model).',
      'Child rows: wall time of the whole command (start-up, validation, timeline and summary files included) and the process\'s maxRSS.',
      `RSS at 10 M requests is ${(rss[1].maxRssKb / rss[0].maxRssKb).toFixed(2)}× that at 1 M: memory follows work in flight, not run length.`,
    ],
  };
}

/** Runs the CLI's code path in a child and reads the child's own maxRSS. */
function childRun(file: string, outDir: string): { seconds: number; events: number; maxRssKb: number } {
  const startMs = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', file, outDir], { encoding: 'utf8' });
  const seconds = (performance.now() - startMs) / 1000;
  if (r.status !== 0) throw new Error(`child run failed (${r.status}): ${r.stderr}`);
  const report = JSON.parse(r.stdout.trim().split('\n').pop()!) as { events: number; maxRssKb: number };
  return { seconds, ...report };
}

/** Child mode: `tsx bench/sim.ts --child FILE OUT` = `npm run sim -- FILE --no-requests --out OUT`. */
async function child(file: string, outDir: string): Promise<void> {
  const plan = await loadExperiment(file);
  const results = await runPlan(plan, { outDir, writeRequests: false });
  const events = results.reduce((a, r) => a + r.eventsHandled, 0);
  process.stdout.write(`${JSON.stringify({ events, maxRssKb: process.resourceUsage().maxRSS })}\n`);
}

if (process.argv[2] === '--child' && process.argv[1] === fileURLToPath(import.meta.url)) {
  await child(process.argv[3], process.argv[4]);
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // Run on its own: print the table.
  const { title, columns, rows, notes } = await benchSim();
  process.stdout.write(`## ${title}\n\n| ${columns.join(' | ')} |\n|${columns.map(() => '---').join('|')}|\n`);
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
  for (const note of notes ?? []) process.stdout.write(`\n${note}\n`);
}
