// The balancer's recent events (ejections, health changes, drains, panic) and DNS
// discovery's, for the admin API: a bounded ring, newest last, times as ISO strings for people.
import type { BalancerEvent } from '../../core/index.ts';
import type { DiscoveryEvent } from './discovery.ts';

export type ProxyEvent = BalancerEvent | DiscoveryEvent;
export type LoggedEvent = ProxyEvent & { at: string; seq: number };

export class EventLog {
  private readonly ring: LoggedEvent[] = [];
  private seq = 0;

  constructor(private readonly capacity = 1_000) {}

  push(e: ProxyEvent): void {
    this.ring.push({ ...e, at: new Date(e.atMs).toISOString(), seq: this.seq++ });
    if (this.ring.length > this.capacity) this.ring.shift();
  }

  /** Events after `sinceSeq`, optionally for one backend. */
  list(opts: { sinceSeq?: number; backend?: string } = {}): LoggedEvent[] {
    return this.ring.filter((e) => (opts.sinceSeq === undefined || e.seq > opts.sinceSeq)
      && (opts.backend === undefined || ('id' in e && e.id === opts.backend)));
  }
}
