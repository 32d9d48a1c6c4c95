// `npm run sim -- --jobs N`: sweep points and variants on worker threads give the same files,
// byte for byte, as one after another; from the CLI bundle (scripts/cli.mjs, what npm run sim
// starts) and under tsx. A failure inside a worker reads as it does without workers.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseExperiment } from '../../experiments/schema.ts';
import { runPlan } from '../../sim/run.ts';
import { REQUESTS_PER_WORKER_MIN, workersFor } from '../../sim/parallel.ts';
import { hashTree } from './helpers.ts';

const FIXTURE = 'test/sim/fixtures/parallel.json';
const root = mkdtempSync(join(tmpdir(), 'fulcrum-parallel-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const viaTsx = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'sim/cli.ts', ...args], { encoding: 'utf8' });
const viaBundle = (...args: string[]) => spawnSync(process.execPath, ['scripts/cli.mjs', 'sim', ...args], { encoding: 'utf8' });

describe('npm run sim --jobs', () => {
  it('starts worker threads only for plans with enough work for each (the fixture gets 2)', () => {
    const plan = parseExperiment(readFileSync(FIXTURE, 'utf8'), FIXTURE);
    expect(workersFor(plan, 2)).toBe(2);
    expect(workersFor(plan, 16)).toBe(Math.min(6, Math.floor((6 * 35_000) / REQUESTS_PER_WORKER_MIN)));
    const small = parseExperiment(readFileSync(FIXTURE, 'utf8').replace('"requests": 35000', '"requests": 1000'), FIXTURE);
    expect(workersFor(small, 2)).toBe(0);
  });

  it('writes byte-identical files with 1 and 2 worker threads, bundled or not', async () => {
    const runs = { one: viaTsx(FIXTURE, '--out', join(root, 'one'), '--jobs', '1', '--quiet'),
      two: viaTsx(FIXTURE, '--out', join(root, 'two'), '--jobs', '2', '--quiet'),
      bundled: viaBundle(FIXTURE, '--out', join(root, 'bundled'), '--jobs', '2', '--quiet') };
    for (const [name, r] of Object.entries(runs)) {
      expect(r.stderr, name).toBe('');
      expect(r.status, name).toBe(0);
    }
    const [one, two, bundled] = await Promise.all(['one', 'two', 'bundled'].map((d) => hashTree(join(root, d))));
    expect(Object.keys(one)).toHaveLength(6 * 4 + 2 + 1); // 6 runs × 4 files, 2 variant indexes, the top index
    expect(two).toEqual(one);
    expect(bundled).toEqual(one);
  });

  it('from the CLI bundle, each worker thread loads that bundle, no TypeScript source, with the compile cache on', () => {
    const r = spawnSync(process.execPath, ['--import', './test/sim/fixtures/log-modules.mjs', 'scripts/cli.mjs', 'sim', FIXTURE,
      '--out', join(root, 'modules'), '--jobs', '2', '--quiet'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const byThread = new Map<string, string[]>();
    const caches = new Set<string>();
    for (const [, thread, url, cache] of r.stderr.trim().split('\n').map((line) => line.split(' '))) {
      byThread.set(thread, [...byThread.get(thread) ?? [], url]);
      if (url.includes('/.build/cli/sim-')) caches.add(cache);
    }
    const main = byThread.get('0')!;
    const bundle = main.find((url) => url.includes('/.build/cli/sim-'))!;
    expect(main).toEqual([expect.stringMatching(/\/scripts\/cli\.mjs$/), bundle]);
    const workers = [...byThread].filter(([thread]) => thread !== '0');
    expect(workers).toHaveLength(2);
    for (const [, urls] of workers) expect(urls).toEqual([bundle]);
    expect(caches.size).toBe(1); // the same folder in all three threads
    expect([...caches][0]).toMatch(new RegExp(`^${join(process.cwd(), '.build/cli/compile-cache')}/[^/]+$`));
  });

  it('reports an error inside a worker with the same lines as without workers', () => {
    const blocker = join(root, 'a-file');
    writeFileSync(blocker, '');
    const out = join(blocker, 'out'); // mkdir under a file fails in every run
    const seq = viaTsx(FIXTURE, '--out', out, '--jobs', '1', '--quiet');
    const par = viaBundle(FIXTURE, '--out', out, '--jobs', '2', '--quiet');
    for (const r of [seq, par]) expect(r.status).toBe(1);
    const firstLines = (stderr: string) => stderr.split('\n').slice(0, 2);
    expect(firstLines(par.stderr)).toEqual(firstLines(seq.stderr));
    expect(seq.stderr).toMatch(/^run failed \(seed 7; replay with the same file and seed\)\nError: ENOTDIR/);
  });

  it('rejects a --jobs that is not a whole number of threads', () => {
    for (const bad of ['0', '1.5', 'many']) {
      const r = viaTsx(FIXTURE, '--jobs', bad, '--quiet');
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`--jobs: expected a whole number of worker threads (1 or more), got ${bad}\n`);
    }
  });

  it('reports progress for the whole plan: every run done, the share rising to 1', async () => {
    const plan = parseExperiment(readFileSync(FIXTURE, 'utf8'), FIXTURE);
    const seen: Array<{ runsDone: number; share: number }> = [];
    await runPlan(plan, { outDir: join(root, 'progress'), writeRequests: false, onProgress: (p) => seen.push(p) });
    expect(seen.at(-1)).toEqual({ runsDone: 6, share: 1 });
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i].share).toBeGreaterThanOrEqual(seen[i - 1].share);
      expect(seen[i].runsDone).toBeGreaterThanOrEqual(seen[i - 1].runsDone);
    }
  });
});
