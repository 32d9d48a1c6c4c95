// The Router's side of the request-rules seam, with rules written here: whatever the rules
// decide, the Router carries it out the same way — an assigned backend skips the pick, the
// rules' exclusions reach the pick, their per-request state comes back on every call, a
// verdict is recorded once and the request ends exactly once.
import { describe, expect, it } from 'vitest';
import seedrandom from 'seedrandom';
import {
  type AttemptOutcome, Balancer, BalancerSchema, type Flow, type RequestRules, Router, TimeoutsSchema, type Verdict,
} from '../../core/index.ts';

interface Counts { started: number; ended: number; attemptsOver: number }

/** Rules that keep every retry on the server that failed and leave out `s1` on every pick. */
class StickyRules implements RequestRules<Counts> {
  readonly all: Counts[] = [];
  constructor(private readonly balancer: Balancer) {}

  requestStarted(): Counts {
    const state = { started: 1, ended: 0, attemptsOver: 0 };
    this.all.push(state);
    return state;
  }
  requestEnded(state: Counts): void { state.ended++; }
  exclude(): ReadonlySet<string> { return new Set(['s1']); }
  noBackend(): Verdict { return { kind: 'queue', timeoutMs: 50 }; }
  afterAttempt(flow: Flow, _state: Counts, _nowMs: number, outcome: AttemptOutcome): Verdict {
    if (outcome.kind !== 'connect-error') return { kind: 'respond', status: 200 };
    flow.assigned = this.balancer.backend(flow.path.at(-1)!);
    return { kind: 'retry', delayMs: 7 };
  }
  attemptOver(state: Counts): void { state.attemptsOver++; }
}

function setup(n = 3) {
  const balancer = new Balancer({ balancer: BalancerSchema.parse({ policy: 'round-robin' }), rng: seedrandom.alea('b') });
  for (let i = 1; i <= n; i++) balancer.add(`s${i}`, { nowMs: 0, initial: true });
  const rules = new StickyRules(balancer);
  const router = new Router({ balancer, timeouts: TimeoutsSchema.parse({ requestMs: 1_000 }), rules, trace: true });
  return { router, rules, balancer };
}

const get = { method: 'GET', nowMs: 0, bodyReplayable: true };

describe('Router × any RequestRules', () => {
  it('the rules\' exclusions reach the pick, and a same-server retry skips it', () => {
    const { router, rules } = setup();
    const flow = router.start(get);
    expect(router.next(flow, 0)).toMatchObject({ kind: 'attempt', backend: { id: 's2' } }); // s1 left out
    expect(router.attemptEnded(flow, 1, { kind: 'connect-error' })).toEqual({ kind: 'retry', delayMs: 7 });
    expect(router.next(flow, 8)).toMatchObject({ kind: 'attempt', backend: { id: 's2' }, attempt: 1 });
    expect(flow.decisions!.map((d) => d.kind)).toEqual(['pick', 'outcome', 'retry']); // no second pick
    expect(router.attemptEnded(flow, 9, { kind: 'response', status: 200 })).toEqual({ kind: 'respond', status: 200 });
    expect(flow.path).toEqual(['s2', 's2']);
    expect(rules.all).toEqual([{ started: 1, ended: 1, attemptsOver: 2 }]);
    expect(router.counts).toEqual({ requests: 1, attempts: 2, retries: 1 });
  });

  it('an assigned backend that left meanwhile is picked around, with the rules\' exclusions', () => {
    const { router, balancer } = setup();
    const flow = router.start(get);
    router.next(flow, 0);
    router.attemptEnded(flow, 1, { kind: 'connect-error' }); // assigned: s2
    balancer.remove('s2', 2);
    expect(router.next(flow, 8)).toMatchObject({ kind: 'attempt', backend: { id: 's3' } });
  });

  it('no backend: the rules\' verdict (here: queue), then dequeue hands over a slot and a queue timeout ends the request once', () => {
    const { router, rules, balancer } = setup(1); // only s1, which the rules leave out
    const a = router.start(get);
    expect(router.next(a, 0)).toEqual({ kind: 'queue', timeoutMs: 50 });
    expect(router.dequeue(a, balancer.backend('s1')!, 10)).toMatchObject({ kind: 'attempt', backend: { id: 's1' } });
    const b = router.start(get);
    router.next(b, 0);
    expect(router.queueTimedOut(b, 50)).toEqual({ kind: 'fail', status: 503, error: 'no_backend' });
    router.clientAborted(b, 60); // after the answer: nothing ends twice
    expect(rules.all[1]).toEqual({ started: 1, ended: 1, attemptsOver: 2 });
  });
});
