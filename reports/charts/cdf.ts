// Latency CDF: the share of requests answered within x ms. Drawn from histogram quantiles,
// so it stays cheap for millions of requests. One line per engine (colour), one small chart per variant.
import type { Mode } from '../model.ts';
import { HEIGHT, type Json, type Spec, WIDTH, facetColumns, modeColour, topLevel } from './theme.ts';

export interface CdfPoint { mode: Mode; variant: string; quantile: number; latencyMs: number }

/** Log x when the tail is long compared with the body (p99.9 over 20 × median). */
export function wantsLogScale(rows: readonly CdfPoint[]): boolean {
  const at = (q: number): number => Math.max(...rows.filter((r) => r.quantile === q).map((r) => r.latencyMs), 0);
  const p50 = at(0.5);
  return p50 > 0 && at(0.999) / p50 > 20;
}

export function cdfSpec(rows: readonly CdfPoint[], modes: readonly Mode[], variants: readonly string[] | null, subtitle: string): Spec {
  const log = wantsLogScale(rows);
  const values = log ? rows.filter((r) => r.latencyMs > 0) : rows;
  const encoding: Json = {
    x: { field: 'latencyMs', type: 'quantitative', title: `latency (ms${log ? ', log scale' : ''})`, scale: log ? { type: 'log' } : { zero: true } },
    y: { field: 'quantile', type: 'quantitative', title: 'requests answered within x (share)', axis: { format: '%' }, scale: { domain: [0, 1] } },
    order: { field: 'quantile', type: 'quantitative' },
    tooltip: [{ field: 'mode', title: 'engine' }, ...(variants ? [{ field: 'variant' }] : []), { field: 'quantile', format: '.2%' }, { field: 'latencyMs', title: 'latency (ms)' }],
  };
  // Engine by colour everywhere; variants side by side, one small chart each, on shared axes.
  encoding.color = modeColour(modes);
  const mark = { type: 'line', strokeWidth: 2, tooltip: true };
  if (!variants) return topLevel('Latency CDF', subtitle, { width: WIDTH, height: HEIGHT, data: { values }, mark, encoding });
  const shown = variants.filter((v) => values.some((r) => r.variant === v));
  const columns = facetColumns(shown.length);
  return topLevel('Latency CDF per variant', subtitle, {
    data: { values },
    facet: { field: 'variant', type: 'nominal', title: null, sort: shown, header: { labelFontSize: 12 } },
    columns,
    spec: { width: Math.max(180, Math.floor(1050 / columns) - 60), height: 200, mark, encoding },
  });
}
