// Random durations (service times, network latencies) in milliseconds: one schema and one
// sampler, shared by the simulator's servers and the live replicas so a replica behaves
// like its simulated twin. Sampling takes the Rng; the stream is the engine's choice.
import { z } from 'zod';
import type { Rng } from './types.ts';

const ms = z.number().nonnegative();

export const DistributionSchema = z.discriminatedUnion('dist', [
  z.strictObject({ dist: z.literal('constant'), value: ms }),
  z.strictObject({ dist: z.literal('exponential'), mean: ms }),
  z.strictObject({ dist: z.literal('uniform'), min: ms, max: ms })
    .refine((d) => d.max >= d.min, { message: 'max must be >= min', path: ['max'] }),
  /** ln(X) ~ Normal(ln(median), sigma): a long right tail, like real service times. */
  z.strictObject({ dist: z.literal('lognormal'), median: z.number().positive(), sigma: z.number().nonnegative() }),
]);
export type Distribution = z.infer<typeof DistributionSchema>;

/** The mean of a distribution, for reports and queueing-theory checks. */
export function meanOf(d: Distribution): number {
  switch (d.dist) {
    case 'constant': return d.value;
    case 'exponential': return d.mean;
    case 'uniform': return (d.min + d.max) / 2;
    case 'lognormal': return d.median * Math.exp((d.sigma * d.sigma) / 2);
  }
}

/** Draws one value. Exponential and lognormal use inversion / Box–Muller on `rng`. */
export function sample(d: Distribution, rng: Rng): number {
  switch (d.dist) {
    case 'constant': return d.value;
    case 'exponential': return -d.mean * Math.log(1 - rng());
    case 'uniform': return d.min + (d.max - d.min) * rng();
    case 'lognormal': {
      // Box–Muller with one normal per draw: two uniforms, so the stream stays aligned.
      const u1 = 1 - rng();
      const u2 = rng();
      const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      return d.median * Math.exp(d.sigma * z);
    }
  }
}

/**
 * Parses the command-line shorthand: `constant:5`, `exponential:5`, `uniform:2:8`,
 * `lognormal:5:0.5` (median, sigma). Throws with the accepted forms on anything else.
 */
export function parseDistribution(text: string): Distribution {
  const [kind, ...rest] = text.split(':');
  const nums = rest.map(Number);
  const forms = 'constant:MS, exponential:MEAN_MS, uniform:MIN_MS:MAX_MS, lognormal:MEDIAN_MS:SIGMA';
  if (nums.some((n) => !Number.isFinite(n))) throw new Error(`bad distribution "${text}": numbers expected; use ${forms}`);
  let candidate: unknown;
  if (kind === 'constant' && nums.length === 1) candidate = { dist: 'constant', value: nums[0] };
  else if (kind === 'exponential' && nums.length === 1) candidate = { dist: 'exponential', mean: nums[0] };
  else if (kind === 'uniform' && nums.length === 2) candidate = { dist: 'uniform', min: nums[0], max: nums[1] };
  else if (kind === 'lognormal' && nums.length === 2) candidate = { dist: 'lognormal', median: nums[0], sigma: nums[1] };
  else throw new Error(`bad distribution "${text}"; use ${forms}`);
  const parsed = DistributionSchema.safeParse(candidate);
  if (!parsed.success) throw new Error(`bad distribution "${text}": ${parsed.error.issues[0].message}`);
  return parsed.data;
}

/** The inverse of parseDistribution, for command lines built from experiment files. */
export function formatDistribution(d: Distribution): string {
  switch (d.dist) {
    case 'constant': return `constant:${d.value}`;
    case 'exponential': return `exponential:${d.mean}`;
    case 'uniform': return `uniform:${d.min}:${d.max}`;
    case 'lognormal': return `lognormal:${d.median}:${d.sigma}`;
  }
}
