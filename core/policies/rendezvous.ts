// TEMPORARY placeholder, replaced by the real implementation.
import type { Backend, Candidates, Policy } from '../index.ts';
export class Rendezvous implements Policy {
  readonly name = 'rendezvous';
  constructor(..._args: unknown[]) {}
  setMembers(): void {}
  pick(c: Candidates): Backend { return c.list[0]; }
}
