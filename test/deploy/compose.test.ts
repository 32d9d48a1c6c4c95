// compose.yaml: validated by docker-compose itself (`config`), the monitoring profile's
// Prometheus and Grafana files checked against the proxy's real metric names, and the
// project brought up for real: the proxy discovers the replicas through Docker's DNS,
// answers, fails over when a replica container is killed, and follows scaling up and down.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { request } from 'undici';
import { proxy, replicas, ADMIN_TOKEN, send, waitFor } from '../live/helpers.ts';
import { BASE_IMAGE, docker, dockerEngine, home, load } from './docker-fixture.ts';

const run = promisify(execFile);
const TOKEN = `compose-test-${randomBytes(8).toString('hex')}`;

/** docker-compose (Debian's v1.29 here) with the repository's compose.yaml; `env` adds to this process's environment. */
function compose(args: string[], env: Record<string, string | undefined> = {}) {
  return run('docker-compose', ['-f', 'compose.yaml', ...args], { env: { ...process.env, FULCRUM_ADMIN_TOKEN: TOKEN, ...env }, maxBuffer: 16 * 1024 * 1024 });
}

const engine = await dockerEngine();
const hasCompose = engine && await run('docker-compose', ['version', '--short']).then(() => true, (err: Error) => {
  if (process.env.FULCRUM_REQUIRE_DOCKER === '1') throw new Error(`docker-compose is required (npm run test:setup installs it): ${err.message}`);
  console.warn(`compose tests skipped: ${err.message}`);
  return false;
});

describe.runIf(hasCompose)('compose.yaml, validated by docker-compose', () => {
  it('the proxy and 3 replicas with restart: always; ports on 127.0.0.1; the proxy discovers `server` by DNS', async () => {
    const { stdout } = await compose(['config']);
    const { services } = parse(stdout);
    expect(Object.keys(services).sort()).toEqual(['grafana', 'prometheus', 'proxy', 'server']);
    expect(services.server).toMatchObject({ restart: 'always', scale: 3, build: { args: { BASE: 'node:24-slim' } } });
    expect(services.proxy.restart).toBe('always');
    for (const name of ['server', 'proxy']) expect(services[name]).toMatchObject({ read_only: true, cap_drop: ['ALL'], tmpfs: ['/tmp'] });
    expect(services.proxy.command).toEqual(expect.arrayContaining(['--discover=server:9001', '--admin=0.0.0.0:9090', '--listen=0.0.0.0:8080']));
    expect(services.proxy.environment.FULCRUM_ADMIN_TOKEN).toBe(TOKEN);
    expect(services.proxy.ports).toEqual(['127.0.0.1:8080:8080/tcp', '127.0.0.1:9090:9090/tcp']);
    expect(services.prometheus.profiles).toEqual(['monitoring']);
    expect(services.grafana.profiles).toEqual(['monitoring']);
  });

  it('no admin token, no project: docker-compose refuses and names FULCRUM_ADMIN_TOKEN', async () => {
    const err = await compose(['config'], { FULCRUM_ADMIN_TOKEN: undefined }).then(() => undefined, (e: { stderr: string }) => e);
    expect(err?.stderr).toMatch(/FULCRUM_ADMIN_TOKEN/);
  });

  it('the base image, bind address and host ports come from the environment (empty port = Docker picks)', async () => {
    const { stdout } = await compose(['config'], { FULCRUM_BASE: 'fulcrum-node24-base:local', FULCRUM_BIND: '0.0.0.0', FULCRUM_HTTP_PORT: '', FULCRUM_ADMIN_PORT: '19090' });
    const { services } = parse(stdout);
    expect(services.server.build.args.BASE).toBe('fulcrum-node24-base:local');
    expect(services.proxy.ports).toEqual(['0.0.0.0::8080/tcp', '0.0.0.0:19090:9090/tcp']);
  });
});

describe('the monitoring profile: Prometheus scrape config and Grafana dashboard', () => {
  const prometheus = parse(readFileSync('live/deploy/compose/prometheus.yml', 'utf8'));
  const composeFile = parse(readFileSync('compose.yaml', 'utf8'));

  it('Prometheus scrapes the proxy admin port with the bearer token from the file its entrypoint writes', () => {
    const [job] = prometheus.scrape_configs;
    expect(job.static_configs[0].targets).toEqual(['proxy:9090']);
    expect(composeFile.services.proxy.command).toContain('--admin=0.0.0.0:9090');
    expect(job.metrics_path).toBe('/metrics');
    expect(job.authorization.type).toBe('Bearer');
    expect(composeFile.services.prometheus.command.join(' ')).toContain(`> ${job.authorization.credentials_file}`);
  });

  it('every metric the dashboard queries is one a running proxy exports', async () => {
    const [r] = await replicas(1);
    const p = await proxy({ backends: [{ url: r.url }], listen: { port: 0 }, admin: { port: 0 } });
    const res = await request(`${p.adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const exported = new Set([...(await res.body.text()).matchAll(/^# TYPE (\w+) (\w+)/gm)].flatMap(([, name, type]) =>
      type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name]));
    const dashboard = JSON.parse(readFileSync('live/deploy/compose/grafana/dashboards/fulcrum-proxy.json', 'utf8'));
    const queried = new Set<string>(dashboard.panels.flatMap((panel: { targets: Array<{ expr: string }> }) =>
      panel.targets.flatMap((t) => [...t.expr.matchAll(/\bfulcrum_\w+/g)].map((m) => m[0]))));
    expect(queried.size).toBeGreaterThanOrEqual(10);
    expect([...queried].filter((name) => !exported.has(name))).toEqual([]);
  });
});

describe.runIf(hasCompose)('docker-compose up: the whole project on this engine', () => {
  const project = `fulcrum-compose-${randomBytes(4).toString('hex')}`;
  // Unique project, free host ports, the local base; removed after the file, pass or fail.
  const env = { FULCRUM_BASE: BASE_IMAGE, FULCRUM_HTTP_PORT: '', FULCRUM_ADMIN_PORT: '' };
  const up = (args: string[]) => compose(['-p', project, ...args], env);
  afterAll(async () => {
    await up(['down', '-v', '--remove-orphans', '-t', '2']).catch(() => undefined);
  });

  it('answers through the proxy, survives a killed replica container, and follows scaling up and down by DNS', async () => {
    await up(['up', '-d', '--build']);
    const port = async (service: string, p: number) => Number(/:(\d+)$/.exec((await up(['port', service, String(p)])).stdout.trim())?.[1]);
    const proxyUrl = `http://127.0.0.1:${await port('proxy', 8080)}`;
    const adminUrl = `http://127.0.0.1:${await port('proxy', 9090)}`;
    const containers = async () => (await up(['ps', '-q', 'server'])).stdout.trim().split('\n').filter(Boolean);
    expect(await containers()).toHaveLength(3);

    // Discovery finds all three (replica ids are container hostnames, so three distinct ids).
    const seen = new Set<string>();
    await waitFor('three replicas answering through the proxy', async () => {
      const a = await home(proxyUrl);
      if (a.status === 200 && a.server) seen.add(a.server);
      return seen.size === 3;
    }, 60_000);
    expect((await send(`${adminUrl}/readyz`)).status).toBe(200);

    // SIGKILL one replica container's main process under load; Docker restarts it.
    const [victim] = await containers();
    const victimId = (await docker('inspect', '-f', '{{.Config.Hostname}}', victim));
    let killed = false;
    const answers = await load(proxyUrl, 400, 4, async (n) => {
      if (n !== 100) return;
      process.kill(Number(await docker('inspect', '-f', '{{.State.Pid}}', victim)), 'SIGKILL');
      killed = true;
    });
    expect(killed).toBe(true);
    const ok = answers.filter((a) => a.status === 200);
    // As in the container smoke test: a failure can only be a retry the budget refused.
    expect(ok.length, JSON.stringify(answers.filter((a) => a.status !== 200).slice(0, 3))).toBeGreaterThanOrEqual(392);
    console.info(`compose smoke: 400 GETs, ${400 - ok.length} failed after a replica container was SIGKILLed`);
    await waitFor('the killed replica restarted by Docker', async () => Number(await docker('inspect', '-f', '{{.RestartCount}}', victim)) >= 1, 30_000);
    await waitFor('the restarted replica answering through the proxy again', async () => (await home(proxyUrl)).server === victimId, 30_000);

    // Scale to 4: the new container's address appears in DNS, the proxy adds it.
    await up(['up', '-d', '--no-recreate', '--scale', 'server=4']);
    const metrics = async () => {
      const res = await request(`${adminUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      return res.body.text();
    };
    await waitFor('4 backends discovered after scaling up', async () => /^fulcrum_discovered_backends\{target="server:9001"\} 4$/m.test(await metrics()), 30_000);
    const ids = new Set((await Promise.all((await containers()).map((c) => docker('inspect', '-f', '{{.Config.Hostname}}', c)))));
    expect(ids.size).toBe(4);
    const served = new Set<string>();
    await waitFor('all 4 replicas answering', async () => {
      const a = await home(proxyUrl);
      if (a.server) served.add(a.server);
      return served.size === 4;
    }, 30_000);
    expect(served).toEqual(ids);
    // Scale to 2: the stopped containers leave DNS; the proxy drains and removes them.
    await up(['up', '-d', '--no-recreate', '--scale', 'server=2']);
    await waitFor('2 backends after scaling down', async () => /^fulcrum_discovered_backends\{target="server:9001"\} 2$/m.test(await metrics()), 30_000);
    const afterDown = await load(proxyUrl, 60, 2);
    expect(afterDown.filter((a) => a.status !== 200)).toEqual([]);
    expect(new Set(afterDown.map((a) => a.server)).size).toBe(2);

    // The image's HEALTHCHECK, pointed at the proxy's /healthz by compose.yaml.
    const [proxyContainer] = (await up(['ps', '-q', 'proxy'])).stdout.trim().split('\n');
    await waitFor('the proxy container healthy by its HEALTHCHECK', async () => await docker('inspect', '-f', '{{.State.Health.Status}}', proxyContainer) === 'healthy', 60_000);

    await up(['down', '-v', '--remove-orphans', '-t', '2']);
    expect(await docker('ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`)).toBe('');
  }, 240_000);
});
