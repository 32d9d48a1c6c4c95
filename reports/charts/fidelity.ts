// How far live landed from sim, metric by metric: relative error (live − sim) / |sim| in %.
// The ±10 % rules are a reading aid, not a pass mark.
import type { FidelityRow } from '../derive.ts';
import { type Spec, WIDTH, topLevel } from './theme.ts';

export const FIDELITY_GUIDE_PCT = 10;

export function fidelitySpec(rows: readonly FidelityRow[], subtitle: string): Spec {
  const values = rows.filter((r) => r.relErrorPct !== null).map((r) => ({
    metric: `${r.metric} (${r.unit})`, relErrorPct: r.relErrorPct, sim: r.sim, live: r.live,
  }));
  const metrics = values.map((v) => v.metric);
  const guides = [-FIDELITY_GUIDE_PCT, 0, FIDELITY_GUIDE_PCT].map((x) => ({ x }));
  return topLevel('Live vs sim: relative error per metric', subtitle, {
    width: WIDTH,
    height: Math.max(120, metrics.length * 18),
    layer: [
      {
        data: { values },
        mark: { type: 'bar', tooltip: true, color: '#6b7f99' },
        encoding: {
          y: { field: 'metric', type: 'nominal', title: 'metric (unit)', sort: metrics, axis: { labelLimit: 260 } },
          x: { field: 'relErrorPct', type: 'quantitative', title: '(live − sim) / sim (%)' },
          tooltip: [{ field: 'metric' }, { field: 'sim' }, { field: 'live' }, { field: 'relErrorPct', title: 'relative error (%)', format: '+.2f' }],
        },
      },
      {
        data: { values: guides },
        mark: { type: 'rule', color: '#999999' },
        encoding: { x: { field: 'x', type: 'quantitative' }, strokeDash: { condition: { test: 'datum.x !== 0', value: [4, 3] }, value: [1, 0] } },
      },
    ],
  });
}
