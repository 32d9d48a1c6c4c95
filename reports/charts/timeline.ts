// Time series of one run, sim and live on the same axes, with faults and membership changes
// as vertical rules: attempts per server, failures, latency, routable servers (the A-3 view).
import type { Marker, Mode } from '../model.ts';
import { markerLayers } from './markers.ts';
import { HEIGHT, type Json, type Spec, WIDTH, modeColour, topLevel } from './theme.ts';

/** Above this many servers one line per server is noise: the chart shows the total instead. */
export const MAX_SERVER_LINES = 10;

const X = { field: 'tS', type: 'quantitative', title: 'time since start (s)' };

function timeChart(title: string, subtitle: string, main: Json, markers: readonly Marker[]): Spec {
  return topLevel(title, subtitle, { width: WIDTH, height: HEIGHT, layer: [main, ...markerLayers(markers)] });
}

export interface LoadPoint { mode: Mode; server: string; tS: number; attemptsPerSec: number }

/** One small chart per server (stacked, shared time axis), engine by colour; the total when there are many servers. */
export function loadOverTimeSpec(rows: readonly LoadPoint[], servers: readonly string[], modes: readonly Mode[], markers: readonly Marker[], subtitle: string): Spec {
  const perServer = servers.length <= MAX_SERVER_LINES;
  const line = {
    mark: { type: 'line', strokeWidth: 1.5, interpolate: 'step-after', tooltip: true },
    encoding: {
      x: X,
      y: { field: 'attemptsPerSec', type: 'quantitative', title: perServer ? 'attempts/s' : 'attempts per second (1/s)', ...(perServer ? {} : { aggregate: 'sum' }) },
      color: modeColour(modes),
      tooltip: [{ field: 'mode', title: 'engine' }, ...(perServer ? [{ field: 'server' }] : []), { field: 'tS', title: 'time (s)' }, { field: 'attemptsPerSec', title: 'attempts/s' }],
    },
  };
  if (!perServer) return timeChart('Attempts over time (all servers)', subtitle, { data: { values: rows }, ...line }, markers);
  return topLevel('Attempts per server over time', subtitle, {
    data: { values: rows },
    facet: { row: { field: 'server', type: 'nominal', title: null, sort: [...servers], header: { labelAngle: 0, labelAlign: 'left', labelFontSize: 12 } } },
    spec: { width: WIDTH, height: Math.max(60, Math.min(110, Math.floor(420 / servers.length))), layer: [line, ...markerLayers(markers, false)] },
  });
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
