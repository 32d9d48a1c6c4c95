// Active health checks: one timer and one dedicated connection per backend, so a probe
// never queues behind client traffic in the request pool. The verdict (rise/fall,
// readmission, slow start) is the Balancer's; this only sends GETs and reports pass/fail.
import { Client } from 'undici';
import { type ActiveHealthConfig, type Rng, nextProbeDelayMs } from '../../core/index.ts';
import type { CoreDriver } from './core-driver.ts';

interface Prober {
  readonly client: Client;
  timer?: NodeJS.Timeout;
  stopped: boolean;
}

export class HealthChecker {
  private readonly probers = new Map<string, Prober>();

  constructor(
    private readonly cfg: ActiveHealthConfig | undefined,
    private readonly driver: CoreDriver,
    private readonly rng: Rng,
    private readonly connectTimeoutMs: number,
  ) {}

  get enabled(): boolean { return this.cfg !== undefined; }

  /** Starts probing `id`; resolves after the first probe has been reported. */
  start(id: string, origin: string): Promise<void> {
    const cfg = this.cfg;
    if (!cfg || this.probers.has(id)) return Promise.resolve();
    const prober: Prober = {
      client: new Client(origin, { pipelining: 1, connect: { timeout: Math.min(this.connectTimeoutMs, cfg.timeoutMs) } }),
      stopped: false,
    };
    this.probers.set(id, prober);
    const loop = async (): Promise<void> => {
      const startedMs = performance.now();
      const ok = await this.probe(prober.client, cfg);
      if (prober.stopped) return;
      this.driver.probeResult(id, ok);
      const delayMs = Math.max(0, nextProbeDelayMs(cfg, this.rng) - (performance.now() - startedMs));
      prober.timer = setTimeout(() => { loop().catch(() => {}); }, delayMs);
    };
    return loop();
  }

  stop(id: string): void {
    const p = this.probers.get(id);
    if (!p) return;
    this.probers.delete(id);
    p.stopped = true;
    clearTimeout(p.timer);
    p.client.destroy().catch(() => {});
  }

  stopAll(): void {
    for (const id of [...this.probers.keys()]) this.stop(id);
  }

  private async probe(client: Client, cfg: ActiveHealthConfig): Promise<boolean> {
    try {
      const res = await client.request({ method: 'GET', path: cfg.path, signal: AbortSignal.timeout(cfg.timeoutMs) });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 400;
    } catch {
      return false; // refused, reset, or no answer within timeoutMs
    }
  }
}
