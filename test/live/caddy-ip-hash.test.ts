// Ground truth for Caddy 2.6's ip_hash: which server the real binary picks for each client
// address the load generator uses (127.0.0.2 …), with s1-s3, after s4 joins and after s2
// leaves (admin API loads), on the runner's named upstreams ({http.vars.sN}). The fixture
// (fixtures/caddy-ip-hash.csv) is what the simulator's Caddy ip_hash model must reproduce;
// this test asks the binary again and checks it against rendezvous hashing
// (selectionpolicies.go hostByHashing: highest fnv32a(client IP + dial text)).
// Regenerate: FULCRUM_UPDATE_GOLDEN=1 npx vitest run test/live/caddy-ip-hash.test.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { clientAddress } from '../../experiments/workload.ts';
import { launchCaddy } from '../../live/runner/proxies/caddy/launcher.ts';
import { rendezvous } from './caddy-rendezvous.ts';

const FIXTURE = new URL('./fixtures/caddy-ip-hash.csv', import.meta.url);
const CLIENTS = 200;
/** Nothing listens there: only the pick matters, and Caddy logs it before the dial fails. */
const NOWHERE = 'http://127.0.0.1:9';

let work: string;
afterAll(async () => { if (work) await rm(work, { recursive: true, force: true }); });

async function picks(): Promise<Record<string, string[]>> {
  work = await mkdtemp(join(tmpdir(), 'fulcrum-caddy-hash-'));
  const proxy = await launchCaddy({
    backends: ['s1', 's2', 's3'].map((id) => ({ id, url: NOWHERE, weight: 1 })),
    config: undefined as never, workDir: work, log: () => {},
  }, { selection: { policy: 'ip_hash' }, tryDurationMs: 0, tryIntervalMs: 250, timeouts: { dialMs: 500 } });
  const round = async (tag: string) => {
    for (let c = 0; c < CLIENTS; c++) {
      const pool = new Pool(proxy.url, { localAddress: clientAddress(c), connections: 1 });
      const res = await pool.request({ path: '/', method: 'GET', headers: { 'x-request-id': `${tag}-${c}` } });
      await res.body.dump();
      await pool.close();
    }
  };
  await round('s1-s3');
  await proxy.change({ kind: 'add', atMs: 0, server: 's4' }, NOWHERE);
  await round('+s4');
  await proxy.change({ kind: 'remove', atMs: 0, server: 's2' });
  await round('+s4-s2');
  const records = await proxy.stop();
  const out: Record<string, string[]> = {};
  for (const tag of ['s1-s3', '+s4', '+s4-s2']) {
    const byClient = new Map(records.filter((r) => r.requestId.startsWith(`${tag}-`)).map((r) => [Number(r.requestId.slice(tag.length + 1)), r.servers[0]]));
    out[tag] = Array.from({ length: CLIENTS }, (_, c) => byClient.get(c) ?? '-');
  }
  return out;
}

describe('ip_hash on the real Caddy 2.6', () => {
  it(`the fixture is what the binary picks for ${CLIENTS} client addresses, and it is rendezvous over fnv32a`, async () => {
    const columns = await picks();
    const names = Object.keys(columns);
    const csv = [
      ['client', 'address', ...names].join(','),
      ...Array.from({ length: CLIENTS }, (_, i) => [i, clientAddress(i), ...names.map((n) => columns[n][i])].join(',')),
    ].join('\n') + '\n';
    if (process.env.FULCRUM_UPDATE_GOLDEN) writeFileSync(FIXTURE, csv);
    expect(csv).toBe(readFileSync(FIXTURE, 'utf8'));
    const members: Record<string, string[]> = { 's1-s3': ['s1', 's2', 's3'], '+s4': ['s1', 's2', 's3', 's4'], '+s4-s2': ['s1', 's3', 's4'] };
    for (const n of names) {
      expect(columns[n], n).toEqual(Array.from({ length: CLIENTS }, (_, i) => rendezvous(clientAddress(i), members[n])));
      expect(new Set(columns[n]).size, n).toBe(members[n].length);
    }
    // Rendezvous: s4 joining moves only clients to s4; s2 leaving moves only s2's clients.
    const moved = (a: string[], b: string[]) => b.filter((s, i) => s !== a[i]);
    expect(new Set(moved(columns['s1-s3'], columns['+s4']))).toEqual(new Set(['s4']));
    expect(columns['+s4'].filter((s, i) => s !== columns['+s4-s2'][i]).every((s) => s === 's2')).toBe(true);
  }, 60_000);
});
