// What every NGINX 1.22 balancing method shares: the round-robin peer list of
// src/http/ngx_http_upstream_round_robin.c (release-1.22.1). Each peer carries weight,
// effective_weight, current_weight, conns and the passive-health trio fails / accessed /
// checked; every method's get function skips a peer that is tried, down or failed
// (fails ≥ max_fails while now − checked ≤ fail_timeout), and every method frees through
// ngx_http_upstream_free_round_robin_peer. Times are whole seconds (ngx_time()).
//
// A reload (every membership or weight change goes through a new config and SIGHUP) starts
// new workers on fresh peers — even with `zone`, whose shared memory is not reused
// (ngx_http_upstream_zone_module.c sets `noreuse`). Attempts still running then belong to
// the old workers: their ends no longer touch the new state.
import { z } from 'zod';
import type { AttemptOutcome, Backend, Candidates, PickContext, Policy } from '../types.ts';

export interface NginxPeer {
  readonly backend: Backend;
  /** Position in the upstream block (the `tried` bit's index). */
  readonly index: number;
  /** `weight=` as configured. */
  readonly weight: number;
  effectiveWeight: number;
  currentWeight: number;
  conns: number;
  fails: number;
  /** Seconds of the last failure, and of the last check (a failure, or a pick after fail_timeout). */
  accessedSec: number;
  checkedSec: number;
  /** Attempts started before the last reload and still running (the old workers' conns). */
  oldConns: number;
}

/** The options every NGINX method takes: `max_fails` and `fail_timeout` of each server. */
export const nginxPeerOptions = {
  /** `max_fails` (NGINX's default 1); 0 turns passive health off. */
  maxFails: z.number().int().min(0).max(1_000).default(1),
  /** `fail_timeout` in ms (NGINX's default 10 s; NGINX keeps whole seconds). */
  failTimeoutMs: z.number().int().min(0).max(1e9).default(10_000),
};

export interface NginxPeerOptions { maxFails: number; failTimeoutMs: number }

/** The view one pick works on: the time in seconds, the request's tried servers, the usable set. */
export interface PickView {
  nowSec: number;
  tried: ReadonlySet<string> | undefined;
  candidates: Candidates;
}

const seconds = (ms: number): number => Math.floor(ms / 1000);

export abstract class NginxUpstream implements Policy {
  abstract readonly name: string;
  protected peers: NginxPeer[] = [];
  /** Sum of configured weights over all peers (peers->total_weight). */
  protected totalWeight = 0;
  private readonly byBackend = new Map<Backend, NginxPeer>();
  private readonly failTimeoutSec: number;

  constructor(protected readonly opts: NginxPeerOptions) {
    this.failTimeoutSec = seconds(opts.failTimeoutMs);
  }

  /** The method's own tables (hash points, random ranges), rebuilt with the peers. */
  protected configured(): void {}

  /** The method's get function for an upstream of several peers. */
  protected abstract get(view: PickView, ctx: PickContext): NginxPeer | undefined;

  /** A new configuration (start or reload): fresh peers when the servers or weights differ. */
  setMembers(members: readonly Backend[]): void {
    const same = members.length === this.peers.length
      && members.every((b, i) => this.peers[i].backend === b && this.peers[i].weight === Math.round(b.weight));
    if (same) return; // a drained server leaving: no new configuration
    this.byBackend.clear();
    this.peers = members.map((backend, index) => {
      const weight = Math.max(1, Math.round(backend.weight));
      const peer: NginxPeer = {
        backend, index, weight, effectiveWeight: weight, currentWeight: 0, conns: 0,
        fails: 0, accessedSec: 0, checkedSec: 0, oldConns: backend.inFlight,
      };
      this.byBackend.set(backend, peer);
      return peer;
    });
    this.totalWeight = this.peers.reduce((sum, p) => sum + p.weight, 0);
    this.configured();
  }

  pick(candidates: Candidates, ctx: PickContext): Backend | undefined {
    const view: PickView = { nowSec: seconds(ctx.nowMs), tried: ctx.exclude, candidates };
    // peers->single: one server is used whatever its fails (get_round_robin_peer).
    if (this.peers.length === 1) return candidates.has(this.peers[0].backend) ? this.peers[0].backend : undefined;
    return this.get(view, ctx)?.backend;
  }

  onAttemptStart(backend: Backend): void {
    const peer = this.byBackend.get(backend);
    if (peer) peer.conns++;
  }

  /** ngx_http_upstream_free_round_robin_peer. */
  onAttemptEnd(backend: Backend, nowMs: number, _latencyMs: number, outcome: AttemptOutcome, serverFailed?: boolean): void {
    const peer = this.byBackend.get(backend);
    if (!peer) return; // removed by a reload
    if (peer.oldConns > 0) { peer.oldConns--; return; } // an old worker's attempt
    peer.conns--;
    if (this.peers.length === 1) return; // single: fails are not counted
    const failed = serverFailed ?? (outcome.kind === 'connect-error' || outcome.kind === 'reset' || outcome.kind === 'timeout');
    const nowSec = seconds(nowMs);
    if (failed) {
      peer.fails++;
      peer.accessedSec = nowSec;
      peer.checkedSec = nowSec;
      if (this.opts.maxFails) peer.effectiveWeight -= Math.floor(peer.weight / this.opts.maxFails);
      if (peer.effectiveWeight < 0) peer.effectiveWeight = 0;
    } else if (peer.accessedSec < peer.checkedSec) {
      peer.fails = 0; // the check after fail_timeout passed
    }
  }

  /** May this try use `peer`: not tried, not down, not failed within fail_timeout. */
  protected usable(peer: NginxPeer, view: PickView): boolean {
    if (view.tried?.has(peer.backend.id) || !view.candidates.has(peer.backend)) return false;
    const max = this.opts.maxFails;
    return !(max && peer.fails >= max && view.nowSec - peer.checkedSec <= this.failTimeoutSec);
  }

  /** The chosen peer: a pick after fail_timeout is the check that may clear its fails. */
  protected chosen(peer: NginxPeer, view: PickView): NginxPeer {
    if (view.nowSec - peer.checkedSec > this.failTimeoutSec) peer.checkedSec = view.nowSec;
    return peer;
  }

  /**
   * One smooth weighted round-robin pass over the usable peers that `also` admits
   * (ngx_http_upstream_get_peer; least_conn's tie pass and the consistent hash's pass over
   * one server's peers are the same loop): each adds its effective weight to its current
   * weight, a lowered effective weight recovers by one, the highest current weight wins
   * (the first on ties) and gives back the pass's total.
   */
  protected smoothPass(view: PickView, from = 0, also?: (peer: NginxPeer) => boolean): NginxPeer | undefined {
    let best: NginxPeer | undefined;
    let total = 0;
    for (let i = from; i < this.peers.length; i++) {
      const peer = this.peers[i];
      if (!this.usable(peer, view) || (also && !also(peer))) continue;
      peer.currentWeight += peer.effectiveWeight;
      total += peer.effectiveWeight;
      if (peer.effectiveWeight < peer.weight) peer.effectiveWeight++;
      if (!best || peer.currentWeight > best.currentWeight) best = peer;
    }
    if (!best) return undefined;
    best.currentWeight -= total;
    return this.chosen(best, view);
  }

  /** The peer that `w` (0 ≤ w < total weight) falls on, walking the peers by configured weight. */
  protected peerAtWeight(w: number): NginxPeer {
    let i = 0;
    while (w >= this.peers[i].weight) w -= this.peers[i++].weight;
    return this.peers[i];
  }
}

/** The hash methods give up after 20 unusable draws and fall back to round robin. */
export const NGINX_HASH_TRIES = 20;
