// Client-observed latency summary (mean, p50, p90, p99, max) for each engine, side by side.
import type { LatencySummary, Mode } from '../model.ts';
import { HEIGHT, type Spec, WIDTH, modeColour, topLevel } from './theme.ts';

export const LATENCY_STATS: ReadonlyArray<keyof LatencySummary> = ['mean', 'p50', 'p90', 'p99', 'max'];

export interface LatencyBar { mode: Mode; stat: string; latencyMs: number }

export function latencyRows(mode: Mode, l: LatencySummary): LatencyBar[] {
  return LATENCY_STATS.map((stat) => ({ mode, stat, latencyMs: l[stat] }));
}

export function latencySpec(rows: readonly LatencyBar[], modes: readonly Mode[], subtitle: string): Spec {
  const x = { field: 'stat', type: 'nominal', title: 'statistic', sort: [...LATENCY_STATS], axis: { labelAngle: 0 } };
  const xOffset = { field: 'mode', sort: [...modes] };
  return topLevel('Latency percentiles', subtitle, {
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    layer: [
      {
        mark: { type: 'bar', tooltip: true },
        encoding: { x, xOffset, y: { field: 'latencyMs', type: 'quantitative', title: 'latency (ms)' }, color: modeColour(modes, 'right') },
      },
      {
        mark: { type: 'text', baseline: 'bottom', dy: -2, fontSize: 10 },
        encoding: { x, xOffset, y: { field: 'latencyMs', type: 'quantitative' }, text: { field: 'latencyMs', format: '.3~f' } },
      },
    ],
  });
}
