// The proxy's side of each backend: its origin, its undici pool and its stats.
// Membership and health live in the core Balancer; this registry follows it (a backend
// is created before the balancer learns of it and disposed of after the balancer's
// `removed` event, when its last in-flight attempt has ended).
import type { Pool } from 'undici';
import { BackendStats } from './backend-stats.ts';
import { type UpstreamPoolOptions, createPool } from './upstream.ts';

export interface BackendRecord {
  readonly id: string;
  readonly origin: string;
  readonly pool: Pool;
  readonly stats: BackendStats;
  readonly addedAt: string;
  drainTimer?: NodeJS.Timeout;
}

export class BackendRegistry {
  private readonly records = new Map<string, BackendRecord>();

  constructor(private readonly poolOptions: UpstreamPoolOptions) {}

  create(id: string, origin: string): BackendRecord {
    if (this.records.has(id)) throw new Error(`backend ${id} already exists`);
    const record: BackendRecord = {
      id, origin,
      pool: createPool(origin, this.poolOptions),
      stats: new BackendStats(),
      addedAt: new Date().toISOString(),
    };
    this.records.set(id, record);
    return record;
  }

  get(id: string): BackendRecord | undefined { return this.records.get(id); }
  has(id: string): boolean { return this.records.has(id); }
  get size(): number { return this.records.size; }
  all(): IterableIterator<BackendRecord> { return this.records.values(); }

  /** Drain took too long: cut the remaining attempts (they fail as resets, the Router decides). */
  forceClose(id: string): void {
    this.records.get(id)?.pool.destroy().catch(() => {});
  }

  /** The balancer removed the backend: let in-flight sockets finish, then free everything. */
  dispose(id: string): void {
    const r = this.records.get(id);
    if (!r) return;
    this.records.delete(id);
    clearTimeout(r.drainTimer);
    r.pool.close().catch(() => {});
  }

  async closeAll(): Promise<void> {
    const pools = [...this.records.values()].map((r) => { clearTimeout(r.drainTimer); return r.pool.close().catch(() => {}); });
    this.records.clear();
    await Promise.all(pools);
  }
}
