// What the export tests of every proxy share: `npm run export`'s CLI run as a user runs it
// (exit code, stdout, stderr), a small experiment to export, and its chosen run.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ProxyName } from '../../experiments/proxies.ts';
import { type ExperimentPlan, parseExperiment } from '../../experiments/schema.ts';
import { chooseRun } from '../../live/export/export.ts';

const run = promisify(execFile);

/** `npm run export -- ARGS` (live/export/cli.ts): its exit code and both streams. */
export async function exportCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'live/export/cli.ts', ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Three servers of 1 ms at weight 1, ten requests one at a time, with `patch` over it. */
export const smallExperiment = (patch: Record<string, unknown>): Record<string, unknown> => ({
  name: 'exp', seed: 1,
  servers: { count: 3, template: { serviceTimeMs: { dist: 'constant', value: 1 }, weight: 1 } },
  workload: { requests: 10, arrival: { process: 'closed', concurrency: 1 } },
  ...patch,
});

export const experiment = (patch: Record<string, unknown>): ExperimentPlan => parseExperiment(smallExperiment(patch), 'exp.json');

/** The small experiment as a file in `work`, for the CLI. */
export function experimentFile(work: string, name: string, patch: Record<string, unknown>): string {
  const file = join(work, `${name}.json`);
  writeFileSync(file, JSON.stringify(smallExperiment({ name, ...patch })));
  return file;
}

/** The run `npm run export -- --to <to>` exports from `plan`, with its notes; its problems are an error. */
export function chosenRun(plan: ExperimentPlan, to: ProxyName): Exclude<ReturnType<typeof chooseRun>, { problems: string[] }> {
  const chosen = chooseRun(plan, { to });
  if ('problems' in chosen) throw new Error(chosen.problems.join('\n'));
  return chosen;
}
