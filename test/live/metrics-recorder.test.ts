// `npm run live -- --metrics MS`: the proxy's and the replicas' metrics recorded during
// traffic, written as OpenMetrics that Prometheus's own importer accepts, and holding the
// run's final counts at the last timestamp.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { MetricsRecorder, httpSource } from '../../live/runner/metrics-recorder.ts';
import { proxy, replicas, send } from './helpers.ts';

const run = promisify(execFile);
const hasPromtool = await run('promtool', ['--version']).then(() => true, (err: Error) => {
  if (process.env.FULCRUM_REQUIRE_PROMETHEUS === '1') throw new Error(`promtool is required (npm run test:setup): ${err.message}`);
  console.warn(`metrics recorder test skipped: ${err.message}`);
  return false;
});
const dir = mkdtempSync(path.join(tmpdir(), 'fulcrum-recorder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.runIf(hasPromtool)('metrics recorded during a run', () => {
  it('metrics.om imports into Prometheus blocks and ends with the final counts', async () => {
    const rs = await replicas(2);
    const p = await proxy({ backends: rs.map((r) => ({ id: r.id, url: r.url })) });
    const recorder = new MetricsRecorder([() => p.metrics.registry.metrics(), ...rs.map((r) => httpSource(`${r.url}/metrics`))], 50);
    let sent = 0;
    const until = Date.now() + 600;
    while (Date.now() < until) {
      await Promise.all([send(`${p.url}/home`), send(`${p.url}/home`)]);
      sent += 2;
    }
    const file = path.join(dir, 'metrics.om');
    await recorder.finish(file);

    const text = readFileSync(file, 'utf8');
    expect(text.endsWith('\n# EOF\n')).toBe(true);
    const requests = [...text.matchAll(/^fulcrum_requests_total\{status_class="2xx"\} (\d+) ([\d.]+)$/gm)];
    expect(requests.length).toBeGreaterThan(5); // one per scrape
    expect(Number(requests.at(-1)![1])).toBe(sent);
    const times = requests.map((m) => Number(m[2]));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    for (const r of rs) expect(text).toMatch(new RegExp(`^fulcrum_replica_requests_total\\{server="${r.id}"\\} \\d+ `, 'm'));

    const blocks = path.join(dir, 'blocks');
    const imported = await run('promtool', ['tsdb', 'create-blocks-from', 'openmetrics', file, blocks]);
    expect(imported.stdout + imported.stderr).not.toMatch(/error/i);
    mkdirSync(path.join(blocks, 'wal')); // dump opens the directory as a database, WAL included
    const dump = await run('promtool', ['tsdb', 'dump', blocks], { maxBuffer: 64 * 1024 * 1024 });
    const imported2xx = [...dump.stdout.matchAll(/^\{__name__="fulcrum_requests_total", status_class="2xx"\} (\d+) \d+$/gm)];
    expect(imported2xx.length).toBe(requests.length);
    expect(imported2xx.at(-1)![1]).toBe(String(sent));
  });
});
