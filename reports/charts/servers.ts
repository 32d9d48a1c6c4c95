// Attempts per server, sim and live side by side, with each engine's mean as a dashed rule:
// the A-1 picture (round robin over 3 servers should give three equal bars on the rule).
import type { Mode } from '../model.ts';
import { HEIGHT, type Spec, WIDTH, modeColour, topLevel } from './theme.ts';

export interface ServerBar { mode: Mode; server: string; requests: number; ok: number; errors: number; share: number }

export function serverBarsSpec(rows: readonly ServerBar[], servers: readonly string[], modes: readonly Mode[], subtitle: string): Spec {
  const labels = servers.length <= 12;
  const x = { field: 'server', type: 'nominal', title: 'server', sort: [...servers], axis: { labelAngle: 0 } };
  return topLevel('Attempts per server', subtitle, {
    width: Math.max(WIDTH, servers.length * modes.length * 14),
    height: HEIGHT,
    data: { values: rows },
    layer: [
      {
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x, xOffset: { field: 'mode', sort: [...modes] },
          y: { field: 'requests', type: 'quantitative', title: 'attempts received (count)' },
          color: modeColour(modes, 'right'),
          tooltip: [
            { field: 'server' }, { field: 'mode', title: 'engine' }, { field: 'requests', title: 'attempts' },
            { field: 'ok' }, { field: 'errors' }, { field: 'share', format: '.2%' },
          ],
        },
      },
      ...(labels ? [{
        mark: { type: 'text', baseline: 'bottom', dy: -2, fontSize: 10 },
        encoding: { x, xOffset: { field: 'mode', sort: [...modes] }, y: { field: 'requests', type: 'quantitative' }, text: { field: 'requests', format: ',d' } },
      }] : []),
      {
        mark: { type: 'rule', strokeDash: [5, 4], strokeWidth: 1.5 },
        encoding: { y: { aggregate: 'mean', field: 'requests', type: 'quantitative' }, color: modeColour(modes, 'right') },
      },
    ],
  });
}
