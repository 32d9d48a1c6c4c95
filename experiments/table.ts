// The terminal summary after a run: one row per run (sweep point or variant).
import type { RunResult } from './run-files.ts';

export function summaryTable(results: readonly RunResult[]): string {
  const header = ['run', 'policy', 'requests', 'ok', 'failed', 'retries', 'p50 ms', 'p99 ms', 'max ms', 'attempts per server', 'jain'];
  const rows = results.map(({ run, summary: s }) => [
    run.dir || s.experiment,
    s.policy,
    String(s.requests.total),
    String(s.requests.ok),
    String(s.requests.failed),
    String(s.requests.retries),
    s.latencyMs.p50.toFixed(3),
    s.latencyMs.p99.toFixed(3),
    s.latencyMs.max.toFixed(3),
    perServer(s.servers),
    s.fairness.jain === null ? '-' : s.fairness.jain.toFixed(4),
  ]);
  const numeric = new Set([2, 3, 4, 5, 6, 7, 8, 10]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((v, c) => (numeric.has(c) ? v.padStart(widths[c]) : v.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function perServer(servers: Record<string, { requests: number }>): string {
  const entries = Object.entries(servers);
  if (entries.length <= 8) return entries.map(([id, s]) => `${id}:${s.requests}`).join(' ');
  const counts = entries.map(([, s]) => s.requests);
  return `${entries.length} servers, ${Math.min(...counts)}–${Math.max(...counts)}`;
}
