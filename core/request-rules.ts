// The seam between the Router and a proxy's request rules. The Router runs every request
// the same way (pick, attempt, record the outcome, follow the answer); the rules decide what
// differs between proxies: which backends the next pick leaves out, what happens after an
// attempt ends (retry now, after a delay, on the same server, or answer with which status),
// what "no backend" means and whether to queue. Each implementation keeps what it needs per
// request in a state object of its own: Fulcrum's (core/retry.ts) and the modelled proxies'
// (core/haproxy-retry.ts, core/nginx-retry.ts, core/caddy-retry.ts; core/proxy-rules.ts).
import type { AttemptOutcome } from './types.ts';
import type { Flow, GatewayError, Step } from './router.ts';

/** What the rules tell the Router to do next: every Step but an attempt (the Router starts those). */
export type Verdict = Exclude<Step, { kind: 'attempt' }>;

/** How an attempt ended, beside its outcome: what only the live proxy can know. */
export interface AttemptEnd {
  /** The backend's Retry-After header, if any. */
  retryAfter?: string;
  /** Response bytes already went to the client. */
  responseStarted?: boolean;
}

/**
 * One proxy's request rules. `S` is the state they keep per request: created by
 * `requestStarted`, held by the Flow (`rulesState`) and handed back on every call; the Router
 * never reads it.
 * A verdict that refuses a retry records why in `flow.decisions`; the Router records the rest.
 */
export interface RequestRules<S = unknown> {
  /** A request arrived: the state these rules keep for it. */
  requestStarted(): S;
  /** The request got its answer or its error. */
  requestEnded?(state: S): void;
  /** Backend ids the next pick must leave out. */
  exclude(flow: Flow, state: S): ReadonlySet<string> | undefined;
  /** The pick found no backend: fail, queue, or retry later. */
  noBackend(flow: Flow, state: S, nowMs: number): Verdict;
  /**
   * An attempt ended, before the balancer records it: whether it is a failure of the server
   * in the proxy's own eyes (NGINX's NGX_PEER_FAILED, which its balancer counts), or
   * undefined when the balancer judges by itself.
   */
  serverFailed?(flow: Flow, state: S, nowMs: number, outcome: AttemptOutcome): boolean | undefined;
  /**
   * The attempt ended and the balancer recorded it. A retry on the same server sets
   * `flow.assigned` to it; any other retry picks again.
   */
  afterAttempt(flow: Flow, state: S, nowMs: number, outcome: AttemptOutcome, end: AttemptEnd): Verdict;
  /** The attempt in progress (or the retry granted for it) is over, however it ended. */
  attemptOver?(state: S): void;
}

/**
 * The answer when nothing more is tried: the backend's status as it is, or the gateway error
 * its failure maps to. `connectStatus`: the status for a connection that could not be made.
 */
export function finalVerdict(outcome: AttemptOutcome, connectStatus: 502 | 503): Verdict {
  switch (outcome.kind) {
    case 'response': return respondWith(outcome.status);
    case 'connect-error': return gatewayError(connectStatus, 'connect_failed');
    case 'reset': return gatewayError(502, 'upstream_reset');
    case 'timeout': return gatewayError(504, 'upstream_timeout');
    case 'local-reject':
      if (outcome.reason === 'body-too-large') return { kind: 'reject', status: 413, error: 'body_too_large' };
      return gatewayError(502, 'upstream_reset');
    case 'client-abort': return gatewayError(502, 'upstream_reset'); // nobody left to answer
  }
}

/**
 * Answer with `status`: one frozen verdict per HTTP status, made on first use. Engines read
 * verdicts and never change them, and the simulator passes millions of answers on.
 */
export function respondWith(status: number): Verdict {
  if (!(Number.isInteger(status) && status >= 100 && status <= 599)) return { kind: 'respond', status };
  return (RESPONDS[status] ??= Object.freeze({ kind: 'respond', status }));
}

const RESPONDS: (Verdict | undefined)[] = [];

export function gatewayError(status: 502 | 503 | 504, error: GatewayError): Verdict {
  return { kind: 'fail', status, error };
}
