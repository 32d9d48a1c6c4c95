// The routing core's public surface. No I/O, no timers, no wall clock, no Math.random:
// the simulator and the live proxy pass time and randomness in.
export * from './types.ts';
export * from './config.ts';
export * from './retry.ts';
export * from './balancer.ts';
export * from './hash.ts';
export { slowStartFactor } from './slow-start.ts';
export { isBackendFailure, maxEjected } from './health/outlier.ts';
export { nextProbeDelayMs, type HealthStatus } from './health/active.ts';
export { POLICIES, createPolicy, policyDefinition } from './policies/index.ts';
export { definePolicy, type PolicyDefinition, type PolicyTraits } from './policies/define.ts';
export * from './router.ts';
export * from './request-rules.ts';
export * from './distributions.ts';
export { STREAM, rngStream } from './rng.ts';
