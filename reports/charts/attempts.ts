// Attempts per logical request (1 = answered first time; more = retried elsewhere), as the
// share of requests, per engine: what a retry policy costs the servers behind it.
import type { Mode } from '../model.ts';
import { HEIGHT, type Spec, WIDTH, modeColour, topLevel } from './theme.ts';

export interface AttemptsBar { mode: Mode; attempts: number; requests: number; share: number }

export function attemptsSpec(rows: readonly AttemptsBar[], modes: readonly Mode[], subtitle: string): Spec {
  const x = { field: 'attempts', type: 'ordinal', title: 'attempts per request', axis: { labelAngle: 0 } };
  const xOffset = { field: 'mode', sort: [...modes] };
  return topLevel('Attempts per logical request', subtitle, {
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    layer: [
      {
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x, xOffset, color: modeColour(modes, 'right'),
          y: { field: 'share', type: 'quantitative', title: 'share of requests', axis: { format: '%' } },
          tooltip: [{ field: 'mode', title: 'engine' }, { field: 'attempts' }, { field: 'requests' }, { field: 'share', format: '.3%' }],
        },
      },
      {
        mark: { type: 'text', baseline: 'bottom', dy: -2, fontSize: 10 },
        encoding: { x, xOffset, y: { field: 'share', type: 'quantitative' }, text: { field: 'requests', format: ',d' } },
      },
    ],
  });
}
