// The request path. Each client request is one Exchange: read the body (buffered when
// small enough to replay), then follow the Router's steps — attempt, retry after a delay,
// respond, fail — until the client has its answer. Every choice of backend, every retry and
// every gateway status comes from the core; an Exchange only performs them with sockets
// and timers, moving through explicit phases (`Phase` below). Each attempt is one
// UpstreamCall (upstream-call.ts); passing an answer on is relay.ts. Callbacks are module
// functions that find their Exchange on the emitter, so a request allocates no closures on
// the common path.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import type { Flow, GatewayError, Step } from '../../core/router.ts';
import { failurePoint } from '../../core/retry.ts';
import { type AttemptOutcome, isOk } from '../../core/types.ts';
import { normalizeAddress } from '../../http/security.ts';
import type { AttemptLog } from './attempt-log.ts';
import { type StatusClass, statusClass } from './backend-stats.ts';
import type { BackendRecord, BackendRegistry } from './backends.ts';
import type { ClientIdentity } from './client-identity.ts';
import type { CoreDriver } from './core-driver.ts';
import { type OutgoingHeaders, upstreamRequestHeaders } from './forwarding-headers.ts';
import { malformedRequest } from './request-guards.ts';
import type { ProxyMetrics } from './metrics.ts';
import { type BodyLimits, type RequestBody, StreamedBody, readRequestBody } from './request-body.ts';
import { abandonAnswer, relayHead } from './relay.ts';
import { type ClientError, isClosing, sendProxyError } from './responses.ts';
import { classifyError, invalidResponse } from './upstream.ts';
import { type CallOwner, UpstreamCall } from './upstream-call.ts';
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
  accessLog: boolean;
  /** `--attempt-log`: one line per request with its attempts' times (attempt-log.ts). */
  attemptLog?: AttemptLog;
  via: ViaTag;
}

const LOCAL_REJECT: AttemptOutcome = { kind: 'local-reject' };
const RESET: AttemptOutcome = { kind: 'reset' };
const TIMEOUT: AttemptOutcome = { kind: 'timeout' };
const kExchange = Symbol('fulcrum.exchange');
type Carrier = { [kExchange]?: Exchange };

/** One attempt as the logs show it (collected only when the access or attempt log is on); times from performance.now(). */
interface AttemptTiming { server: string; startedMs: number; endedMs: number; outcome: string; ok: boolean }

const CLIENT_LEFT = 'client_left';

/**
 * Where an Exchange is. Each phase holds exactly what it needs, so no field outlives its
 * phase and a late event (a timer, an upstream answer, a body's close) finds out from the
 * phase alone whether it still matters.
 * - reading: the request body is being read; no flow yet.
 * - attempting: `call` is out to `record`; `timer` is its timeout (or the deadline).
 * - backoff: waiting `timer` before the Router's next attempt.
 * - relaying: `call`'s answer is being passed on; `endsAttempt` when the attempt ends
 *   with the body (an answer the Router did not judge a failure).
 * - done: nothing pending with the Router; the client has, or is getting, its answer.
 */
type Phase = { readonly kind: 'reading' } | Attempting | Backoff | Relaying | { readonly kind: 'done' };

interface Attempting {
  readonly kind: 'attempting';
  readonly record: BackendRecord;
  readonly startedMs: number;
  readonly call: UpstreamCall;
  /** The per-try timeout or the request deadline, whichever comes first: the Router knows which. */
  readonly timer: NodeJS.Timeout;
  timedOut: boolean;
}

interface Backoff { readonly kind: 'backoff'; readonly timer: NodeJS.Timeout }

interface Relaying {
  readonly kind: 'relaying';
  readonly record: BackendRecord;
  readonly startedMs: number;
  readonly status: number;
  readonly call: UpstreamCall;
  readonly endsAttempt: boolean;
}

const READING: Phase = { kind: 'reading' };
const DONE: Phase = { kind: 'done' };

export function createForwarder(d: ForwarderDeps) {
  return function forward(request: FastifyRequest, reply: FastifyReply): void {
    new Exchange(d, request, reply).begin();
  };
}

class Exchange implements CallOwner {
  private readonly startedMs = performance.now();
  private readonly method: string;
  private readonly peer: string;
  private phase: Phase = READING;
  private flow: Flow | undefined;
  private headers: OutgoingHeaders | undefined;
  private buffered: Buffer | undefined;
  private streamed: StreamedBody | undefined;
  private readonly timings: AttemptTiming[] | undefined;
  /** The proxy's own error code, when it answered the request itself. */
  private error: GatewayError | ClientError | undefined;

  constructor(private readonly d: ForwarderDeps, private readonly request: FastifyRequest, private readonly reply: FastifyReply) {
    this.method = request.raw.method!;
    this.peer = normalizeAddress(request.raw.socket.remoteAddress);
    this.timings = d.accessLog || d.attemptLog ? [] : undefined;
  }

  begin(): void {
    // Pipelined behind an answer that closes the connection: never answered, never forwarded.
    if (isClosing(this.request.raw.socket)) return;
    this.d.metrics.requestStarted();
    (this.reply.raw as ServerResponse & Carrier)[kExchange] = this;
    this.reply.raw.on('close', onClientClose); // emitted once; `once` would wrap the listener per request
    const bad = malformedRequest(this.request.raw, this.d.maxHeaderCount);
    if (bad) { this.answerError(bad[0], bad[1], { close: true }); return; }
    if (this.d.via.seenIn(this.request.raw.headers.via)) { this.d.metrics.loopDetected(); this.answerError(508, 'loop_detected'); return; }
    const body = readRequestBody(this.request.raw, this.d.limits);
    if (body instanceof Promise) body.then((b) => this.route(b), () => this.request.raw.destroy()); // client left mid-upload
    else this.route(body);
  }

  // ---- events: each one checks the phase it belongs to, so a late one changes nothing ----

  /** The request body is read (or known too large): start the flow. */
  private route(body: RequestBody): void {
    const { d } = this;
    if (this.phase.kind !== 'reading') return; // the client left while its body was read: nothing to route
    const raw = this.request.raw;
    if (body.kind === 'too-large') { this.answerError(413, 'body_too_large', { close: true }); return; }
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

  /** The attempt's call answered: a response (head only) or an error. */
  upstreamAnswered(call: UpstreamCall, err: Error | null, statusCode: number, headers: IncomingHttpHeaders): void {
    const p = this.phase;
    if (p.kind !== 'attempting' || p.call !== call) { call.abort(); return; } // the client left: clientClosed ended the flow
    clearTimeout(p.timer);
    if (err) this.attemptFailed(p, err);
    else this.responseArrived(p, statusCode, headers);
  }

  timeoutFired(): void {
    const p = this.phase;
    if (p.kind !== 'attempting') return;
    p.timedOut = true;
    p.call.abort();
    this.attemptFailed(p, undefined);
  }

  backoffDone(): void {
    if (this.phase.kind !== 'backoff') return;
    this.run(this.d.driver.next(this.flow!));
  }

  /** The relayed body ended (`complete`) or closed early (the backend failed mid-body). */
  relayEnded(complete: boolean): void {
    const p = this.phase;
    if (p.kind !== 'relaying') return; // the client left first: clientClosed ended the flow
    this.phase = DONE;
    const flow = this.flow!;
    if (!complete) abandonAnswer(this.reply.raw, flow.path);
    if (!p.endsAttempt) return; // a failure status passed on: the attempt already ended
    if (complete) {
      const outcome: AttemptOutcome = { kind: 'response', status: p.status };
      this.d.driver.attemptEnded(flow, outcome);
      this.recordAttempt(p.record, p.startedMs, statusClass(p.status), outcome);
    } else {
      this.d.driver.attemptEnded(flow, RESET, undefined, true);
      this.recordAttempt(p.record, p.startedMs, 'error', RESET);
    }
  }

  /** The client connection closed: finished normally, or the client left early. */
  clientClosed(): void {
    const res = this.reply.raw;
    if (!res.writableFinished) this.clientLeft();
    const complete = res.headersSent && res.writableFinished;
    const cls: StatusClass = complete ? statusClass(res.statusCode) : 'error';
    const seconds = (performance.now() - this.startedMs) / 1000;
    this.d.metrics.requestEnded(cls, seconds);
    if (this.d.attemptLog) {
      const id = this.request.raw.headers['x-request-id'];
      this.d.attemptLog.request(typeof id === 'string' ? id : '', complete ? res.statusCode : 0, this.error, this.timings!);
    }
    if (this.d.accessLog) {
      const path = this.flow?.path ?? [];
      this.request.log.info({
        client: this.peer, method: this.method, url: this.request.raw.url, status: res.statusCode, complete: cls !== 'error',
        attempts: path.join('|'), backend: path.at(-1), durationMs: Math.round(seconds * 10_000) / 10,
        timings: this.timings!.map((t) => ({ backend: t.server, ms: Math.round((t.endedMs - t.startedMs) * 10) / 10, outcome: t.outcome })),
      }, 'access');
    }
  }

  // ---- transitions ----------------------------------------------------------------------

  /** The client left before its answer was written: whatever is pending ends here, once. */
  private clientLeft(): void {
    const p = this.phase;
    this.phase = DONE; // first: the aborts below report back, and must find nothing to do
    switch (p.kind) {
      case 'reading': return; // route() finds the phase moved on
      case 'attempting':
        clearTimeout(p.timer);
        this.d.driver.clientAborted(this.flow!);
        this.timeAttempt(p.record.id, p.startedMs, CLIENT_LEFT, false);
        p.call.abort();
        return;
      case 'backoff':
        clearTimeout(p.timer);
        this.d.driver.clientAborted(this.flow!);
        return;
      case 'relaying':
        if (p.endsAttempt) {
          this.d.driver.clientAborted(this.flow!);
          this.timeAttempt(p.record.id, p.startedMs, CLIENT_LEFT, false);
        }
        p.call.abort(); // frees the upstream socket
        return;
      case 'done': return;
      default: unreachable(p);
    }
  }

  /** Performs one Router step. */
  private run(step: Step): void {
    switch (step.kind) {
      case 'attempt': this.attempt(step); return;
      case 'retry': this.phase = { kind: 'backoff', timer: setTimeout(onBackoffDone, step.delayMs, this) }; return;
      case 'fail': this.answerError(step.status, step.error); return;
      case 'respond': this.answerError(502, 'upstream_reset'); return; // the Router answers `respond` only to responses, relayed in responseArrived
      case 'reject': this.answerError(step.status, step.error, { close: true }); return; // the rest of the body is not read
      case 'queue': this.answerError(503, 'no_backend'); return; // only the simulator's HAProxy mode queues
      default: unreachable(step);
    }
  }

  private attempt(step: Extract<Step, { kind: 'attempt' }>): void {
    const flow = this.flow!;
    const record = this.d.registry.get(step.backend.id)!; // disposed only after the balancer's `removed`
    const startedMs = performance.now();
    if (this.streamed?.consumed) { // a streamed body cannot be sent twice; the Router could not know it was touched
      const next = this.d.driver.attemptEnded(flow, LOCAL_REJECT);
      this.recordAttempt(record, startedMs, 'error', LOCAL_REJECT);
      this.run(next);
      return;
    }
    // Tells the backend which attempt this is (1-based), so its log can prove a retry; clients cannot forge it (forwarding-headers.ts strips x-fulcrum-*).
    this.headers!['x-fulcrum-attempt'] = String(step.attempt + 1);
    const call = new UpstreamCall(this);
    this.phase = {
      kind: 'attempting', record, startedMs, call,
      timer: setTimeout(onAttemptTimeout, step.timeoutMs, this),
      timedOut: false,
    };
    record.pool.dispatch({
      method: this.method as Dispatcher.HttpMethod,
      path: this.request.raw.url!,
      headers: this.headers,
      body: this.streamed ? this.streamed.stream() : this.buffered,
    }, call);
  }

  /** The attempt failed with `error`, or ran out of time (`p.timedOut`, no error). */
  private attemptFailed(p: Attempting, error: Error | undefined): void {
    const { driver } = this.d;
    const flow = this.flow!;
    const outcome = p.timedOut ? TIMEOUT : classifyError(error);
    const step = p.timedOut ? driver.attemptTimedOut(flow) : driver.attemptEnded(flow, outcome);
    this.recordAttempt(p.record, p.startedMs, 'error', outcome);
    this.run(step);
  }

  private responseArrived(p: Attempting, status: number, headers: IncomingHttpHeaders): void {
    // Nothing is relayed yet: an answer unfit to pass on fails the attempt like a reset.
    const invalid = invalidResponse(status, headers['transfer-encoding']);
    if (invalid) { p.call.abort(); this.attemptFailed(p, invalid); return; }
    const outcome: AttemptOutcome = { kind: 'response', status };
    if (failurePoint(outcome)) {
      // A 5xx or 429: the Router decides now, before anything is sent, whether to try elsewhere.
      const step = this.d.driver.attemptEnded(this.flow!, outcome, firstValue(headers['retry-after']));
      this.recordAttempt(p.record, p.startedMs, statusClass(status), outcome);
      if (step.kind === 'retry') { p.call.discard(); this.run(step); return; }
      this.relay(p, status, headers, false);
      return;
    }
    this.relay(p, status, headers, true); // a plain answer: the attempt ends when its body has been passed on
  }

  private relay(p: Attempting, status: number, headers: IncomingHttpHeaders, endsAttempt: boolean): void {
    this.phase = { kind: 'relaying', record: p.record, startedMs: p.startedMs, status, call: p.call, endsAttempt };
    const own = ['x-fulcrum-attempts', this.flow!.path.join('|')];
    if (this.d.lifecycle.closing) own.push('connection', 'close');
    p.call.relayTo(relayHead(this.reply, status, headers, own));
  }

  /** The proxy's own answer ends the exchange. */
  private answerError(status: number, code: GatewayError | ClientError, opts?: { close?: boolean }): void {
    this.phase = DONE;
    this.error = code;
    sendProxyError(this.reply, status, code, this.flow?.path, opts);
  }

  /** Per-backend stats and the access log's timing; after the core has judged the attempt (flow.ended). */
  private recordAttempt(record: BackendRecord, startedMs: number, cls: StatusClass, outcome: AttemptOutcome): void {
    const ms = performance.now() - startedMs;
    record.stats.record(cls, ms, this.flow!.ended.backendFailure);
    this.timeAttempt(record.id, startedMs, outcome.kind === 'response' ? String(outcome.status) : outcome.kind, isOk(outcome));
  }

  private timeAttempt(server: string, startedMs: number, outcome: string, ok: boolean): void {
    this.timings?.push({ server, startedMs, endedMs: performance.now(), outcome, ok });
  }
}

function onAttemptTimeout(ex: Exchange): void { ex.timeoutFired(); }
function onBackoffDone(ex: Exchange): void { ex.backoffDone(); }
function onClientClose(this: ServerResponse & Carrier): void { this[kExchange]!.clientClosed(); }

function unreachable(value: never): never {
  throw new Error(`unhandled ${JSON.stringify(value)}`);
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
