// The request path. Each client request is one Exchange: read the body (buffered when
// small enough to replay), then follow the Router's steps — attempt, retry after a delay,
// respond, fail — until the client has its answer. Every choice of backend, every retry and
// every gateway status comes from the core; an Exchange only performs them with sockets
// and timers. Callbacks are module functions that find their Exchange on the emitter or in
// undici's `opaque`, so a request allocates no closures on the common path.
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { type AttemptOutcome, type Flow, type Step, failurePoint, isBackendFailure } from '../../core/index.ts';
import { normalizeAddress } from '../../http/security.ts';
import { type StatusClass, statusClass } from './backend-stats.ts';
import type { BackendRecord, BackendRegistry } from './backends.ts';
import type { ClientIdentity } from './client-identity.ts';
import type { CoreDriver } from './core-driver.ts';
import { type OutgoingHeaders, clientResponseHeaders, upstreamRequestHeaders } from './forwarding-headers.ts';
import { malformedRequest } from './request-guards.ts';
import type { ProxyMetrics } from './metrics.ts';
import { type BodyLimits, type RequestBody, StreamedBody, readRequestBody } from './request-body.ts';
import { isClosing, replaceUnsentAnswer, sendProxyError } from './responses.ts';
import { AttemptSignal, classifyError, invalidResponse, isBodyTooLarge } from './upstream.ts';
import type { ViaTag } from './via.ts';

export interface ForwarderDeps {
  maxHeaderCount: number;
  /** Set when the proxy shuts down: answers then tell clients not to reuse the connection. */
  lifecycle: { closing: boolean };
  driver: CoreDriver;
  registry: BackendRegistry;
  metrics: ProxyMetrics;
  identity: ClientIdentity;
  limits: BodyLimits;
  /** Outlier config's count500, so per-backend failure stats match the Balancer's view. */
  count500: boolean;
  accessLog: boolean;
  via: ViaTag;
}

type Response = Dispatcher.ResponseData<Exchange>;

const LOCAL_REJECT: AttemptOutcome = { kind: 'local-reject' };
const RESET: AttemptOutcome = { kind: 'reset' };
const TIMEOUT: AttemptOutcome = { kind: 'timeout' };
const kExchange = Symbol('fulcrum.exchange');
type Carrier = { [kExchange]?: Exchange };

/** One attempt as the access log shows it (collected only when the log is on). */
interface AttemptTiming { backend: string; ms: number; outcome: string }

export function createForwarder(d: ForwarderDeps) {
  return function forward(request: FastifyRequest, reply: FastifyReply): void {
    new Exchange(d, request, reply).begin();
  };
}

class Exchange {
  private readonly startedMs = performance.now();
  private readonly method: string;
  private readonly peer: string;
  private flow: Flow | undefined;
  private headers: OutgoingHeaders | undefined;
  private buffered: Buffer | undefined;
  private streamed: StreamedBody | undefined;
  private clientGone = false;
  // The attempt in progress, or the backoff before the next one.
  private record: BackendRecord | undefined;
  private signal: AttemptSignal | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inBackoff = false;
  private timedOut = false;
  private deadlineBound = false;
  private attemptStartedMs = 0;
  private status = 0;
  private body: Response['body'] | undefined;
  private endAttemptWithBody = false;
  private bodySettled = false;
  private readonly timings: AttemptTiming[] | undefined;

  constructor(private readonly d: ForwarderDeps, private readonly request: FastifyRequest, private readonly reply: FastifyReply) {
    this.method = request.raw.method!;
    this.peer = normalizeAddress(request.raw.socket.remoteAddress);
    this.timings = d.accessLog ? [] : undefined;
  }

  begin(): void {
    // Pipelined behind an answer that closes the connection: never answered, never forwarded.
    if (isClosing(this.request.raw.socket)) return;
    this.d.metrics.requestStarted();
    (this.reply.raw as ServerResponse & Carrier)[kExchange] = this;
    this.reply.raw.once('close', onClientClose);
    const bad = malformedRequest(this.request.raw, this.d.maxHeaderCount);
    if (bad) { sendProxyError(this.reply, bad[0], bad[1], [], { close: true }); return; }
    if (this.d.via.seenIn(this.request.raw.headers.via)) { this.d.metrics.loopDetected(); sendProxyError(this.reply, 508, 'loop_detected'); return; }
    const body = readRequestBody(this.request.raw, this.d.limits);
    if (body instanceof Promise) body.then((b) => this.route(b), () => this.request.raw.destroy()); // client left mid-upload
    else this.route(body);
  }

  private route(body: RequestBody): void {
    const { d, reply } = this;
    if (this.clientGone) return; // the client left while its body was read: nothing to route
    const raw = this.request.raw;
    if (body.kind === 'too-large') { sendProxyError(reply, 413, 'body_too_large', [], { close: true }); return; }
    if (body.kind === 'buffered') this.buffered = body.bytes;
    else if (body.kind === 'streamed') this.streamed = new StreamedBody(raw, body, d.limits.maxBodyBytes);
    this.headers = upstreamRequestHeaders(raw, {
      peer: this.peer,
      trustedPeer: d.identity.isTrusted(this.peer),
      via: d.via.entry,
      contentLength: body.kind === 'streamed' && body.declaredBytes !== undefined ? String(body.declaredBytes) : undefined,
    });
    this.flow = d.driver.start(this.method, d.identity.clientAddress(this.peer, raw.headers['x-forwarded-for']), this.streamed === undefined);
    this.run(d.driver.next(this.flow));
  }

  /** Performs one Router step. */
  private run(step: Step): void {
    const flow = this.flow!;
    switch (step.kind) {
      case 'attempt': this.attempt(step); return;
      case 'retry':
        this.inBackoff = true;
        this.timer = setTimeout(onBackoffDone, step.delayMs, this);
        return;
      case 'fail': sendProxyError(this.reply, step.status, step.error, flow.path); return;
      case 'respond': sendProxyError(this.reply, 502, 'upstream_reset', flow.path); return; // the Router answers `respond` only to responses, handled below
    }
  }

  private attempt(step: Extract<Step, { kind: 'attempt' }>): void {
    const flow = this.flow!;
    const record = this.record = this.d.registry.get(step.backend.id)!; // disposed only after the balancer's `removed`
    this.attemptStartedMs = performance.now();
    // The timer is capped by the overall deadline; when the deadline is what it stands for, expiry is a deadline.
    this.deadlineBound = step.timeoutMs >= flow.deadlineMs - flow.attemptStartMs;
    if (this.streamed?.consumed) { // a streamed body cannot be sent twice; the Router could not know it was touched
      this.recordAttempt('error', LOCAL_REJECT);
      this.run(this.d.driver.attemptEnded(flow, LOCAL_REJECT));
      return;
    }
    this.timedOut = false;
    // Tells the backend which attempt this is (1-based), so its log can prove a retry; clients cannot forge it (forwarding-headers.ts strips x-fulcrum-*).
    this.headers!['x-fulcrum-attempt'] = String(step.attempt + 1);
    const signal = this.signal = new AttemptSignal();
    this.timer = setTimeout(onAttemptTimeout, step.timeoutMs, this);
    record.pool.request<Exchange>({
      method: this.method as Dispatcher.HttpMethod,
      path: this.request.raw.url!,
      headers: this.headers,
      body: this.streamed ? this.streamed.stream() : this.buffered,
      signal: signal.asSignal(),
      opaque: this,
    }, onUpstreamResponse);
  }

  attemptFailed(error: Error): void {
    const { driver } = this.d;
    const flow = this.flow!;
    if (this.clientGone) { driver.clientAborted(flow); return; }
    if (this.timedOut) {
      this.recordAttempt('error', TIMEOUT);
      this.run(this.deadlineBound ? driver.deadlineExceeded(flow) : driver.attemptEnded(flow, TIMEOUT));
      return;
    }
    if (isBodyTooLarge(error)) {
      this.recordAttempt('error', LOCAL_REJECT);
      driver.attemptEnded(flow, LOCAL_REJECT);
      sendProxyError(this.reply, 413, 'body_too_large', flow.path, { close: true });
      return;
    }
    const outcome = classifyError(error);
    this.recordAttempt('error', outcome);
    this.run(driver.attemptEnded(flow, outcome));
  }

  responseArrived(res: Response): void {
    const { driver } = this.d;
    const flow = this.flow!;
    if (this.clientGone) { res.body.destroy(); driver.clientAborted(flow); return; }
    // Nothing is relayed yet: an answer unfit to pass on fails the attempt like a reset.
    const invalid = invalidResponse(res.statusCode, res.headers['transfer-encoding']);
    if (invalid) { res.body.destroy(); this.attemptFailed(invalid); return; }
    this.status = res.statusCode;
    const outcome: AttemptOutcome = { kind: 'response', status: res.statusCode };
    if (failurePoint(outcome)) {
      // A 5xx or 429: the Router decides now, before anything is sent, whether to try elsewhere.
      this.recordAttempt(statusClass(res.statusCode), outcome);
      const step = driver.attemptEnded(flow, outcome, firstValue(res.headers['retry-after']));
      if (step.kind === 'retry') { res.body.dump().catch(() => {}); this.run(step); return; }
      this.send(res, false);
      return;
    }
    this.send(res, true); // a plain answer: the attempt ends when its body has been passed on
  }

  /**
   * Passes the backend's answer on. The body is piped straight to the socket (Fastify's
   * reply is set aside): the proxy adds nothing to it, and a failure mid-body must destroy
   * the client connection so a truncated answer never looks complete.
   */
  private send(res: Response, endAttemptWithBody: boolean): void {
    this.reply.hijack();
    const out = this.reply.raw;
    const own = ['x-fulcrum-attempts', this.flow!.path.join('|')];
    if (this.d.lifecycle.closing) own.push('connection', 'close');
    if (res.statusCode === 204) delete res.headers['content-length']; // RFC 9110 §8.6: never in a 204 (undici reads no body for it)
    out.writeHead(res.statusCode, clientResponseHeaders(res.headers, own));
    const body = this.body = res.body;
    this.endAttemptWithBody = endAttemptWithBody;
    (body as unknown as Carrier)[kExchange] = this;
    body.once('end', onBodyEnd);
    body.once('close', onBodyClose);
    body.on('error', noop); // reported through 'close'
    body.pipe(out);
  }

  /** The response body ended (`complete`) or closed early (backend failure or client gone). */
  bodyDone(complete: boolean): void {
    if (this.bodySettled) return;
    this.bodySettled = true;
    const clientGone = this.clientGone; // before destroy() below makes the client look gone
    // The backend failed mid-body: a 502 if nothing was written yet, else the connection is cut.
    if (!complete && !clientGone && !replaceUnsentAnswer(this.reply.raw, 'upstream_reset', this.flow!.path)) this.reply.raw.destroy();
    if (!this.endAttemptWithBody) return; // a 5xx passed on: the attempt already ended
    const { driver } = this.d;
    const flow = this.flow!;
    if (complete) {
      this.recordAttempt(statusClass(this.status), { kind: 'response', status: this.status });
      driver.attemptEnded(flow, { kind: 'response', status: this.status });
    } else if (clientGone) {
      driver.clientAborted(flow);
    } else {
      this.recordAttempt('error', RESET);
      driver.attemptEnded(flow, RESET, undefined, true);
    }
  }

  timeoutFired(): void {
    this.timedOut = true;
    this.signal?.abort();
  }

  backoffDone(): void {
    this.inBackoff = false;
    this.run(this.d.driver.next(this.flow!));
  }

  /** The client connection closed: finished normally, or the client left early. */
  clientClosed(): void {
    const res = this.reply.raw;
    if (!res.writableFinished) {
      this.clientGone = true;
      this.signal?.abort(); // an attempt in progress ends through attemptFailed
      if (this.body && !this.bodySettled) this.body.destroy(); // frees the upstream socket; ends through bodyDone
      if (this.inBackoff) { clearTimeout(this.timer); this.inBackoff = false; this.d.driver.clientAborted(this.flow!); }
    }
    const cls: StatusClass = res.headersSent && res.writableFinished ? statusClass(res.statusCode) : 'error';
    const seconds = (performance.now() - this.startedMs) / 1000;
    this.d.metrics.requestEnded(cls, seconds);
    if (this.timings) {
      const path = this.flow?.path ?? [];
      this.request.log.info({
        client: this.peer, method: this.method, url: this.request.raw.url, status: res.statusCode, complete: cls !== 'error',
        attempts: path.join('|'), backend: path.at(-1), durationMs: Math.round(seconds * 10_000) / 10, timings: this.timings,
      }, 'access');
    }
  }

  attemptSettled(): void {
    clearTimeout(this.timer);
    this.signal = undefined;
  }

  private recordAttempt(cls: StatusClass, outcome: AttemptOutcome): void {
    const r = this.record!;
    const ms = performance.now() - this.attemptStartedMs;
    r.stats.record(cls, ms, isBackendFailure(outcome, this.d.count500));
    this.timings?.push({ backend: r.id, ms: Math.round(ms * 10) / 10, outcome: outcome.kind === 'response' ? String(outcome.status) : outcome.kind });
  }
}

function onUpstreamResponse(err: Error | null, data: Response): void {
  const ex = data.opaque;
  ex.attemptSettled();
  if (err) ex.attemptFailed(err);
  else ex.responseArrived(data);
}

function onAttemptTimeout(ex: Exchange): void { ex.timeoutFired(); }
function onBackoffDone(ex: Exchange): void { ex.backoffDone(); }
function onClientClose(this: ServerResponse & Carrier): void { this[kExchange]!.clientClosed(); }
function onBodyEnd(this: Carrier): void { this[kExchange]!.bodyDone(true); }
function onBodyClose(this: Carrier): void { this[kExchange]!.bodyDone(false); }

function noop(): void {}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
