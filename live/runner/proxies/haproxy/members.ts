// HAProxy's backends over a run, for the timeline's `healthy` column: who is a member
// (configured, added, removed through the runtime API) and whether HAProxy would route to
// it, from its own state notices on stdout (DOWN/UP from checks or observe). The notices
// carry no time, so each is stamped when it arrives (same clock as the access log's epoch ms).
import type { MembersRecord } from '../types.ts';

export class MembersTimeline {
  private readonly routable = new Map<string, boolean>();
  readonly records: MembersRecord[] = [];

  constructor(ids: string[], atMs: number) {
    for (const id of ids) this.routable.set(id, true); // servers start UP, checks or not (haproxy-facts.md 4)
    this.record(atMs);
  }

  /** A server became routable (UP, added) or not (DOWN, in maintenance). */
  set(id: string, routable: boolean, atMs: number): void {
    if (this.routable.get(id) === routable) return;
    this.routable.set(id, routable);
    this.record(atMs);
  }

  /** A server deleted from the backend. */
  delete(id: string, atMs: number): void {
    if (this.routable.delete(id)) this.record(atMs);
  }

  private record(atMs: number): void {
    this.records.push({ atMs, servers: [...this.routable].map(([id, routable]) => ({ id, routable })) });
  }
}
