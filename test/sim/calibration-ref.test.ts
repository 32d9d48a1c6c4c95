// `network.proxyCpu` and `network.calibration: true`: the station's fields are validated
// like any other, and a run's network comes from the calibration file of the proxy it
// targets, with the experiment's own fields winning. Bad or missing files are one line each.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExperimentError, type ParseOptions, loadExperiment, parseExperiment } from '../../experiments/schema.ts';
import { CALIBRATION_DIR, type CalibrationFile, CalibrationFileSchema, calibrationPath } from '../../experiments/calibration-file.ts';
import { PROXY_NAMES } from '../../experiments/proxies.ts';

const base = (network: object) => ({
  name: 'c', seed: 1,
  servers: { count: 2, template: { serviceTimeMs: { dist: 'constant', value: 1 } } },
  workload: { requests: 10, arrival: { process: 'poisson', ratePerSec: 100 } },
  network,
});

function problems(input: unknown, opts: ParseOptions = {}): string[] {
  try {
    parseExperiment(input, 'test.json', opts);
  } catch (e) {
    if (e instanceof ExperimentError) return e.problems;
    throw e;
  }
  throw new Error('expected the experiment to be rejected');
}

function calibration(proxy: 'fulcrum' | 'haproxy', network: object): CalibrationFile {
  return {
    proxy, description: '', measuredAt: '2026-12-05T22:00:00Z',
    machine: { cpus: 2, cpuModel: 'test', os: 'linux', node: 'v24', proxyVersion: 'x' },
    experiment: 'experiments/calibration.json',
    network: network as CalibrationFile['network'],
    measured: { requests: 1, loadAverage: [0, 0, 0], latencyMs: { mean: 1, p50: 1, p99: 1 }, directRttMs: 0.2, cpu: [], cpuPerRequestMs: 0.013 },
    fit: {
      simLatencyMs: { mean: 1, p50: 1, p99: 1 }, errorPct: { mean: 0, p50: 0, p99: 0 },
      saturation: { users: 1, requests: 1, live: { throughputPerSec: 1, meanMs: 1 }, liveCpuPerRequestMs: 0.01, sim: { throughputPerSec: 1, meanMs: 1 }, simWithoutCpu: { throughputPerSec: 1, meanMs: 1 } },
    },
  };
}

function dirWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-calibration-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

const c = (value: number) => ({ dist: 'constant', value });

describe('network.proxyCpu', () => {
  it('defaults to one worker and no response or separate retry cost', () => {
    const cfg = parseExperiment(base({ proxyCpu: { requestMs: c(0.06) } }), 't').runs[0].config;
    expect(cfg.network.proxyCpu).toEqual({ requestMs: c(0.06), workers: 1 });
  });

  it('names the JSON path of a bad field, an unknown one and an absurd mean', () => {
    expect(problems(base({ proxyCpu: { requestMs: c(0.06), workers: 0 } }))).toEqual([
      expect.stringMatching(/^network\.proxyCpu\.workers: got 0; /),
    ]);
    expect(problems(base({ proxyCpu: { requestMs: c(0.06), threads: 4 } }))[0]).toMatch(/^network\.proxyCpu: .*threads/);
    expect(problems(base({ proxyCpu: { workers: 2 } }))[0]).toMatch(/^network\.proxyCpu\.requestMs: missing/);
    expect(problems(base({ proxyCpu: { requestMs: c(1e9) } }))[0]).toMatch(/^network\.proxyCpu\.requestMs: got .*its mean must be at most/);
  });
});

describe('network.calibration: true', () => {
  const fulcrum = calibration('fulcrum', { proxyToServerMs: c(0.1), proxyOverheadMs: c(0.2), proxyCpu: { requestMs: c(0.03), responseMs: c(0.03), workers: 1 } });
  const haproxy = calibration('haproxy', { proxyToServerMs: c(0.1), proxyOverheadMs: c(0.05), proxyCpu: { requestMs: c(0.013), workers: 2 } });
  const dir = dirWith({ 'fulcrum.json': fulcrum, 'haproxy.json': haproxy });

  it("takes the network of the targeted proxy's file: Fulcrum's by default, HAProxy's for proxy haproxy", () => {
    const exp = base({ calibration: true });
    expect(parseExperiment(exp, 't', { calibrationDir: dir }).runs[0].config.network).toEqual(fulcrum.network);
    expect(parseExperiment(exp, 't', { calibrationDir: dir, proxy: 'haproxy' }).runs[0].config.network).toEqual(haproxy.network);
  });

  it("the experiment's own fields win, whole (a field is replaced, not merged)", () => {
    const exp = base({ calibration: true, proxyOverheadMs: c(0.5), proxyCpu: { requestMs: c(0.1) } });
    const network = parseExperiment(exp, 't', { calibrationDir: dir }).runs[0].config.network;
    expect(network).toEqual({ proxyToServerMs: c(0.1), proxyOverheadMs: c(0.5), proxyCpu: { requestMs: c(0.1), workers: 1 } });
  });

  it('false or absent reads no file', () => {
    const empty = dirWith({});
    expect(parseExperiment(base({ calibration: false, connectMs: c(1) }), 't', { calibrationDir: empty }).runs[0].config.network).toEqual({ connectMs: c(1) });
    expect(parseExperiment(base({}), 't', { calibrationDir: empty }).runs[0].config.network).toEqual({});
  });

  it('a variant can turn it on or off', () => {
    const exp = { ...base({}), variants: [{ name: 'calibrated', set: { 'network.calibration': true } }, { name: 'bare' }] };
    const runs = parseExperiment(exp, 't', { calibrationDir: dir }).runs;
    expect(runs[0].config.network).toEqual(fulcrum.network);
    expect(runs[1].config.network).toEqual({});
  });

  it('a missing file says which one and how to make it', () => {
    const [p] = problems(base({ calibration: true }), { calibrationDir: dirWith({}), proxy: 'haproxy' });
    expect(p).toMatch(/^network\.calibration: cannot read the calibration of haproxy, .*haproxy\.json: no such file \(npm run calibrate -- --proxy haproxy writes it\)$/);
  });

  it('a broken file names the file and the JSON path inside it', () => {
    const bad = { ...fulcrum, network: { proxyCpu: { requestMs: c(0.03), workers: -1 } } };
    const [p] = problems(base({ calibration: true }), { calibrationDir: dirWith({ 'fulcrum.json': bad }) });
    expect(p).toMatch(/^network\.calibration: .*fulcrum\.json is not a valid calibration file: network\.proxyCpu\.workers: got -1/);
    const [q] = problems(base({ calibration: true }), { calibrationDir: dirWith({ 'fulcrum.json': haproxy }) });
    expect(q).toMatch(/fulcrum\.json: proxy is "haproxy", expected "fulcrum"$/);
    const [r] = problems(base({ calibration: true }), { calibrationDir: dirWith({ 'fulcrum.json': '{"proxy": ' }) });
    expect(r).toMatch(/^network\.calibration: cannot read the calibration of fulcrum, .*fulcrum\.json: /);
  });

  it('the committed experiments take the targeted proxy\'s committed calibration', async () => {
    for (const proxy of PROXY_NAMES) {
      const file = CalibrationFileSchema.parse(JSON.parse(readFileSync(calibrationPath(proxy, CALIBRATION_DIR), 'utf8')));
      for (const name of ['a1', 'a3', 'a5']) {
        const plan = await loadExperiment(`experiments/${name}.json`, { proxy });
        for (const run of plan.runs) expect(run.config.network, `${name} on ${proxy}`).toEqual(file.network);
      }
    }
  });

  it('every committed calibration file is valid and names its own proxy', () => {
    for (const proxy of PROXY_NAMES) {
      const text = readFileSync(calibrationPath(proxy, CALIBRATION_DIR), 'utf8');
      const file = CalibrationFileSchema.parse(JSON.parse(text));
      expect(file.proxy).toBe(proxy);
    }
  });
});
