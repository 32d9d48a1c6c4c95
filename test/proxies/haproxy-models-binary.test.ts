// The deciding test for the HAProxy models: the same sequential requests through the real
// haproxy 2.6 binary and through the model must land on the same servers, in the same
// order. Real HTTP backends on loopback, a minimal hand-written haproxy.cfg per case, one
// request at a time (so no two requests are ever in flight and the order is HAProxy's
// algorithm alone). `balance source` requests come from distinct loopback addresses.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Balancer } from '../../core/balancer.ts';
import type { BalancerConfig } from '../../core/config.ts';
import { rngStream } from '../../core/rng.ts';

const hasHaproxy = spawnSync('haproxy', ['-v']).status === 0;
const SERVERS = 4;

let backends: http.Server[] = [];
let ports: number[] = [];

beforeAll(async () => {
  if (!hasHaproxy) return;
  backends = Array.from({ length: SERVERS }, (_, i) => http.createServer((_req, res) => {
    res.setHeader('x-server', `s${i + 1}`);
    res.end(`s${i + 1}`);
  }));
  for (const b of backends) { b.listen(0, '127.0.0.1'); await once(b, 'listening'); }
  ports = backends.map((b) => (b.address() as AddressInfo).port);
});

afterAll(async () => {
  await Promise.all(backends.map((b) => new Promise((r) => b.close(r))));
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
}

const clients = (i: number): string => `127.0.${Math.floor(i / 200)}.${(i % 200) + 2}`;

const CASES: Case[] = [
  { title: 'roundrobin, equal weights', backend: ['balance roundrobin'], weights: [1, 1, 1], policy: { policy: 'haproxy-roundrobin' } as BalancerConfig, requests: 30 },
  { title: 'roundrobin, weights 5 3 1', backend: ['balance roundrobin'], weights: [5, 3, 1], policy: { policy: 'haproxy-roundrobin' } as BalancerConfig, requests: 60 },
  { title: 'roundrobin, weights 7 2 2 1', backend: ['balance roundrobin'], weights: [7, 2, 2, 1], policy: { policy: 'haproxy-roundrobin' } as BalancerConfig, requests: 72 },
  { title: 'static-rr, weights 4 2 6', backend: ['balance static-rr'], weights: [4, 2, 6], policy: { policy: 'haproxy-static-rr' } as BalancerConfig, requests: 36 },
  { title: 'static-rr, weights 3 5 1 2', backend: ['balance static-rr'], weights: [3, 5, 1, 2], policy: { policy: 'haproxy-static-rr' } as BalancerConfig, requests: 44 },
  { title: 'leastconn, sequential (ties rotate)', backend: ['balance leastconn'], weights: [1, 2, 1], policy: { policy: 'haproxy-leastconn' } as BalancerConfig, requests: 24 },
  { title: 'first', backend: ['balance first'], weights: [1, 1, 1], policy: { policy: 'haproxy-first' } as BalancerConfig, requests: 10 },
  {
    title: 'source, map-based, weights 1 2 1', backend: ['balance source'], weights: [1, 2, 1], requests: 120, client: clients,
    policy: { policy: 'haproxy-source', hashMethod: 'map-based', avalanche: false, hashBalanceFactor: 0 } as BalancerConfig,
  },
  {
    title: 'source, map-based avalanche, weights 3 1 2 1', backend: ['balance source', 'hash-type map-based sdbm avalanche'], weights: [3, 1, 2, 1], requests: 120, client: clients,
    policy: { policy: 'haproxy-source', hashMethod: 'map-based', avalanche: true, hashBalanceFactor: 0 } as BalancerConfig,
  },
  {
    title: 'source, consistent (sdbm avalanche by default), weights 1 1 1', backend: ['balance source', 'hash-type consistent'], weights: [1, 1, 1], requests: 150, client: clients,
    policy: { policy: 'haproxy-source', hashMethod: 'consistent', avalanche: true, hashBalanceFactor: 0 } as BalancerConfig,
  },
  {
    title: 'source, consistent without avalanche, weights 2 1 3', backend: ['balance source', 'hash-type consistent djb2'], weights: [2, 1, 3], requests: 150, client: clients,
    policy: { policy: 'haproxy-source', hashMethod: 'consistent', avalanche: false, hashBalanceFactor: 0 } as BalancerConfig,
  },
];

describe.skipIf(!hasHaproxy)('HAProxy models against the real haproxy binary (sequential requests)', () => {
  for (const c of CASES) {
    it(`${c.title}: the same server for every request`, async () => {
      const real = await throughHaproxy(c);
      const model = throughModel(c);
      expect(real.length).toBe(c.requests);
      expect(model).toEqual(real);
    });
  }
});

function throughModel(c: Case): string[] {
  const balancer = new Balancer({ balancer: { ...c.policy, panicThresholdPercent: 0 } as BalancerConfig, rng: rngStream(1, 'balancer') });
  c.weights.forEach((w, i) => balancer.add(`s${i + 1}`, { weight: w, nowMs: 0, initial: true }));
  const out: string[] = [];
  for (let i = 0; i < c.requests; i++) {
    const b = balancer.pick({ nowMs: i, hashKey: c.client?.(i) ?? '127.0.0.1' })!;
    balancer.attemptStarted(b, i);
    balancer.attemptEnded(b, i, 0, { kind: 'response', status: 200 });
    out.push(b.id);
  }
  return out;
}

async function throughHaproxy(c: Case): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'hapmodels-'));
  const port = await freePort();
  const cfg = [
    'global', '  nbthread 1',
    'defaults', '  mode http', '  timeout connect 2s', '  timeout client 10s', '  timeout server 10s',
    'frontend fe', `  bind 127.0.0.1:${port}`, '  default_backend be',
    'backend be', ...c.backend.map((l) => `  ${l}`),
    ...c.weights.map((w, i) => `  server s${i + 1} 127.0.0.1:${ports[i]} weight ${w}`),
    '',
  ].join('\n');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, cfg);
  const child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  try {
    await waitForPort(port, child, () => stderr);
    const out: string[] = [];
    for (let i = 0; i < c.requests; i++) out.push(await get(port, c.client?.(i) ?? '127.0.0.1'));
    return out;
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

function get(port: number, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['x-server'] ?? `status ${res.statusCode}`)));
    });
    req.on('error', reject);
    req.end();
  });
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Ready when the port accepts; fails fast if haproxy exits, and after a generous deadline. */
async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => { sock.destroy(); resolve(true); });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`haproxy did not listen on ${port}: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
