// Invalid experiment, config and result files given to the four command lines: each exits
// with code 2 and names every problem (JSON path, value, what is allowed), writes nothing
// (the working directory's whole tree is compared file by file, contents and mtimes,
// before and after) and leaves no process behind (its process group is empty).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../live/helpers.ts';
import { held, printHeldRows } from './helpers.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const TSX = import.meta.resolve('tsx');
const FIXTURES = join(REPO, 'test/reports/fixtures');
const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  printHeldRows();
});

/** path → size, mtime and content hash of every file under `dir`. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) { out[`${relative(dir, p)}/`] = 'dir'; walk(p); continue; }
      const s = statSync(p);
      out[relative(dir, p)] = `${s.size} ${s.mtimeMs} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(dir);
  return out;
}

/** A scratch working directory holding the bad files and a previous run's results. */
function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fulcrum-bad-'));
  scratch.push(dir);
  const previous = join(dir, 'reports', 'bad', 'sim');
  mkdirSync(previous, { recursive: true });
  writeFileSync(join(previous, 'summary.json'), '{"from":"an earlier run"}\n');
  const files: Record<string, string> = {
    'bad.json': JSON.stringify({
      name: 'bad', seed: 1,
      servers: { count: 3, template: { serviceTimeMs: { dist: 'exponential', mean: 5 } } },
      workload: { requests: 100, arrival: { process: 'poisson', ratePerSec: 100 } },
      balancer: { policy: 'p3c' },
      health: { outlier: { maxEjectionPercent: 150 } },
      timeouts: { requestMs: -5 },
      faults: [{ atMs: 10, server: 's9', kind: 'crash' }],
      colour: 'blue',
    }, null, 2),
    'syntax.json': '{\n  "name": "bad",\n  "seed": 1,\n}\n',
    'array.json': '[]',
    'lb-bad.json': JSON.stringify({ balancer: { policy: 'p3c' }, retry: { maxAttempts: 0, retryOn: [700] }, colour: 1 }),
    'lb-cross.json': JSON.stringify({ timeouts: { requestMs: 1_000, perTryMs: 5_000 } }),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

interface Run { code: number | null; stdout: string; stderr: string; groupLeft: boolean }

/** Runs a CLI in its own process group, in `cwd`; afterwards says whether any member is left. */
function run(cli: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX, join(REPO, cli), ...args], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const killer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 30_000);
    child.on('close', async (code) => {
      clearTimeout(killer);
      // A helper (tsx's esbuild service) may take a moment to notice its parent is gone.
      const groupLeft = await waitFor('the process group to empty', () => !groupAlive(child.pid!), 5_000).then(() => false, () => true);
      if (groupLeft) process.kill(-child.pid!, 'SIGKILL');
      resolve({ code, stdout, stderr, groupLeft });
    });
  });
}

/** Expects exit 2, every `messages` on stderr, no stack trace, nothing left running and `dir` untouched. */
async function refused(cli: string, args: string[], dir: string, messages: Array<string | RegExp>): Promise<Run> {
  const before = snapshot(dir);
  const r = await run(cli, args, dir);
  expect(r.code, r.stderr).toBe(2);
  for (const m of messages) expect(r.stderr).toMatch(m);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.groupLeft).toBe(false);
  expect(snapshot(dir)).toEqual(before);
  return r;
}

const EXPERIMENT_PROBLEMS = [
  'balancer.policy: got "p3c"; allowed: "round-robin", "weighted-round-robin"',
  'health.outlier.maxEjectionPercent: got 150; Too big: expected number to be <=100',
  'timeouts.requestMs: got -5; Too small: expected number to be >0',
  'faults.0.server: got "s9"; unknown server; known: s1, s2, s3',
  '(root): unknown field "colour"',
];

describe('invalid files change nothing', () => {
  for (const [command, cli] of [['npm run sim', 'sim/cli.ts'], ['npm run live', 'live/runner/cli.ts']] as const) {
    it(`${command}: schema, semantic and syntax errors, a JSON array, a missing file → exit 2, nothing written`, async () => {
      const dir = workdir();
      // No --out: the default reports/bad/<engine> is where a run would write (reports/bad/sim already exists).
      const cases: Array<[string, Array<string | RegExp>]> = [
        ['bad.json', EXPERIMENT_PROBLEMS],
        ['syntax.json', ['JSON syntax error at line 4, column 1']],
        ['array.json', [/array\.json is not a valid experiment/]],
        ['missing.json', [/missing\.json.*cannot read the file/s]],
      ];
      await inBatches(cases, async ([file, messages]) => {
        const r = await refused(cli, [file], dir, messages);
        expect(r.stdout).not.toContain('results in');
      });
      held(`\`${command}\` on 4 invalid experiment files`, 4, 'exit 2, every problem with its path; no file written, no process left');
    });
  }

  it('npm run proxy: bad config file or flags → exit 2, the problem named, nothing listening, no process left', async () => {
    const dir = workdir();
    const base = ['--admin', 'off', '--backend', 'http://127.0.0.1:9'];
    const cases: Array<[string[], Array<string | RegExp>]> = [
      [['--config', 'lb-bad.json'], ['balancer.policy: got "p3c"; allowed: "round-robin"', 'retry.maxAttempts: got 0', 'retry.retryOn.0: got 700', '(root): unknown field "colour"']],
      [['--config', 'lb-cross.json'], ['timeouts.perTryMs: must be <= requestMs']],
      [['--policy', 'fastest'], ['balancer.policy: got "fastest"; allowed: "round-robin"']],
      [['--config', 'syntax.json'], ['invalid JSON at line 4, column 1']],
      [['--config', 'bad.json'], ['bad.json: (root): unknown fields "name", "seed", "servers", "workload", "faults"']], // an experiment file is not a proxy config
      [['--config', 'missing.json'], [/missing\.json: ENOENT/]],
      [['--max-connections', '0'], ['--max-connections: got "0"; allowed: a positive integer']],
      [['--max-headers=-1'], ['--max-headers: got "-1"; allowed: a positive integer']],
      [['--listen', 'everywhere'], ['--listen: got "everywhere"; allowed: HOST:PORT']],
      [['--backend', 'file:///etc/passwd'], ['scheme must be http']],
      [['--backend', 'http://169.254.169.254:80'], ['not loopback and not in the allow-list']],
    ];
    const port = await freePort();
    await inBatches(cases, async ([args, messages]) => {
      await refused('live/proxy/cli.ts', [...base, '--listen', `127.0.0.1:${port}`, ...args], dir, messages);
      expect(await listening(port)).toBe(false);
    });
    held('`npm run proxy` with 5 invalid config files and 6 invalid flags', cases.length, 'exit 2, the path or flag and allowed values named; nothing listening');
  });

  it('npm run report: one invalid experiment among good ones → exit 2, no report or index written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fulcrum-bad-report-'));
    scratch.push(dir);
    cpSync(join(FIXTURES, 'results'), dir, { recursive: true });
    cpSync(join(FIXTURES, 'invalid', 'bad-requests'), join(dir, 'bad-requests'), { recursive: true });
    const r = await refused('reports/cli.ts', ['--root', dir, '--experiments', join(FIXTURES, 'experiments'), '--no-png'], dir,
      [/bad-requests\/sim\/requests\.csv: line 3, column "latencyMs": got "fast"; expected a number/]);
    expect(r.stdout).toBe('');
    held('`npm run report` over 4 good experiments and 1 invalid', 1, 'exit 2, file, line and column named; no report or index written');
  });
});

/** Three command lines at a time: each is a whole Node start-up, and the machine has two cores. */
async function inBatches<T>(items: T[], each: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += 3) await Promise.all(items.slice(i, i + 3).map(each));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function groupAlive(pgid: number): boolean {
  try { process.kill(-pgid, 0); return true; } catch { return false; }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}
