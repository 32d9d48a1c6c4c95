// Variant comparisons (policies, retry on/off …): one bar per variant and engine, a panel per
// metric when a chart holds several (imbalance: max/mean and Jain). The views.
import type { Mode } from '../model.ts';
import { HEIGHT, type Json, type Spec, WIDTH, facetColumns, modeColour, topLevel } from './theme.ts';

export interface VariantValue { variant: string; mode: Mode; metric: string; value: number }

export interface VariantChart {
  title: string;
  yTitle: string;
  /** d3-format of the value labels. */
  format: string;
  /** Panel order; one panel per metric. */
  metrics: readonly string[];
  /** Own y scale per panel (different units). */
  independentY?: boolean;
  /** d3-format of the y axis labels. */
  axisFormat?: string;
  /** Let the y axis start near the smallest value instead of 0 (small differences near 100 %). */
  zoom?: boolean;
}

export function variantBarsSpec(c: VariantChart, rows: readonly VariantValue[], variants: readonly string[], modes: readonly Mode[], subtitle: string): Spec {
  const panelWidth = Math.max(160, Math.min(WIDTH, variants.length * modes.length * 28));
  const width = c.metrics.length === 1 ? Math.max(WIDTH, panelWidth) : panelWidth;
  // Vega estimates ~6.5 px per character at 11 px; tilt the names only when they would collide.
  const tilt = Math.max(...variants.map((v) => v.length)) * 6.5 > width / variants.length;
  const x = { field: 'variant', type: 'nominal', title: 'variant', sort: [...variants], axis: { labelAngle: tilt ? -30 : 0 } };
  const xOffset = { field: 'mode', sort: [...modes] };
  const y = {
    field: 'value', type: 'quantitative', title: c.yTitle,
    ...(c.axisFormat ? { axis: { format: c.axisFormat } } : {}),
    ...(c.zoom ? { scale: { zero: false, nice: true, padding: 8 } } : {}),
  };
  const layer: Json[] = [
    {
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x, xOffset, y, color: modeColour(modes, 'right'),
        tooltip: [{ field: 'variant' }, { field: 'mode', title: 'engine' }, { field: 'metric' }, { field: 'value', format: c.format }],
      },
    },
    {
      // Side-by-side sim and live bars are too narrow for horizontal labels: stand them up.
      mark: modes.length > 1
        ? { type: 'text', angle: -90, align: 'left', baseline: 'middle', dx: 3, fontSize: 10 }
        : { type: 'text', baseline: 'bottom', dy: -2, fontSize: 10 },
      encoding: { x, xOffset, y: { field: 'value', type: 'quantitative' }, text: { field: 'value', format: c.format } },
    },
  ];
  if (c.metrics.length === 1) return topLevel(c.title, subtitle, { width, height: HEIGHT, data: { values: rows }, layer });
  return topLevel(c.title, subtitle, {
    data: { values: rows },
    facet: { column: { field: 'metric', type: 'nominal', title: null, sort: [...c.metrics], header: { labelFontSize: 12 } } },
    spec: { width: panelWidth, height: HEIGHT, layer },
    ...(c.independentY ? { resolve: { scale: { y: 'independent' } } } : {}),
  });
}

export interface VariantServerBar { variant: string; mode: Mode; server: string; requests: number }

export function variantServersSpec(rows: readonly VariantServerBar[], variants: readonly string[], servers: readonly string[], modes: readonly Mode[], subtitle: string): Spec {
  return topLevel('Attempts per server, per variant', subtitle, {
    data: { values: rows },
    facet: { field: 'variant', type: 'nominal', title: null, sort: [...variants], header: { labelFontSize: 12 } },
    columns: facetColumns(variants.length),
    spec: {
      width: Math.max(150, servers.length * modes.length * 12),
      height: 180,
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x: { field: 'server', type: 'nominal', title: 'server', sort: [...servers], axis: { labelAngle: 0 } },
        xOffset: { field: 'mode', sort: [...modes] },
        y: { field: 'requests', type: 'quantitative', title: 'attempts (count)' },
        color: modeColour(modes),
        tooltip: [{ field: 'variant' }, { field: 'server' }, { field: 'mode', title: 'engine' }, { field: 'requests', title: 'attempts' }],
      },
    },
  });
}
