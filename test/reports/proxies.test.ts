// Reports for several proxies: each proxy's results (sim-haproxy/, live-haproxy/ beside
// Fulcrum's sim/, live/) get their own part of the page with prediction vs measurement under
// the agreed tolerances, the answer is put to every proxy side by side, and a proxy with only
// a prediction says so. The HAProxy fixtures are synthetic (fixtures/README.md).
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Manifest, buildReports } from '../../reports/build.ts';
import { derive } from '../../reports/derive.ts';
import { loadExperimentProxies } from '../../reports/load.ts';
import { planSections } from '../../reports/plan.ts';
import { toleranceRows } from '../../reports/tolerance.ts';
import { EXPERIMENTS, fixtureOptions, scratchCopy, snapshot } from './helpers.ts';

const text = (html: string): string => html.replace(/<svg[\s\S]*?<\/svg>/g, '');

describe('reports for several proxies', () => {
  let root = '';
  let remove = async (): Promise<void> => {};
  const read = async (rel: string): Promise<string> => readFile(join(root, rel), 'utf8');

  beforeAll(async () => {
    ({ root, remove } = await scratchCopy());
    await buildReports([], { root, experimentsDir: EXPERIMENTS, png: false });
  });
  afterAll(async () => { await remove(); });

  it('loads one part per proxy, Fulcrum first; another proxy gets fewer charts, under its own ids and tables', async () => {
    const all = await loadExperimentProxies('a3', fixtureOptions);
    expect(all.map((e) => [e.proxy, e.modes])).toEqual([['fulcrum', ['sim', 'live']], ['haproxy', ['sim', 'live']]]);
    expect(all[1].runs.every((r) => r.summary.policy === 'haproxy-roundrobin')).toBe(true);
    const [fulcrum, haproxy] = all.map((e) => planSections(e, derive(e)).flatMap((s) => s.charts));
    expect(haproxy.every((c) => c.id.startsWith('haproxy--') && c.table.startsWith('haproxy/'))).toBe(true);
    expect(haproxy.map((c) => c.id)).toContain('haproxy--variants-failed');
    expect(haproxy.map((c) => c.id)).toContain('haproxy--no-retry--fidelity');
    expect(haproxy.length).toBeLessThan(fulcrum.length);
    expect(haproxy.some((c) => /cdf|over-time$/.test(c.id) && !c.id.endsWith('failures-over-time'))).toBe(false);
  });

  it('a3 leads with the answer on each proxy and puts it side by side, predicted and measured', async () => {
    const page = text(await read('a3/index.html'));
    expect(page).toContain('On Fulcrum\'s proxy (predicted/measured): failed requests: no-retry 2 sim / 2 live; retry 0 sim / 0 live.');
    expect(page).toContain('On HAProxy (predicted/measured): failed requests: no-retry 2 sim / 3 live; retry 0 sim / 0 live.');
    expect(page).toContain('data-chart="haproxy--variants-failed"');
    expect(page).toMatch(/<section id="proxies"><h2>Same question on every proxy<\/h2>/);
    expect(page).toContain('<tr><td class="l">no-retry</td><td>2</td><td>2</td><td>2</td><td>3</td></tr>');
    const csv = await read('a3/tables/proxies.csv');
    expect(csv.split('\n')[0]).toBe('run,variant,sweepValue,proxy,mode,metric,unit,value');
    expect(csv).toContain('no-retry,no-retry,,haproxy,live,failed,count,3');
    expect(await read('a3/tables/haproxy/runs.csv')).toContain('haproxy-roundrobin');
    const manifest = JSON.parse(await read('a3/report.json')) as Manifest;
    expect(manifest.proxies?.map((p) => [p.proxy, p.modes, p.answer?.proxy])).toEqual([['fulcrum', ['sim', 'live'], 'fulcrum'], ['haproxy', ['sim', 'live'], 'haproxy']]);
    expect(manifest.headline).toBe('proxies');
    expect(manifest.charts.find((c) => c.id === 'proxies')).toMatchObject({ section: 'proxies', table: 'proxies.csv', title: 'Failed requests on each proxy' });
    expect(manifest.tables).toContain('haproxy/fidelity.csv');
    const tolerance = await read('a3/tables/tolerance.csv');
    expect(tolerance.split('\n')[0]).toBe('proxy,run,metric,unit,tolerance,sim,live,relErrorPct,within');
    expect(tolerance).toContain('haproxy,no-retry,failed,count,±20 %,2,3,50,false');
  });

  it('judges each proxy by the agreed tolerances: failures ±20 %, mean latency ±10 %', async () => {
    const page = text(await read('a3/index.html'));
    const haproxy = page.slice(page.indexOf('<section id="proxy-haproxy">'));
    expect(haproxy).toContain('<tr class="far"><td class="l">no-retry</td><td class="l">failed</td><td class="l">count</td><td>2</td><td>3</td><td>+50 %</td><td class="l">±20 %</td><td class="l">outside</td></tr>');
    expect(haproxy).toContain('<tr><td class="l">retry</td><td class="l">failed</td><td class="l">count</td><td>0</td><td>0</td><td>0 %</td><td class="l">±20 %</td><td class="l">within</td></tr>');
  });

  it('per-server counts are held to "exact" for a deterministic policy on a calm run only', () => {
    const fidelity = [
      { run: 'calm', metric: 'attempts s1', unit: 'count', sim: 5, live: 5, diff: 0, relErrorPct: 0 },
      { run: 'calm', metric: 'attempts s2', unit: 'count', sim: 5, live: 6, diff: 1, relErrorPct: 20 },
      { run: 'calm', metric: 'latency mean', unit: 'ms', sim: 10, live: 10.9, diff: 0.9, relErrorPct: 9 },
      { run: 'faulty', metric: 'attempts s1', unit: 'count', sim: 5, live: 6, diff: 1, relErrorPct: 20 },
      { run: 'faulty', metric: 'failed', unit: 'count', sim: 0, live: 1, diff: 1, relErrorPct: null },
      { run: 'calm', metric: 'throughput', unit: 'req/s', sim: 1, live: 1, diff: 0, relErrorPct: 0 },
    ];
    const run = (name: string, failed: number) => ({ run: name, mode: 'sim', policy: 'haproxy-roundrobin', failed, retries: 0 });
    const rows = toleranceRows({ fidelity, runs: [run('calm', 0), run('faulty', 2)] as never });
    expect(rows.map((r) => [r.run, r.metric, r.tolerance, r.within])).toEqual([
      ['calm', 'attempts s1', 'exact', true],
      ['calm', 'attempts s2', 'exact', false],
      ['calm', 'latency mean', '±10 %', true],
      ['faulty', 'attempts s1', '', null],
      ['faulty', 'failed', '±20 %', false],
    ]);
  });

  it('a proxy with only a prediction says so plainly, with the command that measures it', async () => {
    const page = text(await read('a1/index.html'));
    expect(page).toContain('<p class="engines"><b>HAProxy</b> (predicted only): <span class="sim">sim</span><span class="missing">live: missing</span></p>');
    expect(page).toContain('HAProxy has only a prediction (sim) so far: nothing to compare yet.');
    expect(page).toContain('<code>npm run live experiments/a1.json -- --proxy haproxy</code>');
    expect(page).not.toContain('haproxy--fidelity');
  });

  it('the index lists the proxies per experiment; a Fulcrum-only experiment is listed as before', async () => {
    const index = text(await read('index.html'));
    expect(index).toContain('<td class="l">Fulcrum\'s proxy: sim live<br>HAProxy: sim <s>live</s></td>');
    expect(index).toMatch(/<a href="a2\/index.html">a2<\/a><\/td><td class="l">[^<]*<\/td><td class="l">sim <s>live<\/s><\/td>/);
    expect(index).toContain('On HAProxy (predicted/measured): failed requests');
    const a2 = await read('a2/index.html');
    expect(a2).not.toMatch(/HAProxy|Fulcrum's proxy|id="proxies"/);
  });

  it('another proxy\'s results leave Fulcrum\'s own tables and charts byte for byte as they were', async () => {
    const { root: alone, remove: removeAlone } = await scratchCopy();
    try {
      await Promise.all(['a1/sim-haproxy', 'a3/sim-haproxy', 'a3/live-haproxy'].map((d) => rm(join(alone, d), { recursive: true })));
      await buildReports(['a1', 'a3'], { root: alone, experimentsDir: EXPERIMENTS, png: false });
      const [withProxies, without] = [await snapshot(root), await snapshot(alone)];
      const fulcrumFiles = [...without.keys()].filter((f) => /^a[13]\/(charts|tables)\//.test(f));
      expect(fulcrumFiles.length).toBeGreaterThan(40);
      for (const f of fulcrumFiles) expect(withProxies.get(f)?.equals(without.get(f)!), f).toBe(true);
      expect(text(without.get('a3/index.html')!.toString())).not.toContain('HAProxy');
    } finally {
      await removeAlone();
    }
  });
});
