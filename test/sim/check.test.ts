// npm run sim:check over every committed simulator folder of an experiment: Fulcrum's sim/
// and another proxy's sim-<proxy>/, each re-run with the proxy its summary names. Built in a
// scratch git repository from a small experiment's fresh results (Fulcrum's; the HAProxy
// model is not needed to check the folder handling).
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadExperiment } from '../../experiments/schema.ts';
import { CheckInputError, type CheckOptions, checkExperiment, simFolders } from '../../sim/check.ts';
import { runPlan } from '../../sim/run.ts';

const EXPERIMENT = fileURLToPath(new URL('./fixtures/crash-restart.json', import.meta.url));

describe('sim:check', () => {
  let dir = '';
  let opts: CheckOptions;
  const lines: string[] = [];
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fulcrum-check-'));
    lines.length = 0;
    opts = { experimentsDir: join(dir, 'experiments'), reportsDir: join(dir, 'reports'), scratch: join(dir, 'scratch'), say: (s) => lines.push(s) };
    await mkdir(opts.experimentsDir, { recursive: true });
    await cp(EXPERIMENT, join(opts.experimentsDir, 'cr.json'));
    const plan = await loadExperiment(join(opts.experimentsDir, 'cr.json'));
    await runPlan(plan, { outDir: join(opts.reportsDir, 'cr', 'sim'), writeRequests: false });
    git('init', '-q');
    git('add', 'reports');
  });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('committed Fulcrum results re-run byte-identical; a changed file is named', async () => {
    const [check] = await checkExperiment('cr', opts);
    expect(check).toMatchObject({ folder: 'sim', proxy: 'fulcrum', differing: [] });
    expect(check.compared).toBeGreaterThanOrEqual(3);
    expect(lines[0]).toMatch(new RegExp(`^cr: ${check.compared}/${check.compared} identical`));

    const summary = join(opts.reportsDir, 'cr', 'sim', 'summary.json');
    await writeFile(summary, `${await readFile(summary, 'utf8')}\n`);
    const [again] = await checkExperiment('cr', opts);
    expect(again.differing).toEqual([summary]);
  });

  it('finds every committed sim folder with its proxy, and only committed ones', async () => {
    await cp(join(opts.reportsDir, 'cr', 'sim'), join(opts.reportsDir, 'cr', 'sim-haproxy'), { recursive: true });
    expect(simFolders(opts.reportsDir, 'cr')).toEqual([{ folder: 'sim', proxy: 'fulcrum' }]);
    git('add', 'reports');
    expect(simFolders(opts.reportsDir, 'cr')).toEqual([{ folder: 'sim', proxy: 'fulcrum' }, { folder: 'sim-haproxy', proxy: 'haproxy' }]);
  });

  it('a sim-<proxy> folder whose summary names another proxy (or none) is one line naming the file', async () => {
    await cp(join(opts.reportsDir, 'cr', 'sim'), join(opts.reportsDir, 'cr', 'sim-haproxy'), { recursive: true });
    git('add', 'reports');
    const err = await checkExperiment('cr', opts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckInputError);
    const path = join(opts.reportsDir, 'cr', 'sim-haproxy', 'summary.json');
    expect((err as Error).message).toBe(`${path}: says no "proxy" (Fulcrum's own) but sits in sim-haproxy/; expected "proxy": "haproxy"`);

    const summary = JSON.parse(await readFile(join(opts.reportsDir, 'cr', 'sim', 'summary.json'), 'utf8')) as object;
    await writeFile(join(opts.reportsDir, 'cr', 'sim', 'summary.json'), JSON.stringify({ ...summary, proxy: 'haproxy' }));
    const err2 = await checkExperiment('cr', opts).catch((e: unknown) => e);
    expect((err2 as Error).message).toMatch(/sim\/summary\.json: says "proxy": "haproxy" but sits in sim\/; expected no "proxy" \(Fulcrum's own\)$/);
  });

  it('a sim folder of a proxy Fulcrum does not know is one line listing the known ones', async () => {
    await cp(join(opts.reportsDir, 'cr', 'sim'), join(opts.reportsDir, 'cr', 'sim-nginz'), { recursive: true });
    git('add', 'reports');
    expect(() => simFolders(opts.reportsDir, 'cr')).toThrow(/cr\/sim-nginz: not a simulator folder of a known proxy; expected sim, sim-haproxy, sim-nginx, sim-caddy$/);
  });
});
