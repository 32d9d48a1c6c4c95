// Reads every result file of one experiment for one proxy (both modes, every variant and
// sweep point) into an ExperimentResults. Optional files (servers.csv, timeline.csv, requests.csv, the
// experiment file) switch charts on when present; a malformed one is a ReportInputError.
// Without requests.csv (git ignores it) a run's request aggregates come from the committed
// request-stats.json when its summary still matches.
import { join } from 'node:path';
import { type ProxyName, modeFolder } from '../experiments/proxies.ts';
import { type DiscoveredRun, type ModeTree, discoverMode, exists, proxiesWithResults, sameValue } from './discover.ts';
import { ReportInputError } from './errors.ts';
import { readExperimentInfo } from './markers.ts';
import { proxyFlag } from './proxies.ts';
import { balanceWords } from './proxy-words.ts';
import { type ExperimentResults, MODES, type Mode, type RunKey, type RunResult, type Timeline } from './model.ts';
import { MAX_TRACKED_CLIENTS, readRequests } from './requests.ts';
import { type RequestStatsCache, cacheKey, cachedStats, readRequestStatsCache } from './request-stats.ts';
import { readServers, serverMismatches, serversFromSummary } from './servers.ts';
import { naturalCompare } from './sort.ts';
import { displayBucketMs, niceBucketMs } from './buckets.ts';
import { readTimeline } from './timeline.ts';

export const RESULT_FILES = { servers: 'servers.csv', timeline: 'timeline.csv', requests: 'requests.csv' } as const;

export interface LoadOptions {
  /** Where reports/<name>/<mode>/ live. */
  root: string;
  /** Where experiments/<name>.json live; null to skip fault markers. */
  experimentsDir: string | null;
}

/** Every proxy's results of one experiment, Fulcrum's first; at least one. */
export async function loadExperimentProxies(name: string, opts: LoadOptions): Promise<ExperimentResults[]> {
  const proxies = await proxiesWithResults(join(opts.root, name));
  if (proxies.length === 0) return [await loadExperimentResults(name, opts)]; // it throws "no results"
  const out: ExperimentResults[] = [];
  for (const proxy of proxies) out.push(await loadExperimentResults(name, opts, proxy));
  return out;
}

export async function loadExperimentResults(name: string, opts: LoadOptions, proxy: ProxyName = 'fulcrum'): Promise<ExperimentResults> {
  const dir = join(opts.root, name);
  const trees: ModeTree[] = [];
  for (const mode of MODES) {
    const tree = await discoverMode(join(dir, modeFolder(mode, proxy)), mode, proxy);
    if (tree) trees.push(tree);
  }
  if (trees.length === 0) {
    const [sim, live] = MODES.map((m) => modeFolder(m, proxy));
    throw new ReportInputError(dir, `no results: neither ${sim}/ nor ${live}/ holds a summary.json (run "npm run sim experiments/${name}.json${proxyFlag(proxy)}" first)`);
  }
  const warnings: string[] = [];
  const variants = mergeLists(trees.map((t) => t.variants));
  const sweep = mergeSweeps(trees, dir);
  const keys = orderKeys(trees.flatMap((t) => t.runs.map((r) => r.key)), variants, sweep);

  // Time buckets are shared by both modes of a key, so their client-side series line up.
  const timelines = new Map<string, Timeline | null>();
  for (const t of trees) {
    for (const r of t.runs) {
      const path = r.folder === null ? null : join(r.folder, RESULT_FILES.timeline);
      const timeline = path !== null && await exists(path) ? await readTimeline(path, niceBucketMs(r.summary.durationMs)) : null;
      timelines.set(`${t.mode}:${r.key.dir}`, timeline);
    }
  }
  const cache = await readRequestStatsCache(dir);
  const runs: RunResult[] = [];
  for (const key of keys) {
    const found = trees.flatMap((t) => t.runs.filter((r) => r.key.dir === key.dir).map((r) => ({ mode: t.mode, run: r })));
    const widths = found.map((f) => timelines.get(`${f.mode}:${key.dir}`)?.bucketMs).filter((w): w is number => w !== undefined);
    const durationMs = Math.max(...found.map((f) => f.run.summary.durationMs));
    const bucketMs = displayBucketMs(widths.length ? Math.max(...widths) : niceBucketMs(durationMs), durationMs);
    for (const { mode, run } of found) {
      runs.push(await loadRun(mode, proxy, { ...run, key }, timelines.get(`${mode}:${key.dir}`) ?? null, bucketMs, cache, warnings));
    }
  }

  let description = '';
  let answer: ExperimentResults['answer'] = null;
  const markers: ExperimentResults['markers'] = new Map();
  const balance: ExperimentResults['balance'] = new Map();
  if (opts.experimentsDir !== null) {
    const path = join(opts.experimentsDir, `${name}.json`);
    if (await exists(path)) {
      const { info, warning } = await readExperimentInfo(path);
      if (warning) warnings.push(warning);
      if (info) {
        description = info.description;
        answer = info.answer;
        for (const [k, v] of info.markers) markers.set(k, v);
        for (const [k, cfg] of info.configs) {
          const words = balanceWords(proxy, cfg);
          if (words !== null) balance.set(k, words);
        }
      }
    }
  }
  return { name, proxy, description, answer, modes: trees.map((t) => t.mode), keys, runs, variants, sweep, markers, balance, warnings };
}

async function loadRun(
  mode: Mode, proxy: ProxyName, run: DiscoveredRun, timeline: Timeline | null, bucketMs: number, cache: RequestStatsCache, warnings: string[],
): Promise<RunResult> {
  const folder = run.folder;
  const fromSummary = serversFromSummary(run.summary);
  let servers = fromSummary;
  let requests = null;
  if (folder !== null) {
    const serversPath = join(folder, RESULT_FILES.servers);
    if (await exists(serversPath)) {
      servers = await readServers(serversPath);
      for (const m of serverMismatches(servers, fromSummary)) warnings.push(`${serversPath}: ${m}`);
    }
    const requestsPath = join(folder, RESULT_FILES.requests);
    if (await exists(requestsPath)) {
      requests = await readRequests(requestsPath, bucketMs);
      if (requests.stickiness?.clientsCapped) {
        warnings.push(`${requestsPath}: more than ${MAX_TRACKED_CLIENTS.toLocaleString('en-US')} clients; stickiness counts only the first ones seen`);
      }
    }
  }
  if (requests === null) {
    // requests.csv is not in git: the committed aggregates stand in, if they match these results.
    const key = cacheKey(modeFolder(mode, proxy), run.key.dir);
    requests = cachedStats(cache, key, run.summary, bucketMs);
    if (requests === null && cache.has(key)) {
      warnings.push(`request-stats.json: ${key} was computed from other results (its summary changed); the latency CDF, attempts and client-side series of that run are left out until it is rerun`);
    }
  }
  return { mode, key: run.key, summary: run.summary, servers, timeline, requests, bucketMs };
}

function mergeLists(lists: Array<string[] | null>): string[] | null {
  if (lists.every((l) => l === null)) return null;
  const out: string[] = [];
  for (const l of lists) for (const v of l ?? []) if (!out.includes(v)) out.push(v);
  return out;
}

function mergeSweeps(trees: ModeTree[], dir: string): ExperimentResults['sweep'] {
  let sweep: ExperimentResults['sweep'] = null;
  for (const t of trees) {
    if (!t.sweep) continue;
    if (sweep && sweep.path !== t.sweep.path) {
      throw new ReportInputError(dir, `${modeFolder('sim', t.proxy)}/ sweeps "${sweep.path}" but ${modeFolder('live', t.proxy)}/ sweeps "${t.sweep.path}"; rerun one of them`);
    }
    sweep ??= { path: t.sweep.path, values: [] };
    for (const v of t.sweep.values) if (!sweep.values.some((x) => sameValue(x, v))) sweep.values.push(v);
  }
  return sweep;
}

/** One key per run folder, variants in file order, then sweep points in file order. */
function orderKeys(all: RunKey[], variants: string[] | null, sweep: ExperimentResults['sweep']): RunKey[] {
  const byDir = new Map<string, RunKey>();
  for (const k of all) {
    if (byDir.has(k.dir)) continue;
    const point = k.point && sweep ? { ...k.point, index: sweep.values.findIndex((v) => sameValue(v, k.point!.value)) } : k.point;
    byDir.set(k.dir, { ...k, point });
  }
  const rank = (k: RunKey): [number, number] => [
    k.variant !== undefined && variants ? variants.indexOf(k.variant) : -1,
    k.point ? k.point.index : -1,
  ];
  return [...byDir.values()].sort((a, b) => {
    const [va, pa] = rank(a);
    const [vb, pb] = rank(b);
    return va - vb || pa - pb || naturalCompare(a.dir, b.dir);
  });
}
