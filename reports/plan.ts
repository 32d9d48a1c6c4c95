// Which charts an experiment gets, decided by what its results hold: per-server bars and
// latency for every run, fidelity when both engines ran, a CDF and attempts when requests.csv
// is there, time series when timeline.csv is, variant and sweep comparisons when those exist.
// Another proxy than Fulcrum's gets fewer charts per run (bars, latency, fidelity, failures):
// its page section answers the same question, and its ids and tables carry its name.
import { attemptsSpec } from './charts/attempts.ts';
import { cdfSpec } from './charts/cdf.ts';
import { fidelitySpec } from './charts/fidelity.ts';
import { latencyRows, latencySpec } from './charts/latency.ts';
import { serverBarsSpec } from './charts/servers.ts';
import { type SweepAxis, sweepLinesSpec, sweepServersSpec } from './charts/sweep.ts';
import type { Spec } from './charts/theme.ts';
import { type SeriesPoint, loadOverTimeSpec, seriesOverTimeSpec } from './charts/timeline.ts';
import { type VariantChart, type VariantValue, variantBarsSpec, variantServersSpec } from './charts/variants.ts';
import { type Derived, type FidelityRow, type RunRow, type RunTimelineRow, scalarOf } from './derive.ts';
import { type ExperimentResults, MODES, type Mode, type RunKey, keyLabel } from './model.ts';
import { PROXY_LABELS, chartIdOf, tableFileOf } from './proxies.ts';

/** Policies that route by client (hash key): the only ones whose stickiness is worth a chart. */
const AFFINITY_POLICIES = new Set(['ip-hash', 'ring-hash', 'maglev', 'rendezvous', 'bounded-load', 'haproxy-source']);

export interface ChartDef {
  /** File stem under charts/: <run>--<kind>, or <kind> for a plain run; comparisons are variants-… or sweep-…. */
  id: string;
  title: string;
  spec: Spec;
  /** The CSV under tables/ holding the chart's numbers. */
  table: string;
}

export interface Section {
  id: string;
  title: string;
  key: RunKey | null;
  /** Engines with results for this section, and those without. */
  modes: Mode[];
  missing: Mode[];
  charts: ChartDef[];
  fidelity: FidelityRow[] | null;
}

/** A run folder as a file-name piece: no-retry/servers.count=3 → no-retry--servers.count=3. */
export function slug(dir: string): string {
  return dir.replace(/\//g, '--').replace(/[^A-Za-z0-9._=-]/g, '_');
}

const missingOf = (modes: readonly Mode[]): Mode[] => MODES.filter((m) => !modes.includes(m));

function subtitleOf(e: ExperimentResults, label: string, modes: readonly Mode[]): string {
  const missing = missingOf(modes);
  const engines = missing.length ? `${modes.join(' and ')} only (${missing.join(', ')} missing)` : 'sim vs live';
  return [e.name, e.proxy === 'fulcrum' ? '' : PROXY_LABELS[e.proxy], label, engines].filter(Boolean).join(' · ');
}

const present = (rows: ReadonlyArray<{ mode: Mode }>): Mode[] => MODES.filter((m) => rows.some((r) => r.mode === m));

export function planSections(e: ExperimentResults, d: Derived): Section[] {
  const sections: Section[] = [];
  const comparison = e.sweep ? sweepCharts(e, d, e.sweep) : e.variants ? variantCharts(e, d, e.variants) : [];
  if (comparison.length) {
    sections.push({
      id: e.sweep ? 'sweep' : 'variants',
      title: e.sweep ? `Sweep over ${e.sweep.path}` : 'Variants compared',
      key: null, modes: e.modes, missing: missingOf(e.modes), charts: comparison, fidelity: null,
    });
  }
  for (const key of e.keys) sections.push(runSection(e, d, key));
  return e.proxy === 'fulcrum' ? sections : sections.map((s) => ({
    ...s,
    id: chartIdOf(e.proxy, s.id),
    title: `${PROXY_LABELS[e.proxy]} · ${s.title}`,
    charts: s.charts.map((c) => ({ ...c, id: chartIdOf(e.proxy, c.id), table: tableFileOf(e.proxy, c.table) })),
  }));
}

function runSection(e: ExperimentResults, d: Derived, key: RunKey): Section {
  const run = keyLabel(key) || 'run';
  const mine = <T extends { run: string }>(rows: readonly T[]): T[] => rows.filter((r) => r.run === run);
  const runs = mine(d.runs);
  const modes = present(runs);
  const sub = subtitleOf(e, keyLabel(key), modes);
  const charts: ChartDef[] = [];
  const add = (kind: string, title: string, table: string, spec: Spec): void => {
    charts.push({ id: key.dir === '' ? kind : `${slug(key.dir)}--${kind}`, title, spec, table });
  };

  const serverRows = mine(d.servers);
  const serverTimeline = mine(d.serverTimeline);
  const servers = d.serverIds.filter((s) => serverRows.some((r) => r.server === s) || serverTimeline.some((r) => r.server === s));
  add('servers', 'Attempts per server', 'servers.csv', serverBarsSpec(
    serverRows.map(({ mode, server, requests, ok, errors, share }) => ({ mode, server, requests, ok, errors, share })), servers, modes, sub,
  ));
  add('latency', 'Latency percentiles', 'runs.csv', latencySpec(runs.flatMap((r) => latencyRows(r.mode, {
    mean: r.latencyMeanMs, p50: r.latencyP50Ms, p90: r.latencyP90Ms, p99: r.latencyP99Ms, max: r.latencyMaxMs,
  })), modes, sub));

  const fidelity = modes.length === 2 ? mine(d.fidelity) : null;
  if (fidelity) add('fidelity', 'Live vs sim: relative error', 'fidelity.csv', fidelitySpec(fidelity, sub));
  const full = e.proxy === 'fulcrum';

  const cdf = mine(d.cdf).map(({ mode, variant, quantile, latencyMs }) => ({ mode, variant, quantile, latencyMs }));
  if (full && cdf.length) add('cdf', 'Latency CDF', 'cdf.csv', cdfSpec(cdf, present(cdf), null, sub));
  const attempts = mine(d.attempts);
  if (full && attempts.some((r) => r.attempts > 1)) {
    add('attempts', 'Attempts per logical request', 'attempts.csv', attemptsSpec(
      attempts.map(({ mode, attempts: a, requests, share }) => ({ mode, attempts: a, requests, share })), present(attempts), sub,
    ));
  }

  const markers = e.markers.get(key.dir) ?? [];
  if (full && serverTimeline.length) {
    add('load-over-time', 'Attempts per server over time', 'timeline-servers.csv', loadOverTimeSpec(
      serverTimeline.map(({ mode, server, tS, attemptsPerSec }) => ({ mode, server, tS, attemptsPerSec })), servers, present(serverTimeline), markers, sub,
    ));
  }
  const timeline = mine(d.runTimeline);
  const timeModes = present(timeline);
  const failures = series(timeline, [['failed requests (client)', (r) => r.failedPerSec], ['failed attempts (servers)', (r) => r.attemptErrorsPerSec]]);
  if (failures.some((p) => p.value > 0) || (markers.length > 0 && failures.length > 0)) {
    add('failures-over-time', 'Failures over time', 'timeline-runs.csv', seriesOverTimeSpec(
      'Failures over time', 'failures per second (1/s)', failures, ['failed requests (client)', 'failed attempts (servers)'], timeModes, markers, sub,
    ));
  }
  const latency = series(timeline, [['p50', (r) => r.latencyP50Ms], ['p99', (r) => r.latencyP99Ms]]);
  if (full && latency.length) {
    add('latency-over-time', 'Latency over time', 'timeline-runs.csv', seriesOverTimeSpec(
      'Latency over time (by completion time)', 'latency (ms)', latency, ['p50', 'p99'], timeModes, markers, sub,
    ));
  }
  const routable = series(timeline, [['routable servers', (r) => r.routableServers]]);
  if (full && new Set(routable.map((p) => p.value)).size > 1) {
    add('routable-over-time', 'Routable servers over time', 'timeline-runs.csv', seriesOverTimeSpec(
      'Routable servers over time', 'routable servers (count)', routable, ['routable servers'], timeModes, markers, sub,
    ));
  }
  return { id: key.dir === '' ? 'run' : slug(key.dir), title: keyLabel(key) || 'Run', key, modes, missing: missingOf(modes), charts, fidelity };
}

function series(rows: readonly RunTimelineRow[], picks: Array<[string, (r: RunTimelineRow) => number | null]>): SeriesPoint[] {
  return rows.flatMap((r) => picks.flatMap(([name, get]) => {
    const value = get(r);
    return value === null ? [] : [{ mode: r.mode, series: name, tS: r.tS, value }];
  }));
}

function variantCharts(e: ExperimentResults, d: Derived, variants: string[]): ChartDef[] {
  const sub = subtitleOf(e, '', e.modes);
  const charts: ChartDef[] = [];
  const add = (kind: string, title: string, table: string, spec: Spec): void => { charts.push({ id: `variants-${kind}`, title, spec, table }); };
  const values = (metric: string, get: (r: RunRow) => number | null): VariantValue[] => d.runs.flatMap((r) => {
    const v = get(r);
    return r.variant !== '' && v !== null ? [{ variant: r.variant, mode: r.mode, metric, value: v }] : [];
  });
  const bars = (kind: string, chart: Omit<VariantChart, 'metrics'>, metrics: Array<[string, (r: RunRow) => number | null]>): void => {
    const rows = metrics.flatMap(([m, get]) => values(m, get));
    if (rows.length) add(kind, chart.title, 'runs.csv', variantBarsSpec({ ...chart, metrics: metrics.map(([m]) => m) }, rows, variants, present(rows), sub));
  };

  add('servers', 'Attempts per server, per variant', 'servers.csv', variantServersSpec(
    d.servers.filter((r) => r.variant !== '').map(({ variant, mode, server, requests }) => ({ variant, mode, server, requests })), variants, d.serverIds, e.modes, sub,
  ));
  bars('imbalance', { title: 'Load imbalance per variant', yTitle: 'value (ratio)', format: '.3f', independentY: true },
    [['max/mean (1 = even)', (r) => r.maxOverMean], ['Jain index (1 = even)', (r) => r.jain]]);
  // Stickiness only means something where a policy routes by client.
  if (d.runs.some((r) => AFFINITY_POLICIES.has(r.policy))) {
    bars('stickiness', { title: 'Stickiness per variant', yTitle: 'share', format: '.1%', axisFormat: '%' },
      [['sticky requests', (r) => r.stickiness], ['clients that changed server', (r) => r.clientsMoved]]);
  }
  bars('latency', { title: 'Latency per variant', yTitle: 'latency (ms)', format: '.1f' }, [['p50', (r) => r.latencyP50Ms], ['p99', (r) => r.latencyP99Ms]]);
  const cdf = d.cdf.filter((r) => r.variant !== '').map(({ mode, variant, quantile, latencyMs }) => ({ mode, variant, quantile, latencyMs }));
  if (e.proxy === 'fulcrum' && cdf.length) add('cdf', 'Latency CDF per variant', 'cdf.csv', cdfSpec(cdf, present(cdf), variants, sub));
  if (d.runs.some((r) => r.failed > 0)) {
    bars('failed', { title: 'Failed requests per variant', yTitle: 'failed requests (count)', format: ',d' }, [['failed requests', (r) => r.failed]]);
  }
  // Zoomed: 99.75 % against 100 % must be visible, so the axis does not start at 0.
  bars('success', { title: 'Success per variant', yTitle: 'requests answered ok (%)', format: '.2f', zoom: true }, [['success rate', (r) => r.successPct]]);
  bars('attempts', { title: 'Attempts per logical request, per variant', yTitle: 'attempts per request (mean)', format: '.3f' },
    [['attempts per request', (r) => r.attemptsPerRequest]]);
  return charts;
}

function sweepCharts(e: ExperimentResults, d: Derived, sweep: NonNullable<ExperimentResults['sweep']>): ChartDef[] {
  const sub = subtitleOf(e, '', e.modes);
  const variants = e.variants;
  const axis: SweepAxis = { path: sweep.path, values: sweep.values.map(scalarOf) };
  const charts: ChartDef[] = [];
  const points = d.runs.filter((r) => r.sweepValue !== null);
  const lines = (title: string, yTitle: string, metrics: Array<[string, (r: RunRow) => number | null]>, kind: string, independentY = false): void => {
    const rows = points.flatMap((r) => metrics.flatMap(([metric, get]) => {
      const v = get(r);
      return v === null ? [] : [{ value: r.sweepValue, mode: r.mode, variant: r.variant, metric, v }];
    }));
    charts.push({ id: `sweep-${kind}`, title, table: 'runs.csv', spec: sweepLinesSpec(title, yTitle, metrics.map(([m]) => m), rows, axis, present(rows), variants, sub, independentY) });
  };

  const serverPoints = d.servers.filter((r) => r.sweepValue !== null)
    .map(({ sweepValue, mode, variant, server, requests }) => ({ value: sweepValue, mode, variant, server, requests }));
  charts.push({
    id: 'sweep-servers', title: `Attempts per server vs ${sweep.path}`, table: 'servers.csv',
    spec: sweepServersSpec(serverPoints, axis, present(serverPoints), variants, sub),
  });
  lines(`Latency vs ${sweep.path}`, 'latency (ms)', [['p50', (r) => r.latencyP50Ms], ['p99', (r) => r.latencyP99Ms]], 'latency', true);
  lines(`Load imbalance vs ${sweep.path}`, 'value (ratio)', [['max/mean (1 = even)', (r) => r.maxOverMean], ['Jain index (1 = even)', (r) => r.jain]], 'imbalance', true);
  if (points.some((r) => r.failed > 0)) lines(`Success vs ${sweep.path}`, 'requests answered ok (%)', [['success rate', (r) => r.successPct]], 'success');
  return charts;
}
