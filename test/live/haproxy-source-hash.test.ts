// Ground truth for `balance source`: which server the real HAProxy 2.6 picks for each client
// address the load generator uses (127.0.0.2 …), per hash type and weights. The fixture
// (fixtures/haproxy-source-hash.csv) is what the simulator's HAProxy hash models must
// reproduce; this test keeps it honest by asking the binary again.
// Regenerate: FULCRUM_UPDATE_GOLDEN=1 npx vitest run test/live/haproxy-source-hash.test.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { clientAddress } from '../../experiments/workload.ts';
import type { HaproxyHashType } from '../../experiments/proxies/haproxy-settings.ts';
import { launchHaproxy } from '../../live/runner/proxies/haproxy/launcher.ts';

const FIXTURE = new URL('./fixtures/haproxy-source-hash.csv', import.meta.url);
const CLIENTS = 200;
const hash = (method: HaproxyHashType['method'], fn: HaproxyHashType['function'], avalanche: boolean): HaproxyHashType => ({ method, function: fn, avalanche });
/** `addS4`: after the clients' first round, `add server s4 weight 1` through the runtime API, then the picks of a second round. */
const CASES: Array<{ name: string; hashType: HaproxyHashType; weights: number[]; addS4?: boolean }> = [
  { name: 'map-based sdbm w111', hashType: hash('map-based', 'sdbm', false), weights: [1, 1, 1] },
  { name: 'map-based sdbm w123', hashType: hash('map-based', 'sdbm', false), weights: [1, 2, 3] },
  { name: 'map-based djb2 w111', hashType: hash('map-based', 'djb2', false), weights: [1, 1, 1] },
  { name: 'map-based wt6 w111', hashType: hash('map-based', 'wt6', false), weights: [1, 1, 1] },
  { name: 'map-based crc32 w111', hashType: hash('map-based', 'crc32', false), weights: [1, 1, 1] },
  { name: 'map-based sdbm avalanche w111', hashType: hash('map-based', 'sdbm', true), weights: [1, 1, 1] },
  { name: 'consistent sdbm avalanche w111', hashType: hash('consistent', 'sdbm', true), weights: [1, 1, 1] },
  { name: 'consistent sdbm avalanche w123', hashType: hash('consistent', 'sdbm', true), weights: [1, 2, 3] },
  { name: 'consistent sdbm avalanche w111 +s4', hashType: hash('consistent', 'sdbm', true), weights: [1, 1, 1], addS4: true },
  { name: 'consistent sdbm w111', hashType: hash('consistent', 'sdbm', false), weights: [1, 1, 1] },
  { name: 'consistent crc32 w111', hashType: hash('consistent', 'crc32', false), weights: [1, 1, 1] },
];

let work: string;
afterAll(async () => { if (work) await rm(work, { recursive: true, force: true }); });

/** The server HAProxy picks for each client address (servers at a refusing port: only the pick matters). */
async function picks(hashType: HaproxyHashType, weights: number[], addS4 = false): Promise<string[]> {
  work ??= await mkdtemp(join(tmpdir(), 'fulcrum-haproxy-hash-'));
  const proxy = await launchHaproxy({
    backends: weights.map((weight, i) => ({ id: `s${i + 1}`, url: 'http://127.0.0.1:9', weight })),
    config: undefined as never, workDir: await mkdtemp(join(work, 'run-')), log: () => {},
  }, { balance: { algorithm: 'source', hashType }, retries: 0, retryOn: ['conn-failure'], timeouts: { connectMs: 500, serverMs: 5_000, clientMs: 5_000 } });
  const round = async (tag: string) => {
    for (let c = 0; c < CLIENTS; c++) {
      const pool = new Pool(proxy.url, { localAddress: clientAddress(c), connections: 1 });
      const res = await pool.request({ path: '/', method: 'GET', headers: { 'x-request-id': `${tag}${c}` } });
      await res.body.dump();
      await pool.close();
    }
  };
  await round('before');
  if (addS4) {
    await proxy.change({ kind: 'add', atMs: 0, server: 's4', weight: 1 }, 'http://127.0.0.1:9');
    await round('after');
  }
  const tag = addS4 ? 'after' : 'before';
  const byClient = new Map((await proxy.stop()).filter((r) => r.requestId.startsWith(tag)).map((r) => [Number(r.requestId.slice(tag.length)), r.servers[0]]));
  return Array.from({ length: CLIENTS }, (_, c) => byClient.get(c) ?? '-');
}

describe('balance source on the real HAProxy 2.6', () => {
  it(`the fixture is what the binary picks for ${CLIENTS} client addresses under ${CASES.length} hash types and weights`, async () => {
    const columns: string[][] = [];
    for (const c of CASES) columns.push(await picks(c.hashType, c.weights, c.addS4));
    const csv = [
      ['client', 'address', ...CASES.map((c) => c.name)].join(','),
      ...Array.from({ length: CLIENTS }, (_, i) => [i, clientAddress(i), ...columns.map((col) => col[i])].join(',')),
    ].join('\n') + '\n';
    if (process.env.FULCRUM_UPDATE_GOLDEN) writeFileSync(FIXTURE, csv);
    expect(csv).toBe(readFileSync(FIXTURE, 'utf8'));
    // Every client reached a server. Map-based and avalanche hashing spread 127.0.0.x over all
    // three; consistent hashing WITHOUT avalanche puts all 200 on one server (neighbouring
    // addresses hash to neighbouring points of the ring: why HAProxy's default for
    // `consistent` adds avalanche).
    CASES.forEach((c, i) => {
      expect(columns[i]).not.toContain('-');
      const spread = c.hashType.method === 'map-based' || c.hashType.avalanche;
      expect(new Set(columns[i]).size, c.name).toBe(spread ? (c.addS4 ? 4 : 3) : 1);
    });
    // Consistent hashing: adding s4 moves only the clients that now go to s4.
    const [before, after] = ['consistent sdbm avalanche w111', 'consistent sdbm avalanche w111 +s4'].map((n) => columns[CASES.findIndex((c) => c.name === n)]);
    const moved = after.filter((server, i) => server !== before[i]);
    expect(moved.length).toBeGreaterThan(0);
    expect(new Set(moved)).toEqual(new Set(['s4']));
  }, 120_000);
});
