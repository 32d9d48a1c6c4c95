// TEMPORARY placeholder, replaced by the real implementation.
import type { Backend, Candidates, Policy } from '../index.ts';
export class IpHash implements Policy {
  readonly name = 'ip-hash';
  constructor(..._args: unknown[]) {}
  setMembers(): void {}
  pick(c: Candidates): Backend { return c.list[0]; }
}
