// Reads servers.csv (per-server totals) by header name; extra columns such as share are ignored.
import { readCsv } from './csv-read.ts';
import { ReportInputError } from './errors.ts';
import type { ReportRunSummary, ServerRow } from './model.ts';
import { naturalCompare } from './sort.ts';

export const SERVER_COLUMNS = {
  server: { names: ['server', 'serverId', 'id'], required: true },
  requests: { names: ['requests', 'attempts'], required: true },
  ok: { names: ['ok'] },
  errors: { names: ['errors', 'failures'] },
} as const;

export async function readServers(path: string): Promise<ServerRow[]> {
  const rows: ServerRow[] = [];
  const seen = new Set<string>();
  await readCsv(path, SERVER_COLUMNS, (r) => {
    const server = r.text('server');
    if (server === '') throw new ReportInputError(path, `line ${r.line}: empty server id`);
    if (seen.has(server)) throw new ReportInputError(path, `line ${r.line}: server "${server}" listed twice`);
    seen.add(server);
    const requests = r.number('requests');
    const errors = r.has('errors') ? r.number('errors') : 0;
    rows.push({ server, requests, ok: r.has('ok') ? r.number('ok') : requests - errors, errors });
  });
  return rows.sort((a, b) => naturalCompare(a.server, b.server));
}

export function serversFromSummary(s: ReportRunSummary): ServerRow[] {
  return Object.entries(s.servers)
    .map(([server, v]) => ({ server, requests: v.requests, ok: v.ok, errors: v.errors }))
    .sort((a, b) => naturalCompare(a.server, b.server));
}

/** Differences between servers.csv and summary.json, one line each (empty when they agree). */
export function serverMismatches(fromCsv: readonly ServerRow[], fromSummary: readonly ServerRow[]): string[] {
  const out: string[] = [];
  const bySummary = new Map(fromSummary.map((r) => [r.server, r]));
  for (const r of fromCsv) {
    const s = bySummary.get(r.server);
    if (!s) out.push(`${r.server} is not in summary.json`);
    else if (s.requests !== r.requests) out.push(`${r.server}: ${r.requests} requests here, ${s.requests} in summary.json`);
  }
  for (const s of fromSummary) if (!fromCsv.some((r) => r.server === s.server)) out.push(`${s.server} is missing (summary.json lists it)`);
  return out;
}
