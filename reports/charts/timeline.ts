// Time series of one run, sim and live on the same axes, with faults and membership changes
// as vertical rules: attempts per server, failures, latency, routable servers (the A-3 view).
import type { Marker, Mode } from '../model.ts';
import { markerLayers } from './markers.ts';
import { HEIGHT, type Json, type Spec, WIDTH, categoryColour, modeColour, modeDash, topLevel } from './theme.ts';

/** Above this many servers one line per server is noise: the chart shows the total instead. */
export const MAX_SERVER_LINES = 10;

const X = { field: 'tS', type: 'quantitative', title: 'time since start (s)' };

function timeChart(title: string, subtitle: string, main: Json, markers: readonly Marker[]): Spec {
  return topLevel(title, subtitle, { width: WIDTH, height: HEIGHT, layer: [main, ...markerLayers(markers)] });
}

export interface LoadPoint { mode: Mode; server: string; tS: number; attemptsPerSec: number }

export function loadOverTimeSpec(rows: readonly LoadPoint[], servers: readonly string[], modes: readonly Mode[], markers: readonly Marker[], subtitle: string): Spec {
  const perServer = servers.length <= MAX_SERVER_LINES;
  const encoding: Json = {
    x: X,
    y: { field: 'attemptsPerSec', type: 'quantitative', title: 'attempts per second (1/s)', ...(perServer ? {} : { aggregate: 'sum' }) },
    strokeDash: modeDash(modes),
    ...(perServer ? { color: categoryColour('server', 'server', servers) } : { color: modeColour(modes) }),
    detail: { field: 'mode' },
  };
  return timeChart(perServer ? 'Attempts per server over time' : 'Attempts over time (all servers)', subtitle, {
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 1.5, interpolate: 'step-after' },
    encoding,
  }, markers);
}

export interface SeriesPoint { mode: Mode; series: string; tS: number; value: number }

/** Lines coloured by engine, dashed by series: failures (client vs server side) or latency (p50 vs p99). */
export function seriesOverTimeSpec(
  title: string, yTitle: string, rows: readonly SeriesPoint[], series: readonly string[], modes: readonly Mode[],
  markers: readonly Marker[], subtitle: string,
): Spec {
  const dashes = [[1, 0], [6, 3], [2, 2], [8, 2, 2, 2]];
  return timeChart(title, subtitle, {
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 1.5, interpolate: 'step-after', tooltip: true },
    encoding: {
      x: X,
      y: { field: 'value', type: 'quantitative', title: yTitle },
      color: modeColour(modes),
      strokeDash: {
        field: 'series', type: 'nominal', title: null, sort: [...series], legend: { orient: 'top' },
        scale: { domain: [...series], range: series.map((_, i) => dashes[i % dashes.length]) },
      },
      tooltip: [{ field: 'mode', title: 'engine' }, { field: 'series' }, { field: 'tS', title: 'time (s)' }, { field: 'value', title: yTitle }],
    },
  }, markers);
}
