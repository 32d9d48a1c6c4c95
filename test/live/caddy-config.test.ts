// The Caddy config generator: golden files (the exact JSON a user would deploy) and the real
// binary's validator on every generated config (`caddy validate`, which provisions every module).
// Regenerate the golden files after an intended change: FULCRUM_UPDATE_GOLDEN=1 npx vitest run test/live/caddy-config.test.ts
import { describe, expect, it } from 'vitest';
import type { CaddySettings } from '../../experiments/proxies/caddy-settings.ts';
import { caddyConfig, caddyConfigText } from '../../live/runner/proxies/caddy/config.ts';
import { namesUpstreams } from '../../live/runner/proxies/caddy/launcher.ts';
import { caddyCheck, itMatchesGoldenAndPasses } from './config-checks.ts';
import { workFolder } from '../work-folder.ts';

const FIXTURES = new URL('./fixtures/caddy/', import.meta.url);
const work = workFolder('caddy-config');

const base: CaddySettings = { selection: { policy: 'round_robin' }, tryDurationMs: 0, tryIntervalMs: 250, timeouts: { dialMs: 1000 } };
const backends = [
  { id: 's1', url: 'http://127.0.0.1:41001' },
  { id: 's2', url: 'http://127.0.0.1:41002' },
  { id: 's3', url: 'http://127.0.0.1:41003' },
];

const cases: Record<string, CaddySettings> = {
  round_robin: base,
  'least_conn-retries': { ...base, selection: { policy: 'least_conn' }, tryDurationMs: 2000, tryIntervalMs: 100, timeouts: { dialMs: 500, responseHeaderMs: 1000 } },
  'round_robin-lb_retries': { ...base, retries: 2, tryIntervalMs: 0 },
  'random_choose-passive': { ...base, selection: { policy: 'random_choose', choose: 2 }, passive: { failDurationMs: 10_000, maxFails: 3, unhealthyStatus: [500, 502, 503] } },
  'ip_hash-named': { ...base, selection: { policy: 'ip_hash' } },
  'first-active-passive': {
    ...base, selection: { policy: 'first' }, tryDurationMs: 1000, tryIntervalMs: 250,
    active: { uri: '/heartbeat', intervalMs: 2000, timeoutMs: 500 },
    passive: { failDurationMs: 30_000, maxFails: 1, unhealthyStatus: [] },
  },
};

function generate(settings: CaddySettings): string {
  return caddyConfigText({ settings, backends, listen: '127.0.0.1:8080', admin: 'unix//run/fulcrum/caddy-admin.sock', namedUpstreams: namesUpstreams(settings) });
}

const validate = (text: string, name: string): void => caddyCheck(work, text, name);

describe('Caddy JSON config generator', () => {
  itMatchesGoldenAndPasses(cases, { fixtures: FIXTURES, extension: 'json', checker: 'caddy validate', generate, check: validate });

  it('the validator does fail: a policy Caddy does not know is caught (the check can fail)', () => {
    const broken = generate(base).replace('"policy": "round_robin"', '"policy": "round-robin"');
    expect(() => validate(broken, 'broken')).toThrow(/caddy validate refused broken\.json/);
  });

  it('hash policies dial placeholder names set by a vars handler; the others dial the addresses', () => {
    const named = caddyConfig({ settings: cases['ip_hash-named'], backends, listen: ':8080', admin: 'localhost:2019', namedUpstreams: true });
    const handle = (named.apps as { http: { servers: { fulcrum: { routes: Array<{ handle: Array<Record<string, unknown>> }> } } } }).http.servers.fulcrum.routes[0].handle;
    expect(handle[0]).toEqual({ handler: 'vars', s1: '127.0.0.1:41001', s2: '127.0.0.1:41002', s3: '127.0.0.1:41003' });
    expect(handle[1].upstreams).toEqual([{ dial: '{http.vars.s1}' }, { dial: '{http.vars.s2}' }, { dial: '{http.vars.s3}' }]);
    expect(namesUpstreams(cases['ip_hash-named'])).toBe(true);
    expect(namesUpstreams(base)).toBe(false);
    // Caddy's active checks cannot resolve {http.vars.*} (healthchecks.go): with them, addresses.
    expect(namesUpstreams({ ...cases['ip_hash-named'], active: { uri: '/heartbeat', intervalMs: 1000, timeoutMs: 500 } })).toBe(false);
  });

  it('no retries unless lb_try_duration is set; durations in ms; nothing persisted, no automatic HTTPS, every attempt logged', () => {
    const text = generate(base);
    expect(text).not.toContain('try_duration');
    expect(text).not.toContain('"retries"');
    // lb_retries alone: no interval (Caddy retries at once), as the translation says.
    expect(generate(cases['round_robin-lb_retries'])).toMatch(/"round_robin"\s*\},\s*"retries": 2\s*\}/);
    expect(generate(cases['least_conn-retries'])).toMatch(/"try_duration": "2000ms",\s+"try_interval": "100ms"/);
    expect(text).toContain('"persist": false');
    expect(text).toMatch(/"automatic_https": \{\s+"disable": true/);
    expect(text).toContain('"level": "DEBUG"');
    expect(text).toContain('"http.handlers.reverse_proxy"');
  });
});
