// A replayed trace tells each replica how long each request is to take: the load generator
// sends the service time in a header, with the replicas' control token beside it so that no
// other client can set it (the proxy forwards both like any end-to-end header).
import { checkBearer } from './security.ts';

export const REPLAY_SERVICE_HEADER = 'x-replay-service-ms';
export const REPLAY_TOKEN_HEADER = 'x-replay-token';

/** The headers the load generator adds for one request. */
export function replayHeaders(serviceMs: number, token: string): Record<string, string> {
  return { [REPLAY_SERVICE_HEADER]: String(serviceMs), [REPLAY_TOKEN_HEADER]: `Bearer ${token}` };
}

/** The service time a request asks for, when it carries the right token and a sane value (0 … 10 min); else undefined. */
export function replayServiceMs(headers: Record<string, string | string[] | undefined>, token: string | undefined): number | undefined {
  const value = headers[REPLAY_SERVICE_HEADER];
  if (token === undefined || typeof value !== 'string') return undefined;
  const auth = headers[REPLAY_TOKEN_HEADER];
  if (checkBearer(typeof auth === 'string' ? auth : undefined, token) !== 'ok') return undefined;
  const ms = /^[0-9]+(?:\.[0-9]+)?$/.test(value) ? Number(value) : NaN;
  return ms <= 600_000 ? ms : undefined;
}
