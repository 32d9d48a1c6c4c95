// The HAProxy config generator: golden files (the exact text a user would deploy) and the
// real binary's validator on every generated config (`haproxy -c -f`).
// Regenerate the golden files after an intended change: FULCRUM_UPDATE_GOLDEN=1 npx vitest run test/live/haproxy-config.test.ts
import { describe, expect, it } from 'vitest';
import type { HaproxySettings } from '../../experiments/proxies/haproxy-settings.ts';
import { type HaproxyConfigInput, haproxyConfig } from '../../live/runner/proxies/haproxy/config.ts';
import { loopbackListener } from '../../live/runner/proxies/haproxy/launcher.ts';
import { haproxyCheck, itMatchesGoldenAndPasses } from './config-checks.ts';
import { workFolder } from '../work-folder.ts';

const FIXTURES = new URL('./fixtures/haproxy/', import.meta.url);
const work = workFolder('haproxy-config');

const base: HaproxySettings = {
  balance: { algorithm: 'roundrobin' },
  retries: 0,
  retryOn: ['conn-failure'],
  timeouts: { connectMs: 1000, serverMs: 30000, clientMs: 30000 },
};
const backends = [
  { id: 's1', url: 'http://127.0.0.1:41001', weight: 1 },
  { id: 's2', url: 'http://127.0.0.1:41002', weight: 2 },
  { id: 's3', url: 'http://127.0.0.1:41003', weight: 3 },
];

const cases: Record<string, HaproxySettings> = {
  roundrobin: base,
  'leastconn-retries-redispatch': { ...base, balance: { algorithm: 'leastconn' }, retries: 2, redispatch: -1, retryOn: ['conn-failure', 'empty-response', '503'] },
  'random2-every-retry': { ...base, balance: { algorithm: 'random', draws: 2 }, retries: 3, redispatch: 1 },
  'source-consistent-bounded': { ...base, balance: { algorithm: 'source', hashType: { method: 'consistent', function: 'sdbm', avalanche: true }, hashBalanceFactor: 125 } },
  'source-map-based': { ...base, balance: { algorithm: 'source', hashType: { method: 'map-based', function: 'sdbm', avalanche: false } } },
  'static-rr-no-retry-on': { ...base, balance: { algorithm: 'static-rr' }, retryOn: [] },
  'first-maxconn-queue': { ...base, balance: { algorithm: 'first' }, maxconn: 4, timeouts: { ...base.timeouts, queueMs: 2000 } },
  'health-observe-slowstart': {
    ...base,
    timeouts: { ...base.timeouts, checkMs: 500 },
    check: { path: '/heartbeat', interMs: 1000, rise: 2, fall: 3, fastinterMs: 250, downinterMs: 2000 },
    observe: { errorLimit: 5, onError: 'mark-down' },
    slowstartMs: 10000,
  },
};

function generate(settings: HaproxySettings, extra: Partial<HaproxyConfigInput> = {}): string {
  const out = haproxyConfig({ settings, backends, bind: '127.0.0.1:8080', statsSocket: '/run/fulcrum/admin.sock', ...extra });
  if ('problems' in out) throw new Error(out.problems.join('\n'));
  return out.text;
}

const validate = (text: string, name: string, fds: number[] = []): void => haproxyCheck(work, text, name, fds);

describe('haproxy.cfg generator', () => {
  itMatchesGoldenAndPasses(cases, { fixtures: FIXTURES, extension: 'cfg', checker: 'haproxy -c', generate: (s) => generate(s), check: validate });

  it("the runner's own form (inherited sockets fd@3, fd@4 for the Prometheus exporter) passes haproxy -c", async () => {
    const text = generate(cases['health-observe-slowstart'], { bind: 'fd@3', metricsBind: 'fd@4' });
    expect(text).toContain('  bind fd@3\n');
    expect(text).toContain('frontend metrics\n  bind fd@4\n  no log\n  http-request use-service prometheus-exporter if { path /metrics }\n');
    expect(() => validate(text, 'runner-without-sockets')).toThrow(/cannot use file descriptor/);
    const sockets = await Promise.all([loopbackListener(), loopbackListener()]);
    try {
      validate(text, 'runner', sockets.map((s) => s.fd));
    } finally {
      for (const s of sockets) s.server.close();
    }
  });

  it('the validator does fail: a config HAProxy refuses is caught (the check can fail)', () => {
    const broken = generate(base).replace('balance roundrobin', 'balance round-robin');
    expect(() => validate(broken, 'broken')).toThrow(/haproxy -c refused broken\.cfg/);
  });

  it('logs every request with the request id, server, retries, timers and termination state', () => {
    const text = generate(base);
    expect(text).toContain('unique-id-format %[req.hdr(x-request-id)]');
    for (const field of ['%ID', '%b/%s', '%rc', '%Tq', '%Tw', '%Tc', '%Tr', '%Ta', '%Ts.%ms', '%ST', '%tsc']) expect(text).toContain(field);
  });

  it('a weight HAProxy cannot take is a problem naming the server, never rounded', () => {
    const out = haproxyConfig({ settings: base, backends: [{ id: 's1', url: 'http://127.0.0.1:1', weight: 1.5 }, { id: 's2', url: 'http://127.0.0.1:2', weight: 300 }], bind: 'fd@3', statsSocket: '/x' });
    expect(out).toEqual({ problems: [
      's1: weight 1.5 cannot be expressed; HAProxy weights are integers 0-256',
      's2: weight 300 cannot be expressed; HAProxy weights are integers 0-256',
    ] });
  });
});
