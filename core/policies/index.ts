// The one list of policies. Each file defines its name, options, factory and traits
// (define.ts); the config schema, the engines and the tests all read this list.
import type { Policy, Rng } from '../types.ts';
import type { PolicyDefinition } from './define.ts';
import { roundRobin } from './round-robin.ts';
import { weightedRoundRobin } from './weighted-round-robin.ts';
import { random } from './random.ts';
import { leastConnections } from './least-connections.ts';
import { p2c } from './p2c.ts';
import { peakEwma } from './peak-ewma.ts';
import { ipHash } from './ip-hash.ts';
import { ringHash } from './ring-hash.ts';
import { maglev } from './maglev.ts';
import { rendezvous } from './rendezvous.ts';
import { boundedLoad } from './bounded-load.ts';
import { haproxyRoundRobin } from './haproxy-roundrobin.ts';
import { haproxyStaticRr } from './haproxy-static-rr.ts';
import { haproxyLeastconn } from './haproxy-leastconn.ts';
import { haproxyFirst } from './haproxy-first.ts';
import { haproxyRandom } from './haproxy-random.ts';
import { haproxySource } from './haproxy-source.ts';
import { caddyRoundRobin } from './caddy-round-robin.ts';
import { caddyLeastConn } from './caddy-least-conn.ts';
import { caddyRandom } from './caddy-random.ts';
import { caddyRandomChoose } from './caddy-random-choose.ts';
import { caddyFirst } from './caddy-first.ts';
import { caddyIpHash } from './caddy-ip-hash.ts';
import { nginxRoundRobin } from './nginx-round-robin.ts';
import { nginxLeastConn } from './nginx-least-conn.ts';
import { nginxIpHash } from './nginx-ip-hash.ts';
import { nginxHash } from './nginx-hash.ts';
import { nginxRandom } from './nginx-random.ts';

export const POLICIES = [
  roundRobin, weightedRoundRobin, random, leastConnections, p2c, peakEwma,
  ipHash, ringHash, maglev, rendezvous, boundedLoad,
  // HAProxy 2.6's own algorithms, modelled from its sources (npm run sim -- --proxy haproxy).
  haproxyRoundRobin, haproxyStaticRr, haproxyLeastconn, haproxyFirst, haproxyRandom, haproxySource,
  // Caddy 2.6's selection policies, modelled from its sources (npm run sim -- --proxy caddy).
  caddyRoundRobin, caddyLeastConn, caddyRandom, caddyRandomChoose, caddyFirst, caddyIpHash,
  // NGINX 1.22's methods, modelled from its sources (npm run sim -- --proxy nginx).
  nginxRoundRobin, nginxLeastConn, nginxIpHash, nginxHash, nginxRandom,
] as const;

export type PolicyName = (typeof POLICIES)[number]['name'];
export const POLICY_NAMES: readonly PolicyName[] = POLICIES.map((p) => p.name);

const BY_NAME = new Map<string, PolicyDefinition>(POLICIES.map((p) => [p.name, p as unknown as PolicyDefinition]));

/** The definition of `name` (a validated config's policy always has one). */
export function policyDefinition(name: PolicyName): PolicyDefinition {
  return BY_NAME.get(name)!;
}

/** Builds the policy a validated `balancer` section names, from its own options. */
export function createPolicy(cfg: { policy: PolicyName }, rng: Rng): Policy {
  return policyDefinition(cfg.policy).create(cfg, rng);
}
