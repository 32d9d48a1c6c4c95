// Shared by the container tests: the docker CLI, the engine check (required in CI), the image
// built from the repository's Dockerfile, a unique label per test file for cleanup, and
// load through the proxy container that records who answered.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll } from 'vitest';
import { assertDockerEngine, buildReplicaImage } from '../../live/runner/runtime/docker.ts';
import { attempts, client, send } from '../live/helpers.ts';

const run = promisify(execFile);

export async function docker(...args: string[]): Promise<string> {
  const { stdout } = await run('docker', args, { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** True when an engine answers; throws when CI requires one (FULCRUM_REQUIRE_DOCKER=1). */
export async function dockerEngine(): Promise<boolean> {
  return assertDockerEngine().then(() => true, (err: Error) => {
    if (process.env.FULCRUM_REQUIRE_DOCKER === '1') throw err;
    console.warn(`container tests skipped: ${err.message}`);
    return false;
  });
}

export const BASE_IMAGE = process.env.FULCRUM_DOCKER_BASE ?? 'fulcrum-node24-base:local';
/**
 * The repository's image (multi-stage Dockerfile), tagged as compose.yaml tags it; the
 * docker runtime's build of the same Dockerfile shares its layer cache.
 */
export const buildImage = () => buildReplicaImage(BASE_IMAGE, 'fulcrum:local');

/** A name prefix and label for everything one test file creates; removed after the file, pass or fail. */
export function dockerRun(prefix: string): string {
  const runId = `${prefix}-${randomBytes(4).toString('hex')}`;
  afterAll(() => removeRun(runId));
  return runId;
}

/** Removes the run's containers and networks; returns what is left with its label (nothing, normally). */
export async function removeRun(runId: string): Promise<string> {
  const label = `label=fulcrum.run=${runId}`;
  const ids = await docker('ps', '-aq', '--filter', label).catch(() => '');
  if (ids) await docker('rm', '-f', ...ids.split('\n')).catch(() => '');
  const nets = await docker('network', 'ls', '-q', '--filter', label).catch(() => '');
  if (nets) await docker('network', 'rm', ...nets.split('\n')).catch(() => '');
  return [await docker('ps', '-aq', '--filter', label), await docker('network', 'ls', '-q', '--filter', label)].join('').trim();
}

/** 127.0.0.1:PORT that Docker published a container port on. */
export async function publishedPort(container: string, port: number): Promise<number> {
  const out = await docker('port', container, `${port}/tcp`);
  const m = /127\.0\.0\.1:(\d+)/.exec(out);
  if (!m) throw new Error(`${container}: port ${port} not published on 127.0.0.1 (${out})`);
  return Number(m[1]);
}

/** `detail`: the proxy's error body and attempts header, for a failed answer. */
export interface Answer { status: number; server?: string; atMs: number; detail?: string }

/** GET /home through the proxy: status and the replica id that answered. */
export async function home(proxyUrl: string, t0 = performance.now()): Promise<Answer> {
  try {
    const r = await send(`${proxyUrl}/home`);
    let server: string | undefined;
    try { server = (JSON.parse(r.text) as { server?: string }).server; } catch { /* not a replica's answer */ }
    const detail = r.status === 200 ? undefined : `attempts ${attempts(r)}: ${r.text.slice(0, 200)}`;
    return { status: r.status, server, atMs: performance.now() - t0, detail };
  } catch (err) {
    return { status: 0, atMs: performance.now() - t0, detail: (err as Error).message };
  }
}

/**
 * `total` GETs from `concurrency` clients (bounded in count; each request is bounded by the
 * proxy's own request timeout). `onAnswered(n)` runs after the n-th answer, to inject a fault.
 */
export async function load(proxyUrl: string, total: number, concurrency: number, onAnswered: (n: number) => void | Promise<void> = () => {}): Promise<Answer[]> {
  const answers: Answer[] = [];
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      next++;
      const a = await home(proxyUrl, t0);
      answers.push(a);
      await onAnswered(answers.length);
    }
  }));
  return answers;
}

export { client };
