// What the `npm run sim FILE -- --proxy <name>` tests share: the simulator's CLI run as a
// user runs it, and an experiment file in a folder of its own, removed after the test file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { ProxyName } from '../../experiments/proxies.ts';
import { workFolder } from '../work-folder.ts';

/** sim/cli.ts with these arguments: exit status and both streams. */
export const simCli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'sim/cli.ts', ...args], { encoding: 'utf8' });

/** Writes each experiment as exp.json in a fresh folder under the file's work folder. */
export function experimentWriter(name: string): (content: unknown) => { dir: string; file: string } {
  const root = workFolder(name);
  return (content) => {
    const dir = mkdtempSync(join(root, 'exp-'));
    const file = join(dir, 'exp.json');
    writeFileSync(file, JSON.stringify(content));
    return { dir, file };
  };
}

/** `npm run sim exp.json -- --proxy <proxy>` into <dir>/sim-<proxy>, which must succeed quietly and mark its results as the proxy's. */
export function simThrough(proxy: ProxyName, dir: string, file: string): { out: string; summary: { servers: Record<string, { requests: number }> } } {
  const out = join(dir, `sim-${proxy}`);
  const r = simCli(file, '--proxy', proxy, '--out', out, '--quiet');
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  expect(summary.proxy).toBe(proxy);
  return { out, summary };
}
