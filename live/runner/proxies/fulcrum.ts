// Fulcrum's own proxy under test, in a process of its own like any other proxy: the
// experiment's routing sections go in a config file, the replicas become --backend flags,
// and the proxy writes the attempt log (live/proxy/attempt-log.ts) that the runner measures
// by after the run. Started from an esbuild bundle (about a second to build, once per
// runner process) so it is listening in a fraction of what compiling TypeScript takes;
// without esbuild it falls back to tsx.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { Change } from '../../../experiments/schema.ts';
import type { AttemptLogLine } from '../../proxy/attempt-log.ts';
import { buildBundle } from '../runtime/bundle.ts';
import { startGroupProcess } from './process-group.ts';
import type { AccessRecord, MembersRecord, ProxyLaunch, ProxyLauncher, ProxyUnderTest } from './types.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Long enough for in-flight requests to finish (there are none left when the runner stops it) and the log to be written. */
const STOP_DEADLINE_MS = 10_000;

/** Requests through a throwaway instance before the real one starts (warm-up.ts): its first answers then cost what later ones do. */
const WARM_UP_REQUESTS = 2_000;

let entry: Promise<string[]> | undefined;

/** node's arguments that start the proxy CLI: the bundle, built once per process, or tsx. */
function proxyEntry(log: (line: string) => void): Promise<string[]> {
  entry ??= (async () => {
    try {
      const dir = await mkdtemp(join(tmpdir(), 'fulcrum-proxy-bundle-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      return [await buildBundle('proxy', join(dir, 'proxy.mjs'))];
    } catch (err) {
      log(`proxy bundle failed (${(err as Error).message.split('\n')[0]}); starting the proxy through tsx`);
      return ['--import', 'tsx', join(ROOT, 'live/proxy/cli.ts')];
    }
  })();
  return entry;
}

export const launchFulcrum: ProxyLauncher = async (launch: ProxyLaunch): Promise<ProxyUnderTest> => {
  const cfg = launch.config;
  const configFile = join(launch.workDir, 'routing.json');
  const attemptLog = join(launch.workDir, 'attempts.jsonl');
  await writeFile(configFile, JSON.stringify({ balancer: cfg.balancer, health: cfg.health, retry: cfg.retry, timeouts: cfg.timeouts }));
  const token = randomBytes(18).toString('base64url');
  const proc = await startGroupProcess({
    name: 'fulcrum',
    command: process.execPath,
    args: [
      ...await proxyEntry(launch.log),
      '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--config', configFile, '--seed', launch.seed ?? String(cfg.seed),
      ...launch.backends.flatMap((b) => ['--backend', `${b.id}=${b.url}@${b.weight}`]),
      '--attempt-log', attemptLog, '--stop-on-stdin-end', // dies with the runner, however it dies
      '--warm-up', String(WARM_UP_REQUESTS),
    ],
    cwd: ROOT,
    // A scrubbed environment: the proxy needs nothing of ours.
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', FULCRUM_ADMIN_TOKEN: token },
    isReady: (line) => line.event === 'ready',
    readyTimeoutMs: 30_000,
    log: launch.log,
    stdinLifeline: true,
  });
  const url = String(proc.ready.url);
  const adminUrl = String(proc.ready.adminUrl);
  launch.log(`[fulcrum] pid ${proc.pid} on ${url}`);
  const admin = async (method: 'GET' | 'POST' | 'DELETE' | 'PUT', path: string, body?: object): Promise<string> => {
    const res = await request(`${adminUrl}${path}`, {
      method, body: body ? JSON.stringify(body) : undefined,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`);
    return text;
  };
  let log: Promise<ParsedLog> | undefined;
  let members: MembersRecord[] = [];
  return {
    name: 'fulcrum',
    url,
    pid: proc.pid,
    async change(c: Change, replicaUrl?: string) {
      switch (c.kind) {
        case 'add': await admin('POST', '/backends', { id: c.server, url: replicaUrl, weight: c.weight }); return;
        case 'remove': await admin('DELETE', `/backends/${c.server}`); return;
        case 'weight': await admin('PUT', `/backends/${c.server}/weight`, { weight: c.weight }); return;
      }
    },
    stop() {
      log ??= proc.stop(STOP_DEADLINE_MS).then(() => readAttemptLog(attemptLog, launch.log));
      return log.then((parsed) => { members = parsed.members; return parsed.access; });
    },
    members: () => members,
    metrics: () => admin('GET', '/metrics'),
  };
};

interface ParsedLog { access: AccessRecord[]; members: MembersRecord[] }

/** The attempt log as the runner's records; a missing file (the proxy died before writing) is an empty log. */
export async function readAttemptLog(file: string, log: (line: string) => void): Promise<ParsedLog> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const parsed: ParsedLog = { access: [], members: [] };
  for (const raw of text.split('\n')) {
    if (raw === '') continue;
    let line: AttemptLogLine;
    try { line = JSON.parse(raw) as AttemptLogLine; } catch { log(`attempt log: skipped a torn line (${raw.length} bytes)`); continue; }
    switch (line.kind) {
      case 'request':
        parsed.access.push({
          requestId: line.id, status: line.status, error: line.error,
          servers: line.attempts.map((a) => a.server), attempts: line.attempts,
        });
        break;
      case 'members': parsed.members.push({ atMs: line.atMs, servers: line.servers }); break;
      case 'dropped': log(`attempt log: the proxy dropped ${line.lines} lines (its queue was full)`); break;
    }
  }
  return parsed;
}
