// What an engine reports while it runs: plain data and one small interface, with no I/O,
// so the simulator's model and the live runner feed the same result writer.
import type { GatewayError } from '../core/router.ts';

/** ok: answered below 500 by a backend; error: a backend's 5xx; otherwise the proxy's own error. */
export type RequestOutcome = 'ok' | 'error' | GatewayError;

/** One client request, from the client's point of view. */
export interface RequestRecord {
  id: number;
  client: number;
  /** When the client sent it and when the response reached the client. */
  startMs: number;
  endMs: number;
  /** What the client got: the backend's status, or the proxy's 502/503/504. */
  status: number;
  outcome: RequestOutcome;
  /** Backends tried, in order (the `servers` column: s2|s1). */
  servers: readonly string[];
}

/** One backend at a timeline bucket boundary. */
export interface ServerSnapshot {
  id: string;
  /** Attempts outstanding on it, as the proxy counts them. */
  inFlight: number;
  /** Routable: healthy, not ejected, not draining, not removed. */
  healthy: boolean;
}

/**
 * The engine → results interface. Calls come in non-decreasing time order; `bucketEnd`
 * comes at every multiple of `bucketMs`, before anything else at that instant.
 */
export interface Recorder {
  readonly bucketMs: number;
  attemptStarted(serverId: string, atMs: number): void;
  /** `ok`: the backend answered below 500. Timeouts, resets, refusals and 5xx are errors. */
  attemptEnded(serverId: string, atMs: number, ok: boolean): void;
  requestDone(record: RequestRecord): void;
  bucketEnd(atMs: number, servers: readonly ServerSnapshot[]): void;
}
