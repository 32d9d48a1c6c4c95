// Shared fixtures for the live tests: real replica processes, proxies started in-process,
// raw-socket requests, and cleanup that stops exactly what each test file started.
import { connect } from 'node:net';
import { afterAll } from 'vitest';
import { Agent, request } from 'undici';
import { type SpawnOptions, type SpawnedReplica, spawnReplica } from '../../server/spawn.ts';
import { type ProxyOptions, type RunningProxy, startProxy } from '../../live/proxy/start.ts';

const started: Array<{ stop(): Promise<void> }> = [];
export const client = new Agent({ connections: 64, keepAliveTimeout: 1_000 });

afterAll(async () => {
  await Promise.allSettled(started.splice(0).map((s) => s.stop()));
  await client.close();
});

export const CONTROL_TOKEN = 'test-control-token';
export const ADMIN_TOKEN = 'test-admin-token';

/** Starts `n` replicas s1..sn as child processes (request logs on, control token set). */
export async function replicas(n: number, opts: (i: number) => Partial<SpawnOptions> = () => ({})): Promise<SpawnedReplica[]> {
  const list = await Promise.all(Array.from({ length: n }, (_, i) => spawnReplica({
    id: `s${i + 1}`, controlToken: CONTROL_TOKEN, logRequests: true, seed: i + 1, ...opts(i),
  })));
  for (const r of list) started.push({ stop: () => r.stop() });
  return list;
}

export async function proxy(o: ProxyOptions): Promise<RunningProxy> {
  const p = await startProxy({ adminToken: ADMIN_TOKEN, seed: 42, ...o });
  started.push({ stop: () => p.close(2_000) });
  return p;
}

export interface Reply { status: number; headers: Record<string, string | string[] | undefined>; text: string; ms: number }

export async function send(url: string, opts: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Reply> {
  const t0 = performance.now();
  const res = await request(url, { method: (opts.method ?? 'GET') as 'GET', body: opts.body, headers: opts.headers, dispatcher: client });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, ms: performance.now() - t0 };
}

export function attempts(r: Reply): string { return String(r.headers['x-fulcrum-attempts'] ?? ''); }

/** Sends bytes on a fresh TCP connection and returns what came back until the server closed it. */
export function raw(port: number, payload: string | Buffer, timeoutMs = 3_000): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(payload));
    let data = '';
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.setEncoding('latin1').on('data', (d: string) => { data += d; });
    const done = () => { clearTimeout(timer); resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), text: data }); };
    socket.on('close', done);
    socket.on('error', () => {});
  });
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Calls the admin API; `token: null` sends none. */
export async function admin(p: RunningProxy, method: string, path: string, body?: unknown, o: { token?: string | null; headers?: Record<string, string>; raw?: string } = {}) {
  const headers: Record<string, string> = { ...o.headers };
  const token = o.token === undefined ? ADMIN_TOKEN : o.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined = o.raw;
  if (body !== undefined) { payload = JSON.stringify(body); headers['content-type'] ??= 'application/json'; }
  const res = await request(`${p.adminUrl}${path}`, { method: method as 'GET', headers, body: payload, dispatcher: client });
  const text = await res.body.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.statusCode, headers: res.headers, json: json as Record<string, unknown> & { errors?: Array<{ path: string; message: string }> }, text };
}

/** Requests each replica logged, by request id. */
export function seenCounts(list: SpawnedReplica[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of list) for (const e of r.requests) if (e.rid) counts.set(e.rid, (counts.get(e.rid) ?? 0) + 1);
  return counts;
}
