// The same question put to every proxy: the answer's metric per run, engine and proxy, as one
// table (tables/proxies.csv) and one chart (a panel per proxy, sim and live side by side), so
// Fulcrum's prediction and measurement sit next to HAProxy's on the same axes.
import type { ProxyName } from '../experiments/proxies.ts';
import { labelOf } from './answer.ts';
import { variantBarsSpec } from './charts/variants.ts';
import { METRICS, roundTo, scalarOf } from './derive.ts';
import { type ExperimentResults, MODES, type Mode, type RunKey, keyLabel, runOf } from './model.ts';
import type { ChartDef } from './plan.ts';
import { PROXY_LABELS } from './proxies.ts';

export interface ProxyCompareRow {
  run: string;
  variant: string;
  sweepValue: string | number | boolean | null;
  proxy: ProxyName;
  mode: Mode;
  metric: string;
  unit: string;
  value: number;
}

/** What the comparison shows without an "answer": the two numbers every experiment has. */
export const DEFAULT_COMPARE_METRICS = ['failed', 'latency mean'];

/** Every run key of any proxy: the first proxy's order, then keys only another proxy has. */
export function keysOfAll(all: readonly ExperimentResults[]): RunKey[] {
  const keys: RunKey[] = [];
  for (const e of all) for (const k of e.keys) if (!keys.some((x) => x.dir === k.dir)) keys.push(k);
  return keys;
}

export function proxyCompareRows(all: readonly ExperimentResults[], metrics: readonly string[]): ProxyCompareRow[] {
  const rows: ProxyCompareRow[] = [];
  for (const name of metrics) {
    const m = METRICS.find((x) => x.name === name)!;
    for (const k of keysOfAll(all)) {
      for (const e of all) {
        for (const mode of MODES) {
          const r = runOf(e, k, mode);
          const v = r ? m.get(r) : null;
          if (v === null) continue;
          rows.push({
            run: keyLabel(k) || 'run', variant: k.variant ?? '', sweepValue: k.point ? scalarOf(k.point.value) : null,
            proxy: e.proxy, mode, metric: m.name, unit: m.unit, value: roundTo(v, m.digits),
          });
        }
      }
    }
  }
  return rows;
}

const FORMATS: Record<string, string> = { count: ',d', ms: '.1f', ratio: '.3f', '%': '.2f', 'req/s': '.1f' };

/**
 * One chart for the first metric: runs on x, sim and live side by side, a panel per proxy on
 * one y scale. None when every value is 0 (no failures anywhere): the table says it better.
 */
export function proxyCompareChart(all: readonly ExperimentResults[], rows: readonly ProxyCompareRow[]): ChartDef | null {
  const metric = rows[0]?.metric;
  const mine = rows.filter((r) => r.metric === metric);
  if (metric === undefined || mine.every((r) => r.value === 0)) return null;
  const unit = mine[0].unit;
  const runs = keysOfAll(all).map((k) => keyLabel(k) || 'run').filter((run) => mine.some((r) => r.run === run));
  const proxies = all.map((e) => PROXY_LABELS[e.proxy]);
  const modes = MODES.filter((m) => mine.some((r) => r.mode === m));
  const label = labelOf(metric);
  const title = `${label.charAt(0).toUpperCase()}${label.slice(1)} on each proxy`;
  const spec = variantBarsSpec(
    { title, yTitle: `${metric} (${unit})`, format: FORMATS[unit] ?? '.3f', metrics: proxies },
    mine.map((r) => ({ variant: r.run, mode: r.mode, metric: PROXY_LABELS[r.proxy], value: r.value })),
    runs, modes, `${all[0].name} · ${proxies.join(' vs ')}`,
  );
  return { id: 'proxies', title, spec, table: 'proxies.csv' };
}
