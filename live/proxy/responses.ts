// Answers the proxy writes itself. Every one carries x-fulcrum-attempts (the attempt path,
// possibly empty) and x-fulcrum-error (a stable code), so clients and the load generator
// can tell a proxy error from a backend's.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';
import type { GatewayError } from '../../core/index.ts';

/** Client-side problems the proxy rejects before routing. */
export type ClientError =
  | 'bad_request' | 'bad_target' | 'duplicate_host' | 'missing_host' | 'too_many_headers' | 'headers_too_large' | 'body_too_large'
  | 'request_timeout' | 'not_found';

const MESSAGES: Record<GatewayError | ClientError, string> = {
  no_backend: 'no healthy backend is available',
  connect_failed: 'could not connect to a backend',
  upstream_reset: 'the backend closed the connection before answering',
  upstream_timeout: 'the backend did not answer in time',
  deadline: 'the request deadline passed',
  bad_request: 'malformed request',
  bad_target: 'request target must be origin-form (start with /)',
  duplicate_host: 'more than one Host header',
  missing_host: 'HTTP/1.1 request without a Host header',
  too_many_headers: 'too many request headers',
  headers_too_large: 'request headers too large',
  request_timeout: 'request not received in time',
  body_too_large: 'request body too large',
  not_found: 'not found',
};

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
  if (opts.close) reply.header('connection', 'close');
  return reply.send(JSON.stringify({ statusCode: status, code, message: MESSAGES[code] }));
}

/**
 * Answers a request Node's parser refused (bad framing, oversized headers, slow headers)
 * on the raw socket, then closes it: a desynchronised connection is never reused.
 */
export function writeClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code]: [number, ClientError] = err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'headers_too_large']
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request_timeout'] : [400, 'bad_request'];
  const body = JSON.stringify({ statusCode: status, code, message: MESSAGES[code] });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n`
      + `x-fulcrum-error: ${code}\r\nx-fulcrum-attempts: \r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }
  socket.destroy();
}
