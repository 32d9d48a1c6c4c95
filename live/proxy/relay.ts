// Passes a backend's answer on to the client. Fastify's reply is set aside and the head
// written to the socket's response directly; the body follows chunk by chunk from the
// attempt's UpstreamCall (upstream-call.ts). The proxy adds nothing to the body, and a
// failure mid-body must destroy the client connection so a truncated answer never looks complete.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import { clientResponseHeaders } from './forwarding-headers.ts';
import { replaceUnsentAnswer } from './responses.ts';

/** Writes the head: the backend's status and headers plus `own` (flat name, value, …). */
export function relayHead(reply: FastifyReply, statusCode: number, headers: IncomingHttpHeaders, own: string[]): ServerResponse {
  reply.hijack();
  const out = reply.raw;
  if (statusCode === 204) delete headers['content-length']; // RFC 9110 §8.6: never in a 204 (undici reads no body for it)
  out.writeHead(statusCode, clientResponseHeaders(headers, own));
  return out;
}

/**
 * The backend failed mid-body: a 502 if nothing of the answer was written yet, else the
 * connection is cut.
 */
export function abandonAnswer(out: ServerResponse, attempts: readonly string[]): void {
  if (!replaceUnsentAnswer(out, 'upstream_reset', attempts)) out.destroy();
}
