// TEMPORARY placeholder, replaced by the real implementation.
import type { Backend, Candidates, Policy } from '../index.ts';
export class Maglev implements Policy {
  readonly name = 'maglev';
  constructor(..._args: unknown[]) {}
  setMembers(): void {}
  pick(c: Candidates): Backend { return c.list[0]; }
}
