// The command line's own costs: start-up of `npm run sim` on a 100-request experiment (from
// the esbuild bundle scripts/cli.mjs keeps, warm and right after a source change, against
// tsx compiling on every start as before), and a 6-point sweep in order against --jobs 2,
// its points big enough (~1 s each) that a worker thread's start-up is not the whole story.
// Wall times of child processes; best of several interleaved rounds.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchTable } from './types.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STARTS = 5;
const SWEEP_ROUNDS = 3;

const tiny = {
  name: 'bench-tiny', seed: 1,
  servers: { count: 3, template: { serviceTimeMs: { dist: 'exponential', mean: 5 } } },
  workload: { requests: 100, arrival: { process: 'closed', concurrency: 10 } },
  balancer: { policy: 'round-robin' },
};

/** Six independent runs of about a second each: 500 k requests, 6 to 11 servers at p2c. */
const SWEEP_REQUESTS = 500_000;
const sweep = {
  name: 'bench-sweep', seed: 7,
  servers: { count: 8, template: { serviceTimeMs: { dist: 'exponential', mean: 1 }, concurrency: 1 } },
  workload: { requests: SWEEP_REQUESTS, arrival: { process: 'poisson', ratePerSec: 5000 }, clients: { count: 1000 } },
  network: { clientToProxyMs: { dist: 'constant', value: 0.2 }, proxyToServerMs: { dist: 'constant', value: 0.3 } },
  balancer: { policy: 'p2c' },
  sweep: { path: 'servers.count', values: [6, 7, 8, 9, 10, 11] },
};

/** Wall seconds of one command (it must succeed). */
function wall(command: string, args: string[], before?: () => void): number {
  before?.();
  const startMs = performance.now();
  const r = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8' });
  const seconds = (performance.now() - startMs) / 1000;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return seconds;
}

export default async function benchCli(): Promise<BenchTable> {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-bench-cli-'));
  try {
    const tinyFile = join(dir, 'tiny.json');
    const sweepFile = join(dir, 'sweep.json');
    writeFileSync(tinyFile, JSON.stringify(tiny));
    writeFileSync(sweepFile, JSON.stringify(sweep));
    const simArgs = (file: string, ...more: string[]) => [file, '--out', join(dir, 'out'), '--quiet', '--no-requests', ...more];
    // A missing manifest is what a source change looks like to scripts/cli.mjs: it rebuilds.
    const forgetBundle = () => rmSync(join(ROOT, '.build/cli/sim.json'), { force: true });
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const startCases = [
      { name: 'npm run sim (bundle, warm)', run: () => wall(npm, ['run', '-s', 'sim', '--', ...simArgs(tinyFile)]) },
      { name: 'node scripts/cli.mjs sim (bundle, warm)', run: () => wall(process.execPath, ['scripts/cli.mjs', 'sim', ...simArgs(tinyFile)]) },
      { name: 'node scripts/cli.mjs sim after a source change (rebuild)', run: () => wall(process.execPath, ['scripts/cli.mjs', 'sim', ...simArgs(tinyFile)], forgetBundle) },
      { name: 'tsx sim/cli.ts (before: compiled on every start)', run: () => wall(process.execPath, ['--import', 'tsx', 'sim/cli.ts', ...simArgs(tinyFile)]) },
    ];
    const starts = startCases.map(() => Infinity);
    for (let round = 0; round < STARTS; round++) {
      for (const [i, c] of startCases.entries()) starts[i] = Math.min(starts[i], c.run());
    }
    wall(process.execPath, ['scripts/cli.mjs', 'sim', '--help']); // leave a fresh bundle behind

    const jobs = [1, 2];
    const sweeps = jobs.map(() => Infinity);
    const roundRatios: string[] = [];
    const loadBefore = loadavg()[0];
    for (let round = 0; round < SWEEP_ROUNDS; round++) {
      const times = jobs.map((n) => wall(process.execPath, ['scripts/cli.mjs', 'sim', ...simArgs(sweepFile, '--jobs', String(n))]));
      times.forEach((t, i) => { sweeps[i] = Math.min(sweeps[i], t); });
      roundRatios.push((times[1] / times[0]).toFixed(2));
    }
    const loadAfter = loadavg()[0];
    const pointK = `${SWEEP_REQUESTS / 1000} k`;
    const tsxIndex = startCases.length - 1;
    return {
      title: 'Command line: start-up and parallel sweeps (wall time)',
      columns: ['measurement', 'seconds', '× before / × sequential'],
      rows: [
        ...startCases.map((c, i) => [c.name, starts[i].toFixed(3), (starts[i] / starts[tsxIndex]).toFixed(2)]),
        ...jobs.map((n, i) => [`6-point sweep, ${pointK} requests a point, --jobs ${n}`, sweeps[i].toFixed(2), (sweeps[i] / sweeps[0]).toFixed(2)]),
      ],
      notes: [
        `Start-up: a 100-request experiment (3 servers, round robin), best of ${STARTS} interleaved rounds; the last column is each time ÷ tsx's. npm itself adds the difference between the first two rows.`,
        `Sweep: 6 points × ${pointK} requests (p2c, 6 to 11 servers), best of ${SWEEP_ROUNDS} interleaved rounds, no requests.csv; the last column is each time ÷ --jobs 1 (${availableParallelism()} cores here; 0.5 would be perfect on 2). `
          + `Ratio in each round: ${roundRatios.join(', ')}; 1-minute load average ${loadBefore.toFixed(2)} before the sweeps, ${loadAfter.toFixed(2)} after (their own load included).`,
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
