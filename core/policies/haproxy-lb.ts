// What every HAProxy model shares: HAProxy's lb modules are told of each server going up,
// going down or changing weight (lbprm.set_server_status_up/down, update_server_eweight),
// and they build their trees once at start (the *_init_server_* functions). The balancer
// gives policies the routable set on each pick, so this base turns the difference from the
// previous pick into those calls, in server order. The first pick builds the trees from the
// servers routable then, as HAProxy does at start-up, so servers present at start do not
// count as "coming up" one by one.
import type { Backend, Candidates, PickContext, PickTrace, Policy } from '../types.ts';

/** HAProxy's scale from user weight (1-256) to effective weight (backend-t.h BE_WEIGHT_SCALE). */
export const BE_WEIGHT_SCALE = 16;
/** server-t.h: SRV_UWGHT_RANGE, SRV_EWGHT_MAX. */
export const SRV_UWGHT_RANGE = 256;
export const SRV_EWGHT_MAX = SRV_UWGHT_RANGE * BE_WEIGHT_SCALE;

/** Per-server state every model keeps; models extend it with their own fields. */
export interface HaproxyServer {
  readonly backend: Backend;
  /** Server id (`puid`): declaration order from 1, as HAProxy numbers servers without an `id`. */
  readonly puid: number;
  /** Added at run time (`add server`), after the trees were built. */
  dynamic?: boolean;
  /** In the routable set as of the last pick (srv_currently_usable). */
  usable: boolean;
  /** Effective weight in use (cur_eweight) and the one about to apply (next_eweight). */
  curEweight: number;
  nextEweight: number;
}

/** Saturation as HAProxy tests it: maxconn reached, or requests already queued (none modelled). */
export function hasRoom(s: HaproxyServer, maxconn: number | undefined): boolean {
  return maxconn === undefined || s.backend.inFlight < maxconn;
}

const NO_AVOID: ReadonlySet<never> = new Set();

export abstract class HaproxyLb<S extends HaproxyServer> implements Policy {
  abstract readonly name: string;
  protected readonly servers = new Map<Backend, S>();
  /** In puid order. */
  protected ordered: S[] = [];
  private started = false;

  /** eweight for a server of `backend`'s weight now (dynamic algorithms follow slow start). */
  protected abstract eweightOf(backend: Backend): number;
  protected abstract newServer(backend: Backend, puid: number): S;
  /** Build the trees from the usable servers (HAProxy start-up). */
  protected abstract init(): void;
  protected abstract serverUp(s: S): void;
  protected abstract serverDown(s: S): void;
  protected abstract weightChanged(s: S): void;
  /** Choose among the usable servers, avoiding `avoid` if another will do. */
  protected abstract choose(ctx: PickContext, avoid: ReadonlySet<S>, trace?: PickTrace): S | undefined;

  setMembers(members: readonly Backend[]): void {
    const present = new Set(members);
    for (const s of this.ordered) {
      if (present.has(s.backend)) continue;
      if (s.usable) this.markDown(s);
      this.servers.delete(s.backend);
    }
    for (const b of members) {
      if (this.servers.has(b)) continue;
      const s = this.newServer(b, b.seq + 1);
      s.dynamic = this.started;
      this.servers.set(b, s);
    }
    this.ordered = [...this.servers.values()].sort((a, b) => a.puid - b.puid);
  }

  pick(c: Candidates, ctx: PickContext, trace?: PickTrace): Backend | undefined {
    this.sync(c);
    const avoid: ReadonlySet<S> = ctx.exclude && ctx.exclude.size > 0
      ? new Set(this.ordered.filter((s) => s.usable && ctx.exclude!.has(s.backend.id)))
      : NO_AVOID;
    return this.choose(ctx, avoid, trace)?.backend;
  }

  /** Applies what changed since the last pick: downs first, then ups and weight changes. */
  private sync(c: Candidates): void {
    if (!this.started) {
      this.started = true;
      for (const s of this.ordered) {
        s.usable = c.has(s.backend);
        s.curEweight = s.nextEweight = this.eweightOf(s.backend);
      }
      this.init();
      return;
    }
    for (const s of this.ordered) if (s.usable && !c.has(s.backend)) this.markDown(s);
    for (const s of this.ordered) {
      if (!c.has(s.backend)) continue;
      const eweight = this.eweightOf(s.backend);
      if (!s.usable) {
        s.nextEweight = eweight;
        s.usable = true;
        this.serverUp(s);
        s.curEweight = s.nextEweight;
      } else if (eweight !== s.curEweight) {
        s.nextEweight = eweight;
        this.weightChanged(s);
        s.curEweight = s.nextEweight;
      }
    }
  }

  private markDown(s: S): void {
    this.serverDown(s);
    s.usable = false;
  }

  protected usableServers(): S[] {
    return this.ordered.filter((s) => s.usable);
  }
}

/** Dynamic algorithms: eweight = weight × 16, scaled by slow start (server.c server_recalc_eweight). */
export function dynamicEweight(b: Backend): number {
  const uweight = Math.round(b.weight);
  const scale = b.weight > 0 ? b.effectiveWeight / b.weight : 1;
  return Math.max(1, Math.round(uweight * BE_WEIGHT_SCALE * scale));
}
