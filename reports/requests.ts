// Streams requests.csv once and keeps only bounded aggregates: a latency histogram (answered
// requests only), the
// attempts distribution, outcomes, per-time-bucket counts with coarse histograms, and the
// last server of each client (for stickiness, capped). Ten million rows fit in the memory
// of a few thousand buckets.
import { readCsv } from './csv-read.ts';
import { LogHistogram } from './histogram.ts';
import type { RequestBucket, RequestStats } from './model.ts';

export const REQUEST_COLUMNS = {
  latencyMs: { names: ['latencyMs'], required: true },
  endMs: { names: ['endMs'], required: true },
  outcome: { names: ['outcome'], required: true },
  attempts: { names: ['attempts'] },
  client: { names: ['client'] },
  servers: { names: ['servers'] },
} as const;

/** Clients whose last server is remembered; past this, new clients are not tracked. */
export const MAX_TRACKED_CLIENTS = 1_000_000;
/** Per-time-bucket histograms: ±3 % is plenty for a p99-over-time line. */
const BUCKET_HISTOGRAM_BITS = 4;

export async function readRequests(path: string, bucketMs: number, maxClients = MAX_TRACKED_CLIENTS): Promise<RequestStats> {
  const latency = new LogHistogram();
  const attempts = new Map<number, number>();
  const outcomes = new Map<string, number>();
  const buckets = new Map<number, RequestBucket>();
  const lastServer = new Map<string, string>();
  const repeatClients = new Set<string>();
  const movedClients = new Set<string>();
  let same = 0;
  let eligible = 0;
  let capped = false;
  let count = 0;
  let failed = 0;
  const read = await readCsv(path, REQUEST_COLUMNS, (r) => {
    const latencyMs = r.number('latencyMs');
    const endMs = r.number('endMs');
    const outcome = r.text('outcome');
    const path = r.has('servers') ? r.text('servers') : '';
    const tries = r.has('attempts') ? r.number('attempts') : path === '' ? 1 : path.split('|').length;
    const isFailed = outcome !== 'ok';
    count++;
    if (isFailed) failed++;
    // Failed requests are not "answered within x ms": a refused connection fails in microseconds
    // and would drag the CDF (and its log axis) toward 0. They are counted, not timed.
    if (!isFailed) latency.record(latencyMs);
    attempts.set(tries, (attempts.get(tries) ?? 0) + 1);
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    const b = Math.floor(endMs / bucketMs);
    let bucket = buckets.get(b);
    if (!bucket) {
      bucket = { tMs: b * bucketMs, completed: 0, failed: 0, latency: new LogHistogram(BUCKET_HISTOGRAM_BITS) };
      buckets.set(b, bucket);
    }
    bucket.completed++;
    if (isFailed) bucket.failed++;
    if (!isFailed) bucket.latency.record(latencyMs);
    if (r.has('client') && path !== '') {
      const client = r.text('client');
      const bar = path.indexOf('|');
      const first = bar < 0 ? path : path.slice(0, bar);
      const previous = lastServer.get(client);
      if (previous !== undefined) {
        eligible++;
        repeatClients.add(client);
        if (previous === first) same++;
        else movedClients.add(client);
        lastServer.set(client, first);
      } else if (lastServer.size < maxClients) {
        lastServer.set(client, first);
      } else {
        capped = true;
      }
    }
  });
  const trackStickiness = read.present.has('client') && read.present.has('servers');
  return {
    count,
    failed,
    latency,
    attempts,
    outcomes,
    bucketMs,
    buckets: [...buckets.values()].sort((a, b) => a.tMs - b.tMs),
    stickiness: trackStickiness
      ? { same, eligible, clientsTracked: lastServer.size, clientsCapped: capped, repeatClients: repeatClients.size, movedClients: movedClients.size }
      : null,
  };
}
