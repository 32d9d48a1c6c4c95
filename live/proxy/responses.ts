// Answers the proxy writes itself. Every one carries x-fulcrum-attempts (the attempt path,
// possibly empty) and x-fulcrum-error (a stable code), so clients and the load generator
// can tell a proxy error from a backend's.
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';
import type { GatewayError } from '../../core/index.ts';
import { refusedForProtocol } from './protocol-guard.ts';

/** Client-side problems the proxy rejects before routing. */
export type ClientError =
  | 'bad_request' | 'bad_framing' | 'bad_target' | 'duplicate_host' | 'missing_host' | 'bad_host' | 'too_many_headers'
  | 'headers_too_large' | 'body_too_large' | 'request_timeout' | 'not_found' | 'unsupported_version' | 'unsupported_transfer_coding'
  | 'bad_header' | 'bad_protocol' | 'loop_detected';

const MESSAGES: Record<GatewayError | ClientError, string> = {
  no_backend: 'no healthy backend is available',
  connect_failed: 'could not connect to a backend',
  upstream_reset: 'the backend closed the connection or sent an invalid answer',
  upstream_timeout: 'the backend did not answer in time',
  deadline: 'the request deadline passed',
  bad_request: 'malformed request',
  bad_framing: 'the body length cannot be determined (Transfer-Encoding)',
  bad_target: 'request target must be origin-form (start with /, no fragment, valid percent-encoding)',
  duplicate_host: 'more than one Host header',
  missing_host: 'HTTP/1.1 request without a Host header',
  bad_host: 'Host header is not a valid host[:port]',
  too_many_headers: 'too many request headers',
  headers_too_large: 'request headers too large',
  request_timeout: 'request not received in time',
  body_too_large: 'request body too large',
  not_found: 'not found',
  unsupported_version: 'only HTTP/1.0 and HTTP/1.1 are supported',
  unsupported_transfer_coding: 'only the chunked transfer coding is supported',
  bad_header: 'a header name imitates Transfer-Encoding or Content-Length',
  bad_protocol: 'only HTTP is proxied (the request line names another protocol)',
  loop_detected: 'the request has already passed through this proxy (Via): a backend points back at it',
};

/**
 * Connections whose current answer closes them. Node parses pipelined requests ahead and
 * hands each to the handler at once; one queued behind a closing answer would never get
 * its own, so it must not reach a backend either.
 */
const closingConnections = new WeakSet<Socket>();

export function isClosing(socket: Socket): boolean { return closingConnections.has(socket); }

export function sendProxyError(
  reply: FastifyReply, status: number, code: GatewayError | ClientError, attempts: readonly string[] = [],
  opts: { close?: boolean } = {},
): FastifyReply {
  reply.code(status)
    .header('x-fulcrum-error', code)
    .header('x-fulcrum-attempts', attempts.join('|'))
    .header('content-type', 'application/json; charset=utf-8');
  if (status === 503) reply.header('retry-after', '1');
  // The rest of a rejected request may still be on the wire: do not read it, close.
  if (opts.close) {
    reply.header('connection', 'close');
    // The request's socket: a queued pipelined response has none of its own yet; a request
    // whose body stream was destroyed may have dropped its reference.
    const socket = reply.request.raw.socket ?? reply.raw.socket;
    if (socket) closingConnections.add(socket);
  }
  return reply.send(JSON.stringify({ statusCode: status, code, message: MESSAGES[code] }));
}

/**
 * Replaces a relayed answer that failed before any byte of it was written (its head stored
 * by writeHead, its body broken at once: a bad chunk size) with a 502, so the client gets
 * an answer instead of a silent close. False when bytes already went out: then only
 * cutting the connection keeps a truncated answer from looking complete.
 */
export function replaceUnsentAnswer(res: ServerResponse, code: GatewayError, attempts: readonly string[]): boolean {
  const r = res as ServerResponse & { _header: string | null; _headerSent: boolean; chunkedEncoding: boolean };
  if (r._headerSent || !res.socket) return false;
  r._header = null; // Node's stored head and the framing it chose; writeHead below stores the new ones
  r.chunkedEncoding = false;
  closingConnections.add(res.socket);
  const body = JSON.stringify({ statusCode: 502, code, message: MESSAGES[code] });
  res.writeHead(502, STATUS_CODES[502], ['x-fulcrum-error', code, 'x-fulcrum-attempts', attempts.join('|'), 'content-type', 'application/json; charset=utf-8',
    'content-length', String(Buffer.byteLength(body)), 'connection', 'close']);
  res.end(body);
  return true;
}

/**
 * Answers a request Node's parser refused (bad framing, oversized headers, slow headers)
 * on the raw socket, then closes it: a desynchronised connection is never reused.
 */
export function writeClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || refused.has(socket)) return;
  refused.add(socket); // the parser stays in error: every later chunk would report it again
  // The proxy already refused this request (its body is what failed to parse): that answer
  // closes the connection once written; a second one would answer a request never made.
  if (closingConnections.has(socket)) return;
  const [status, code]: [number, ClientError] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'headers_too_large']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request_timeout']
    : refusedForProtocol(socket) ? [400, 'bad_protocol'] : [400, 'bad_request'];
  afterPipelinedAnswers(socket, () => writeRawError(socket, status, code));
}

/** Writes a proxy error answer straight on `socket` (no HTTP response object owns it) and ends the connection. */
export function writeRawError(socket: Socket, status: number, code: GatewayError | ClientError, attempts: readonly string[] = []): void {
  const body = JSON.stringify({ statusCode: status, code, message: MESSAGES[code] });
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n`
      + `x-fulcrum-error: ${code}\r\nx-fulcrum-attempts: ${attempts.join('|')}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  socket.destroySoon();
}

const refused = new WeakSet<Socket>();

/**
 * Runs `then` once the answers to requests that arrived whole before the refused bytes are
 * written. Those requests were parsed (and forwarded) first; cutting the connection now
 * would leave their clients without an answer the backend already gave. A response whose
 * own request is incomplete is the one the error belongs to: no waiting for it.
 */
function afterPipelinedAnswers(socket: Socket, then: () => void): void {
  const res = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage; // Node's current response on this socket
  if (!res || res.writableFinished || !res.req.complete) { then(); return; }
  const next = () => { res.off('finish', next); res.off('close', next); afterPipelinedAnswers(socket, then); };
  res.once('finish', next).once('close', next); // Node assigns the next queued response on 'finish'
}
