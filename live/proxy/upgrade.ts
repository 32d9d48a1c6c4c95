// Connection upgrades (WebSocket, h2c, ...) passed through to a backend (issue 14, finding 1).
// Without an `upgrade` listener Node answers such a request as a normal one but drops every
// byte that arrived after it on the connection: a pipelined request behind it was never
// answered, and the client took the next answer for it. Here the request goes to a backend
// the core picks, with its Upgrade kept, and the bytes behind it are held:
// - the backend answers 101: the held bytes follow the request and both sockets are joined
//   byte for byte until either side closes or both stay idle for `idleTimeoutMs`;
// - the backend answers anything else: that answer is relayed and the connection closed, so
//   a pipelined request is visibly unanswered, never answered by the wrong response.
// Before the backend's answer the attempt follows the core like any other (retries on
// connect errors, per-try timeout); the backend stays "in flight" while the tunnel is open.
import type { IncomingMessage } from 'node:http';
import { type Socket, connect } from 'node:net';
import { type AttemptOutcome, type Flow, type Step } from '../../core/index.ts';
import { normalizeAddress } from '../../http/security.ts';
import { statusClass } from './backend-stats.ts';
import type { BackendRegistry } from './backends.ts';
import type { ClientIdentity } from './client-identity.ts';
import type { CoreDriver } from './core-driver.ts';
import { upstreamRequestHeaders } from './forwarding-headers.ts';
import type { ProxyMetrics } from './metrics.ts';
import { malformedRequest } from './request-guards.ts';
import { writeRawError } from './responses.ts';
import { classifyError } from './upstream.ts';
import type { ViaTag } from './via.ts';

export interface UpgradeDeps {
  driver: CoreDriver;
  registry: BackendRegistry;
  identity: ClientIdentity;
  metrics: ProxyMetrics;
  via: ViaTag;
  maxHeaderCount: number;
  /** A tunnel with no byte either way for this long is closed. */
  idleTimeoutMs: number;
}

/** Largest backend answer head read before the tunnel is joined. */
const MAX_HEAD_BYTES = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');
const TIMEOUT: AttemptOutcome = { kind: 'timeout' };

/** Node's `upgrade` listener, and `closeAll` for shutdown (Node's closeAllConnections does not see upgraded sockets). */
export function createUpgradeHandler(d: UpgradeDeps) {
  const open = new Set<Socket>();
  const onUpgrade = function (req: IncomingMessage, client: Socket, held: Buffer): void {
    client.pause(); // until the backend has answered: later bytes wait in the socket, behind `held`
    client.on('error', noop);
    open.add(client);
    client.once('close', () => open.delete(client));
    const bad = malformedRequest(req, d.maxHeaderCount)
      // Its body would be mixed with whatever follows the switch: an upgrade carries none here.
      ?? (req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0 ? [400, 'bad_framing'] as const : undefined);
    if (bad) { writeRawError(client, bad[0], bad[1]); return; }
    if (d.via.seenIn(req.headers.via)) { d.metrics.loopDetected(); writeRawError(client, 508, 'loop_detected'); return; }
    new Upgrade(d, req, client, held).run(undefined);
  };
  return Object.assign(onUpgrade, { closeAll: () => { for (const s of open) s.destroy(); } });
}

class Upgrade {
  private readonly flow: Flow;
  private upstream: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private clientGone = false;
  /** The backend's status once its answer is being relayed (the attempt then ends with the relay). */
  private status = 0;

  constructor(private readonly d: UpgradeDeps, private readonly req: IncomingMessage, private readonly client: Socket, private readonly held: Buffer) {
    const peer = normalizeAddress(client.remoteAddress);
    this.flow = d.driver.start(req.method!, d.identity.clientAddress(peer, req.headers['x-forwarded-for']), false);
    d.metrics.requestStarted();
    const started = performance.now();
    client.once('close', () => {
      this.clientGone = true;
      if (this.status === 0) { // left before any answer: free the backend without blaming it
        clearTimeout(this.timer);
        this.upstream?.destroy();
        d.driver.clientAborted(this.flow);
      }
      d.metrics.requestEnded(this.status ? statusClass(this.status) : 'error', (performance.now() - started) / 1000);
    });
  }

  /** Performs the core's next step (`step` undefined: ask for it). */
  run(step: Step | undefined): void {
    if (this.clientGone) return;
    step ??= this.d.driver.next(this.flow);
    switch (step.kind) {
      case 'attempt': this.attempt(step.backend.id, step.timeoutMs, step.attempt + 1); return;
      case 'retry': this.timer = setTimeout(() => this.run(undefined), step.delayMs); return;
      case 'fail': writeRawError(this.client, step.status, step.error, this.flow.path); return;
      case 'respond': return; // the answer was relayed already
    }
  }

  private attempt(id: string, timeoutMs: number, attempt: number): void {
    const origin = new URL(this.d.registry.get(id)!.origin);
    const upstream = this.upstream = connect({ host: origin.hostname.replace(/^\[|\]$/g, ''), port: Number(origin.port || 80) });
    let head = Buffer.alloc(0);
    let settled = false;
    const end = (outcome: AttemptOutcome) => {
      if (settled || this.clientGone) return;
      settled = true;
      clearTimeout(this.timer);
      upstream.destroy();
      this.run(this.d.driver.attemptEnded(this.flow, outcome));
    };
    this.timer = setTimeout(() => end(TIMEOUT), timeoutMs);
    upstream.on('error', (err) => end(classifyError(err)));
    upstream.on('close', () => end({ kind: 'reset' }));
    upstream.on('connect', () => upstream.write(this.requestHead(origin.host, attempt)));
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const at = head.indexOf(HEAD_END);
      if (at < 0) { if (head.length > MAX_HEAD_BYTES) end({ kind: 'reset' }); return; }
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(head.subarray(0, at).toString('latin1'));
      if (!status) { end({ kind: 'reset' }); return; }
      settled = true;
      clearTimeout(this.timer);
      upstream.off('data', onData);
      this.status = Number(status[1]);
      this.relay(upstream, Number(status[1]), head, at + HEAD_END.length);
    };
    upstream.on('data', onData);
  }

  /** The backend answered (`bytes` holds its head and what came with it): join the sockets or relay and close. */
  private relay(upstream: Socket, status: number, bytes: Buffer, bodyAt: number): void {
    const { client, d, flow } = this;
    upstream.removeAllListeners('close');
    upstream.removeAllListeners('error');
    upstream.on('error', noop);
    const finish = () => {
      if (flow.current) d.driver.attemptEnded(flow, { kind: 'response', status });
      client.destroySoon();
      upstream.destroy();
    };
    upstream.once('close', finish);
    client.once('close', finish);
    if (status === 101) {
      client.write(bytes);
      upstream.write(this.held);
      for (const s of [client, upstream]) s.setTimeout(d.idleTimeoutMs, finish);
      upstream.pipe(client);
      client.pipe(upstream);
      return;
    }
    // Declined: pass its answer on (by its Content-Length, or until the backend closes or falls idle), then close.
    const length = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r\n/i.exec(bytes.subarray(0, bodyAt).toString('latin1'));
    let remaining = length ? bodyAt + Number(length[1]) - bytes.length : Infinity;
    client.write(remaining < 0 ? bytes.subarray(0, bytes.length + remaining) : bytes);
    if (remaining <= 0) { finish(); return; }
    upstream.setTimeout(d.idleTimeoutMs, finish);
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk.length > remaining ? chunk.subarray(0, remaining) : chunk);
      remaining -= chunk.length;
      if (remaining <= 0) finish();
    });
  }

  /** The request as the backend gets it: the usual forwarding headers, with this hop's Upgrade restored. */
  private requestHead(host: string, attempt: number): string {
    const { req, d } = this;
    const peer = normalizeAddress(this.client.remoteAddress);
    const headers = upstreamRequestHeaders(req, { peer, trustedPeer: d.identity.isTrusted(peer), via: d.via.entry });
    headers.host = host;
    headers.connection = 'upgrade';
    headers.upgrade = req.headers.upgrade!;
    headers['x-fulcrum-attempt'] = String(attempt);
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (const [name, value] of Object.entries(headers)) for (const v of Array.isArray(value) ? value : [value]) text += `${name}: ${v}\r\n`;
    return text + '\r\n';
  }
}

function noop(): void {}
