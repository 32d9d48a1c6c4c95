// The deciding test for the HAProxy models: the same sequential requests through the real
// haproxy 2.6 binary and through the model must land on the same servers, in the same
// order. Real HTTP backends on loopback, a minimal hand-written haproxy.cfg per case, one
// request at a time (so no two requests are ever in flight and the order is HAProxy's
// algorithm alone). `balance source` requests come from distinct loopback addresses.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Balancer } from '../../core/balancer.ts';
import type { BalancerConfig } from '../../core/config.ts';
import { Router } from '../../core/router.ts';
import { type HaproxyRetryRules, HaproxyRules } from '../../core/haproxy-retry.ts';
import { type Backends, RouterModel, type RunningBinary, clientAddress, freePort, installed, refusingIf, sendFrom, startBackends, startBinary } from './binary-kit.ts';
import { modelBalancer } from './model-kit.ts';

const hasHaproxy = installed('haproxy', ['-v']);
const IDS = ['s1', 's2', 's3', 's4'];

let backends: Backends | undefined;

beforeAll(async () => {
  if (hasHaproxy) backends = await startBackends(IDS);
});

afterAll(async () => {
  await backends?.close();
});

interface Case {
  title: string;
  /** The backend section's lines before the servers. */
  backend: string[];
  weights: number[];
  policy: BalancerConfig;
  requests: number;
  /** Client address of request i (source hashing), else 127.0.0.1. */
  client?: (i: number) => string;
  /** Runtime API commands sent before request `before`, and the same change on the model. */
  changes?: Change[];
  /** Servers whose port refuses connections, and HAProxy's retry rules the Router then follows. */
  dead?: string[];
  rules?: HaproxyRetryRules;
}

interface Change { before: number; command: string | (() => string[]); apply: (b: Balancer, nowMs: number) => void }

const disable = (before: number, id: string): Change => ({ before, command: `disable server be/${id}`, apply: (b, t) => b.setAdminDown(id, true, t) });
const enable = (before: number, id: string): Change => ({ before, command: `enable server be/${id}`, apply: (b, t) => b.setAdminDown(id, false, t) });
/** `add server` (it starts in maintenance) then `enable server`: backend `id` joins at run time. */
const add = (before: number, id: string, index: number): Change => ({
  before, command: () => [`add server be/${id} 127.0.0.1:${backends!.port(IDS[index])} weight 1`, `enable server be/${id}`],
  apply: (b, t) => { b.add(id, { weight: 1, nowMs: t }); },
});
const weight = (before: number, id: string, w: number): Change => ({ before, command: `set server be/${id} weight ${w}`, apply: (b) => b.setWeight(id, w) });

const CASES: Case[] = [
  { title: 'roundrobin, equal weights', backend: ['balance roundrobin'], weights: [1, 1, 1], policy: { policy: 'haproxy-roundrobin' } as BalancerConfig, requests: 30 },
  { title: 'roundrobin, weights 5 3 1', backend: ['balance roundrobin'], weights: [5, 3, 1], policy: { policy: 'haproxy-roundrobin' } as BalancerConfig, requests: 60 },
  { title: 'roundrobin, weights 7 2 2 1', backend: ['balance roundrobin'], weights: [7, 2, 2, 1], policy: { policy: 'haproxy-roundrobin' } as BalancerConfig, requests: 72 },
  { title: 'static-rr, weights 4 2 6', backend: ['balance static-rr'], weights: [4, 2, 6], policy: { policy: 'haproxy-static-rr' } as BalancerConfig, requests: 36 },
  { title: 'static-rr, weights 3 5 1 2', backend: ['balance static-rr'], weights: [3, 5, 1, 2], policy: { policy: 'haproxy-static-rr' } as BalancerConfig, requests: 44 },
  { title: 'leastconn, sequential (ties rotate)', backend: ['balance leastconn'], weights: [1, 2, 1], policy: { policy: 'haproxy-leastconn' } as BalancerConfig, requests: 24 },
  { title: 'first', backend: ['balance first'], weights: [1, 1, 1], policy: { policy: 'haproxy-first' } as BalancerConfig, requests: 10 },
  {
    title: 'source, map-based, weights 1 2 1', backend: ['balance source'], weights: [1, 2, 1], requests: 120, client: clientAddress,
    policy: { policy: 'haproxy-source', hashMethod: 'map-based', avalanche: false, hashBalanceFactor: 0 } as BalancerConfig,
  },
  {
    title: 'source, map-based avalanche, weights 3 1 2 1', backend: ['balance source', 'hash-type map-based sdbm avalanche'], weights: [3, 1, 2, 1], requests: 120, client: clientAddress,
    policy: { policy: 'haproxy-source', hashMethod: 'map-based', avalanche: true, hashBalanceFactor: 0 } as BalancerConfig,
  },
  {
    title: 'source, consistent (sdbm avalanche by default), weights 1 1 1', backend: ['balance source', 'hash-type consistent'], weights: [1, 1, 1], requests: 150, client: clientAddress,
    policy: { policy: 'haproxy-source', hashMethod: 'consistent', avalanche: true, hashBalanceFactor: 0 } as BalancerConfig,
  },
  {
    title: 'source, consistent without avalanche, weights 2 1 3', backend: ['balance source', 'hash-type consistent djb2'], weights: [2, 1, 3], requests: 150, client: clientAddress,
    policy: { policy: 'haproxy-source', hashMethod: 'consistent', avalanche: false, hashBalanceFactor: 0 } as BalancerConfig,
  },
  // Membership changes through HAProxy's runtime API: the models' up/down/weight paths.
  {
    title: 'roundrobin 3 2 1, then s1 weight 1, s2 down, s2 up', backend: ['balance roundrobin'], weights: [3, 2, 1], requests: 100,
    policy: { policy: 'haproxy-roundrobin' } as BalancerConfig,
    changes: [weight(20, 's1', 1), disable(41, 's2'), enable(57, 's2')],
  },
  {
    title: 'roundrobin 1 1 1 1, s3 down mid-window, back two requests later', backend: ['balance roundrobin'], weights: [1, 1, 1, 1], requests: 40,
    policy: { policy: 'haproxy-roundrobin' } as BalancerConfig,
    changes: [disable(6, 's3'), enable(8, 's3'), weight(21, 's4', 3)],
  },
  {
    title: 'static-rr 2 1 1, s3 down and up', backend: ['balance static-rr'], weights: [2, 1, 1], requests: 40,
    policy: { policy: 'haproxy-static-rr' } as BalancerConfig,
    changes: [disable(7, 's3'), enable(15, 's3')],
  },
  {
    title: 'leastconn 1 1 1, s1 down and up', backend: ['balance leastconn'], weights: [1, 1, 1], requests: 30,
    policy: { policy: 'haproxy-leastconn' } as BalancerConfig,
    changes: [disable(5, 's1'), enable(12, 's1')],
  },
  {
    title: 'first, s1 down and up', backend: ['balance first'], weights: [1, 1, 1], requests: 12,
    policy: { policy: 'haproxy-first' } as BalancerConfig,
    changes: [disable(4, 's1'), enable(8, 's1')],
  },
  {
    title: 'source consistent 1 1 1 1, s2 down, up, s4 weight 3', backend: ['balance source', 'hash-type consistent'], weights: [1, 1, 1, 1], requests: 300, client: (i) => clientAddress(i % 100),
    policy: { policy: 'haproxy-source', hashMethod: 'consistent', avalanche: true, hashBalanceFactor: 0 } as BalancerConfig,
    changes: [disable(100, 's2'), enable(200, 's2'), weight(250, 's4', 3)],
  },
  {
    title: 'source map-based 1 1 1, s1 down', backend: ['balance source'], weights: [1, 1, 1], requests: 120, client: (i) => clientAddress(i % 60),
    policy: { policy: 'haproxy-source', hashMethod: 'map-based', avalanche: false, hashBalanceFactor: 0 } as BalancerConfig,
    changes: [disable(60, 's1')],
  },
  {
    title: 'source consistent 1 1 1, s4 added by add server', backend: ['balance source', 'hash-type consistent'], weights: [1, 1, 1], requests: 300, client: (i) => clientAddress(i % 150),
    policy: { policy: 'haproxy-source', hashMethod: 'consistent', avalanche: true, hashBalanceFactor: 0 } as BalancerConfig,
    changes: [add(150, 's4', 3)],
  },
  // Retries against a refused port: the Router's HAProxy rules (same server with the
  // turn-around, or a redispatch that takes a round-robin turn), answer by answer.
  {
    title: 'roundrobin, s2 refuses, retries 2 + option redispatch', backend: ['balance roundrobin', 'retries 2', 'option redispatch'], weights: [1, 1, 1], requests: 12,
    policy: { policy: 'haproxy-roundrobin' } as BalancerConfig, dead: ['s2'],
    rules: { retries: 2, redispatch: -1, retryOn: ['conn-failure'], connectMs: 2000, hashBalance: false },
  },
  {
    title: 'roundrobin, s2 refuses, retries 1, no redispatch: 503 after the turn-around', backend: ['balance roundrobin', 'retries 1', 'timeout connect 100ms'], weights: [1, 1, 1], requests: 6,
    policy: { policy: 'haproxy-roundrobin' } as BalancerConfig, dead: ['s2'],
    rules: { retries: 1, retryOn: ['conn-failure'], connectMs: 100, hashBalance: false },
  },
  {
    title: 'leastconn, s1 refuses, retries 3 + option redispatch', backend: ['balance leastconn', 'retries 3', 'option redispatch'], weights: [1, 1, 1], requests: 12,
    policy: { policy: 'haproxy-leastconn' } as BalancerConfig, dead: ['s1'],
    rules: { retries: 3, redispatch: -1, retryOn: ['conn-failure'], connectMs: 2000, hashBalance: false },
  },
  {
    title: 'source map-based, s2 refuses, retries 2 + option redispatch: the hash picks s2 again, 503', backend: ['balance source', 'retries 2', 'option redispatch', 'timeout connect 50ms'], weights: [1, 1, 1], requests: 9, client: clientAddress,
    policy: { policy: 'haproxy-source', hashMethod: 'map-based', avalanche: false, hashBalanceFactor: 0 } as BalancerConfig, dead: ['s2'],
    rules: { retries: 2, redispatch: -1, retryOn: ['conn-failure'], connectMs: 50, hashBalance: true },
  },
];

describe.skipIf(!hasHaproxy)('HAProxy models against the real haproxy binary (sequential requests)', () => {
  for (const c of CASES) {
    it(`${c.title}: the same server for every request`, async () => {
      const real = await throughHaproxy(c);
      const model = throughModel(c);
      expect(real.length).toBe(c.requests);
      // The changes took effect on the real proxy: a disabled server gets nothing until enabled.
      for (const d of c.changes ?? []) {
        if (typeof d.command !== 'string' || !d.command.startsWith('disable')) continue;
        const id = d.command.split('/')[1];
        const back = c.changes!.find((e) => e.command === `enable server be/${id}` && e.before > d.before)?.before ?? c.requests;
        expect(real.slice(d.before, back)).not.toContain(id);
        expect(real.slice(d.before, back).length).toBeGreaterThan(0);
      }
      expect(model).toEqual(real);
    });
  }
});

function throughModel(c: Case): string[] {
  const balancer = modelBalancer(c.policy, c.weights);
  if (c.rules) return throughRouter(c, balancer, c.rules);
  const out: string[] = [];
  for (let i = 0; i < c.requests; i++) {
    for (const change of c.changes ?? []) if (change.before === i) change.apply(balancer, i);
    const b = balancer.pick({ nowMs: i, hashKey: c.client?.(i) ?? '127.0.0.1' })!;
    balancer.attemptStarted(b, i);
    balancer.attemptEnded(b, i, 0, { kind: 'response', status: 200 });
    out.push(b.id);
  }
  return out;
}

/** Each request through the Router in HAProxy mode: a dead server refuses, a live one answers 200. */
function throughRouter(c: Case, balancer: Balancer, rules: HaproxyRetryRules): string[] {
  const router = new Router({ balancer, timeouts: { requestMs: 1e9, connectMs: rules.connectMs }, rules: new HaproxyRules(rules, balancer) });
  const model = new RouterModel(router, refusingIf(new Set(c.dead)));
  return Array.from({ length: c.requests }, (_, i) => model.answer(c.client?.(i) ?? '127.0.0.1'));
}

async function throughHaproxy(c: Case): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'hapmodels-'));
  const port = await freePort();
  const refusing = await freePort(); // nothing listens there: connections are refused
  const cfg = [
    'global', '  nbthread 1', `  stats socket ${join(dir, 'admin.sock')} level admin`,
    'defaults', '  mode http', '  timeout connect 2s', '  timeout client 10s', '  timeout server 10s',
    'frontend fe', `  bind 127.0.0.1:${port}`, '  default_backend be',
    'backend be', ...c.backend.map((l) => `  ${l}`),
    ...c.weights.map((w, i) => `  server s${i + 1} 127.0.0.1:${c.dead?.includes(`s${i + 1}`) ? refusing : backends!.port(IDS[i])} weight ${w}`),
    '',
  ].join('\n');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, cfg);
  let haproxy: RunningBinary | undefined;
  try {
    haproxy = await startBinary('haproxy', ['-db', '-f', file], { port });
    const out: string[] = [];
    for (let i = 0; i < c.requests; i++) {
      for (const change of c.changes ?? []) {
        if (change.before !== i) continue;
        for (const command of typeof change.command === 'string' ? [change.command] : change.command()) await runtimeApi(join(dir, 'admin.sock'), command);
      }
      out.push(await sendFrom(port, c.client?.(i) ?? '127.0.0.1'));
    }
    return out;
  } finally {
    await haproxy?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One command on HAProxy's stats socket; HAProxy's answer must be empty (success). */
function runtimeApi(socket: string, command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const sock = net.connect(socket, () => sock.end(`${command}\n`));
    sock.on('data', (d: Buffer) => { answer += d.toString(); });
    sock.on('error', reject);
    sock.on('close', () => (answer.trim() === '' || answer.trim() === 'New server registered.' ? resolve() : reject(new Error(`${command}: ${answer.trim()}`))));
  });
}
