// The NGINX config generator: golden files (the exact text a user would deploy) and the
// real binary's validator on every generated config (`nginx -t`, with its prefix and error
// log in a temporary folder so nothing touches /var/log/nginx or /run).
// Regenerate the golden files after an intended change: FULCRUM_UPDATE_GOLDEN=1 npx vitest run test/live/nginx-config.test.ts
import { describe, expect, it } from 'vitest';
import type { NginxSettings } from '../../experiments/proxies/nginx-settings.ts';
import { type NginxConfigInput, nginxConfig } from '../../live/runner/proxies/nginx/config.ts';
import { itMatchesGoldenAndPasses, nginxCheck } from './config-checks.ts';
import { workFolder } from '../work-folder.ts';

const FIXTURES = new URL('./fixtures/nginx/', import.meta.url);
const work = workFolder('nginx-config');

const base: NginxSettings = {
  balance: { method: 'round-robin' },
  nextUpstream: ['error', 'timeout'],
  nextUpstreamTries: 0,
  nextUpstreamTimeoutMs: 0,
  maxFails: 1,
  failTimeoutMs: 10_000,
  timeouts: { connectMs: 1000, readMs: 30_000, sendMs: 30_000 },
  workerProcesses: 1,
  zone: false,
};
const backends = [
  { id: 's1', url: 'http://127.0.0.1:41001', weight: 1 },
  { id: 's2', url: 'http://127.0.0.1:41002', weight: 2 },
  { id: 's3', url: 'http://127.0.0.1:41003', weight: 3 },
];

const cases: Record<string, NginxSettings> = {
  'round-robin': base,
  'least-conn-zone-workers': { ...base, balance: { method: 'least_conn' }, zone: true, workerProcesses: 2 },
  'ip-hash-no-retry': { ...base, balance: { method: 'ip_hash' }, nextUpstream: [], maxFails: 0 },
  'hash-consistent-retries': { ...base, balance: { method: 'hash', consistent: true }, nextUpstream: ['error', 'timeout', 'http_502', 'http_503', 'non_idempotent'], nextUpstreamTries: 3, nextUpstreamTimeoutMs: 2500 },
  'random-two': { ...base, balance: { method: 'random', two: true }, maxFails: 3, failTimeoutMs: 5000, timeouts: { connectMs: 250, readMs: 2000, sendMs: 2000 } },
};

function generate(settings: NginxSettings, extra: Partial<NginxConfigInput> = {}): string {
  const out = nginxConfig({ settings, backends, listen: '127.0.0.1:8080', ...extra });
  if ('problems' in out) throw new Error(out.problems.join('\n'));
  return out.text;
}

const validate = (text: string, name: string): void => nginxCheck(work, text, name);

describe('nginx.conf generator', () => {
  itMatchesGoldenAndPasses(cases, { fixtures: FIXTURES, extension: 'conf', checker: 'nginx -t', generate: (s) => generate(s), check: validate });

  it("the runner's own form (the generation location, user) passes nginx -t", () => {
    const text = generate(base, { generation: 7, user: 'root' });
    expect(text).toContain('location = /fulcrum-generation {\n      access_log off;\n      return 200 "7";');
    validate(text, 'runner');
  });

  it('the validator does fail: a config NGINX refuses is caught (the check can fail)', () => {
    const broken = generate(base).replace('max_fails=1', 'max_fails=one');
    expect(() => validate(broken, 'broken')).toThrow(/invalid parameter/);
  });

  it('weight 0 is written down; a weight or fail_timeout NGINX cannot take is a problem, never rounded', () => {
    expect(generate(base, { backends: [{ id: 's1', url: 'http://127.0.0.1:1', weight: 0 }] })).toContain('server 127.0.0.1:1 down max_fails=1 fail_timeout=10s; # s1');
    const out = nginxConfig({ settings: { ...base, failTimeoutMs: 1500 }, backends: [{ id: 's1', url: 'http://127.0.0.1:1', weight: 1.5 }], listen: '8080' });
    expect(out).toEqual({ problems: [
      'fail_timeout 1500 ms cannot be expressed; NGINX takes whole seconds',
      's1: weight 1.5 cannot be expressed; NGINX weights are positive integers (0: down)',
    ] });
  });
});
