// Plain round robin over the current candidates; weights are ignored (see
// weighted-round-robin). Over any run of picks from one candidate set the counts differ by
// at most one.
import type { Backend, Candidates, Policy } from '../types.ts';
import { definePolicy } from './define.ts';

export class RoundRobin implements Policy {
  readonly name = 'round-robin';
  private next = 0;

  setMembers(): void {}

  pick(c: Candidates): Backend {
    const list = c.list;
    if (this.next >= list.length) this.next = 0;
    return list[this.next++];
  }
}

export const roundRobin = definePolicy({
  name: 'round-robin',
  options: {},
  traits: { hashKey: false, liveWeights: false },
  create: () => new RoundRobin(),
});
