// One backend replica: `GET /home` (the original project's endpoint), `GET /heartbeat`, `GET /metrics`,
// and an echo for every other method and path, so tests can check what arrived. Service
// time is drawn from core/distributions.ts with a seeded stream and served FIFO under a
// concurrency limit, so a live replica behaves like its simulated twin.
import { createHash } from 'node:crypto';
import { METHODS } from 'node:http';
import { rm } from 'node:fs/promises';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type Distribution, sample } from '../core/distributions.ts';
import { STREAM, rngStream } from '../core/rng.ts';
import { ServiceQueue } from './service-queue.ts';
import { type Fault, type FaultAction, faultAction } from './faults.ts';
import { type ControlState, controlPlugin } from './control.ts';
import { replicaMetricsPlugin } from './metrics.ts';
import { replayServiceMs } from '../http/replay.ts';

type ServeAction = Extract<FaultAction, { kind: 'serve' }>;

export interface ReplicaOptions {
  id: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /**
   * Also serve on this Unix socket path (replacing a file a crashed predecessor left there):
   * NGINX's `hash … consistent` places a server by the name written in its config, and a
   * path the runner chooses is a name the simulator can know; a random port is not.
   */
  socketPath?: string;
  serviceTime?: Distribution;
  /** Requests in service at once; 0 = unlimited. */
  concurrency?: number;
  seed?: string | number;
  /** Enables `/__control` (loopback + bearer token). */
  controlToken?: string;
  /**
   * Called on every request's arrival, before any fault, and just before every full answer
   * is written: the replica's side of a test history.
   */
  onRequestLog?: (entry: RequestLogEntry | ResponseLogEntry) => void;
}

/** One attempt that arrived. */
export interface RequestLogEntry {
  event: 'request';
  server: string;
  rid?: string;
  /** The proxy's x-fulcrum-attempt (1-based), absent when not sent through the proxy. */
  attempt?: number;
  method: string;
  path: string;
}

/**
 * One answer about to be written in full: its status, size and digest, and the request
 * bytes that were read. Logged before the write so a SIGKILL right after cannot lose the
 * line; a client that got these exact bytes proves they arrived complete.
 */
export interface ResponseLogEntry {
  event: 'response';
  server: string;
  rid?: string;
  attempt?: number;
  status: number;
  bytesReceived: number;
  bytes: number;
  sha256: string;
}

/** `?bytes=N` pads an echo answer to at least N bytes (multi-chunk bodies make truncation and splicing visible). */
const MAX_PAD_BYTES = 4 * 1024 * 1024;

export interface Replica {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startReplica(o: ReplicaOptions): Promise<Replica> {
  const app = buildReplica(o);
  await app.ready();
  // The Unix socket first: whoever sees the replica answer on TCP (the runner's readiness
  // check after a restart) may use the socket at once.
  const unix = o.socketPath ? await listenUnix(app, o.socketPath).catch(async (err: Error) => { await app.close(); throw err; }) : undefined;
  await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 0 }).catch(async (err: Error) => { unix?.close(); await app.close(); throw err; });
  const { port } = app.server.address() as AddressInfo;
  const host = o.host ?? '127.0.0.1';
  return {
    app, port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: async () => { unix?.close(); await app.close(); },
  };
}

/** A second listener on a Unix socket whose connections the replica's HTTP server serves like its TCP ones. */
async function listenUnix(app: FastifyInstance, path: string): Promise<Server> {
  await rm(path, { force: true });
  const server = createServer((socket) => app.server.emit('connection', socket));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(path, resolve));
  return server;
}

export function buildReplica(o: ReplicaOptions): FastifyInstance {
  const serviceTime: Distribution = o.serviceTime ?? { dist: 'constant', value: 0 };
  const seed = o.seed ?? 1;
  // The simulator's streams for this server id (core/rng.ts): the same run seed draws the
  // same service times here as in the simulated twin; fault draws never shift them.
  const serviceRng = rngStream(seed, STREAM.service(o.id));
  const faultRng = rngStream(seed, STREAM.faults(o.id));
  const queue = new ServiceQueue(o.concurrency ?? 0);
  const hung = new Set<Socket>();
  let served = 0;
  let arrived = 0;
  const state: ControlState = {
    fault: { mode: 'normal' } as Fault,
    stats: () => ({ served, inService: queue.busy, queued: queue.queued, hung: hung.size }),
  };

  const app = Fastify({ logger: false, exposeHeadRoutes: false, bodyLimit: 64 * 1024 });
  // A hung request never ends by itself; close must not wait for it.
  app.addHook('preClose', async () => { for (const s of hung) s.destroy(); });

  /** Applies the fault; returns false when the request must get no normal answer. */
  function survive(action: FaultAction, request: FastifyRequest, reply: FastifyReply): action is ServeAction {
    switch (action.kind) {
      case 'serve': return true;
      case 'error':
        respond(request, reply, action.status, { server: o.id, error: 'injected', status: action.status, requestId: requestIdOf(request) ?? null, attempt: attemptOf(request) ?? null }, 0);
        return false;
      case 'reset': {
        reply.hijack(); // Fastify must not try to answer on a socket we destroyed
        const socket = request.raw.socket;
        if (!action.midBody) { socket.resetAndDestroy(); return false; }
        reply.raw.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
        reply.raw.write('x'.repeat(100), () => socket.resetAndDestroy()); // 100 of the promised 1000 bytes
        return false;
      }
      case 'hang': {
        reply.hijack();
        const socket = request.raw.socket;
        hung.add(socket);
        socket.once('close', () => hung.delete(socket));
        return false;
      }
    }
  }

  /**
   * Waits for a service slot, then for the sampled (or replayed) service time × the slow factor in force
   * when service starts (not when the request arrived): a request queued during a slow spell
   * but served after it runs at normal speed, as in the simulator. Returns both durations as a
   * Server-Timing value, so a client can tell queueing and service from the network and proxy.
   */
  async function serve(request: FastifyRequest): Promise<string> {
    const queuedAt = performance.now();
    const wait = queue.acquire();
    if (wait) await wait;
    const queuedMs = performance.now() - queuedAt;
    try {
      const slowFactor = state.fault.mode === 'slow' ? state.fault.factor : 1;
      // A replayed trace brings each request's own service time (http/replay.ts).
      const ms = (replayServiceMs(request.headers, o.controlToken) ?? sample(serviceTime, serviceRng)) * slowFactor;
      await sleepNear(ms);
      return `queue;dur=${queuedMs.toFixed(3)}, service;dur=${ms.toFixed(3)}`;
    } finally {
      queue.release();
      served++;
    }
  }

  function logArrival(request: FastifyRequest): void {
    arrived++;
    o.onRequestLog?.({ event: 'request', server: o.id, rid: requestIdOf(request), attempt: attemptOf(request), method: request.method, path: request.url });
  }

  /** Serialises the answer here (not in Fastify) so the logged digest is of exactly the bytes sent. */
  function respond(request: FastifyRequest, reply: FastifyReply, status: number, payload: object, bytesReceived: number): FastifyReply {
    const body = Buffer.from(JSON.stringify(payload));
    o.onRequestLog?.({
      event: 'response', server: o.id, rid: requestIdOf(request), attempt: attemptOf(request), status, bytesReceived,
      bytes: body.length, sha256: createHash('sha256').update(body).digest('hex'),
    });
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  }

  app.get('/heartbeat', async (request, reply) => {
    // A replica that is hung, erroring or resetting fails its heartbeats the same way.
    const action = faultAction(state.fault, faultRng);
    if (!survive(action, request, reply)) return reply;
    return { server: o.id, status: 'ok' };
  });

  app.get('/home', async (request, reply) => {
    logArrival(request);
    const action = faultAction(state.fault, faultRng);
    if (!survive(action, request, reply)) return reply;
    reply.header('server-timing', await serve(request));
    return respond(request, reply, 200, { server: o.id, message: `Hello from Server: ${o.id}`, status: 'successful' }, 0);
  });

  // Everything else echoes what arrived, whatever the method (CONNECT aside). Encapsulated:
  // this context reads bodies raw.
  for (const method of METHODS) {
    if (method !== 'CONNECT' && !app.supportedMethods.includes(method)) app.addHttpMethod(method, { hasBody: true });
  }
  app.register(async (echo) => {
    echo.removeAllContentTypeParsers();
    echo.addContentTypeParser('*', (_req, _payload, done) => done(null));
    echo.all('/*', async (request, reply) => {
      logArrival(request);
      const action = faultAction(state.fault, faultRng);
      if (!survive(action, request, reply)) return reply;
      const hash = createHash('sha256');
      let bytesReceived = 0;
      const raw = request.raw;
      if (raw.headers['transfer-encoding'] !== undefined || (raw.headers['content-length'] ?? '0') !== '0') {
        for await (const chunk of raw) { bytesReceived += (chunk as Buffer).length; hash.update(chunk as Buffer); }
      }
      reply.header('server-timing', await serve(request));
      const answer: Record<string, unknown> = {
        server: o.id,
        method: request.method,
        path: request.url,
        requestId: request.headers['x-request-id'] ?? null,
        attempt: attemptOf(request) ?? null,
        bytesReceived,
        sha256: hash.digest('hex'),
        headers: request.headers,
      };
      const padBytes = padBytesOf(request.query);
      if (padBytes > 0) answer.pad = padding(padBytes, String(answer.requestId), String(answer.attempt));
      return respond(request, reply, 200, answer, bytesReceived);
    });
  });

  replicaMetricsPlugin(app, { id: o.id, counts: () => ({ arrived, served, inService: queue.busy, queued: queue.queued, hung: hung.size }) });
  if (o.controlToken) app.register(controlPlugin, { token: o.controlToken, state });
  return app;
}

function requestIdOf(request: FastifyRequest): string | undefined {
  const rid = request.headers['x-request-id'];
  return typeof rid === 'string' ? rid : undefined;
}

function attemptOf(request: FastifyRequest): number | undefined {
  const n = Number(request.headers['x-fulcrum-attempt']);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function padBytesOf(query: unknown): number {
  const text = (query as Record<string, unknown> | undefined)?.bytes;
  const n = Number(text);
  return typeof text === 'string' && Number.isInteger(n) && n > 0 ? Math.min(n, MAX_PAD_BYTES) : 0;
}

/** Filler that differs per request and attempt, so bytes of two attempts can never be mistaken for one. */
function padding(bytes: number, rid: string, attempt: string): string {
  const unit = createHash('sha256').update(`${rid}/${attempt}`).digest('hex');
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
}

/**
 * Waits `ms` of real time, as close on average as Node's timers allow. A timer counts whole
 * milliseconds of the event loop's cached clock, so it ends up to a millisecond either side of
 * its time, and earlier still after a long turn of the loop (the clock is as old as the turn: a
 * 1.8 ms service time was once answered in 0.6 ms). A remainder of a millisecond or more is
 * slept again; a smaller one is not, because a second timer rounds up a millisecond itself.
 * Measured with exponential 5 ms times: this sleep 0.08-0.16 ms short on average and never a
 * millisecond early; one timer alone 0.17-0.22 ms short and up to 1.9 ms early; sleeping every
 * remainder 0.56-0.62 ms long, which made live runs slower than the model of the same servers.
 */
export async function sleepNear(ms: number): Promise<void> {
  if (ms <= 0) return; // a timer of 0 still waits a turn of at least a millisecond
  const until = performance.now() + ms;
  await sleep(ms);
  const left = until - performance.now();
  if (left >= 1) await sleep(left);
}
