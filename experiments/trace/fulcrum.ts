// Fulcrum's own requests.csv (a live or simulated run): any measured run replays under
// another policy. Columns are found by name from the header (experiments/results.ts).
// The client index is kept as is, so a replay hashes exactly the addresses the run used;
// the server is the last one tried (the `servers` column, s2|s1), the one that answered.
// The logged upstream time is the client-side latency: it includes the network and the
// proxy, which the trace's overheadMs takes off again (see docs/experiments.md).
import { type LineResult, parseDecimal } from './record.ts';

const NEEDED = ['client', 'startMs', 'latencyMs'] as const;

export function fulcrumRowParser(): (fields: string[], line: number) => LineResult | undefined {
  let col: Record<typeof NEEDED[number] | 'servers', number> | undefined;
  return (fields, line) => {
    if (!col) {
      const missing = NEEDED.filter((c) => !fields.includes(c));
      if (missing.length) return { problem: `expected a Fulcrum requests.csv header with ${NEEDED.join(', ')}; missing ${missing.join(', ')}` };
      col = { client: fields.indexOf('client'), startMs: fields.indexOf('startMs'), latencyMs: fields.indexOf('latencyMs'), servers: fields.indexOf('servers') };
      return undefined;
    }
    const client = fields[col.client] ?? '';
    if (!/^[0-9]+$/.test(client)) return { problem: `client: expected a client index (0, 1, …), got ${JSON.stringify(client)}` };
    const atMs = parseDecimal(fields[col.startMs] ?? '');
    if (atMs === undefined) return { problem: `startMs: expected ms since the run started, got ${JSON.stringify(fields[col.startMs])}` };
    const upstreamMs = parseDecimal(fields[col.latencyMs] ?? '');
    if (upstreamMs === undefined) return { problem: `latencyMs: expected a non-negative number of ms, got ${JSON.stringify(fields[col.latencyMs])}` };
    const servers = col.servers < 0 ? '' : fields[col.servers] ?? '';
    return { line, atMs, client, upstreamMs, server: servers === '' ? undefined : servers.slice(servers.lastIndexOf('|') + 1) };
  };
}
