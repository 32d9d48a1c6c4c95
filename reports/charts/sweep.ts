// Sweep charts: a metric against the swept value (A-2: attempts per server as servers.count
// grows from 2 to 6). Each server is a dot, the mean per server a line; engine by colour
// (sim blue, live orange) and, when the sweep runs for several variants, one small chart each.
import type { Mode } from '../model.ts';
import { HEIGHT, type Json, type Spec, WIDTH, modeColour, topLevel } from './theme.ts';

export interface SweepAxis {
  path: string;
  /** Values in file order; a quantitative axis when all are numbers. */
  values: ReadonlyArray<string | number | boolean | null>;
}

function xOf(axis: SweepAxis): Json {
  const numeric = axis.values.every((v) => typeof v === 'number');
  return numeric
    ? { field: 'value', type: 'quantitative', title: axis.path, scale: { zero: false }, axis: { tickMinStep: 1 } }
    : { field: 'value', type: 'ordinal', title: axis.path, sort: axis.values.map(String), axis: { labelAngle: 0 } };
}

/** Engine by colour; several variants become a row of small charts, one per variant. */
function byVariant(variants: readonly string[] | null): Json {
  return variants ? { row: { field: 'variant', type: 'nominal', title: null, sort: [...variants], header: { labelFontSize: 12, labelAngle: 0, labelAlign: 'left' } } } : {};
}

export interface SweepServerPoint { value: string | number | boolean | null; mode: Mode; variant: string; server: string; requests: number }

export function sweepServersSpec(rows: readonly SweepServerPoint[], axis: SweepAxis, modes: readonly Mode[], variants: readonly string[] | null, subtitle: string): Spec {
  const x = xOf(axis);
  const color = modeColour(modes);
  const layer = [
      {
        mark: { type: 'point', filled: true, opacity: 0.6, size: 40, tooltip: true },
        encoding: {
          x, y: { field: 'requests', type: 'quantitative', title: 'attempts per server (count)' },
          color,
          tooltip: [{ field: 'value', title: axis.path }, { field: 'mode', title: 'engine' }, ...(variants ? [{ field: 'variant' }] : []), { field: 'server' }, { field: 'requests', title: 'attempts' }],
        },
      },
      {
        mark: { type: 'line', strokeWidth: 2 },
        encoding: { x, y: { aggregate: 'mean', field: 'requests', type: 'quantitative' }, color },
      },
  ];
  const title = `Attempts per server vs ${axis.path}`;
  if (!variants) return topLevel(title, subtitle, { width: WIDTH, height: HEIGHT, data: { values: rows }, layer });
  return topLevel(title, subtitle, {
    data: { values: rows },
    facet: { column: { field: 'variant', type: 'nominal', title: null, sort: [...variants], header: { labelFontSize: 12 } } },
    spec: { width: 300, height: 200, layer },
  });
}

export interface SweepMetricPoint { value: string | number | boolean | null; mode: Mode; variant: string; metric: string; v: number }

/** One line per engine (and variant) per panel; one panel per metric. */
export function sweepLinesSpec(
  title: string, yTitle: string, metrics: readonly string[], rows: readonly SweepMetricPoint[], axis: SweepAxis,
  modes: readonly Mode[], variants: readonly string[] | null, subtitle: string, independentY = false,
): Spec {
  const layer = [{
    mark: { type: 'line', point: true, strokeWidth: 2, tooltip: true },
    encoding: {
      x: xOf(axis), y: { field: 'v', type: 'quantitative', title: yTitle }, color: modeColour(modes),
      tooltip: [{ field: 'value', title: axis.path }, { field: 'mode', title: 'engine' }, ...(variants ? [{ field: 'variant' }] : []), { field: 'metric' }, { field: 'v', title: yTitle }],
    },
  }];
  if (metrics.length === 1 && !variants) return topLevel(title, subtitle, { width: WIDTH, height: HEIGHT, data: { values: rows }, layer });
  return topLevel(title, subtitle, {
    data: { values: rows },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: [...metrics], header: { labelFontSize: 12 } }, ...byVariant(variants) },
    spec: { width: metrics.length === 1 ? WIDTH : 300, height: variants ? 160 : HEIGHT, layer },
    ...(independentY ? { resolve: { scale: { y: 'independent' } } } : {}),
  });
}
