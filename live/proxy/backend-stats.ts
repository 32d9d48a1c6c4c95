// Per-backend counters for the admin API: attempts, failures, answers by status class,
// latency percentiles over the last attempts (a fixed ring, so memory stays flat), and the
// latency histogram /metrics exports. Plain numbers: the request path only adds.
import { LatencyHistogram } from './latency-histogram.ts';

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'error';

export function statusClass(status: number): StatusClass {
  if (status >= 500) return '5xx';
  if (status >= 400) return '4xx';
  if (status >= 300) return '3xx';
  if (status >= 200) return '2xx';
  return '1xx';
}

const WINDOW = 1_024;

export class BackendStats {
  attempts = 0;
  /** Attempts that counted against the backend (connect errors, resets, timeouts, 502-504). */
  failures = 0;
  readonly byClass: Record<StatusClass, number> = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, error: 0 };
  readonly histogram = new LatencyHistogram();
  private readonly latenciesMs = new Float64Array(WINDOW);
  private filled = 0;
  private cursor = 0;
  private sumMs = 0;
  private maxMs = 0;

  record(cls: StatusClass, latencyMs: number, failure: boolean): void {
    this.attempts++;
    this.byClass[cls]++;
    if (failure) this.failures++;
    this.latenciesMs[this.cursor] = latencyMs;
    this.cursor = (this.cursor + 1) % WINDOW;
    if (this.filled < WINDOW) this.filled++;
    this.sumMs += latencyMs;
    if (latencyMs > this.maxMs) this.maxMs = latencyMs;
    this.histogram.observe(latencyMs / 1000);
  }

  view(): object {
    const recent = Array.from(this.latenciesMs.subarray(0, this.filled)).sort((a, b) => a - b);
    const at = (q: number) => (recent.length ? round(recent[Math.min(recent.length - 1, Math.floor(q * recent.length))]) : null);
    return {
      attempts: this.attempts,
      failures: this.failures,
      byStatusClass: { ...this.byClass },
      latencyMs: {
        mean: this.attempts ? round(this.sumMs / this.attempts) : null,
        p50: at(0.5), p99: at(0.99), max: this.attempts ? round(this.maxMs) : null,
        window: recent.length,
      },
    };
  }
}

function round(ms: number): number { return Math.round(ms * 100) / 100; }
