// The deciding test for the NGINX models: the same sequential requests through the real
// nginx 1.22 binary and through the model (Balancer + Router in NGINX mode) must land on the
// same servers, in the same order. Real HTTP backends on unix sockets named s1.sock … in
// NGINX's working directory — written `server unix:s1.sock`, the names the consistent hash
// places its points by — a minimal hand-written nginx.conf per case, one request at a time.
// ip_hash and hash requests come from distinct loopback addresses.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Balancer } from '../../core/balancer.ts';
import { BalancerSchema } from '../../core/config.ts';
import { type NginxRetryRules, NginxRules } from '../../core/nginx-retry.ts';
import { rngStream } from '../../core/rng.ts';
import { Router } from '../../core/router.ts';
import type { AttemptOutcome } from '../../core/types.ts';

const hasNginx = spawnSync('nginx', ['-v']).status === 0;

interface Case {
  title: string;
  /** The balancing directive ('' for round robin). */
  method: string;
  weights: number[];
  policy: Record<string, unknown>;
  requests: number;
  /** Client address of request i, else 127.0.0.1. */
  client?: (i: number) => string;
  /** Servers with nothing listening on their socket: connections fail. */
  dead?: string[];
  /** How a live server answers its own n-th request (from 0): a status, or 'reset' (the connection closed unanswered). */
  answers?: Record<string, (n: number) => Answer>;
  /** The request method (GET). */
  httpMethod?: string;
  /** Extra `server` parameters (max_fails=…) and proxy_next_upstream rules. */
  serverParams?: string;
  rules?: NginxRetryRules;
}

type Answer = number | 'reset';

/** Server `id`'s answer to its n-th request (200 unless the case says otherwise). */
function answerOf(c: { answers?: Record<string, (n: number) => Answer> }, id: string, n: number): Answer {
  return c.answers?.[id]?.(n) ?? 200;
}

const DEFAULT_RULES: NginxRetryRules = { nextUpstream: ['error', 'timeout'], tries: 0, timeoutMs: 0 };
/** Spread over the third octet, which ip_hash reads; 127.0.0.x alone would all hash alike. */
const spread = (i: number): string => `127.0.${i % 250}.${2 + Math.floor(i / 250)}`;

const CASES: Case[] = [
  { title: 'round robin, equal weights', method: '', weights: [1, 1, 1], policy: { policy: 'nginx-round-robin' }, requests: 30 },
  { title: 'weighted round robin 5 1 1', method: '', weights: [5, 1, 1], policy: { policy: 'nginx-round-robin' }, requests: 35 },
  { title: 'weighted round robin 3 2 1 4', method: '', weights: [3, 2, 1, 4], policy: { policy: 'nginx-round-robin' }, requests: 50 },
  { title: 'least_conn 1 2 1, sequential (ties go round robin)', method: 'least_conn;', weights: [1, 2, 1], policy: { policy: 'nginx-least-conn' }, requests: 40 },
  { title: 'ip_hash 1 1 1', method: 'ip_hash;', weights: [1, 1, 1], policy: { policy: 'nginx-ip-hash' }, requests: 120, client: spread },
  { title: 'ip_hash 2 1 3', method: 'ip_hash;', weights: [2, 1, 3], policy: { policy: 'nginx-ip-hash' }, requests: 120, client: spread },
  { title: 'ip_hash: every 127.0.0.x client on one server', method: 'ip_hash;', weights: [1, 1, 1], policy: { policy: 'nginx-ip-hash' }, requests: 60, client: (i) => `127.0.0.${i + 2}` },
  { title: 'hash $remote_addr 1 1 1', method: 'hash $remote_addr;', weights: [1, 1, 1], policy: { policy: 'nginx-hash' }, requests: 120, client: spread },
  {
    title: 'hash $remote_addr consistent 1 1 1', method: 'hash $remote_addr consistent;', weights: [1, 1, 1],
    policy: { policy: 'nginx-hash', consistent: true }, requests: 150, client: (i) => `127.0.0.${i + 2}`,
  },
  {
    title: 'hash $remote_addr consistent 1 2 3 1', method: 'hash $remote_addr consistent;', weights: [1, 2, 3, 1],
    policy: { policy: 'nginx-hash', consistent: true }, requests: 150, client: spread,
  },
  // A server whose socket refuses: proxy_next_upstream and max_fails, answer by answer.
  { title: 'round robin, s2 dead, defaults (error timeout, max_fails=1)', method: '', weights: [1, 1, 1], policy: { policy: 'nginx-round-robin' }, requests: 12, dead: ['s2'], rules: DEFAULT_RULES },
  {
    title: 'round robin, s2 dead, max_fails=0: tried every turn', method: '', weights: [1, 1, 1], policy: { policy: 'nginx-round-robin', maxFails: 0 }, requests: 12,
    dead: ['s2'], serverParams: 'max_fails=0', rules: DEFAULT_RULES,
  },
  {
    title: 'round robin 2 1 1, s1 dead, proxy_next_upstream off: 502', method: '', weights: [2, 1, 1], policy: { policy: 'nginx-round-robin', maxFails: 0 }, requests: 12,
    dead: ['s1'], serverParams: 'max_fails=0', rules: { nextUpstream: [], tries: 0, timeoutMs: 0 },
  },
  { title: 'least_conn, s1 dead', method: 'least_conn;', weights: [1, 1, 1], policy: { policy: 'nginx-least-conn' }, requests: 12, dead: ['s1'], rules: DEFAULT_RULES },
  {
    title: 'ip_hash, s2 dead, max_fails=3: rehash after the failures', method: 'ip_hash;', weights: [1, 1, 1], policy: { policy: 'nginx-ip-hash', maxFails: 3 }, requests: 60,
    client: spread, dead: ['s2'], serverParams: 'max_fails=3', rules: DEFAULT_RULES,
  },
  {
    title: 'hash consistent, s1 dead, tries 2', method: 'hash $remote_addr consistent;', weights: [1, 1, 1], policy: { policy: 'nginx-hash', consistent: true, maxFails: 0 }, requests: 60,
    client: spread, dead: ['s1'], serverParams: 'max_fails=0', rules: { nextUpstream: ['error', 'timeout'], tries: 2, timeoutMs: 0 },
  },
  // Answers NGINX may retry (proxy_next_upstream http_502), resets, a POST, and the failed
  // server's effective weight: the request rules of core/nginx-retry.ts.
  {
    title: 'round robin, s2 answers 502, next_upstream error http_502: retried, s2 failed (max_fails=1) and skipped', method: '', weights: [1, 1, 1],
    policy: { policy: 'nginx-round-robin' }, requests: 12, answers: { s2: () => 502 }, rules: { nextUpstream: ['error', 'http_502'], tries: 0, timeoutMs: 0 },
  },
  {
    title: 'round robin, s2 answers 502, tries 1: passed on and not a failure, s2 keeps its turn', method: '', weights: [1, 1, 1],
    policy: { policy: 'nginx-round-robin' }, requests: 12, answers: { s2: () => 502 }, rules: { nextUpstream: ['error', 'http_502'], tries: 1, timeoutMs: 0 },
  },
  {
    title: 'round robin, s2 answers 503 not named: passed on', method: '', weights: [1, 1, 1],
    policy: { policy: 'nginx-round-robin' }, requests: 9, answers: { s2: () => 503 }, rules: { nextUpstream: ['error', 'http_502'], tries: 0, timeoutMs: 0 },
  },
  {
    title: 'POST, s1 resets every other request: not retried (502) without non_idempotent', method: '', weights: [1, 1],
    policy: { policy: 'nginx-round-robin', maxFails: 0 }, requests: 8, httpMethod: 'POST', answers: { s1: (n) => (n % 2 ? 200 : 'reset') }, serverParams: 'max_fails=0', rules: DEFAULT_RULES,
  },
  {
    title: 'POST, s1 resets every other request, non_idempotent: retried on s2', method: '', weights: [1, 1],
    policy: { policy: 'nginx-round-robin', maxFails: 0 }, requests: 8, httpMethod: 'POST', answers: { s1: (n) => (n % 2 ? 200 : 'reset') }, serverParams: 'max_fails=0',
    rules: { nextUpstream: ['error', 'timeout', 'non_idempotent'], tries: 0, timeoutMs: 0 },
  },
  {
    title: 'weights 8 1, s1\'s first answer 502 (retried): effective weight 8 − 8/2 climbs back', method: '', weights: [8, 1],
    policy: { policy: 'nginx-round-robin', maxFails: 2 }, requests: 20, answers: { s1: (n) => (n === 0 ? 502 : 200) }, serverParams: 'max_fails=2',
    rules: { nextUpstream: ['error', 'http_502'], tries: 0, timeoutMs: 0 },
  },
  {
    title: 'all servers dead: 502', method: '', weights: [1, 1], policy: { policy: 'nginx-round-robin' }, requests: 4,
    dead: ['s1', 's2'], rules: DEFAULT_RULES,
  },
];

/** A reload before request `before`: the upstream block is rewritten and the master gets SIGHUP. */
interface Reload { before: number; weights: Array<number | undefined>; apply: (b: Balancer, nowMs: number) => void }

interface ReloadCase { title: string; method: string; weights: number[]; policy: Record<string, unknown>; requests: number; dead?: string[]; reloads: Reload[] }

/** `weights[i]` undefined: server s<i+1> is not in the upstream block. */
const RELOAD_CASES: ReloadCase[] = [
  {
    title: 'weighted round robin 3 1 1, s2 weight 2 after 4 requests: fresh current weights', method: '', weights: [3, 1, 1], policy: { policy: 'nginx-round-robin' }, requests: 20,
    reloads: [{ before: 4, weights: [3, 2, 1], apply: (b) => b.setWeight('s2', 2) }],
  },
  {
    title: 'round robin 1 1 1, s4 added after 2 requests, s3 removed after 9', method: '', weights: [1, 1, 1], policy: { policy: 'nginx-round-robin' }, requests: 20,
    reloads: [
      { before: 2, weights: [1, 1, 1, 1], apply: (b, t) => { b.add('s4', { weight: 1, nowMs: t }); } },
      { before: 9, weights: [1, 1, undefined, 1], apply: (b, t) => b.remove('s3', t) },
    ],
  },
  {
    title: 'round robin 1 1 1 with s2 dead: its fails are forgotten by a reload (s4 added)', method: '', weights: [1, 1, 1], policy: { policy: 'nginx-round-robin' }, requests: 12,
    dead: ['s2'], reloads: [{ before: 6, weights: [1, 1, 1, 1], apply: (b, t) => { b.add('s4', { weight: 1, nowMs: t }); } }],
  },
  {
    title: 'hash consistent 1 1 1, s4 added after 60 requests: only clients that move to s4 move', method: 'hash $remote_addr consistent;', weights: [1, 1, 1],
    policy: { policy: 'nginx-hash', consistent: true }, requests: 120,
    reloads: [{ before: 60, weights: [1, 1, 1, 1], apply: (b, t) => { b.add('s4', { weight: 1, nowMs: t }); } }],
  },
];

describe.skipIf(!hasNginx)('NGINX models against the real nginx binary: changes are reloads (SIGHUP)', () => {
  for (const c of RELOAD_CASES) {
    it(`${c.title}: the same server for every request`, async () => {
      const real = await throughReloads(c);
      expect(real.length).toBe(c.requests);
      expect(throughModelWithReloads(c)).toEqual(real);
    }, 60_000);
  }
});

function throughModelWithReloads(c: ReloadCase): string[] {
  const balancer = new Balancer({ balancer: BalancerSchema.parse({ panicThresholdPercent: 0, ...c.policy }), rng: rngStream(1, 'balancer') });
  c.weights.forEach((w, i) => balancer.add(`s${i + 1}`, { weight: w, nowMs: 0, initial: true }));
  const router = new Router({ balancer, timeouts: { requestMs: 1e9, connectMs: 1000 }, rules: new NginxRules(DEFAULT_RULES, balancer) });
  const dead = new Set(c.dead);
  const out: string[] = [];
  for (let i = 0; i < c.requests; i++) {
    for (const r of c.reloads) if (r.before === i) r.apply(balancer, i);
    const flow = router.start({ method: 'GET', hashKey: spread(i % 60), nowMs: i, bodyReplayable: true });
    let step = router.next(flow, i);
    for (;;) {
      if (step.kind === 'attempt') step = router.attemptEnded(flow, i, dead.has(step.backend.id) ? { kind: 'connect-error' } : { kind: 'response', status: 200 });
      else if (step.kind === 'retry') step = router.next(flow, i);
      else break;
    }
    out.push(step.kind === 'respond' ? flow.path[flow.path.length - 1] : `status ${(step as { status?: number }).status}`);
  }
  return out;
}

/** The case on one nginx with a master process; each reload waits until the new workers answer. */
async function throughReloads(c: ReloadCase): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nginxreload-'));
  const count = Math.max(c.weights.length, ...c.reloads.map((r) => r.weights.length));
  const backends = await listenAll(dir, count, c.dead);
  const port = await freePort();
  const write = (weights: Array<number | undefined>, generation: number): void => {
    writeFileSync(join(dir, 'nginx.conf'), nginxConf({
      port, method: c.method, master: true, generation,
      servers: weights.flatMap((w, i) => (w === undefined ? [] : [`server unix:s${i + 1}.sock weight=${w};`])),
      rules: DEFAULT_RULES,
    }));
  };
  write(c.weights, 0);
  const child = spawn('nginx', ['-e', 'error.log', '-p', dir, '-c', 'nginx.conf'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  try {
    await waitForPort(port, child, () => stderr);
    const out: string[] = [];
    let generation = 0;
    for (let i = 0; i < c.requests; i++) {
      for (const r of c.reloads) {
        if (r.before !== i) continue;
        write(r.weights, ++generation);
        child.kill('SIGHUP');
        await waitForGeneration(port, generation);
        await waitForOldWorkers(dir, generation);
      }
      out.push(await get(port, spread(i % 60)));
    }
    return out;
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
    await Promise.all(backends.map((b) => new Promise((r) => b.close(r))));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Until the old workers have exited: a worker that has not yet handled the master's QUIT
 * still accepts new connections on the shared socket, with the old configuration's state
 * (seen on the binary: some requests right after a reload went by the old weights).
 */
async function waitForOldWorkers(dir: string, reloads: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const log = readFileSync(join(dir, 'error.log'), 'utf8');
    if ((log.match(/exited with code/g) ?? []).length >= reloads) return;
    if (Date.now() > deadline) throw new Error(`old nginx workers did not exit after reload ${reloads}:\n${log}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Polls /generation (answered by NGINX itself, never proxied) until the reloaded workers answer. */
async function waitForGeneration(port: number, generation: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const answer = await new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/generation', agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => { body += d.toString(); });
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
    if (answer === String(generation)) return;
    if (Date.now() > deadline) throw new Error(`nginx did not reload to generation ${generation}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!hasNginx)('NGINX models against the real nginx binary (sequential requests)', () => {
  for (const c of CASES) {
    it(`${c.title}: the same server (or status) for every request`, async () => {
      const real = await throughNginx(c);
      expect(real.length).toBe(c.requests);
      expect(throughModel(c)).toEqual(real);
    }, 30_000);
  }
});

/** Each request through the Router in NGINX mode: a dead server refuses, a live one answers 200. */
function throughModel(c: Case): string[] {
  const balancer = new Balancer({ balancer: BalancerSchema.parse({ panicThresholdPercent: 0, ...c.policy }), rng: rngStream(1, 'balancer') });
  c.weights.forEach((w, i) => balancer.add(`s${i + 1}`, { weight: w, nowMs: 0, initial: true }));
  const router = new Router({ balancer, timeouts: { requestMs: 1e9, connectMs: 1000 }, rules: new NginxRules(c.rules ?? DEFAULT_RULES, balancer) });
  const dead = new Set(c.dead);
  const served = new Map<string, number>();
  const outcome = (id: string): AttemptOutcome => {
    if (dead.has(id)) return { kind: 'connect-error' };
    const n = served.get(id) ?? 0;
    served.set(id, n + 1);
    const answer = answerOf(c, id, n);
    return answer === 'reset' ? { kind: 'reset' } : { kind: 'response', status: answer };
  };
  const out: string[] = [];
  for (let i = 0; i < c.requests; i++) {
    const flow = router.start({ method: c.httpMethod ?? 'GET', hashKey: c.client?.(i) ?? '127.0.0.1', nowMs: i, bodyReplayable: true });
    let step = router.next(flow, i);
    for (;;) {
      if (step.kind === 'attempt') step = router.attemptEnded(flow, i, outcome(step.backend.id));
      else if (step.kind === 'retry') step = router.next(flow, i);
      else break;
    }
    const last = flow.path[flow.path.length - 1];
    out.push(step.kind === 'respond' ? (step.status === 200 ? last : `${last} ${step.status}`) : step.kind === 'fail' ? `status ${step.status}` : step.kind);
  }
  return out;
}

async function throughNginx(c: Case): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nginxmodels-'));
  const backends = await listenAll(dir, c.weights.length, c.dead, c);
  const port = await freePort();
  const params = c.serverParams ? ` ${c.serverParams}` : '';
  writeFileSync(join(dir, 'nginx.conf'), nginxConf({
    port, method: c.method, master: false, generation: 0,
    servers: c.weights.map((w, i) => `server unix:s${i + 1}.sock weight=${w}${params};`), rules: c.rules ?? DEFAULT_RULES,
  }));
  const child = spawn('nginx', ['-e', 'error.log', '-p', dir, '-c', 'nginx.conf'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  try {
    await waitForPort(port, child, () => stderr);
    const out: string[] = [];
    for (let i = 0; i < c.requests; i++) out.push(await get(port, c.client?.(i) ?? '127.0.0.1', c.httpMethod));
    return out;
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
    await Promise.all(backends.map((b) => new Promise((r) => b.close(r))));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Backends s1 … s<count> on unix sockets in `dir`, answering their id; `dead` ones do not listen. */
async function listenAll(dir: string, count: number, dead: string[] = [], c: Pick<Case, 'answers'> = {}): Promise<http.Server[]> {
  const backends: http.Server[] = [];
  for (let i = 0; i < count; i++) {
    const id = `s${i + 1}`;
    if (dead.includes(id)) continue;
    let n = 0;
    const server = http.createServer((req, res) => {
      const answer = answerOf(c, id, n++);
      if (answer === 'reset') { req.socket.destroy(); return; }
      res.statusCode = answer;
      res.setHeader('x-server', id);
      res.end(id);
    });
    server.listen(join(dir, `${id}.sock`));
    await once(server, 'listening');
    backends.push(server);
  }
  return backends;
}

interface ConfInput { port: number; method: string; master: boolean; generation: number; servers: string[]; rules: NginxRetryRules }

/** A minimal nginx.conf with every file in the prefix; /generation tells which config the workers run. */
function nginxConf(o: ConfInput): string {
  const root = process.getuid?.() === 0 && o.master ? ['user root;'] : []; // workers must reach the sockets in a 0700 dir
  return [
    'daemon off;', `master_process ${o.master ? 'on' : 'off'};`, ...root, 'worker_processes 1;', 'pid nginx.pid;', 'error_log error.log notice;',
    'events { worker_connections 64; }',
    'http {',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((k) => `  ${k}_temp_path ${k}_temp;`),
    '  access_log off;',
    '  upstream servers {',
    ...(o.method ? [`    ${o.method}`] : []),
    ...o.servers.map((l) => `    ${l}`),
    '  }',
    `  server {`,
    `    listen 127.0.0.1:${o.port};`,
    `    location = /generation { return 200 "${o.generation}"; }`,
    `    location / { proxy_pass http://servers; proxy_next_upstream ${nextUpstreamText(o.rules)}; proxy_next_upstream_tries ${o.rules.tries}; }`,
    '  }',
    '}', '',
  ].join('\n');
}

function nextUpstreamText(rules: NginxRetryRules): string {
  return rules.nextUpstream.length > 0 ? rules.nextUpstream.join(' ') : 'off';
}

function get(port: number, localAddress: string, method = 'GET'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/', localAddress, agent: false, method }, (res) => {
      res.resume();
      const server = res.headers['x-server'];
      res.on('end', () => resolve(server === undefined ? `status ${res.statusCode}` : res.statusCode === 200 ? String(server) : `${server} ${res.statusCode}`));
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

/** Ready when the port accepts; fails fast if nginx exits, and after a generous deadline. */
async function waitForPort(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => { sock.destroy(); resolve(true); });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on ${port}: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// least_conn with requests in flight: each backend holds its answers until released, the
// next request is sent once the previous one has reached its backend, so NGINX and the model
// see the same conns on every pick — the lowest conns/weight, ties by the smooth pass.
interface HeldCase { title: string; weights: number[]; rounds: number[] }

const HELD_CASES: HeldCase[] = [
  { title: 'least_conn 1 2 1', weights: [1, 2, 1], rounds: [9, 5, 12] },
  { title: 'least_conn 2 1 1 3', weights: [2, 1, 1, 3], rounds: [11, 7] },
];

describe.skipIf(!hasNginx)('NGINX least_conn against the real nginx binary (requests held in flight)', () => {
  for (const c of HELD_CASES) {
    it(`${c.title}, rounds of ${c.rounds.join(', ')} held requests: the same server for every request`, async () => {
      const real = await heldThroughNginx(c);
      expect(real.length).toBe(c.rounds.reduce((a, b) => a + b, 0));
      expect(heldThroughModel(c)).toEqual(real);
    }, 60_000);
  }
});

function heldThroughModel(c: HeldCase): string[] {
  const balancer = new Balancer({ balancer: BalancerSchema.parse({ policy: 'nginx-least-conn', panicThresholdPercent: 0 }), rng: rngStream(1, 'balancer') });
  c.weights.forEach((w, i) => balancer.add(`s${i + 1}`, { weight: w, nowMs: 0, initial: true }));
  const out: string[] = [];
  for (const n of c.rounds) {
    const open = Array.from({ length: n }, () => {
      const b = balancer.pick({ nowMs: 0 })!;
      balancer.attemptStarted(b, 0);
      out.push(b.id);
      return b;
    });
    for (const b of open) balancer.attemptEnded(b, 0, 0, { kind: 'response', status: 200 });
  }
  return out;
}

async function heldThroughNginx(c: HeldCase): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nginxheld-'));
  const held: Array<() => void> = [];
  let arrived: ((id: string) => void) | undefined;
  const backends: http.Server[] = [];
  for (let i = 0; i < c.weights.length; i++) {
    const id = `s${i + 1}`;
    const server = http.createServer((_req, res) => {
      held.push(() => { res.setHeader('x-server', id); res.end(id); });
      arrived?.(id);
    });
    server.listen(join(dir, `${id}.sock`));
    await once(server, 'listening');
    backends.push(server);
  }
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), nginxConf({
    port, method: 'least_conn;', master: false, generation: 0,
    servers: c.weights.map((w, i) => `server unix:s${i + 1}.sock weight=${w};`), rules: DEFAULT_RULES,
  }));
  const child = spawn('nginx', ['-e', 'error.log', '-p', dir, '-c', 'nginx.conf'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  try {
    await waitForPort(port, child, () => stderr);
    const out: string[] = [];
    for (const n of c.rounds) {
      const answers: Array<Promise<string>> = [];
      for (let k = 0; k < n; k++) {
        const reached = new Promise<string>((resolve) => { arrived = resolve; });
        answers.push(get(port, '127.0.0.1'));
        out.push(await reached); // the backend NGINX chose has the request: its conns are counted
      }
      arrived = undefined;
      for (const release of held.splice(0)) release();
      await Promise.all(answers);
    }
    return out;
  } finally {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
    await Promise.all(backends.map((b) => new Promise((r) => b.close(r))));
    rmSync(dir, { recursive: true, force: true });
  }
}
