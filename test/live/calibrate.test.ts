// npm run calibrate on a tiny run: real replicas, the real proxy in its own process, real
// load. What is checked is the shape and sanity of what it writes (the numbers themselves
// depend on the machine), that an experiment can then use the file, and that the command
// leaves no process of its own behind.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CalibrationFileSchema, type MeasuredCalibration } from '../../experiments/calibration-file.ts';
import { parseExperiment } from '../../experiments/schema.ts';
import { NBTHREAD } from '../../live/runner/proxies/haproxy/config.ts';

const hasHaproxy = spawnSync('haproxy', ['-v']).status === 0;

function calibrate(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'live/calibrate/cli.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

describe('npm run calibrate', () => {
  for (const proxy of ['fulcrum', 'haproxy'] as const) {
    it.skipIf(proxy === 'haproxy' && !hasHaproxy)(`--proxy ${proxy}: fits hop, CPU and overhead from a live run, and an experiment can take them`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'fulcrum-calibrate-test-'));
      const out = join(dir, `${proxy}.json`);
      const result = calibrate(['--proxy', proxy, '--requests', '100', '--out', out]);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/latency +live ms +sim ms +error/);
      const parsed = CalibrationFileSchema.parse(JSON.parse(readFileSync(out, 'utf8')));
      const file = parsed as MeasuredCalibration;
      expect(parsed.machine && parsed.measured && parsed.fit, 'calibrate writes every section').toBeTruthy();
      expect(file.proxy).toBe(proxy);
      expect(file.measured.requests).toBe(300); // the light level's latencies of three rounds
      expect(file.measured.cpu.map((l) => l.requests)).toEqual([100, 400, 100, 400, 100, 400]);
      expect(file.measured.cpu.every((l) => l.cpuMs > 0)).toBe(true);
      expect(file.measured.directRttMs).toBeGreaterThan(0);
      const hop = file.network.proxyToServerMs;
      expect(hop?.dist).toBe('constant');
      expect(hop?.dist === 'constant' && hop.value).toBeLessThanOrEqual(file.measured.directRttMs / 2 + 1e-4);
      // Node: one event loop; HAProxy: the launcher's nbthread. On a busy machine a tiny
      // run's CPU slope can come out at 0: then there is no station.
      if (file.measured.cpuPerRequestMs > 0) expect(file.network.proxyCpu?.workers).toBe(proxy === 'fulcrum' ? 1 : NBTHREAD);
      else expect(file.network.proxyCpu).toBeUndefined();
      expect(file.fit.saturation.requests).toBe(200);
      expect(file.machine.proxyVersion).toMatch(proxy === 'fulcrum' ? /^fulcrum / : /^HAProxy version 2\./);
      // An experiment referencing the calibration takes exactly the fitted network.
      const experiment = {
        name: 'uses-calibration', servers: { count: 1, template: { serviceTimeMs: { dist: 'constant', value: 1 } } },
        workload: { requests: 10, arrival: { process: 'poisson', ratePerSec: 10 } }, network: { calibration: true },
      };
      const cfg = parseExperiment(experiment, 't', { proxy, calibrationDir: dir }).runs[0].config;
      expect(cfg.network).toEqual(file.network);
      const pid = Number(/ pid (\d+) on /.exec(result.stdout)?.[1]);
      expect(pid).toBeGreaterThan(0);
      expect(isRunning(pid), `the ${proxy} process ${pid} outlived the command`).toBe(false);
    });
  }

  it('rejects an unknown proxy and a bad --requests in one line each, exit 2', () => {
    const bad = calibrate(['--proxy', 'nginy']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^--proxy: got "nginy"; allowed: fulcrum, haproxy, nginx, caddy/);
    const few = calibrate(['--requests', '3']);
    expect(few.status).toBe(2);
    expect(few.stderr.trim()).toBe('--requests: got "3"; allowed: an integer from 50 to 1000000');
  });
});
