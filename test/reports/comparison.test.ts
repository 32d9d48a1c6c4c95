// The four-proxy page (reports/proxies.md and its section of reports/index.html): the same
// three questions asked of Fulcrum, HAProxy, NGINX and Caddy from whatever results exist,
// answers written from the numbers, and the agreed tolerances judged per run.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildReports } from '../../reports/build.ts';
import { type ComparisonInput, type QuestionBlock, comparisonBlocks, comparisonMarkdown } from '../../reports/comparison-page.ts';
import { compareRuns } from '../../reports/comparison.ts';
import { derive } from '../../reports/derive.ts';
import { loadExperimentProxies } from '../../reports/load.ts';
import { balanceWords } from '../../reports/proxy-words.ts';
import { PROXY_NAMES, type ProxyName } from '../../experiments/proxies.ts';
import { loadExperiment } from '../../experiments/schema.ts';
import { FOUR_PROXIES, type FakeResults, REAL_EXPERIMENTS, writeFakeResults } from './four-proxies.ts';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanup.map((f) => f()));
  cleanup = [];
});

async function blocksOf(results: FakeResults = FOUR_PROXIES): Promise<QuestionBlock[]> {
  const { root, remove } = await writeFakeResults(results);
  cleanup.push(remove);
  const inputs = new Map<string, ComparisonInput>();
  for (const name of Object.keys(results)) {
    const all = await loadExperimentProxies(name, { root, experimentsDir: REAL_EXPERIMENTS });
    inputs.set(name, { question: name, runs: all.flatMap((e) => compareRuns(e, derive(e))) });
  }
  return comparisonBlocks(inputs);
}

const block = (blocks: QuestionBlock[], id: string): QuestionBlock => blocks.find((b) => b.id === id)!;
const row = (b: QuestionBlock, variant: string, proxy: string): string[] | undefined =>
  b.rows.find((r) => r[0] === `\`${variant}\`` && r[1].startsWith(proxy));

describe('four proxies, three questions', () => {
  it('A-4: with its defaults NGINX sends every loopback client to one server under ip_hash, and the page says why', async () => {
    const a4 = block(await blocksOf(), 'A-4');
    expect(a4.answer.join('\n')).toMatch(/With its defaults, NGINX sends every client to one server \(s1 took 100 %\) under `ip_hash` \(variant `ip-hash`\): NGINX's `ip_hash` hashes only the first three octets/);
    // Predicted and measured side by side: 4,000 on s1 in both, every client stayed.
    expect(row(a4, 'ip-hash', 'NGINX')!.slice(2, 8)).toEqual(['4,000 / 0 / 0 / 0', '4,000 / 0 / 0 / 0', '4', '4', '100 %', '100 %']);
    expect(row(a4, 'ip-hash', 'NGINX')!.at(-1)).toMatch(/^counts exact ✓/);
  });

  it('A-4: a proxy that never used the server that joined is named with its own setting and the reason', async () => {
    const a4 = block(await blocksOf(), 'A-4');
    expect(a4.answer).toContain('Under `source map-based` (variant `ip-hash`), HAProxy sent no request to s4: under map-based `balance source` HAProxy 2.6 refuses `add server` at run time, so the server that joins never does.');
    expect(row(a4, 'ip-hash', 'HAProxy')![1]).toBe('HAProxy `source map-based`');
    expect(row(a4, 'ip-hash', 'HAProxy')![2]).toBe('1,722 / 1,232 / 1,046 / –');
    // One request moved between servers under round robin: counts must be exact, so it is outside.
    expect(row(a4, 'round-robin', 'HAProxy')!.at(-1)).toMatch(/^counts differ ✗/);
    expect(a4.tolerance).toMatch(/; outside: HAProxy `round-robin` counts differ ✗\.$/);
  });

  it('A-3: failures judged within ±20 %, a proxy with a prediction only, and the proxy that retried most', async () => {
    const a3 = block(await blocksOf(), 'A-3');
    expect(row(a3, 'original', 'Fulcrum')!.at(-1)).toBe('failed +5.7 % ✓');
    expect(row(a3, 'original', 'NGINX')!.at(-1)).toBe('failed +30 % ✗');
    expect(row(a3, 'original', 'Caddy')).toEqual(['`original`', 'Caddy `round_robin`', '310', '—', '0', '—', 'predicted only']);
    expect(a3.tolerance).toBe('Within the agreed tolerance: 5 of 6 checks; outside: NGINX `original` failed +30 % ✗.');
    expect(a3.missing).toEqual(['Caddy: predicted only (measure with `npm run live experiments/a3.json -- --proxy caddy`).']);
    const answer = a3.answer.join('\n');
    expect(answer).toContain('`original`: failed requests Fulcrum\'s proxy 335, HAProxy 322, NGINX 390, Caddy 310 (predicted).');
    expect(answer).toContain('With `retries` only Fulcrum\'s proxy, HAProxy and NGINX lost no request.');
    expect(answer).toMatch(/HAProxy retried most with `retries` \(476 against 290–377\): with `option redispatch`/);
    // Every variant is HAProxy's roundrobin, but they ask for one policy: nothing merged to report.
    expect(answer).not.toContain('run as');
  });

  it('A-5: p50/p99 per policy, the variant a proxy runs as another algorithm, and the policy far behind on every proxy', async () => {
    const a5 = block(await blocksOf(), 'A-5');
    expect(row(a5, 'peak-ewma', 'HAProxy')![1]).toBe('HAProxy `leastconn`');
    const answer = a5.answer.join('\n');
    expect(answer).toContain('Lowest p99 per proxy: Fulcrum\'s proxy 41.2 ms with `peak-ewma`; HAProxy 73.8 ms with `leastconn` (variant `peak-ewma`); NGINX 70 ms (predicted) with `least_conn` (variant `least-connections`).');
    expect(answer).toContain('On HAProxy, `least-connections` and `peak-ewma` both run as `leastconn`: one algorithm under 2 names.');
    expect(answer).toContain('`round-robin` is at least 10× the best p99 on every proxy');
    expect(a5.missing).toEqual([
      'NGINX: predicted only (measure with `npm run live experiments/a5.json -- --proxy nginx`).',
      'Caddy: no results yet (`npm run sim experiments/a5.json -- --proxy caddy`, then `npm run live experiments/a5.json -- --proxy caddy`).',
    ]);
    // NGINX ran two of the three variants the others ran.
    const partial = block(await blocksOf({ a5: { ...FOUR_PROXIES.a5, nginx: { 'round-robin': FOUR_PROXIES.a5.nginx!['round-robin'], 'least-connections': { sim: { servers: [1650, 1660, 690] }, live: { servers: [1650, 1660, 690] } } } } }), 'A-5');
    expect(partial.missing[0]).toBe('NGINX: no `peak-ewma` run (`npm run export experiments/a5.json -- --to nginx` names any setting it cannot express).');
  });

  it('takes every number from the result files: move NGINX\'s clients to s3 and the answer follows', async () => {
    const moved: FakeResults = { a4: { nginx: { 'ip-hash': { sim: { servers: [0, 0, 3990, 10] } } } } };
    const a4 = block(await blocksOf(moved), 'A-4');
    expect(a4.answer.join('\n')).toContain('NGINX sends nearly every client to one server (s3 took 99.8 %, predicted) under `ip_hash` (variant `ip-hash`)');
    // Below 99 % there is nothing to call out.
    const spread = block(await blocksOf({ a4: { nginx: { 'ip-hash': { sim: { servers: [0, 0, 3900, 100] } } } } }), 'A-4');
    expect(spread.answer.join('\n')).not.toContain('one server');
  });

  it('A-4: one server at a time — a reload re-hashes the single key onto another server — is called out too', async () => {
    const reloaded: FakeResults = { a4: { nginx: { 'ip-hash': { sim: { servers: [1651, 0, 2349, 0], oneAtATime: [2, 0] } } } } };
    const a4 = block(await blocksOf(reloaded), 'A-4');
    expect(a4.answer.join('\n')).toContain('NGINX sends every client to one server at a time (s3, then s1; 100 % of attempts went to the busiest server of their moment, predicted) under `ip_hash` (variant `ip-hash`): NGINX\'s `ip_hash` hashes only the first three octets');
    // Its idle s2 and s4 follow from that: not a finding of their own.
    expect(a4.answer.join('\n')).not.toContain('NGINX sent no request');
    // Spread over two servers in every moment: nothing to call out.
    const mixed = block(await blocksOf({ a4: { nginx: { 'ip-hash': { sim: { servers: [2000, 0, 2000, 0] } } } } }), 'A-4');
    expect(mixed.answer.join('\n')).not.toContain('one server');
  });

  it('renders with no results at all: each question says what is missing and how to make it', () => {
    const md = comparisonMarkdown(comparisonBlocks(new Map()));
    for (const name of ['a3', 'a4', 'a5']) expect(md).toContain(`No report for \`${name}\` yet.`);
    expect(md).not.toContain('| variant |');
    expect(md.match(/no results yet/g)).toHaveLength(12);
  });
});

describe('npm run report writes the comparison', () => {
  it('reports/proxies.md and the index section, byte-identical on a second run', async () => {
    const { root, remove } = await writeFakeResults();
    cleanup.push(remove);
    const opts = { root, experimentsDir: REAL_EXPERIMENTS, png: false };
    await buildReports([], opts);
    const md = await readFile(join(root, 'proxies.md'), 'utf8');
    const html = await readFile(join(root, 'index.html'), 'utf8');
    expect(md).toMatch(/^# Four proxies, three questions\n/);
    for (const id of ['A-3', 'A-4', 'A-5']) {
      expect(md).toContain(`## ${id} — `);
      expect(html).toContain(`<h3>${id} — `);
    }
    expect(html).toContain('<section id="four-proxies">');
    expect(html).toContain('<code>source map-based</code>');
    await buildReports([], opts);
    expect(await readFile(join(root, 'proxies.md'), 'utf8')).toBe(md);
    expect(await readFile(join(root, 'index.html'), 'utf8')).toBe(html);
  }, 120_000);
});

describe('each proxy\'s own words for a run', () => {
  it('come from its settings translation (a5 names each proxy\'s nearest to peak-EWMA)', async () => {
    const words = async (name: string, variant: string): Promise<Record<ProxyName, string | null>> => {
      const plan = await loadExperiment(join(REAL_EXPERIMENTS, `${name}.json`));
      const cfg = plan.runs.find((r) => r.dir === variant)!.config;
      return Object.fromEntries(PROXY_NAMES.map((p) => [p, balanceWords(p, cfg)])) as Record<ProxyName, string | null>;
    };
    expect(await words('a4', 'ip-hash')).toEqual({ fulcrum: null, haproxy: 'source map-based', nginx: 'ip_hash', caddy: 'ip_hash' });
    expect(await words('a4', 'round-robin')).toEqual({ fulcrum: null, haproxy: 'roundrobin', nginx: 'round-robin', caddy: 'round_robin' });
    // No proxy but Fulcrum's has peak-EWMA: a5 names each one's nearest.
    expect(await words('a5', 'peak-ewma')).toEqual({ fulcrum: null, haproxy: 'leastconn', nginx: 'least_conn', caddy: 'least_conn' });
  });
});
