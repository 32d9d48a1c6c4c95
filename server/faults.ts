// Fault modes a replica can be switched into at run time, the backend-side analogue of
// Envoy's fault filter and Toxiproxy's toxics. One mode at a time keeps experiments legible.
import { z } from 'zod';
import type { Rng } from '../core/types.ts';

const probability = z.number().min(0).max(1);

export const FaultSchema = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('normal') }),
  /** Service time × factor (a brown-out, not an outage). */
  z.strictObject({ mode: z.literal('slow'), factor: z.number().min(1).max(10_000) }),
  /** Answer `status` instead of serving, with this probability. */
  z.strictObject({
    mode: z.literal('error'),
    probability: probability.default(1),
    status: z.number().int().min(400).max(599).default(500),
  }),
  /** Accept the request and never answer (a wedged process; SIGSTOP is the other way). */
  z.strictObject({ mode: z.literal('hang') }),
  /**
   * Reset the connection (TCP RST) with this probability: before answering, or `mid-body`
   * after sending the headers and part of the body (a crash while streaming).
   */
  z.strictObject({
    mode: z.literal('reset'),
    probability: probability.default(1),
    when: z.enum(['before-response', 'mid-body']).default('before-response'),
  }),
]);
export type Fault = z.infer<typeof FaultSchema>;

/** What to do with one request under the current fault. */
export type FaultAction =
  | { kind: 'serve' }
  | { kind: 'error'; status: number }
  | { kind: 'hang' }
  | { kind: 'reset'; midBody: boolean };

const SERVE: FaultAction = { kind: 'serve' };

/** Decides one request's fate. Draws from `rng` only for probabilistic modes. */
export function faultAction(fault: Fault, rng: Rng): FaultAction {
  switch (fault.mode) {
    case 'normal': return SERVE;
    case 'slow': return SERVE; // the factor applies when service starts (replica.ts)
    case 'error': return rng() < fault.probability ? { kind: 'error', status: fault.status } : SERVE;
    case 'hang': return { kind: 'hang' };
    case 'reset': return rng() < fault.probability ? { kind: 'reset', midBody: fault.when === 'mid-body' } : SERVE;
  }
}
