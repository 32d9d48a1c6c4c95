// Latency CDF: the share of requests answered within x ms. Drawn from histogram quantiles,
// so it stays cheap for millions of requests. One line per engine, or per variant × engine.
import type { Mode } from '../model.ts';
import { HEIGHT, type Json, type Spec, WIDTH, categoryColour, modeColour, modeDash, topLevel } from './theme.ts';

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
  if (variants) {
    encoding.color = categoryColour('variant', 'variant', variants);
    encoding.strokeDash = modeDash(modes);
    encoding.detail = { field: 'mode' };
  } else {
    encoding.color = modeColour(modes);
  }
  return topLevel(variants ? 'Latency CDF per variant' : 'Latency CDF', subtitle, {
    width: WIDTH,
    height: HEIGHT,
    data: { values },
    mark: { type: 'line', strokeWidth: 2, tooltip: true },
    encoding,
  });
}
