// What the live tests of every proxy under test share: one request through the proxy,
// counts by the server that answered, and finding the processes a test started.
import { readFileSync, readdirSync } from 'node:fs';
import { type Dispatcher, request } from 'undici';
import type { AccessRecord, ProxyUnderTest } from '../../live/runner/proxies/types.ts';

/** One GET / through the proxy with the given request id; its status. */
export async function sendThrough(proxy: ProxyUnderTest, id: string, dispatcher: Dispatcher): Promise<number> {
  const res = await request(`${proxy.url}/`, { headers: { 'x-request-id': id }, dispatcher });
  await res.body.dump();
  return res.statusCode;
}

/** Requests per server that answered last (the proxy's own log). */
export const countByLastServer = (records: AccessRecord[]): Record<string, number> => records.reduce<Record<string, number>>((acc, r) => {
  const last = r.servers.at(-1);
  if (last) acc[last] = (acc[last] ?? 0) + 1;
  return acc;
}, {});

export const isAlive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };

/** PIDs of every process whose command line contains `text` (a test's own work folder). */
export function processesMentioning(text: string): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try { return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text); } catch { return false; }
  }).map(Number);
}

/** Requests each replica says it served (its control endpoint); -1 for a replica that does not answer. */
export async function servedByReplica(replicas: ReadonlyArray<{ id: string; url: string }>, token: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of replicas) {
    const res = await request(`${r.url}/__control`, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined);
    out[r.id] = res ? ((await res.body.json()) as { served: number }).served : -1;
  }
  return out;
}
