// The proxy's connection to backends over undici: one pool per backend, and the mapping
// from socket errors to the core's attempt outcomes.
import { Pool } from 'undici';
import type { AttemptOutcome } from '../../core/index.ts';
import { BodyTooLargeError } from './request-body.ts';
import { patchedConnector } from './upstream-parser.ts';

export interface UpstreamPoolOptions {
  /** Connections per backend (undici's and reply-from's default is 128). */
  connections: number;
  connectTimeoutMs: number;
  /** Below the backends' own keep-alive timeout, so the proxy closes idle sockets first. */
  keepAliveTimeoutMs: number;
  /** Idle time allowed between response body chunks. */
  bodyIdleTimeoutMs: number;
}

export function createPool(origin: string, o: UpstreamPoolOptions): Pool {
  return new Pool(origin, {
    connections: o.connections,
    pipelining: 1,
    keepAliveTimeout: o.keepAliveTimeoutMs,
    keepAliveMaxTimeout: o.keepAliveTimeoutMs,
    connect: patchedConnector(o.connectTimeoutMs),
    headersTimeout: 0, // the attempt timer owns time-to-headers (per-try timeout, deadline)
    bodyTimeout: o.bodyIdleTimeoutMs,
  });
}

/** A backend answer the proxy cannot pass on faithfully; handled like a reset before any response byte. */
export class InvalidResponseError extends Error {}

/**
 * Why a response undici parsed is still unfit to relay, or undefined. RFC 9110 §15: a status
 * outside 100–599 is invalid (a client would have to treat it as a 5xx anyway). RFC 9112
 * §6.1: the proxy decodes only `chunked` and drops the hop-by-hop Transfer-Encoding, so any
 * other coding would reach the client still applied and undeclared; NGINX answers 502 for
 * the same ("upstream sent unknown Transfer-Encoding").
 */
export function invalidResponse(status: number, transferEncoding: string | string[] | undefined): InvalidResponseError | undefined {
  if (status < 100 || status > 599) return new InvalidResponseError(`invalid status ${status}`);
  if (transferEncoding !== undefined && (typeof transferEncoding !== 'string' || transferEncoding.trim().toLowerCase() !== 'chunked')) {
    return new InvalidResponseError(`unsupported transfer coding ${String(transferEncoding)}`);
  }
  return undefined;
}

/** Errors that prove no request byte reached the backend. */
const CONNECT_CODES = new Set([
  'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT',
]);

const CONNECT_ERROR: AttemptOutcome = { kind: 'connect-error' };
const RESET: AttemptOutcome = { kind: 'reset' };
const BODY_TOO_LARGE: AttemptOutcome = { kind: 'local-reject', reason: 'body-too-large' };

/**
 * The outcome an attempt that failed with `error` reports to the core. A streamed request
 * body that passed the size cap while being sent is the proxy's own refusal (the Router
 * answers 413). Connect failures are safe to send anywhere; everything else (a reset, a
 * socket closed mid-exchange, a keep-alive socket the backend closed while we wrote) may
 * have reached the backend, so it is a `reset` and only idempotent requests are retried
 * after it.
 */
export function classifyError(error: unknown): AttemptOutcome {
  if (someCause(error, (e) => e instanceof BodyTooLargeError)) return BODY_TOO_LARGE;
  return someCause(error, (e) => CONNECT_CODES.has((e as { code?: string }).code ?? '')) ? CONNECT_ERROR : RESET;
}

/** Tests an error and its `cause` chain (undici wraps socket errors). */
function someCause(error: unknown, test: (e: object) => boolean): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (test(e)) return true;
  }
  return false;
}
