// Vertical rules with labels for faults and membership changes, layered over time charts.
import type { Marker } from '../model.ts';
import { type Json, MARKER_COLOUR } from './theme.ts';

/** `labels` false: rules only (small multiples, where repeated labels would crowd each panel). */
export function markerLayers(markers: readonly Marker[], labels = true): Json[] {
  if (markers.length === 0) return [];
  // Labels alternate between two rows so neighbouring markers (kill, then restart) stay legible.
  const values = markers.map((m, i) => ({ tS: m.tMs / 1000, label: m.label, labelY: (i % 2) * 14 }));
  const rule = {
    data: { values },
    mark: { type: 'rule', color: MARKER_COLOUR, strokeDash: [4, 3], strokeWidth: 1.5, tooltip: true },
    encoding: { x: { field: 'tS', type: 'quantitative' }, tooltip: [{ field: 'label', title: 'event' }, { field: 'tS', title: 'time (s)' }] },
  };
  if (!labels) return [rule];
  return [
    {
      data: { values },
      mark: { type: 'rule', color: MARKER_COLOUR, strokeDash: [4, 3], strokeWidth: 1.5 },
      encoding: { x: { field: 'tS', type: 'quantitative' } },
    },
    {
      data: { values },
      mark: { type: 'text', color: MARKER_COLOUR, align: 'left', baseline: 'top', dx: 3, dy: 2, angle: 0, fontSize: 11 },
      encoding: { x: { field: 'tS', type: 'quantitative' }, y: { field: 'labelY', type: 'quantitative', scale: null }, text: { field: 'label' } },
    },
  ];
}
