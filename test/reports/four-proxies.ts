// Synthetic results of the three compared experiments (a3, a4, a5) for four proxies, written
// into a scratch folder for the comparison tests. No proxy ran to make them: the numbers are
// chosen to exercise the page — NGINX's ip_hash with every client on s1, HAProxy's map-based
// source without the s4 that joins, a measurement outside the ±20 % failure tolerance, a proxy
// with a prediction only and one with nothing. Variant names are the real experiment files',
// so each proxy's own words for a run come from experiments/*.json as in `npm run report`.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ProxyName, modeFolder } from '../../experiments/proxies.ts';

/** The repository's experiment files: the questions' source. */
export const REAL_EXPERIMENTS = fileURLToPath(new URL('../../experiments/', import.meta.url));

export interface FakeRun {
  servers: number[];
  failed?: number;
  retries?: number;
  p50?: number;
  p99?: number;
  mean?: number;
  /** Write a requests.csv where client i%clients always lands on the server its first request took. */
  stickyClients?: number;
  /** Write a timeline.csv where these servers (indexes into `servers`) take all their requests one after another. */
  oneAtATime?: number[];
}

type Engines = Partial<Record<'sim' | 'live', FakeRun>>;
/** experiment → proxy → variant → engines. */
export type FakeResults = Record<string, Partial<Record<ProxyName, Record<string, Engines>>>>;

const rr: FakeRun = { servers: [1196, 1196, 1196, 412] };

export const FOUR_PROXIES: FakeResults = {
  a3: {
    fulcrum: {
      original: { sim: { servers: [1334, 1333, 1333], failed: 317 }, live: { servers: [1334, 1333, 1333], failed: 335 } },
      retries: { sim: { servers: [1495, 1372, 1488], retries: 355 }, live: { servers: [1504, 1366, 1507], retries: 377 } },
    },
    haproxy: {
      original: { sim: { servers: [1334, 1333, 1333], failed: 317 }, live: { servers: [1334, 1331, 1333], failed: 322 } },
      retries: { sim: { servers: [1492, 1492, 1492], retries: 476 }, live: { servers: [1494, 1488, 1494], retries: 476 } },
    },
    nginx: {
      original: { sim: { servers: [1334, 1333, 1333], failed: 300 }, live: { servers: [1334, 1333, 1333], failed: 390 } },
      retries: { sim: { servers: [1490, 1380, 1490], retries: 360 }, live: { servers: [1490, 1380, 1490], retries: 362 } },
    },
    caddy: {
      original: { sim: { servers: [1334, 1333, 1333], failed: 310 } },
      retries: { sim: { servers: [1334, 1333, 1333], failed: 12, retries: 290 } },
    },
  },
  a4: {
    fulcrum: {
      'ip-hash': { sim: { servers: [961, 680, 1414, 945] }, live: { servers: [961, 680, 1414, 945] } },
      'round-robin': { sim: rr, live: rr },
    },
    haproxy: {
      'ip-hash': { sim: { servers: [1722, 1232, 1046] }, live: { servers: [1722, 1232, 1046] } },
      'round-robin': { sim: rr, live: { servers: [1197, 1195, 1196, 412] } },
    },
    nginx: {
      'ip-hash': { sim: { servers: [4000, 0, 0, 0], stickyClients: 20 }, live: { servers: [4000, 0, 0, 0], stickyClients: 20 } },
      'round-robin': { sim: rr, live: rr },
    },
  },
  a5: {
    fulcrum: {
      'round-robin': { sim: { servers: [1334, 1333, 1333], p99: 2350, mean: 412 }, live: { servers: [1334, 1333, 1333], p99: 2215, mean: 391 } },
      'least-connections': { sim: { servers: [1709, 1632, 659], p99: 71.4 }, live: { servers: [1699, 1641, 660], p99: 71.5 } },
      'peak-ewma': { sim: { servers: [1944, 1878, 178], p99: 40.6 }, live: { servers: [1916, 1901, 183], p99: 41.2 } },
    },
    haproxy: {
      'round-robin': { sim: { servers: [1334, 1333, 1333], p99: 2350, mean: 412 }, live: { servers: [1334, 1333, 1333], p99: 2201, mean: 388 } },
      'least-connections': { sim: { servers: [1646, 1669, 685], p99: 71.5 }, live: { servers: [1640, 1658, 702], p99: 75.1 } },
      'peak-ewma': { sim: { servers: [1646, 1669, 685], p99: 71.5 }, live: { servers: [1640, 1664, 696], p99: 73.8 } },
    },
    nginx: {
      'round-robin': { sim: { servers: [1334, 1333, 1333], p99: 2300, mean: 400 } },
      'least-connections': { sim: { servers: [1650, 1660, 690], p99: 70 } },
    },
  },
};

function summaryOf(experiment: string, proxy: ProxyName, mode: 'sim' | 'live', variant: string, r: FakeRun): object {
  const total = r.servers.reduce((a, b) => a + b, 0);
  const failed = r.failed ?? 0;
  const retries = r.retries ?? 0;
  const servers = Object.fromEntries(r.servers.map((n, i) => [`s${i + 1}`, { requests: n, ok: n, errors: 0 }]));
  const mean = total / r.servers.length;
  const mean2 = r.servers.reduce((a, b) => a + b * b, 0) / r.servers.length;
  return {
    experiment, mode, ...(proxy === 'fulcrum' ? {} : { proxy }), variant, seed: 1, policy: experiment === 'a3' ? 'round-robin' : variant, // a3's variants differ in retries and checks only
    requests: { total: total - retries, ok: total - retries - failed, failed, attempts: total, retries },
    servers,
    latencyMs: { mean: r.mean ?? 6, p50: r.p50 ?? 4, p90: 10, p99: r.p99 ?? 20, max: (r.p99 ?? 20) * 2 },
    fairness: { maxOverMean: Math.max(...r.servers) / mean, jain: (mean * mean) / mean2 },
    durationMs: 10_000,
  };
}

function requestsCsv(r: FakeRun): string {
  const rows = ['id,client,startMs,endMs,latencyMs,status,outcome,attempts,servers'];
  let id = 0;
  r.servers.forEach((n, i) => {
    for (let k = 0; k < n; k++, id++) rows.push(`${id},${id % r.stickyClients!},${id},${id + 4},4,200,ok,1,s${i + 1}`);
  });
  return `${rows.join('\n')}\n`;
}

/** 100 ms buckets of 40 attempts: every server in `order` in turn, the others idle. */
function timelineCsv(r: FakeRun): string {
  const rows = ['bucketStartMs,server,requests,errors,inFlight,healthy'];
  let t = 0;
  for (const i of r.oneAtATime!) {
    for (let left = r.servers[i]; left > 0; left -= 40, t += 100) {
      r.servers.forEach((_, j) => rows.push(`${t},s${j + 1},${j === i ? Math.min(40, left) : 0},0,0,1`));
    }
  }
  return `${rows.join('\n')}\n`;
}

/** Writes `results` under a fresh scratch root; remove it with the returned function. */
export async function writeFakeResults(results: FakeResults = FOUR_PROXIES): Promise<{ root: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'fulcrum-compare-'));
  const root = join(dir, 'reports');
  for (const [experiment, proxies] of Object.entries(results)) {
    for (const [proxy, variants] of Object.entries(proxies) as Array<[ProxyName, Record<string, Engines>]>) {
      for (const [variant, engines] of Object.entries(variants)) {
        for (const [mode, run] of Object.entries(engines) as Array<['sim' | 'live', FakeRun]>) {
          const folder = join(root, experiment, modeFolder(mode, proxy), variant);
          await mkdir(folder, { recursive: true });
          await writeFile(join(folder, 'summary.json'), `${JSON.stringify(summaryOf(experiment, proxy, mode, variant, run), null, 2)}\n`);
          if (run.stickyClients) await writeFile(join(folder, 'requests.csv'), requestsCsv(run));
          if (run.oneAtATime) await writeFile(join(folder, 'timeline.csv'), timelineCsv(run));
        }
      }
    }
  }
  return { root, remove: () => rm(dir, { recursive: true, force: true }) };
}
