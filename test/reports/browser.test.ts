// The generated pages in a real browser: headless Chromium opens the index and every
// experiment page from disk (offline, file://), every chart the report lists is there as a
// drawn SVG, every local link resolves, and the console stays clean.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Manifest, buildReports } from '../../reports/build.ts';
import { EXPERIMENTS, scratchCopy } from './helpers.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REPO_REPORTS = join(REPO_ROOT, 'reports');

/** Debian's package; CI installs it with `apt-get install -y chromium` (see .ci/run). */
const CHROMIUM = '/usr/bin/chromium';

describe('report pages in headless Chromium', () => {
  let root = '';
  let remove = async (): Promise<void> => {};
  let browser: BrowserContext | undefined;
  let profile = '';

  beforeAll(async () => {
    // Fail, never skip: a report nobody opened in a browser is not tested.
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: install Debian's Chromium (apt-get update && apt-get install -y chromium) to run the browser test`);
    }
    ({ root, remove } = await scratchCopy());
    await buildReports([], { root, experimentsDir: EXPERIMENTS, png: true });
    profile = await mkdtemp(join(tmpdir(), 'fulcrum-chromium-'));
    // A fresh profile per run: playwright takes it as the persistent context's user-data-dir.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await remove();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  interface Layout { pageWidth: number; untitled: string[]; noAxisTitle: string[]; overlaps: string[] }
  interface PageCheck extends Layout { charts: number; drawn: number; empty: string[]; links: string[]; problems: string[] }

  /** The few DOM calls the page check makes: tsconfig has no DOM lib, and the callback runs in the page anyway. */
  interface DomElement {
    getAttribute(name: string): string | null;
    querySelector(selector: string): DomElement | null;
    querySelectorAll(selector: string): Iterable<DomElement> & { length: number };
    getBoundingClientRect(): { width: number; height: number; left: number; top: number; right: number; bottom: number };
    textContent: string | null;
    open?: boolean;
  }

  async function open(path: string, screenshot?: string): Promise<PageCheck> {
    const page = await browser!.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('request', (r) => { if (!r.url().startsWith('file:')) problems.push(`network request: ${r.url()}`); });
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: false });
    const result = await page.evaluate(() => {
      const document = (globalThis as unknown as { document: DomElement & { documentElement: { scrollWidth: number } } }).document;
      for (const d of document.querySelectorAll('details')) d.open = true; // folded sweep points are checked too
      const figures = [...document.querySelectorAll('figure.chart')];
      const empty: string[] = [];
      let drawn = 0;
      for (const f of figures) {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        const marks = svg?.querySelectorAll('.role-mark *').length ?? 0;
        if (svg && box && box.width > 50 && box.height > 50 && marks > 0) drawn++;
        else empty.push(f.getAttribute('data-chart') ?? '?');
      }
      const links = [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')!).filter((h) => !h.startsWith('#'));
      // Readability: a title on every chart, a title on every axis, no legend over marks or another legend.
      const untitled: string[] = [];
      const noAxisTitle: string[] = [];
      const overlaps: string[] = [];
      const hit = (a: { left: number; right: number; top: number; bottom: number }, b: typeof a): boolean =>
        a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
      for (const f of figures) {
        const id = f.getAttribute('data-chart') ?? '?';
        const svg = f.querySelector('svg');
        if (!svg) continue;
        if (!(svg.querySelector('.role-title-text')?.textContent ?? '').trim()) untitled.push(id);
        // Facets repeat their axes per cell and title them once: an x and a y title per chart.
        const axisTitles = [...svg.querySelectorAll('.role-axis-title')].filter((t) => (t.textContent ?? '').trim() !== '');
        if (svg.querySelectorAll('.role-axis').length > 0 && axisTitles.length < 2) noAxisTitle.push(id);
        const legends = [...svg.querySelectorAll('.role-legend')].map((l) => l.getBoundingClientRect()).filter((b) => b.width > 0);
        const texts = [...svg.querySelectorAll('.role-mark text')].map((t) => t.getBoundingClientRect()).filter((b) => b.width > 0);
        legends.forEach((l, i) => {
          if (legends.slice(i + 1).some((o) => hit(l, o))) overlaps.push(`${id}: two legends`);
          if (texts.some((t) => hit(l, t))) overlaps.push(`${id}: a value label under a legend`);
        });
      }
      return { charts: figures.length, drawn, empty, links, pageWidth: document.documentElement.scrollWidth, untitled, noAxisTitle, overlaps };
    });
    await page.close();
    return { ...result, problems };
  }

  /** A file git tracks (the README's chart PNGs among the otherwise ignored charts/). */
  function isTracked(path: string): boolean {
    return spawnSync('git', ['ls-files', '--error-unmatch', path], { cwd: REPO_ROOT, stdio: 'ignore' }).status === 0;
  }

  function missingLinks(page: string, links: string[]): string[] {
    return links.filter((href) => !/^[a-z]+:/.test(href) && !existsSync(join(dirname(page), href)));
  }

  it('every experiment page draws every chart its report.json lists, offline and without console errors', async () => {
    for (const name of ['a1', 'a2', 'a3', 'a6']) {
      const manifest = JSON.parse(await readFile(join(root, name, 'report.json'), 'utf8')) as Manifest;
      const path = join(root, name, 'index.html');
      const check = await open(path);
      expect(check.charts, name).toBe(manifest.charts.length);
      expect(check.drawn, `${name}: empty charts ${check.empty.join(', ')}`).toBe(manifest.charts.length);
      expect(check.problems, name).toEqual([]);
      expect(missingLinks(path, check.links), name).toEqual([]);
    }
  });

  it('the index lists every experiment and draws its headline chart', async () => {
    const path = join(root, 'index.html');
    const check = await open(path);
    expect(check.charts).toBe(4);
    expect(check.drawn).toBe(4);
    expect(check.problems).toEqual([]);
    expect(missingLinks(path, check.links)).toEqual([]);
    expect(check.links.filter((l) => l.endsWith('/index.html'))).toEqual(expect.arrayContaining(['a1/index.html', 'a2/index.html', 'a3/index.html', 'a6/index.html']));
  });

  it('the committed reports lead with their answer, fit a 1,280 px window, and every chart has a title, axis titles and a clear legend', async () => {
    // The repository's own reports/ (read, never written); FULCRUM_SCREENSHOTS=DIR keeps what a reader sees first.
    const shots = process.env.FULCRUM_SCREENSHOTS;
    for (const page of ['index.html', ...['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'calibration'].map((n) => `${n}/index.html`)]) {
      const path = join(REPO_REPORTS, page);
      const shot = shots && ['index.html', 'a3/index.html', 'a2/index.html'].includes(page) ? join(shots, `${page === 'index.html' ? 'index' : page.replace('/index.html', '')}.png`) : undefined;
      const check = await open(path, shot);
      expect(check.pageWidth, `${page} is wider than the window`).toBeLessThanOrEqual(1280);
      expect(check.untitled, `${page}: charts without a title`).toEqual([]);
      expect(check.noAxisTitle, `${page}: axes without a title`).toEqual([]);
      expect(check.overlaps, page).toEqual([]);
      expect(check.drawn, `${page}: empty charts ${check.empty.join(', ')}`).toBe(check.charts);
      expect(check.problems, page).toEqual([]);
      // charts/ is git-ignored (38 MB) and written by `npm run report`, except the PNGs the README
      // shows; the page inlines every chart, so only those download links may be absent in a clone.
      expect(missingLinks(path, check.links).filter((href) => !href.includes('charts/') || isTracked(join(dirname(path), href))), page).toEqual([]);
      const html = await readFile(path, 'utf8');
      expect(html.indexOf('class="answer"'), `${page} leads with its answer`).toBeGreaterThan(0);
      if (page !== 'index.html') expect(html.indexOf('class="answer"')).toBeLessThan(html.indexOf('<table class="runs"'));
    }
  });
});
