// Sticky policies keyed on the client address cannot be steered by headers: clients on
// distinct loopback addresses (127.0.0.2 …) forge X-Forwarded-For, Forwarded and X-Real-IP
// and still land where their socket address sends them; a configured trusted proxy's
// X-Forwarded-For is honoured, and only its rightmost untrusted hop.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import type { RunningProxy } from '../../live/proxy/start.ts';
import type { SpawnedReplica } from '../../server/spawn.ts';
import { proxy, replicas } from '../live/helpers.ts';
import { held, printHeldRows } from './helpers.ts';

const CLIENTS = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
const TRUSTED = '127.0.0.50';
const agents = new Map<string, Agent>();
let rs: SpawnedReplica[];

/** An undici client whose connections leave from `address`. */
function from(address: string): Agent {
  let a = agents.get(address);
  if (!a) agents.set(address, a = new Agent({ localAddress: address, connections: 2 }));
  return a;
}

async function landsOn(p: RunningProxy, address: string, headers: Record<string, string> = {}): Promise<{ backend: string; forwardedFor: string }> {
  const res = await request(`${p.url}/who`, { dispatcher: from(address), headers });
  const echo = await res.body.json() as { server: string; headers: Record<string, string> };
  expect(res.statusCode).toBe(200);
  expect(res.headers['x-fulcrum-attempts']).toBe(echo.server);
  return { backend: echo.server, forwardedFor: echo.headers['x-forwarded-for'] };
}

/** Header sets a client might forge to look like someone else. */
function forgeries(i: number): Array<Record<string, string>> {
  const other = CLIENTS[(i + 1) % CLIENTS.length];
  return [
    { 'x-forwarded-for': other },
    { 'x-forwarded-for': `203.0.113.${i}` },
    { 'x-forwarded-for': `${other}, ${TRUSTED}` },
    { 'x-forwarded-for': `198.51.100.1, 198.51.100.2, ${other}` },
    { 'x-forwarded-for': 'not-an-address' },
    { 'x-forwarded-for': '::1' },
    { forwarded: `for=${other}` },
    { 'x-real-ip': other },
    { 'x-forwarded-for': other, 'x-real-ip': other, forwarded: `for="${other}"` },
    { 'x-fulcrum-attempts': 's1', 'x-forwarded-for': `${other}:1234` },
  ];
}

beforeAll(async () => { rs = await replicas(3); });
afterAll(async () => {
  await Promise.all([...agents.values()].map((a) => a.close()));
  printHeldRows();
});

describe('forged client identity', () => {
  for (const policy of ['ip-hash', 'ring-hash', 'maglev']) {
    it(`${policy}: ${CLIENTS.length} clients × 10 forged headers stay on their own backend; a trusted proxy's XFF is honoured`, async () => {
      const p = await proxy({ backends: rs.map((r) => ({ url: r.url })), policy, trustedProxies: [TRUSTED], admin: false });
      const home = new Map<string, string>();
      for (const c of CLIENTS) {
        const first = await landsOn(p, c);
        expect(first.forwardedFor).toBe(c); // the backend is told the socket address
        home.set(c, first.backend);
      }
      // The key really is the client address: these clients do not all share one backend.
      expect(new Set(home.values()).size).toBeGreaterThan(1);
      let sent = CLIENTS.length;
      for (const [i, c] of CLIENTS.entries()) {
        for (const forged of forgeries(i)) {
          const r = await landsOn(p, c, forged);
          sent++;
          expect(r.backend, `${c} forging ${JSON.stringify(forged)}`).toBe(home.get(c));
          expect(r.forwardedFor).toBe(c); // forged values are dropped, not passed on
        }
      }
      // Through a trusted proxy, the client it names is the key: same backend as direct.
      for (const c of CLIENTS) {
        const viaProxy = await landsOn(p, TRUSTED, { 'x-forwarded-for': c });
        expect(viaProxy.backend).toBe(home.get(c));
        expect(viaProxy.forwardedFor).toBe(`${c}, ${TRUSTED}`);
        // Only the rightmost untrusted hop counts: what the client itself wrote further left is ignored.
        const chained = await landsOn(p, TRUSTED, { 'x-forwarded-for': `${CLIENTS[0]}, ${c}` });
        expect(chained.backend).toBe(home.get(c));
        sent += 2;
      }
      held(`forged X-Forwarded-For / Forwarded / X-Real-IP, ${policy}`, sent,
        `${CLIENTS.length} clients × 10 forgeries: all on their own backend; trusted proxy's XFF honoured`);
    });
  }
});
