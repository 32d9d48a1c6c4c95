// A record of every input the proxy gave the routing core, in order, with the times it
// used. Replaying it through a fresh Balancer + Router built from the same config and seed
// must reproduce every decision: the proof that the proxy decides nothing on its own.
import type { AttemptOutcome, Balancer, BalancerEvent, Decision, Flow, Router } from '../../core/index.ts';

export type JournalEntry =
  | { op: 'add'; id: string; weight: number; initial: boolean; nowMs: number }
  | { op: 'remove'; id: string; nowMs: number }
  | { op: 'weight'; id: string; weight: number }
  | { op: 'admin-down'; id: string; down: boolean; nowMs: number }
  | { op: 'probe'; id: string; ok: boolean; nowMs: number }
  | { op: 'start'; flow: number; method: string; hashKey?: string; bodyReplayable: boolean; nowMs: number }
  | { op: 'next'; flow: number; nowMs: number }
  | { op: 'ended'; flow: number; nowMs: number; outcome: AttemptOutcome; retryAfter?: string; responseStarted?: boolean }
  | { op: 'timed-out'; flow: number; nowMs: number }
  | { op: 'abort'; flow: number; nowMs: number }
  /** The balancer's deadline timer fired: time alone (an ejection running out) changed routing. */
  | { op: 'advance'; nowMs: number };

export class Journal {
  readonly entries: JournalEntry[] = [];
  /** Live flows by journal id, to compare their decision traces with a replay. */
  readonly flows = new Map<number, Flow>();
  readonly events: BalancerEvent[] = [];
  private readonly ids = new WeakMap<Flow, number>();

  constructor(private readonly maxEntries = 1_000_000) {}

  record(entry: JournalEntry): void {
    if (this.entries.length < this.maxEntries) this.entries.push(entry);
  }

  register(flow: Flow): number {
    const id = this.flows.size;
    this.flows.set(id, flow);
    this.ids.set(flow, id);
    return id;
  }

  idOf(flow: Flow): number { return this.ids.get(flow)!; }

  /** Every flow's decisions, by journal id. */
  decisions(): Map<number, Decision[]> {
    return new Map([...this.flows].map(([id, flow]) => [id, flow.decisions ?? []]));
  }
}

/**
 * Feeds a journal to a core built by the caller (same config, same seeds, `trace: true`)
 * and returns every flow's decisions, as the live proxy's Router recorded them.
 */
export function replayJournal(entries: readonly JournalEntry[], balancer: Balancer, router: Router): Map<number, Decision[]> {
  const flows = new Map<number, Flow>();
  for (const e of entries) {
    switch (e.op) {
      case 'add': balancer.add(e.id, { weight: e.weight, nowMs: e.nowMs, initial: e.initial }); break;
      case 'remove': balancer.remove(e.id, e.nowMs); break;
      case 'weight': balancer.setWeight(e.id, e.weight); break;
      case 'admin-down': balancer.setAdminDown(e.id, e.down, e.nowMs); break;
      case 'probe': balancer.probeResult(e.id, e.ok, e.nowMs); break;
      case 'start':
        flows.set(e.flow, router.start({ method: e.method, hashKey: e.hashKey, bodyReplayable: e.bodyReplayable, nowMs: e.nowMs }));
        break;
      case 'next': router.next(flows.get(e.flow)!, e.nowMs); break;
      case 'ended': router.attemptEnded(flows.get(e.flow)!, e.nowMs, e.outcome, { retryAfter: e.retryAfter, responseStarted: e.responseStarted }); break;
      case 'timed-out': router.attemptTimedOut(flows.get(e.flow)!, e.nowMs); break;
      case 'abort': router.clientAborted(flows.get(e.flow)!, e.nowMs); break;
      case 'advance': balancer.advance(e.nowMs); break;
    }
  }
  return new Map([...flows].map(([id, flow]) => [id, flow.decisions ?? []]));
}
