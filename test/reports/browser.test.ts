// The generated pages in a real browser: headless Chromium opens the index and every
// experiment page from disk (offline, file://), every chart the report lists is there as a
// drawn SVG, every local link resolves, and the console stays clean.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Manifest, buildReports } from '../../reports/build.ts';
import { EXPERIMENTS, scratchCopy } from './helpers.ts';

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

  interface PageCheck { charts: number; drawn: number; empty: string[]; links: string[]; problems: string[] }

  /** The few DOM calls the page check makes: tsconfig has no DOM lib, and the callback runs in the page anyway. */
  interface DomElement {
    getAttribute(name: string): string | null;
    querySelector(selector: string): DomElement | null;
    querySelectorAll(selector: string): Iterable<DomElement> & { length: number };
    getBoundingClientRect(): { width: number; height: number };
  }

  async function open(path: string): Promise<PageCheck> {
    const page = await browser!.newPage();
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('request', (r) => { if (!r.url().startsWith('file:')) problems.push(`network request: ${r.url()}`); });
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
    const result = await page.evaluate(() => {
      const document = (globalThis as unknown as { document: DomElement }).document;
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
      return { charts: figures.length, drawn, empty, links };
    });
    await page.close();
    return { ...result, problems };
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
});
