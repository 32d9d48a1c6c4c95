// The image as users run it: a proxy container in front of three replica containers on a
// user-defined bridge network (names resolved by Docker's DNS), ports published on
// 127.0.0.1 at ports Docker picks. One replica's main process is SIGKILLed under load:
// retries and ejection keep every request answered, Docker's restart policy brings the
// container back, and the proxy sends it traffic again.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../live/helpers.ts';
import { request } from 'undici';
import { type Answer, docker, dockerEngine, dockerRun, buildImage, home, load, publishedPort, removeRun } from './docker-fixture.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN_TOKEN = 'container-test-admin-token';
const engine = await dockerEngine();

describe.runIf(engine)('the image on Docker: proxy container + replica containers', () => {
  const runId = dockerRun('fulcrum-smoke');

  it('answers, fails over when a replica container is killed, and uses it again after Docker restarts it', async () => {
    const image = await buildImage();
    expect(await docker('image', 'inspect', '-f', '{{.Config.User}}', image)).toBe('1000:1000');
    await docker('network', 'create', '--label', `fulcrum.run=${runId}`, runId);
    const ids = ['s1', 's2', 's3'];
    const names = ids.map((id) => `${runId}-${id}`);
    await Promise.all(ids.map((id, i) => docker('run', '-d', '--name', names[i], '--label', `fulcrum.run=${runId}`,
      '--network', runId, '--restart', 'always', image,
      '/app/server.mjs', '--id', id, '--host', '0.0.0.0', '--port', '9001', '--service-time', 'exponential:2', '--concurrency', '8')));
    const proxyName = `${runId}-proxy`;
    await docker('run', '-d', '--name', proxyName, '--label', `fulcrum.run=${runId}`, '--network', runId,
      '-p', '127.0.0.1::8080', '-p', '127.0.0.1::9090', '-e', `FULCRUM_ADMIN_TOKEN=${ADMIN_TOKEN}`,
      '-e', 'FULCRUM_HEALTHCHECK_URL=http://127.0.0.1:9090/healthz',
      '-v', `${ROOT}live/deploy/routing.json:/etc/fulcrum/routing.json:ro`, image,
      '/app/proxy.mjs', '--listen', '0.0.0.0:8080', '--admin', '0.0.0.0:9090', '--config', '/etc/fulcrum/routing.json',
      ...ids.flatMap((id, i) => ['--backend', `${id}=http://${names[i]}:9001`, '--allow-backend-host', names[i]]));
    const proxyUrl = `http://127.0.0.1:${await publishedPort(proxyName, 8080)}`;
    const adminUrl = `http://127.0.0.1:${await publishedPort(proxyName, 9090)}`;

    // Every replica answers through the proxy (containers start, active checks pass).
    const seen = new Set<string>();
    await waitFor('all three replicas answering through the proxy', async () => {
      const a = await home(proxyUrl);
      if (a.status === 200 && a.server) seen.add(a.server);
      return seen.size === 3;
    }, 60_000);

    // 600 GETs from 6 clients; s2's main process is SIGKILLed after the 150th answer.
    let killedAtMs = Infinity;
    const t0 = performance.now();
    const answers: Answer[] = await load(proxyUrl, 600, 6, async (n) => {
      if (n !== 150) return;
      const pid = Number(await docker('inspect', '-f', '{{.State.Pid}}', names[1]));
      killedAtMs = performance.now() - t0;
      process.kill(pid, 'SIGKILL');
    });
    expect(killedAtMs).toBeLessThan(Infinity);
    expect(answers).toHaveLength(600);
    // Retries (live/deploy/routing.json: 3 attempts, Envoy's budget of 20 % / at least 3 at once)
    // and ejection hide the kill, except for retries the budget refuses: a burst of requests
    // sent to s2 in the moment it died (idle in the proxy's eyes) can exceed 3 concurrent
    // retries. Each such failure must be a single attempt on s2, right after the kill.
    const failed = answers.filter((a) => a.status !== 200);
    for (const f of failed) {
      expect(f.status, JSON.stringify(f)).toBe(502);
      expect(f.detail).toMatch(/^attempts s2: .*"code":"(connect_failed|upstream_reset)"/);
      expect(f.atMs).toBeGreaterThanOrEqual(killedAtMs);
      expect(f.atMs).toBeLessThan(killedAtMs + 3_000);
    }
    expect(failed.length).toBeLessThanOrEqual(12); // ≥ 98 % answered
    const servedBy = (from: number, to: number) => new Set(answers.filter((a) => a.atMs >= from && a.atMs < to).map((a) => a.server));
    expect(servedBy(0, killedAtMs)).toEqual(new Set(ids));
    const after = servedBy(killedAtMs, Infinity);
    expect(after.has('s1') && after.has('s3')).toBe(true);
    expect(answers.filter((a) => a.atMs > killedAtMs + 3_000).every((a) => a.status === 200)).toBe(true);

    // Docker's restart policy brings the container back; the proxy's checks let it in again.
    await waitFor('s2 restarted by Docker', async () => Number(await docker('inspect', '-f', '{{.RestartCount}}', names[1])) >= 1, 30_000);
    await waitFor('s2 answering through the proxy again', async () => (await home(proxyUrl)).server === 's2', 30_000);

    // The admin/metrics port: bearer token required; the kill shows in the proxy's counters.
    const noToken = await request(`${adminUrl}/metrics`);
    await noToken.body.dump();
    expect(noToken.statusCode).toBe(401);
    const metrics = await request(`${adminUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const text = await metrics.body.text();
    expect(metrics.statusCode).toBe(200);
    expect(text).toMatch(/^fulcrum_upstream_attempts_total\{backend="s2",status_class="2xx"\} [1-9]/m);
    expect(text).toMatch(/^fulcrum_router_retries_total [1-9]/m);
    const counter = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);
    // Every failed GET is a retry the budget refused (and counted).
    expect(counter('fulcrum_router_retry_budget_overflows_total')).toBeGreaterThanOrEqual(failed.length);

    // The image's HEALTHCHECK (node, no curl) reports the replicas and the proxy (its /healthz) healthy.
    await waitFor('containers healthy by the image HEALTHCHECK', async () =>
      (await Promise.all([...names, proxyName].map((n) => docker('inspect', '-f', '{{.State.Health.Status}}', n)))).every((s) => s === 'healthy'), 60_000);

    console.info(`container smoke: 600 GETs, ${failed.length} failed, s2 killed at ${Math.round(killedAtMs)} ms, ` +
      `last answer at ${Math.round(Math.max(...answers.map((a) => a.atMs)))} ms, retries ${counter('fulcrum_router_retries_total')}, ` +
      `budget overflows ${counter('fulcrum_router_retry_budget_overflows_total')}`);
    expect(await removeRun(runId)).toBe('');
  }, 240_000);
});
