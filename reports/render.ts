// Vega-Lite spec → SVG (vega's headless View) → PNG (resvg, no browser). Without node-canvas
// vega estimates text widths instead of measuring them, which makes the SVG independent of
// the fonts installed: same spec, same bytes. Warnings from either library are collected,
// not printed, so the caller can report them with the chart's name.
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile } from 'vega-lite';
import type { Spec } from './charts/theme.ts';

/** PNGs are drawn at twice the SVG size, so they stay sharp on high-density screens. */
export const PNG_SCALE = 2;

interface Logger {
  level(): number;
  level(_: number): Logger;
  error(...args: readonly unknown[]): Logger;
  warn(...args: readonly unknown[]): Logger;
  info(...args: readonly unknown[]): Logger;
  debug(...args: readonly unknown[]): Logger;
}

function collectingLogger(warnings: string[]): Logger {
  const logger: Logger = {
    level: ((..._: unknown[]) => (_.length ? logger : vega.Warn)) as Logger['level'],
    error: (...args) => { throw new Error(args.map(String).join(' ')); },
    warn: (...args) => { warnings.push(args.map(String).join(' ')); return logger; },
    info: () => logger,
    debug: () => logger,
  };
  return logger;
}

export async function renderSvg(spec: Spec, warnings: string[] = []): Promise<string> {
  const logger = collectingLogger(warnings);
  const vg = compile(spec, { logger }).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none', logger } as vega.ViewOptions);
  try {
    return withTooltips(roundGeometry(await view.toSVG()));
  } finally {
    view.finalize();
  }
}

/**
 * Vega writes coordinates like 32.50000000000003: two decimals of a pixel are plenty and make
 * a sweep's page a third smaller. Only geometry attributes are touched, never text.
 */
export function roundGeometry(svg: string): string {
  return svg.replace(/ (d|transform|points|x|y|x1|x2|y1|y2|width|height)="([^"]*)"/g,
    (_whole: string, name: string, value: string) => ` ${name}="${value.replace(/(\d+\.\d\d)\d+/g, '$1')}"`);
}

/**
 * Hover tooltips with exact values and no JavaScript: vega-lite describes every mark in its
 * aria-label ("variant: original; engine: sim; value: 317"); that text moves into the mark's
 * SVG <title>, which browsers show on hover and screen readers read as the mark's name
 * (moved, not copied: a page of 100 charts stays small). PNGs ignore it.
 */
export function withTooltips(svg: string): string {
  return svg.replace(/<(path|rect|circle|line|text|g) aria-label="([^"]*)" (role="graphics-symbol"[^>]*?)(\/?)>/g,
    (_whole: string, tag: string, label: string, attrs: string, selfClosing: string) => (selfClosing
      ? `<${tag} ${attrs}><title>${label}</title></${tag}>`
      : `<${tag} ${attrs}><title>${label}</title>`));
}

export function renderPng(svg: string): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: PNG_SCALE },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}
