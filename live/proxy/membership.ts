// Adding, draining, reweighting and marking backends, for start-up and the admin API.
// Every change is checked in full before anything is touched, so a refused change leaves
// the proxy exactly as it was. The Balancer owns the state; the registry and the health
// checker follow it.
import type { BalancerEvent } from '../../core/index.ts';
import { checkBackendUrl } from './backend-url.ts';
import type { BackendRecord, BackendRegistry } from './backends.ts';
import type { CoreDriver } from './core-driver.ts';
import type { HealthChecker } from './health-checker.ts';
import type { OwnListeners } from './own-listeners.ts';

export const BACKEND_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface BackendSpec {
  id?: string;
  url: string;
  weight?: number;
}

export type MembershipErrorKind = 'invalid' | 'not_found' | 'conflict' | 'limit';

export class MembershipError extends Error {
  constructor(readonly kind: MembershipErrorKind, message: string, readonly path?: string) { super(message); }
}

export interface MembershipOptions {
  allowHosts: readonly string[];
  maxBackends: number;
  /** After this long draining, remaining attempts are cut (they fail as resets). */
  drainTimeoutMs: number;
  /** The proxy's own listeners: never a backend, whoever names one (loops forever). */
  own: OwnListeners;
}

export class Membership {
  constructor(
    private readonly driver: CoreDriver,
    private readonly registry: BackendRegistry,
    private readonly health: HealthChecker,
    private readonly o: MembershipOptions,
  ) {}

  /**
   * Checks a spec without changing anything; returns the id and origin to use. `reserved`:
   * id → origin of backends checked but not yet added (start-up checks them all first).
   * `trustHost`: the operator named the host (DNS discovery), so the allow-list does not apply.
   */
  check(spec: BackendSpec, reserved: ReadonlyMap<string, string> = new Map(), trustHost = false): { id: string; origin: string; weight: number } {
    const url = checkBackendUrl(spec.url, trustHost ? 'any' : this.o.allowHosts);
    if (!url.ok) throw new MembershipError('invalid', url.message, '/url');
    const self = this.o.own.selfReference(url.origin);
    if (self) throw new MembershipError('invalid', `${self}: a backend there would send every request back to the proxy`, '/url');
    const weight = spec.weight ?? 1;
    if (!(weight > 0) || !Number.isFinite(weight)) throw new MembershipError('invalid', 'must be > 0', '/weight');
    const id = spec.id ?? this.freeId(reserved);
    if (!BACKEND_ID.test(id)) throw new MembershipError('invalid', 'must be 1-64 of A-Z a-z 0-9 . _ -', '/id');
    // A draining backend keeps its id until its last attempt ends.
    if (this.registry.has(id) || this.driver.balancer.has(id) || reserved.has(id)) {
      throw new MembershipError('conflict', `backend ${id} already exists`, '/id');
    }
    // One backend per origin: the same server twice (a --backend that DNS also lists, an admin
    // add repeated under another id) would silently double its share; weight is the way to do that.
    const twin = [...this.registry.all()].find((r) => r.origin === url.origin)?.id
      ?? [...reserved].find(([, origin]) => origin === url.origin)?.[0];
    if (twin !== undefined) throw new MembershipError('conflict', `backend ${twin} already has origin ${url.origin}`, '/url');
    if (this.registry.size + reserved.size >= this.o.maxBackends) {
      throw new MembershipError('limit', `at most ${this.o.maxBackends} backends`);
    }
    return { id, origin: url.origin, weight };
  }

  /** Adds a backend; resolves when its first health probe (if any) has been reported. */
  add(spec: BackendSpec, initial: boolean, trustHost = false): { record: BackendRecord; firstProbe: Promise<void> } {
    const { id, origin, weight } = this.check(spec, new Map(), trustHost);
    const record = this.registry.create(id, origin);
    this.driver.add(id, weight, initial);
    return { record, firstProbe: this.health.start(id, origin) };
  }

  /** Starts a drain. `removed` when nothing was in flight, else `draining` until the last attempt ends. */
  remove(id: string): 'removed' | 'draining' {
    const record = this.existing(id);
    this.health.stop(id);
    this.driver.remove(id);
    if (!this.driver.balancer.has(id)) return 'removed';
    record.drainTimer = setTimeout(() => this.registry.forceClose(id), this.o.drainTimeoutMs);
    record.drainTimer.unref();
    return 'draining';
  }

  setWeight(id: string, weight: number): void {
    this.existing(id);
    if (!(weight > 0) || !Number.isFinite(weight)) throw new MembershipError('invalid', 'must be > 0', '/weight');
    this.driver.setWeight(id, weight);
  }

  setAdminDown(id: string, down: boolean): void {
    this.existing(id);
    this.driver.setAdminDown(id, down);
  }

  /** Balancer events this layer acts on. */
  onEvent(e: BalancerEvent): void {
    if (e.kind === 'removed') { this.health.stop(e.id); this.registry.dispose(e.id); }
  }

  private existing(id: string): BackendRecord {
    const record = this.registry.get(id);
    if (!record || !this.driver.balancer.has(id)) throw new MembershipError('not_found', `no backend ${id}`);
    const draining = this.driver.balancer.status(this.driver.now()).find((s) => s.id === id)?.lifecycle === 'draining';
    if (draining) throw new MembershipError('conflict', `backend ${id} is draining`);
    return record;
  }

  /** The first `sN` not in use, counting from the current size (s1..sN at start). */
  private freeId(reserved: ReadonlyMap<string, string>): string {
    for (let n = this.registry.size + reserved.size + 1; ; n++) {
      const id = `s${n}`;
      if (!this.registry.has(id) && !this.driver.balancer.has(id) && !reserved.has(id)) return id;
    }
  }
}
