// One look for every chart: fonts, sizes, and the colours that mean the same thing on every
// page (sim is always blue, live always orange; a server keeps its colour across charts).
import type { TopLevelSpec } from 'vega-lite';
import type { Mode } from '../model.ts';

export const MODE_COLOURS: Record<Mode, string> = { sim: '#4c78a8', live: '#f58518' };
/** Tableau 10, cycled: servers and variants. */
export const CATEGORY_COLOURS = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
];
export const MARKER_COLOUR = '#555555';

/** Font list both the browser and resvg resolve; text widths are estimated by vega, not measured. */
export const FONT = 'Helvetica, Arial, "Liberation Sans", "DejaVu Sans", sans-serif';

export const WIDTH = 520;
export const HEIGHT = 260;

export const CONFIG = {
  font: FONT,
  background: 'white',
  padding: 8,
  view: { stroke: '#dddddd' },
  title: { fontSize: 15, subtitleFontSize: 12, subtitleColor: '#555555', anchor: 'start', offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eeeeee' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320 },
} as const;

export type Spec = TopLevelSpec;
// vega-lite's spec types are deep unions; builders assemble plain objects and cast once here.
export type Json = Record<string, unknown>;

export function topLevel(title: string, subtitle: string, body: Json): Spec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: subtitle ? { text: title, subtitle } : { text: title },
    config: CONFIG,
    ...body,
  } as unknown as Spec;
}

/** `legend: 'right'` where value labels stand above the bars and would run into a top legend. */
export function modeColour(modes: readonly Mode[], legend: 'top' | 'right' = 'top'): Json {
  return {
    field: 'mode', type: 'nominal', title: 'engine',
    scale: { domain: [...modes], range: modes.map((m) => MODE_COLOURS[m]) },
    legend: { orient: legend },
  };
}

export function categoryColour(field: string, title: string, domain: readonly string[]): Json {
  return {
    field, type: 'nominal', title, sort: [...domain],
    scale: { domain: [...domain], range: domain.map((_, i) => CATEGORY_COLOURS[i % CATEGORY_COLOURS.length]) },
    legend: { orient: 'right' },
  };
}

/** Columns for n small multiples with no empty cell: all in one row up to 5, else a divisor of n. */
export function facetColumns(n: number): number {
  if (n <= 5) return n;
  for (const c of [4, 3, 5]) if (n % c === 0) return c;
  return n <= 8 ? n : 4;
}

/** Solid for sim, dashed for live, when colour already means something else. */
export function modeDash(modes: readonly Mode[]): Json {
  const dash: Record<Mode, number[]> = { sim: [1, 0], live: [6, 3] };
  return { field: 'mode', type: 'nominal', title: 'engine', scale: { domain: [...modes], range: modes.map((m) => dash[m]) }, legend: { orient: 'top' } };
}
