// What a policy file exports besides its class: its name, the options it owns (a zod
// shape, validated at the edge), a factory, and the traits engines and config rules ask
// about. core/policies/index.ts lists the definitions; nothing else names a policy.
import type { z } from 'zod';
import type { Policy, Rng } from '../types.ts';

export interface PolicyTraits {
  /** Picks by the request's hash key (the client address): engines must pass one. */
  readonly hashKey: boolean;
  /** Reads effective weights on every pick, so slow start can steer it (hash tables use configured weights). */
  readonly liveWeights: boolean;
  /**
   * Gets every routable backend and treats `exclude` as servers to avoid when another will
   * do (HAProxy's `srvtoavoid`), instead of the balancer filtering them out first.
   */
  readonly avoidsExcluded?: boolean;
}

export interface PolicyDefinition<Name extends string = string, Shape extends z.ZodRawShape = z.ZodRawShape> {
  readonly name: Name;
  /** The `balancer` fields this policy owns; any other policy-specific field is an error. */
  readonly options: Shape;
  readonly traits: PolicyTraits;
  /** Builds the policy from its validated options and the balancer's random stream. */
  create(options: z.output<z.ZodObject<Shape>>, rng: Rng): Policy;
}

/** Identity, for inference: the name stays a literal type and `create` sees typed options. */
export function definePolicy<const Name extends string, Shape extends z.ZodRawShape>(
  definition: PolicyDefinition<Name, Shape>,
): PolicyDefinition<Name, Shape> {
  return definition;
}
