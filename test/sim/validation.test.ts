// Experiment files are validated whole before anything runs; every error names the JSON
// path, the value found and what is allowed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExperimentError, parseExperiment } from '../../experiments/schema.ts';
import { locateJsonError } from '../../experiments/json-location.ts';

const base = () => ({
  name: 'v', seed: 1,
  servers: { count: 3, template: { serviceTimeMs: { dist: 'exponential', mean: 5 } } },
  workload: { requests: 100, arrival: { process: 'poisson', ratePerSec: 100 } },
});

function problems(input: unknown): string[] {
  try {
    parseExperiment(typeof input === 'string' ? input : input, 'test.json');
  } catch (e) {
    if (e instanceof ExperimentError) return e.problems;
    throw e;
  }
  throw new Error('expected the experiment to be rejected');
}

describe('experiment validation', () => {
  it('accepts the minimum and fills defaults (omitted sections are off)', () => {
    const plan = parseExperiment(base(), 'test.json');
    const cfg = plan.runs[0].config;
    expect(cfg.balancer.policy).toBe('round-robin');
    expect(cfg.health).toBeUndefined();
    expect(cfg.retry).toBeUndefined();
    expect(cfg.faults).toEqual([]);
    expect(plan.runs[0].dir).toBe('');
  });

  it('a bad policy name lists the allowed ones', () => {
    const [p] = problems({ ...base(), balancer: { policy: 'p3c' } });
    expect(p).toMatch(/^balancer\.policy: got "p3c"; allowed: "round-robin", "weighted-round-robin", .*"p2c"/);
  });

  it('an unknown server id names the path and the known ids', () => {
    const ps = problems({
      ...base(),
      servers: { ...base().servers, overrides: { s7: { weight: 2 } } },
      faults: [{ atMs: 10, server: 's9', kind: 'crash' }],
      changes: [{ atMs: 5, add: 's4' }, { atMs: 6, remove: 's5' }],
    });
    expect(ps).toContain('servers.overrides.s7: got "s7"; unknown server; known: s1, s2, s3 (and s4 added by changes)');
    expect(ps).toContain('faults.0.server: got "s9"; unknown server; known: s1, s2, s3 (and s4 added by changes)');
    expect(ps).toContain('changes.1.remove: got "s5"; unknown server; known: s1, s2, s3 (and s4 added by changes)');
  });

  it('negative, absurd and missing values are rejected with their paths', () => {
    const ps = problems({
      ...base(),
      servers: { count: 0, template: { serviceTimeMs: { dist: 'exponential', mean: -1 } } },
      workload: { arrival: { process: 'poisson', ratePerSec: 1e12 } },
      faults: [{ atMs: -5, server: 's1', kind: 'errors', probability: 1.5 }],
    });
    expect(ps.some((p) => p.startsWith('servers.count: got 0;'))).toBe(true);
    expect(ps.some((p) => p.startsWith('servers.template.serviceTimeMs.mean: got -1;'))).toBe(true);
    expect(ps.some((p) => p.startsWith('workload.arrival.ratePerSec: got 1000000000000;'))).toBe(true);
    expect(ps.some((p) => p.startsWith('workload: ') && p.includes('"requests" or "durationMs"'))).toBe(true);
    expect(ps.some((p) => p.startsWith('faults.0.atMs: got -5;'))).toBe(true);
    expect(ps.some((p) => p.startsWith('faults.0.probability: got 1.5;'))).toBe(true);
  });

  it('unknown fields, a bad fault kind and a change with two actions are named', () => {
    const ps = problems({
      ...base(), colour: 'blue',
      faults: [{ atMs: 1, server: 's1', kind: 'explode' }],
      changes: [{ atMs: 1, add: 's9', remove: 's1' }],
    });
    expect(ps).toContain('(root): unknown field "colour"');
    expect(ps.some((p) => p.startsWith('faults.0.kind: got "explode";') && p.includes('allowed: "crash"'))).toBe(true);
    // Field errors come first; cross-field rules run once the fields are valid.
    const changes = problems({ ...base(), changes: [{ atMs: 1, add: 's9', remove: 's1' }] });
    expect(changes).toEqual(['changes.0: needs exactly one of "add", "remove" or "server" (+ "weight")']);
  });

  it("the core's cross-field rules apply (per-try timeout above the deadline)", () => {
    expect(problems({ ...base(), timeouts: { requestMs: 100, perTryMs: 500 } }))
      .toEqual(['timeouts.perTryMs: got 500; must be <= requestMs (100)']);
  });

  it('every sweep point and variant is validated after patching, and named', () => {
    const ps = problems({
      ...base(),
      sweep: { path: 'servers.count', values: [2, 3, 5000] },
      variants: [{ name: 'ok' }, { name: 'bad', set: { 'balancer.policy': 'fastest' } }],
    });
    expect(ps).toContain('variant "ok" (variants.0), sweep value 5000 (sweep.values.2): servers.count: got 5000; Too big: expected number to be <=1000');
    expect(ps.some((p) => p.startsWith('variant "bad" (variants.1), sweep value 2 (sweep.values.0): balancer.policy: got "fastest"; allowed:'))).toBe(true);
  });

  it('a sweep and variants expand into one run per point, in their own folders', () => {
    const plan = parseExperiment({
      ...base(),
      sweep: { path: 'servers.count', values: [2, 4] },
      variants: [{ name: 'rr' }, { name: 'p2c', set: { 'balancer.policy': 'p2c' } }, { name: 'no-retry', set: { retry: null } }],
      retry: { maxAttempts: 2 },
    }, 'test.json');
    expect(plan.runs.map((r) => r.dir)).toEqual([
      'rr/servers.count=2', 'rr/servers.count=4', 'p2c/servers.count=2', 'p2c/servers.count=4',
      'no-retry/servers.count=2', 'no-retry/servers.count=4',
    ]);
    expect(plan.runs[3].config.balancer.policy).toBe('p2c');
    expect(plan.runs[3].config.servers.count).toBe(4);
    expect(plan.runs[4].config.retry).toBeUndefined();
    expect(plan.runs[0].config.retry?.maxAttempts).toBe(2);
  });

  it('JSON syntax errors report line and column', () => {
    const text = '{\n  "name": "x",\n  "seed": 1,\n}\n';
    expect(problems(text)).toEqual(['JSON syntax error at line 4, column 1: unexpected "}"; expected a double-quoted property name']);
    expect(locateJsonError('{"a": [1, 2 3]}')).toMatchObject({ line: 1, column: 13 });
    expect(locateJsonError('{\n "a": tru }')).toMatchObject({ line: 2, column: 7 });
    expect(locateJsonError('{"a": "unterminated')).toMatchObject({ line: 1, column: 20, message: 'unterminated string' });
    expect(locateJsonError('')).toMatchObject({ line: 1, column: 1, message: 'unexpected end of input; expected a value' });
  });
});

describe('npm run sim on invalid input', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'sim/cli.ts', ...args], { encoding: 'utf8' });

  it('exits 2, prints every problem, and creates no output folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fulcrum-sim-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ ...base(), balancer: { policy: 'p3c' }, faults: [{ atMs: 1, server: 's9', kind: 'hang' }] }));
    const out = join(dir, 'out');
    const r = cli(file, '--out', out);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${file} is not a valid experiment:`);
    expect(r.stderr).toContain('balancer.policy: got "p3c"; allowed:');
    expect(r.stderr).toContain('faults.0.server: got "s9"; unknown server; known: s1, s2, s3');
    expect(existsSync(out)).toBe(false);

    writeFileSync(file, '{\n  "name": "x"\n  "seed": 1\n}');
    const syntax = cli(file, '--out', out);
    expect(syntax.status).toBe(2);
    expect(syntax.stderr).toContain('JSON syntax error at line 3, column 3: unexpected "\\""; expected \',\' or \'}\' after property value');
    expect(existsSync(out)).toBe(false);
  });

  it('--validate checks a good file and writes nothing', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'fulcrum-sim-')), 'out');
    const r = cli('experiments/a1.json', '--validate', '--out', out);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('experiments/a1.json: valid (1 run)');
    expect(existsSync(out)).toBe(false);
  });
});
