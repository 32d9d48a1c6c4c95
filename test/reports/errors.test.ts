// Bad input is the user's problem, not a crash: a message naming the file and what is wrong,
// exit code 2, no stack trace, and nothing written.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ReportInputError } from '../../reports/errors.ts';
import { loadExperimentProxies, loadExperimentResults } from '../../reports/load.ts';
import { INVALID, RESULTS } from './helpers.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

describe('invalid inputs', () => {
  it.each([
    ['bad-summary', 'sim/summary.json', /latencyMs\.p99: missing/],
    ['bad-json', 'sim/summary.json', /not valid JSON/],
    ['wrong-mode', 'sim/summary.json', /says "mode": "live" but sits in a sim\/ folder/],
    ['bad-requests', 'sim/requests.csv', /line 3, column "latencyMs": got "fast"; expected a number/],
    ['bad-timeline', 'sim/timeline.csv', /missing column "server" or "serverId"; the header is: bucketStartMs,host,requests/],
    ['proxy-missing', 'sim-haproxy/summary.json', /^has no "proxy" \(Fulcrum's own results\) but sits in a sim-haproxy\/ folder; expected "proxy": "haproxy"$/],
    ['proxy-elsewhere', 'sim/summary.json', /^says "proxy": "haproxy" but sits in a sim\/ folder \(its results belong in sim-haproxy\/\)$/],
    ['unknown-proxy', 'sim-traefik', /^not a mode folder of a known proxy; expected sim \(Fulcrum's own\) or sim-haproxy, sim-nginx, sim-caddy$/],
  ])('%s: names %s and the problem', async (name, file, problem) => {
    const err = await loadExperimentProxies(name, { root: INVALID, experimentsDir: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReportInputError);
    const e = err as ReportInputError;
    expect(e.file).toBe(join(INVALID, name, file));
    expect(e.problem).toMatch(problem);
  });

  it('an experiment without results says which folders it looked in', async () => {
    const err = await loadExperimentResults('a9', { root: RESULTS, experimentsDir: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReportInputError);
    expect((err as Error).message).toMatch(/a9: no results: neither sim\/ nor live\/ holds a summary.json/);
  });

  it('the CLI exits 2 with one line per problem and no stack trace', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'reports/cli.ts', 'bad-requests', '--root', INVALID, '--no-png'], {
      cwd: REPO, encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^report: .*bad-requests\/sim\/requests\.csv: line 3, column "latencyMs": got "fast"; expected a number\n$/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stdout).toBe('');
  });

  it('the CLI: a folder holding another proxy\'s results than its name says is one line, exit 2', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'reports/cli.ts', 'proxy-missing', '--root', INVALID, '--no-png'], {
      cwd: REPO, encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^report: .*proxy-missing\/sim-haproxy\/summary\.json: has no "proxy" \(Fulcrum's own results\) but sits in a sim-haproxy\/ folder; expected "proxy": "haproxy"\n$/);
  });

  it('the CLI rejects unknown options with its usage and exit 2', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'reports/cli.ts', '--colour'], { cwd: REPO, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/usage: npm run report/);
  });
});
