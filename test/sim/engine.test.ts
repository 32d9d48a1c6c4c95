// The event loop's ordering law: events run in (time, priority, scheduling order), with or
// without lanes; nothing else decides.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../sim/engine/heap.ts';
import { Simulator } from '../../sim/engine/loop.ts';
import { Fifo } from '../../sim/engine/fifo.ts';
import type { LaneTimer, TimerLane } from '../../sim/engine/timer-lane.ts';
import { rngStream } from '../../core/rng.ts';

describe('EventQueue', () => {
  it('pops by time, then priority, then insertion order', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.constantFrom(0 as const, 1 as const)), { maxLength: 300 }),
      (entries) => {
        const q = new EventQueue<number>();
        entries.forEach(([t, p], i) => q.push(t, i, p));
        const popped: number[] = [];
        while (q.size) popped.push(q.pop()!);
        const expected = entries.map(([t, p], i) => ({ t, p, i }))
          .sort((a, b) => a.t - b.t || a.p - b.p || a.i - b.i).map((e) => e.i);
        expect(popped).toEqual(expected);
      },
    ));
  });
});

type Timer = LaneTimer & { name: string };

/** A simulator that logs `time:name` of each event it handles, and one timer lane of `delayMs` that logs alike. */
function timerSim(delayMs: number) {
  const seen: string[] = [];
  const handle = (e: Timer) => { seen.push(`${sim.nowMs}:${e.name}`); };
  const sim: Simulator<Timer> = new Simulator(handle);
  return { seen, sim, lane: sim.timerLane<Timer>(delayMs, handle) };
}

/** As the proxy model schedules a timeout: in `lane` when that keeps time order, else a plain event; true if in the lane. */
function scheduleTimer<T extends LaneTimer>(sim: Simulator<T>, lane: TimerLane<T>, delayMs: number, t: T): boolean {
  if (sim.tryScheduleInLane(lane, delayMs, t)) return true;
  sim.schedule(delayMs, t);
  return false;
}
const timer = (name: string): Timer => ({ name, laneAtMs: 0, laneSeq: 0, lanePrev: undefined, laneNext: undefined, inLane: false });

describe('EventQueue, pushes and pops interleaved', () => {
  it('a push after a pop (which fills the root left open) keeps the order a sorted list gives', () => {
    fc.assert(fc.property(
      fc.array(fc.option(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.constantFrom(0 as const, 1 as const)), { nil: undefined }), { maxLength: 300 }),
      (ops) => {
        const q = new EventQueue<number>();
        const ref: Array<{ t: number; p: number; i: number }> = [];
        ops.forEach((op, i) => {
          if (op === undefined) {
            ref.sort((a, b) => a.t - b.t || a.p - b.p || a.i - b.i);
            expect(q.pop()).toBe(ref.shift()?.i);
          } else {
            q.push(op[0], i, op[1]);
            ref.push({ t: op[0], p: op[1], i });
          }
          expect(q.size).toBe(ref.length);
        });
      },
    ));
  });
});

describe('Simulator', () => {
  it('handles events in time order; lanes keep FIFO order; equal inputs replay equally', () => {
    const run = () => {
      const log: string[] = [];
      const rng = rngStream(1, 'engine-test');
      const sim: Simulator<{ id: number; via: string }> = new Simulator((e) => {
        log.push(`${sim.nowMs.toFixed(6)}:${e.via}${e.id}`);
        if (e.id < 2000) {
          if (rng() < 0.5) sim.scheduleInLane(lane, { id: e.id * 2 + 1, via: 'L' });
          else sim.schedule(rng() * 5, { id: e.id * 2 + 2, via: 'H' });
        }
      });
      const lane = sim.lane(2.5);
      for (let i = 0; i < 20; i++) sim.schedule(rng(), { id: i, via: 'H' });
      sim.run();
      return log;
    };
    const log = run();
    const times = log.map((l) => Number(l.split(':')[0]));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1])).toBe(true);
    expect(run()).toEqual(log);
  });

  it('a lane entry ties by when it was scheduled, not by when it reached the head of its lane', () => {
    // L2 is scheduled before P, both due at 15; L2 only reaches the heap when L1 leaves at 10.
    const seen: string[] = [];
    const sim: Simulator<string> = new Simulator((e) => {
      seen.push(`${sim.nowMs}:${e}`);
      if (e === 'tick') { sim.scheduleInLane(lane, 'L2'); sim.schedule(10, 'P'); }
    });
    const lane = sim.lane(10);
    sim.scheduleInLane(lane, 'L1');
    sim.schedule(5, 'tick');
    sim.run();
    expect(seen).toEqual(['5:tick', '10:L1', '15:L2', '15:P']);
  });

  it('with lanes, events run exactly as a plain sorted list of (time, priority, scheduling order) runs them', () => {
    // Each handled event schedules the next `fanout` entries of one shared script, plain, in
    // a lane or as a timer, and may cancel an earlier timer, so lane heads are replaced and
    // cancelled mid-run and ties between lanes, plain events and priorities arise at every
    // step. The reference is the naive definition of the order.
    const op = fc.record({
      lane: fc.integer({ min: -1, max: 3 }), // -1: plain event; 3: a timer (the timer lane, or the heap: scheduleTimer)
      delayMs: fc.integer({ min: 0, max: 4 }),
      priority: fc.constantFrom(0 as const, 1 as const),
      fanout: fc.integer({ min: 0, max: 2 }),
      cancels: fc.integer({ min: -1, max: 2 }), // on being handled: cancel the pending timer scheduled this many before the newest
    });
    const laneDelaysMs = [1, 2, 2];
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 200 }), (script) => {
      type Op = typeof script[number];
      const drive = (schedule: (op: Op, id: number) => void) => {
        let cursor = 0;
        return (id: number) => {
          for (let k = 0; k < script[id].fanout && cursor < script.length; k++, cursor++) schedule(script[cursor], cursor);
        };
      };
      // Pending timers in scheduling order; each side keeps its own and picks the same victim.
      const victimOf = (timers: number[], handled: number) => {
        const k = script[handled].cancels;
        return k >= 0 && k < timers.length ? timers.splice(timers.length - 1 - k, 1)[0] : undefined;
      };
      // The engine under test. A cancelled timer that went to the heap is dropped by the
      // handler, as the model drops a settled attempt's timer.
      type Ev = LaneTimer & { id: number; cancelled: boolean };
      const real: string[] = [];
      const made = new Map<number, Ev>();
      const realTimers: number[] = [];
      const handle = (e: Ev) => {
        if (e.cancelled) return;
        real.push(`${sim.nowMs}:${e.id}`);
        if (realTimers.includes(e.id)) realTimers.splice(realTimers.indexOf(e.id), 1);
        const victim = victimOf(realTimers, e.id);
        if (victim !== undefined) { made.get(victim)!.cancelled = true; timers.cancel(made.get(victim)!); }
        next(e.id);
      };
      const sim: Simulator<Ev> = new Simulator(handle);
      const lanes = laneDelaysMs.map((d) => sim.lane(d));
      const timers = sim.timerLane<Ev>(laneDelaysMs[0], handle);
      const make = (id: number): Ev => {
        const e: Ev = { id, cancelled: false, laneAtMs: 0, laneSeq: 0, lanePrev: undefined, laneNext: undefined, inLane: false };
        made.set(id, e);
        return e;
      };
      const next = drive((o, id) => {
        if (o.lane === 3) { scheduleTimer(sim, timers, o.delayMs, make(id)); realTimers.push(id); }
        else if (o.lane >= 0) sim.scheduleInLane(lanes[o.lane], make(id));
        else sim.schedule(o.delayMs, make(id), o.priority);
      });
      sim.schedule(0, make(0));
      sim.run();
      // The reference: a list scanned for its minimum; a lane event is a plain event of
      // priority 1; a cancelled timer leaves the list.
      const ref: string[] = [];
      const pending: Array<{ atMs: number; priority: number; seq: number; id: number }> = [];
      let nowMs = 0;
      let seq = 0;
      const refTimers: number[] = [];
      const nextRef = drive((o, id) => {
        const delayMs = o.lane >= 0 && o.lane < 3 ? laneDelaysMs[o.lane] : o.delayMs;
        pending.push({ atMs: nowMs + delayMs, priority: o.lane >= 0 ? 1 : o.priority, seq: seq++, id });
        if (o.lane === 3) refTimers.push(id);
      });
      pending.push({ atMs: 0, priority: 1, seq: seq++, id: 0 });
      while (pending.length > 0) {
        let best = 0;
        pending.forEach((e, i) => {
          const b = pending[best];
          if ((e.atMs - b.atMs || e.priority - b.priority || e.seq - b.seq) < 0) best = i;
        });
        const [e] = pending.splice(best, 1);
        nowMs = e.atMs;
        ref.push(`${nowMs}:${e.id}`);
        if (refTimers.includes(e.id)) refTimers.splice(refTimers.indexOf(e.id), 1);
        const victim = victimOf(refTimers, e.id);
        if (victim !== undefined) pending.splice(pending.findIndex((p) => p.id === victim), 1);
        nextRef(e.id);
      }
      expect(real).toEqual(ref);
    }), { numRuns: 300 });
  });

  it('a cancelled timer is skipped: not handled, not counted, the clock not moved to it', () => {
    const { seen, sim, lane } = timerSim(10);
    const first = timer('T1');
    scheduleTimer(sim, lane, 10, first);
    sim.schedule(20, timer('P'));
    lane.cancel(first);
    sim.run();
    expect(seen).toEqual(['20:P']);
    expect(sim.eventsHandled).toBe(1);
  });

  it('a timer lane holds only live timers; a cancelled head re-keys the lane; a fired timer cancels nothing', () => {
    const seen: string[] = [];
    const handle = (e: Timer) => {
      seen.push(`${sim.nowMs}:${e.name}`);
      if (e.name === 'P') { lane.cancel(b); lane.cancel(a); expect(lane.length).toBe(1); }
    };
    const sim: Simulator<Timer> = new Simulator(handle);
    const lane = sim.timerLane<Timer>(10, handle);
    const [a, b, c] = ['A', 'B', 'C'].map(timer);
    [a, b, c].forEach((t, i) => scheduleTimer(sim, lane, 10 + i, t));
    sim.schedule(5, timer('P'));
    expect(lane.length).toBe(3);
    sim.run();
    expect(seen).toEqual(['5:P', '12:C']);
    expect(sim.eventsHandled).toBe(2);
    lane.cancel(c);
    expect(lane.length).toBe(0);
  });

  it('tryScheduleInLane: in the lane while that keeps its time order, else in the heap; runs as schedule() would', () => {
    const { seen, sim, lane } = timerSim(10);
    expect(scheduleTimer(sim, lane, 10, timer('A'))).toBe(true);
    expect(scheduleTimer(sim, lane, 10.5, timer('B'))).toBe(true); // later than the lane's newest: in the lane
    expect(scheduleTimer(sim, lane, 10.25, timer('C'))).toBe(false); // earlier: in the heap
    sim.schedule(10.5, timer('D')); // ties with B, scheduled after it
    sim.run();
    expect(seen).toEqual(['10:A', '10.25:C', '10.5:B', '10.5:D']);
  });

  it('a timer earlier than a cancelled one still waits in the heap while the lane holds its stale key', () => {
    const { seen, sim, lane } = timerSim(10);
    const a = timer('A');
    scheduleTimer(sim, lane, 10, a);
    lane.cancel(a); // the lane is empty, its heap entry still keyed at 10
    expect(scheduleTimer(sim, lane, 5, timer('B'))).toBe(false);
    sim.run();
    expect(seen).toEqual(['5:B']);
  });

  it('an event beside the heap (scheduleStreamAt) runs exactly where scheduleAt would put it', () => {
    // A stream whose handler schedules its next event, plain events with ties in time and
    // priority around it; the same script run with scheduleAt is the reference.
    fc.assert(fc.property(
      fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 3 }), delayMs: fc.integer({ min: 0, max: 3 }), priority: fc.constantFrom(0 as const, 1 as const) }), { minLength: 1, maxLength: 100 }),
      (script) => {
        const run = (beside: boolean) => {
          const log: string[] = [];
          let next = 0;
          const sim: Simulator<string> = new Simulator((e) => {
            log.push(`${sim.nowMs}:${e}`);
            if (e[0] !== 's' || next >= script.length) return;
            const o = script[next++];
            sim.schedule(o.delayMs, `p${next}`, o.priority);
            if (beside) sim.scheduleStreamAt(sim.nowMs + o.gapMs, `s${next}`);
            else sim.scheduleAt(sim.nowMs + o.gapMs, `s${next}`);
          });
          sim.schedule(0, 'p0', 0);
          if (beside) sim.scheduleStreamAt(0, 's0'); else sim.scheduleAt(0, 's0');
          sim.run();
          expect(sim.done).toBe(true);
          return log;
        };
        expect(run(true)).toEqual(run(false));
      },
    ));
  });

  it('run(maxEvents) stops after that many and resumes where it left off', () => {
    const seen: number[] = [];
    const sim = new Simulator<number>((n) => seen.push(n));
    for (let i = 0; i < 10; i++) sim.schedule(i, i);
    expect(sim.run(4)).toBe(4);
    expect(sim.done).toBe(false);
    sim.run();
    expect(seen).toEqual([...Array(10).keys()]);
    expect(sim.eventsHandled).toBe(10);
  });
});

describe('rngStream', () => {
  it('one stream per (seed, name): adding a stream does not shift another', () => {
    const a = rngStream(42, 'server/s1');
    const first = [a(), a(), a()];
    rngStream(42, 'server/s4')();
    const again = rngStream(42, 'server/s1');
    expect([again(), again(), again()]).toEqual(first);
    expect(rngStream(43, 'server/s1')()).not.toBe(first[0]);
  });
});

describe('Fifo', () => {
  it('is first in, first out across compactions', () => {
    const f = new Fifo<number>();
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) { f.push(i); if (i % 3 === 0) out.push(f.shift()!); }
    while (f.length) out.push(f.shift()!);
    expect(out).toEqual([...Array(5000).keys()]);
  });
});
