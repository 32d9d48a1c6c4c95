// The deciding test for the NGINX models: the same sequential requests through the real
// nginx 1.22 binary and through the model (Balancer + Router in NGINX mode) must land on the
// same servers, in the same order. Real HTTP backends on unix sockets named s1.sock … in
// NGINX's working directory — written `server unix:s1.sock`, the names the consistent hash
// places its points by — a minimal hand-written nginx.conf per case, one request at a time.
// ip_hash and hash requests come from distinct loopback addresses.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Balancer } from '../../core/balancer.ts';
import { type NginxRetryRules, NginxRules } from '../../core/nginx-retry.ts';
import { Router } from '../../core/router.ts';
import type { AttemptOutcome } from '../../core/types.ts';
import {
  type Answer, type Backends, type HandlerOf, RouterModel, type RunningBinary, answering, freePort, installed, refusingIf, requestOnce, sendFrom,
  startBackends, startBinary,
} from './binary-kit.ts';
import { modelBalancer } from './model-kit.ts';

const hasNginx = installed('nginx', ['-v']);

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

/** Server `id`'s answer to its n-th request (200 unless the case says otherwise). */
const answerOf = (c: Pick<Case, 'answers'>) => (id: string, n: number): Answer => c.answers?.[id]?.(n) ?? 200;

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
  const { balancer, model } = nginxModel(c, refusingIf(new Set(c.dead)), DEFAULT_RULES);
  const out: string[] = [];
  for (let i = 0; i < c.requests; i++) {
    for (const r of c.reloads) if (r.before === i) r.apply(balancer, model.nowMs);
    out.push(model.answer(spread(i % 60)));
  }
  return out;
}

/** Balancer + Router in NGINX mode (requests 1 ms apart: NGINX's next server is tried at once). */
function nginxModel(c: { policy: Record<string, unknown>; weights: number[] }, outcomeOf: (id: string) => AttemptOutcome, rules: NginxRetryRules): { balancer: Balancer; model: RouterModel } {
  const balancer = modelBalancer(c.policy, c.weights);
  const router = new Router({ balancer, timeouts: { requestMs: 1e9, connectMs: 1000 }, rules: new NginxRules(rules, balancer) });
  return { balancer, model: new RouterModel(router, outcomeOf) };
}

/** The case on one nginx with a master process; each reload waits until the new workers answer. */
async function throughReloads(c: ReloadCase): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nginxreload-'));
  const count = Math.max(c.weights.length, ...c.reloads.map((r) => r.weights.length));
  const port = await freePort();
  const write = (weights: Array<number | undefined>, generation: number): void => {
    writeFileSync(join(dir, 'nginx.conf'), nginxConf({
      port, method: c.method, master: true, generation,
      servers: weights.flatMap((w, i) => (w === undefined ? [] : [`server unix:s${i + 1}.sock weight=${w};`])),
      rules: DEFAULT_RULES,
    }));
  };
  write(c.weights, 0);
  return withNginx(dir, serverIds(count, c.dead), answering(), port, async (nginx) => {
    const out: string[] = [];
    let generation = 0;
    for (let i = 0; i < c.requests; i++) {
      for (const r of c.reloads) {
        if (r.before !== i) continue;
        write(r.weights, ++generation);
        nginx.child.kill('SIGHUP');
        await waitForGeneration(port, generation);
        await waitForOldWorkers(dir, generation);
      }
      out.push(await sendFrom(port, spread(i % 60)));
    }
    return out;
  });
}

/** s1 … s<count> but the dead ones: the servers that listen. */
const serverIds = (count: number, dead: string[] = []): string[] => Array.from({ length: count }, (_, i) => `s${i + 1}`).filter((id) => !dead.includes(id));

/**
 * Backends on unix sockets in `dir` (nginx.conf is written there already), nginx on `port`
 * with `dir` as its prefix, `body` with it running; then everything stopped and `dir` removed.
 */
async function withNginx<T>(dir: string, ids: string[], handlerOf: HandlerOf, port: number, body: (nginx: RunningBinary) => Promise<T>): Promise<T> {
  let backends: Backends | undefined;
  let nginx: RunningBinary | undefined;
  try {
    backends = await startBackends(ids, handlerOf, dir);
    nginx = await startBinary('nginx', ['-e', 'error.log', '-p', dir, '-c', 'nginx.conf'], { port, cwd: dir });
    return await body(nginx);
  } finally {
    await nginx?.stop();
    await backends?.close();
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
    if ((await requestOnce(port, { path: '/generation' })).body === String(generation)) return;
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

/** Each request through the Router in NGINX mode: a dead server refuses, a live one answers as the case says. */
function throughModel(c: Case): string[] {
  const dead = new Set(c.dead);
  const answer = answerOf(c);
  const served = new Map<string, number>();
  const outcome = (id: string): AttemptOutcome => {
    if (dead.has(id)) return { kind: 'connect-error' };
    const n = served.get(id) ?? 0;
    served.set(id, n + 1);
    const a = answer(id, n);
    return a === 'reset' ? { kind: 'reset' } : { kind: 'response', status: a };
  };
  const { model } = nginxModel(c, outcome, c.rules ?? DEFAULT_RULES);
  return Array.from({ length: c.requests }, (_, i) => model.answer(c.client?.(i) ?? '127.0.0.1', c.httpMethod));
}

async function throughNginx(c: Case): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nginxmodels-'));
  const port = await freePort();
  const params = c.serverParams ? ` ${c.serverParams}` : '';
  writeFileSync(join(dir, 'nginx.conf'), nginxConf({
    port, method: c.method, master: false, generation: 0,
    servers: c.weights.map((w, i) => `server unix:s${i + 1}.sock weight=${w}${params};`), rules: c.rules ?? DEFAULT_RULES,
  }));
  return withNginx(dir, serverIds(c.weights.length, c.dead), answering(answerOf(c)), port, async () => {
    const out: string[] = [];
    for (let i = 0; i < c.requests; i++) out.push(await sendFrom(port, c.client?.(i) ?? '127.0.0.1', c.httpMethod));
    return out;
  });
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
  const balancer = modelBalancer({ policy: 'nginx-least-conn' }, c.weights);
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
  const holding: HandlerOf = (id) => (_req: http.IncomingMessage, res: http.ServerResponse) => {
    held.push(() => { res.setHeader('x-server', id); res.end(id); });
    arrived?.(id);
  };
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), nginxConf({
    port, method: 'least_conn;', master: false, generation: 0,
    servers: c.weights.map((w, i) => `server unix:s${i + 1}.sock weight=${w};`), rules: DEFAULT_RULES,
  }));
  return withNginx(dir, serverIds(c.weights.length), holding, port, async () => {
    const out: string[] = [];
    for (const n of c.rounds) {
      const answers: Array<Promise<string>> = [];
      for (let k = 0; k < n; k++) {
        const reached = new Promise<string>((resolve) => { arrived = resolve; });
        answers.push(sendFrom(port, '127.0.0.1'));
        out.push(await reached); // the backend NGINX chose has the request: its conns are counted
      }
      arrived = undefined;
      for (const release of held.splice(0)) release();
      await Promise.all(answers);
    }
    return out;
  });
}
