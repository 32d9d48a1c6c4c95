// The Caddy exporter: the printed JSON is the runner's config with the servers at placeholder
// addresses (same upstream names, so a deployed ip_hash hashes as predicted), Caddy's
// validator accepts it, what to edit goes to stderr as notes, and weight changes are problems.
import { describe, expect, it } from 'vitest';
import type { CaddySettings } from '../../experiments/proxies/caddy-settings.ts';
import { exportCaddy } from '../../live/export/export.ts';
import { caddyCheck } from './config-checks.ts';
import { workFolder } from '../work-folder.ts';
import { chosenRun, experiment, exportCli } from './export-kit.ts';

const work = workFolder('caddy-export');

const ipHash: CaddySettings = { selection: { policy: 'ip_hash' }, tryDurationMs: 0, tryIntervalMs: 250, timeouts: { dialMs: 1000 } };

function exported(patch: Record<string, unknown>, translated: { settings?: CaddySettings; problems?: string[] }) {
  const plan = experiment({ balancer: { policy: 'ip-hash' }, ...patch });
  const chosen = chosenRun(plan, 'caddy');
  return exportCaddy(plan, chosen.run, chosen.notes, translated);
}

describe('npm run export -- --to caddy', () => {
  it('prints a config caddy validate accepts: placeholder addresses in the vars handler, named upstreams, notes on what to edit', () => {
    const out = exported({ changes: [{ atMs: 6000, add: 's4' }] }, { settings: ipHash });
    if (!out.text) throw new Error(out.problems!.join('\n'));
    caddyCheck(work, out.text, 'caddy');
    const config = JSON.parse(out.text) as { admin: { listen: string }; apps: { http: { servers: { fulcrum: { listen: string[]; routes: Array<{ handle: Array<Record<string, unknown>> }> } } } } };
    const server = config.apps.http.servers.fulcrum;
    expect(server.listen).toEqual([':8080']);
    expect(config.admin.listen).toBe('localhost:2019');
    expect(server.routes[0].handle[0]).toEqual({ handler: 'vars', s1: '192.0.2.1:80', s2: '192.0.2.2:80', s3: '192.0.2.3:80' });
    expect(server.routes[0].handle[1].upstreams).toEqual([{ dial: '{http.vars.s1}' }, { dial: '{http.vars.s2}' }, { dial: '{http.vars.s3}' }]);
    expect(out.notes!.join('\n')).toMatch(/EDIT BEFORE USE: .*192\.0\.2\.x:80 .*in the "vars" handler/);
    expect(out.notes!.join('\n')).toContain('changes at 6000 ms (admin API, POST /load with the edited config): add {"dial": "{http.vars.s4}"} to "upstreams" and s4 to the vars handler');
  });

  it("lists the translation's problems and every weight change, one line each, and prints nothing", () => {
    const out = exported({ changes: [{ atMs: 1000, server: 's2', weight: 3 }] }, { problems: ['balancer.policy: "peak-ewma" cannot be expressed'] });
    expect(out.text).toBeUndefined();
    expect(out.problems).toEqual([
      'balancer.policy: "peak-ewma" cannot be expressed',
      'changes[0].weight: 3 on s2: Caddy 2.6 has no upstream weights (weighted_round_robin came in 2.7); leave weights out',
    ]);
  });

  it('the CLI prints the JSON on stdout and the notes on stderr (a4, its first variant)', async () => {
    const { code, stdout, stderr } = await exportCli('experiments/a4.json', '--to', 'caddy');
    expect(code, stderr).toBe(0);
    const config = JSON.parse(stdout) as { apps: { http: { servers: { fulcrum: { routes: Array<{ handle: Array<{ handler: string }> }> } } } } };
    expect(config.apps.http.servers.fulcrum.routes[0].handle.map((h) => h.handler)).toEqual(['vars', 'reverse_proxy']);
    expect(stderr).toMatch(/^# EDIT BEFORE USE: /m);
    expect(stderr).toMatch(/^# changes at 6000 ms \(admin API/m);
  });
});
