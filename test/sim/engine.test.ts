// The event loop's ordering law: events run in (time, priority, scheduling order), with or
// without lanes; nothing else decides.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../sim/engine/heap.ts';
import { Simulator } from '../../sim/engine/loop.ts';
import { Fifo } from '../../sim/engine/fifo.ts';
import { rngStream } from '../../sim/engine/rng.ts';

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
