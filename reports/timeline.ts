// Reads timeline.csv (one row per time bucket and server) by header name. The time column
// has had a few names while the engines settled (experiments/results.ts writes bucketStartMs), so
// each accepted spelling is listed here.
import { readCsv } from './csv-read.ts';
import { ReportInputError } from './errors.ts';
import { bucketWidthMs } from './buckets.ts';
import type { Timeline, TimelineRow } from './model.ts';

export const TIMELINE_COLUMNS = {
  t: { names: ['bucketStartMs', 'tMs', 'timeMs', 'startMs', 'atMs'], required: true },
  server: { names: ['server', 'serverId'], required: true },
  requests: { names: ['requests', 'attempts'], required: true },
  errors: { names: ['errors', 'failures'] },
  inFlight: { names: ['inFlight', 'in_flight'] },
  healthy: { names: ['healthy', 'routable'] },
} as const;

export async function readTimeline(path: string, fallbackBucketMs: number): Promise<Timeline> {
  const rows: TimelineRow[] = [];
  await readCsv(path, TIMELINE_COLUMNS, (r) => {
    const server = r.text('server');
    if (server === '') throw new ReportInputError(path, `line ${r.line}: empty server id`);
    let healthy: boolean | null = null;
    if (r.has('healthy')) {
      const h = r.text('healthy').toLowerCase();
      if (h === '1' || h === 'true') healthy = true;
      else if (h === '0' || h === 'false') healthy = false;
      else throw new ReportInputError(path, `line ${r.line}, column "healthy": got ${JSON.stringify(h)}; expected 1, 0, true or false`);
    }
    rows.push({
      tMs: r.number('t'),
      server,
      requests: r.number('requests'),
      errors: r.has('errors') ? r.number('errors') : 0,
      inFlight: r.has('inFlight') ? r.number('inFlight') : null,
      healthy,
    });
  });
  return { bucketMs: bucketWidthMs(rows.map((r) => r.tMs)) ?? fallbackBucketMs, rows };
}
