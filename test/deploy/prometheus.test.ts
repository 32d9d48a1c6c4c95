// The proxy's and the replicas' /metrics as the real Prometheus reads them (Debian's
// `prometheus` and `promtool`, installed by `npm run test:setup`): promtool accepts both
// expositions and the rules; then a Prometheus started on loopback with a scrape config built
// from live/deploy/compose/prometheus.yml scrapes a real proxy and three replica processes
// while traffic flows (one replica answers 503, so there are retries, an ejection and an
// unhealthy backend), and its HTTP API must show each per-backend series with the labels and
// the values the replicas' own request logs prove, every Grafana panel query must return
// data, and the recording and alerting rules must evaluate.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { RunningProxy } from '../../live/proxy/start.ts';
import type { SpawnedReplica } from '../../server/spawn.ts';
import { type DnsStub, startDnsStub } from '../live/dns-stub.ts';
import { ADMIN_TOKEN, admin, proxy, replicas, send, waitFor } from '../live/helpers.ts';

const run = promisify(execFile);
const RULES = 'live/deploy/prometheus/rules.yml';
const RULES_TEST = 'live/deploy/prometheus/rules.test.yml';
const DASHBOARD = 'live/deploy/compose/grafana/dashboards/fulcrum-proxy.json';

/** True when prometheus and promtool are installed; throws when CI requires them (FULCRUM_REQUIRE_PROMETHEUS=1). */
async function prometheusInstalled(): Promise<boolean> {
  try {
    await run('prometheus', ['--version']);
    await run('promtool', ['--version']);
    return true;
  } catch (err) {
    const message = `prometheus and promtool are required (npm run test:setup installs Debian's prometheus): ${(err as Error).message}`;
    if (process.env.FULCRUM_REQUIRE_PROMETHEUS === '1') throw new Error(message);
    console.warn(`Prometheus tests skipped: ${message}`);
    return false;
  }
}

/** promtool with stdin; resolves to its exit code and output, whatever the code. */
function promtool(args: string[], stdin = ''): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(stdin);
  });
}

async function text(url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await request(url, { headers });
  expect(res.statusCode).toBe(200);
  return res.body.text();
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Sample { metric: Record<string, string>; value: [number, string] }

const installed = await prometheusInstalled();

describe.runIf(installed)('promtool', () => {
  it('accepts the proxy\'s and a replica\'s /metrics (no gauge named like a counter)', async () => {
    const [r] = await replicas(1);
    const p = await proxy({ backends: [{ url: r.url }] });
    await send(`${p.url}/home`);
    for (const [who, exposition] of [
      ['proxy', await text(`${p.adminUrl}/metrics`, { authorization: `Bearer ${ADMIN_TOKEN}` })],
      ['replica', await text(`${r.url}/metrics`)],
    ]) {
      expect(exposition, who).toMatch(/^fulcrum_(replica_)?process_cpu_seconds_total/m);
      expect(await promtool(['check', 'metrics'], exposition), who).toEqual({ code: 0, output: '' });
    }
  });

  it('rules.yml is valid and passes its unit tests (rules.test.yml)', async () => {
    const check = await promtool(['check', 'rules', RULES]);
    expect(check.output).toContain('SUCCESS');
    expect(check.code).toBe(0);
    const unit = await promtool(['test', 'rules', RULES_TEST]);
    expect(unit.output).toContain('SUCCESS');
    expect(unit.code).toBe(0);
  });
});

describe.runIf(installed)('the real Prometheus scraping a proxy and three replicas', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fulcrum-prometheus-'));
  let prometheus: ChildProcess | undefined;
  let prometheusLog = '';
  let promUrl = '';
  let dns: DnsStub;
  let rs: SpawnedReplica[];
  let p: RunningProxy;
  let discovered = '';
  const sent = { total: 0, ok: 0 };

  async function query(expr: string): Promise<Sample[]> {
    const res = await request(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = await res.body.json() as { status: string; error?: string; data: { result: Sample[] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  }
  /** The one value of a query expected to return one sample. */
  async function value(expr: string): Promise<number> {
    const result = await query(expr);
    if (result.length !== 1) throw new Error(`${expr}: ${result.length} samples, expected 1`);
    return Number(result[0].value[1]);
  }
  const attemptsOn = (r: SpawnedReplica) => r.requests.length;

  beforeAll(async () => {
    dns = await startDnsStub();
    rs = await replicas(3, () => ({ serviceTime: { dist: 'constant', value: 2 } }));
    // s1 and s2 by URL; s3 found by DNS discovery, so the dashboard's discovery panel has data too.
    dns.set('replicas.test', ['127.0.0.1']);
    discovered = `127.0.0.1_${rs[2].port}`;
    const routing = JSON.parse(readFileSync('live/deploy/routing.json', 'utf8'));
    p = await proxy({
      backends: [{ id: 's1', url: rs[0].url }, { id: 's2', url: rs[1].url }], routing, policy: 'round-robin',
      discovery: { targets: [{ host: 'replicas.test', port: rs[2].port }], intervalMs: 500, dnsServer: dns.server },
    });
    await waitFor('the discovered replica', () => p.balancer.status(p.driver.now()).some((s) => s.id === discovered), 10_000);
    // The shipped config, pointed at this proxy and these replicas, scraping every second.
    const config = parse(readFileSync('live/deploy/compose/prometheus.yml', 'utf8'));
    const [proxyJob, replicaJob] = config.scrape_configs;
    writeFileSync(path.join(dir, 'token'), ADMIN_TOKEN, { mode: 0o600 });
    proxyJob.authorization.credentials_file = path.join(dir, 'token');
    proxyJob.static_configs = [{ targets: [new URL(p.adminUrl!).host] }];
    delete replicaJob.dns_sd_configs;
    replicaJob.static_configs = [{ targets: rs.map((r) => new URL(r.url).host) }];
    config.global = { scrape_interval: '1s', evaluation_interval: '1s' };
    config.rule_files = [path.resolve(RULES)];
    writeFileSync(path.join(dir, 'prometheus.yml'), stringify(config));

    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn('prometheus', [
      `--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    prometheus.stdout!.on('data', (d) => { prometheusLog += d; });
    prometheus.stderr!.on('data', (d) => { prometheusLog += d; });
    await waitFor('Prometheus ready', async () => {
      if (prometheus!.exitCode !== null) throw new Error(`prometheus exited ${prometheus!.exitCode}: ${prometheusLog}`);
      return request(`${promUrl}/-/ready`).then(async (r) => { await r.body.dump(); return r.statusCode === 200; }, () => false);
    }, 30_000);
    await waitFor('every target scraped once', async () => (await query('up == 1')).length === 4, 30_000);

    // Traffic over several scrapes, a few requests at a time for about 3 s, with s2 failing from
    // the start (its health checks fail too, so it falls unhealthy within about 2 s).
    await rs[1].setFault({ mode: 'error', status: 503 });
    const until = Date.now() + 3_000;
    while (Date.now() < until) {
      const replies = await Promise.all(Array.from({ length: 3 }, () => send(`${p.url}/home`)));
      sent.total += replies.length;
      sent.ok += replies.filter((r) => r.status === 200).length;
      await new Promise((r) => setTimeout(r, 30));
    }
    // Prometheus has the final counts once it scraped the proxy and every replica (separate
    // targets, scraped at different moments) after the last answer; the replicas' request logs
    // (read from their stdout) must be complete too.
    await waitFor('the last requests scraped from the proxy and every replica', async () => {
      if ((await value('sum(fulcrum_requests_total)')) !== sent.total) return false;
      const attempts = await value('fulcrum_router_attempts_total');
      return (await value('sum(fulcrum_replica_requests_total)')) === attempts && rs.reduce((n, r) => n + attemptsOn(r), 0) === attempts;
    }, 30_000);
  }, 120_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await dns?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every target is up, with the job and instance labels of the config', async () => {
    const up = await query('up');
    expect(up.map((s) => [s.metric.job, s.metric.instance, s.value[1]]).sort()).toEqual([
      ['fulcrum-proxy', new URL(p.adminUrl!).host, '1'],
      ...rs.map((r) => ['fulcrum-replica', new URL(r.url).host, '1']),
    ].sort());
  });

  it('attempts per backend and status class equal what each replica logged; the replicas agree', async () => {
    const backends = [['s1', rs[0]], ['s2', rs[1]], [discovered, rs[2]]] as const;
    for (const [backend, r] of backends) {
      expect(await value(`sum(fulcrum_upstream_attempts_total{job="fulcrum-proxy",backend="${backend}"})`), backend).toBe(attemptsOn(r));
      expect(await value(`fulcrum_replica_requests_total{job="fulcrum-replica",server="${r.id}"}`), r.id).toBe(attemptsOn(r));
    }
    expect(attemptsOn(rs[1])).toBeGreaterThan(0);
    expect(await value('fulcrum_upstream_attempts_total{backend="s2",status_class="5xx"}')).toBe(attemptsOn(rs[1]));
    expect(await value('fulcrum_upstream_attempts_total{backend="s2",status_class="2xx"}')).toBe(0);
    // Every class of every backend is a series from the start (so rate() sees the first one).
    expect((await query('fulcrum_upstream_attempts_total')).length).toBe(3 * 6);
  });

  it('client requests, retries and the retry budget: the router\'s counts', async () => {
    const attempts = rs.reduce((n, r) => n + attemptsOn(r), 0);
    expect(await value('fulcrum_requests_total{status_class="2xx"}')).toBe(sent.ok);
    expect(await value('fulcrum_router_requests_total')).toBe(sent.total);
    expect(await value('fulcrum_router_attempts_total')).toBe(attempts);
    expect(await value('fulcrum_router_retries_total')).toBe(attempts - sent.total);
    expect(attempts - sent.total).toBeGreaterThan(0);
    expect(await value('fulcrum_router_retry_budget_overflows_total')).toBe(p.router.rules.budget.overflows);
  });

  it('ejections and health per backend: s2 ejected and unhealthy, the others healthy', async () => {
    expect(await value('fulcrum_ejections_total{backend="s2"}')).toBeGreaterThanOrEqual(1);
    expect(await value('fulcrum_ejections_total{backend="s1"}')).toBe(0);
    // Active checks every second, two failures to fall: s2 is unhealthy within a few scrapes.
    await waitFor('s2 unhealthy in Prometheus', async () => (await value('fulcrum_backend_healthy{backend="s2"}')) === 0, 15_000);
    expect(await value('fulcrum_backend_healthy{backend="s1"}')).toBe(1);
    expect(await value(`fulcrum_backend_healthy{backend="${discovered}"}`)).toBe(1);
  });

  it('the attempt latency histogram: one observation per attempt, buckets up to +Inf', async () => {
    for (const [backend, r] of [['s1', rs[0]], ['s2', rs[1]]] as const) {
      expect(await value(`fulcrum_upstream_attempt_duration_seconds_count{backend="${backend}"}`)).toBe(attemptsOn(r));
      expect(await value(`fulcrum_upstream_attempt_duration_seconds_bucket{backend="${backend}",le="+Inf"}`)).toBe(attemptsOn(r));
    }
    // s1 serves in 2 ms and more: nothing under 1 ms, everything within 1 s.
    const p99 = await value('histogram_quantile(0.99, sum by (le) (rate(fulcrum_upstream_attempt_duration_seconds_bucket{backend="s1"}[1m])))');
    expect(p99).toBeGreaterThan(0.001);
    expect(p99).toBeLessThan(1);
  });

  it('every Grafana panel query returns data', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
    const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((t) => ({ panel: panel.title, expr: t.expr })));
    expect(queries.length).toBeGreaterThan(10);
    const empty = [];
    for (const q of queries) if ((await query(q.expr)).length === 0) empty.push(`${q.panel}: ${q.expr}`);
    expect(empty).toEqual([]);
  });

  it('the recording and alerting rules evaluate: s2\'s error ratio is 1, its alert pending', async () => {
    await waitFor('the rules evaluated', async () => (await query('fulcrum:backend_attempt_error_ratio:rate5m')).length === 3, 15_000);
    const rules = await request(`${promUrl}/api/v1/rules`).then((r) => r.body.json()) as {
      data: { groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> };
    };
    const all = rules.data.groups.flatMap((g) => g.rules);
    expect(all.length).toBe(11);
    expect(all.filter((r) => r.health !== 'ok')).toEqual([]);
    expect(await value('fulcrum:backend_attempt_error_ratio:rate5m{backend="s2"}')).toBe(1);
    expect(await value('fulcrum:backend_attempt_error_ratio:rate5m{backend="s1"}')).toBe(0);
    expect(await value('fulcrum:retry_ratio:rate5m')).toBeGreaterThan(0);
    expect(await value('fulcrum:ejected_backends')).toBeGreaterThanOrEqual(0);
    await waitFor('the error-ratio alert pending for s2', async () => {
      const alerts = await request(`${promUrl}/api/v1/alerts`).then((r) => r.body.json()) as {
        data: { alerts: Array<{ labels: Record<string, string>; state: string }> };
      };
      return alerts.data.alerts.some((a) => a.labels.alertname === 'FulcrumBackendErrorRatioHigh' && a.labels.backend === 's2' && a.state === 'pending');
    }, 15_000);
  });

  it('the proxy\'s own /metrics says the same as Prometheus (the last scrape is current)', async () => {
    const own = (await admin(p, 'GET', '/metrics')).text;
    const retries = Number(/^fulcrum_router_retries_total (\d+)$/m.exec(own)?.[1]);
    expect(await value('fulcrum_router_retries_total')).toBe(retries);
  });
});
