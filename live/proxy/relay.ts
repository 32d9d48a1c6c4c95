// Passes a backend's answer on to the client. The body is piped straight to the socket
// (Fastify's reply is set aside): the proxy adds nothing to it, and a failure mid-body
// must destroy the client connection so a truncated answer never looks complete. The
// body's listeners are module functions that find their owner on the stream, so a relay
// allocates no closures.
import type { ServerResponse } from 'node:http';
import type { FastifyReply } from 'fastify';
import type { Dispatcher } from 'undici';
import { clientResponseHeaders } from './forwarding-headers.ts';
import { replaceUnsentAnswer } from './responses.ts';

/** Hears how the relayed body ended: exactly once per relay. */
export interface RelayOwner {
  relayEnded(complete: boolean): void;
}

const kOwner = Symbol('fulcrum.relay-owner');
type Carrier = { [kOwner]?: RelayOwner };

/** Writes the head (the backend's headers plus `own`) and pipes the body; the owner hears its end. */
export function relayResponse(reply: FastifyReply, res: Dispatcher.ResponseData<unknown>, own: string[], owner: RelayOwner): void {
  reply.hijack();
  const out = reply.raw;
  if (res.statusCode === 204) delete res.headers['content-length']; // RFC 9110 §8.6: never in a 204 (undici reads no body for it)
  out.writeHead(res.statusCode, clientResponseHeaders(res.headers, own));
  const body = res.body;
  (body as unknown as Carrier)[kOwner] = owner;
  body.once('end', onBodyEnd);
  body.once('close', onBodyClose);
  body.on('error', noop); // reported through 'close'
  body.pipe(out);
}

/**
 * The backend failed mid-body: a 502 if nothing of the answer was written yet, else the
 * connection is cut.
 */
export function abandonAnswer(out: ServerResponse, attempts: readonly string[]): void {
  if (!replaceUnsentAnswer(out, 'upstream_reset', attempts)) out.destroy();
}

// 'end' comes first for a complete body, then 'close'; an early close comes alone.
function onBodyEnd(this: Carrier): void { settle(this, true); }
function onBodyClose(this: Carrier): void { settle(this, false); }

function settle(body: Carrier, complete: boolean): void {
  const owner = body[kOwner];
  if (owner === undefined) return;
  body[kOwner] = undefined;
  owner.relayEnded(complete);
}

function noop(): void {}
