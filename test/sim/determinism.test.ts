// Same file + seed ⇒ byte-identical result files; another seed ⇒ different ones. Run through
// the real command line, on a fixture with faults, variants, health checks, retries,
// random network delays and Zipf clients, so every random stream is exercised.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashTree } from './helpers.ts';

const FIXTURE = 'test/sim/fixtures/determinism.json';

function runCli(out: string, ...extra: string[]): void {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'sim/cli.ts', FIXTURE, '--out', out, '--quiet', ...extra], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}

describe('reproducibility', () => {
  it('the same file and seed give byte-identical files; a different seed does not', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fulcrum-det-'));
    runCli(join(root, 'a'));
    runCli(join(root, 'b'));
    runCli(join(root, 'c'), '--seed', '43');
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((d) => hashTree(join(root, d))));
    expect(Object.keys(a)).toEqual([
      'hang/requests.csv', 'hang/servers.csv', 'hang/summary.json', 'hang/timeline.csv',
      'mixed/requests.csv', 'mixed/servers.csv', 'mixed/summary.json', 'mixed/timeline.csv',
      'summary.json',
    ]);
    expect(b).toEqual(a);
    for (const file of Object.keys(a)) {
      if (file.endsWith('servers.csv')) continue; // per-server totals may coincide
      expect(c[file], file).not.toBe(a[file]);
    }
  });
});
