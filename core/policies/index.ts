// One factory for every policy name the config accepts.
import type { BalancerConfig, Policy, Rng } from '../index.ts';
import { RoundRobin } from './round-robin.ts';
import { WeightedRoundRobin } from './weighted-round-robin.ts';
import { RandomPolicy } from './random.ts';
import { LeastConnections } from './least-connections.ts';
import { PowerOfTwoChoices } from './p2c.ts';
import { PeakEwma } from './peak-ewma.ts';
import { IpHash } from './ip-hash.ts';
import { RingHash } from './ring-hash.ts';
import { Maglev } from './maglev.ts';
import { Rendezvous } from './rendezvous.ts';
import { BoundedLoad } from './bounded-load.ts';

export function createPolicy(cfg: BalancerConfig, rng: Rng): Policy {
  switch (cfg.policy) {
    case 'round-robin': return new RoundRobin();
    case 'weighted-round-robin': return new WeightedRoundRobin();
    case 'random': return new RandomPolicy(rng);
    case 'least-connections': return new LeastConnections();
    case 'p2c': return new PowerOfTwoChoices(rng, cfg.choices);
    case 'peak-ewma': return new PeakEwma(rng, {
      choices: cfg.choices, decayMs: cfg.ewmaDecayMs, defaultRttMs: cfg.ewmaDefaultRttMs, penaltyMs: cfg.ewmaPenaltyMs,
    });
    case 'ip-hash': return new IpHash();
    case 'ring-hash': return new RingHash(cfg.ringPreset === 'clb-512x9' ? { slots: 512, vnodes: 9 } : { vnodes: cfg.vnodes });
    case 'maglev': return new Maglev(cfg.maglevTableSize);
    case 'rendezvous': return new Rendezvous();
    case 'bounded-load': return new BoundedLoad({ vnodes: cfg.vnodes, balanceFactor: cfg.balanceFactor });
  }
}
