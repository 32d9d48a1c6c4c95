// Every planned chart compiles with vega-lite and renders headless to an SVG with the marks
// and titles it should have, without vega warnings; PNGs are real PNGs at twice the size.
import { describe, expect, it } from 'vitest';
import { derive } from '../../reports/derive.ts';
import { loadExperimentResults } from '../../reports/load.ts';
import { type Section, planSections } from '../../reports/plan.ts';
import { PNG_SCALE, renderPng, renderSvg } from '../../reports/render.ts';
import { fixtureOptions } from './helpers.ts';

async function sections(name: string): Promise<Section[]> {
  const e = await loadExperimentResults(name, fixtureOptions);
  return planSections(e, derive(e));
}

const ids = (s: Section[]): string[] => s.flatMap((x) => x.charts.map((c) => c.id));

describe('chart plan (what gets drawn is decided by the data)', () => {
  it('a1, one run in both modes: bars, latency, fidelity, CDF, attempts and time series', async () => {
    expect(ids(await sections('a1'))).toEqual([
      'servers', 'latency', 'fidelity', 'cdf', 'attempts', 'load-over-time', 'failures-over-time', 'latency-over-time',
    ]);
  });

  it('a2, a sweep in sim only: sweep charts first, then bars and latency per point, no fidelity', async () => {
    const s = await sections('a2');
    expect(s[0].charts.map((c) => c.id)).toEqual(['sweep-servers', 'sweep-latency', 'sweep-imbalance']);
    expect(s.slice(1).map((x) => x.charts.map((c) => c.id.split('--')[1]))).toEqual([['servers', 'latency'], ['servers', 'latency'], ['servers', 'latency']]);
    expect(s.every((x) => x.missing.includes('live'))).toBe(true);
  });

  it('a3, variants: comparisons (failed requests, no stickiness without an affinity policy), then per variant; routable servers only where it changes', async () => {
    const s = await sections('a3');
    expect(s[0].charts.map((c) => c.id)).toEqual([
      'variants-servers', 'variants-imbalance', 'variants-latency', 'variants-cdf', 'variants-failed', 'variants-success', 'variants-attempts',
    ]);
    expect(ids([s[2]])).toContain('retry--routable-over-time');
    expect(ids([s[2]])).toContain('retry--attempts');
    expect(ids([s[1]])).not.toContain('no-retry--attempts');
  });
});

describe('rendering', () => {
  it('renders every fixture chart to SVG with its title and no vega warnings', async () => {
    for (const name of ['a1', 'a2', 'a3', 'a6']) {
      for (const chart of (await sections(name)).flatMap((s) => s.charts)) {
        const warnings: string[] = [];
        const svg = await renderSvg(chart.spec, warnings);
        expect(svg, chart.id).toMatch(/^<svg [^>]*width="\d+" height="\d+"/);
        expect(svg, chart.id).toContain(chart.title.replace(/&/g, '&amp;').split(':')[0]);
        expect(svg, chart.id).toMatch(/role-mark/);
        expect(warnings, `${name} ${chart.id}`).toEqual([]);
      }
    }
  });

  it('draws the expected marks: grouped bars, the mean rule, labels; kill and restart rules on time charts', async () => {
    const a1 = (await sections('a1')).flatMap((s) => s.charts);
    const bars = await renderSvg(a1.find((c) => c.id === 'servers')!.spec);
    // One bar per server and engine, a value label on each, and each engine's mean as a rule.
    expect(bars.match(/<title>server: s\d; attempts received \(count\): \d+; mode: (sim|live)/g)).toHaveLength(6);
    expect(bars).toContain('<title>server: s1; attempts received (count): 5; mode: sim');
    expect(bars).toContain('class="mark-rect role-mark');
    expect(bars).toContain('class="mark-text role-mark');
    expect(bars).toContain('class="mark-rule role-mark');
    expect(bars).toContain('attempts received (count)');
    // Hover tooltips offline: each bar's description is also its <title>, exact value included.
    expect(bars).toMatch(/<path role="graphics-symbol"[^>]*><title>server: s1; attempts received \(count\): 5; mode: sim[^<]*<\/title><\/path>/);

    const a3 = (await sections('a3')).flatMap((s) => s.charts);
    const failures = await renderSvg(a3.find((c) => c.id === 'no-retry--failures-over-time')!.spec);
    expect(failures).toContain('mark-line');
    expect(failures).toContain('>kill s2<');
    expect(failures).toContain('>restart s2<');
    expect(failures).toContain('time since start (s)');

    const cdf = await renderSvg(a3.find((c) => c.id === 'variants-cdf')!.spec);
    expect(cdf).toContain('requests answered within x (share)');
    // Engine by colour, variants by panel: only the two engine colours draw lines.
    expect(new Set(cdf.match(/class="mark-line[\s\S]*?stroke="(#[0-9a-f]{6})"/g)?.map((m) => m.slice(-8, -1)))).toEqual(new Set(['#4c78a8']));
  });

  it('writes PNGs with the PNG signature at twice the SVG size', async () => {
    const chart = (await sections('a1'))[0].charts[0];
    const svg = await renderSvg(chart.spec);
    const [, w, h] = svg.match(/^<svg [^>]*width="(\d+)" height="(\d+)"/)!.map(Number);
    const png = renderPng(svg);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(w * PNG_SCALE);
    expect(png.readUInt32BE(20)).toBe(h * PNG_SCALE);
    expect(png.length).toBeGreaterThan(10_000);
  });
});
