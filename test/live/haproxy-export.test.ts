// `npm run export FILE -- --to haproxy|fulcrum`: the printed config is the runner's (servers
// at placeholder addresses), HAProxy's own validator accepts it, and whatever the target
// cannot express is listed, one line each, with exit code 2.
import { describe, expect, it } from 'vitest';
import { parseRoutingConfig } from '../../live/proxy/config.ts';
import { chooseRun, exportFulcrum, exportHaproxy } from '../../live/export/export.ts';
import { haproxyCheck } from './config-checks.ts';
import { workFolder } from '../work-folder.ts';
import { chosenRun, experiment, experimentFile, exportCli } from './export-kit.ts';

const work = workFolder('haproxy-export');

/** The small experiment under round robin, with `patch`. */
const roundRobin = (patch: Record<string, unknown>) => experiment({ balancer: { policy: 'round-robin' }, ...patch });

describe('npm run export', () => {
  it('--to haproxy on A-1: exit 0, the placeholder servers, and haproxy -c accepts it', async () => {
    const out = await exportCli('experiments/a1.json', '--to', 'haproxy');
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^# .*EDIT BEFORE USE: servers s1…s3 are at placeholder addresses/m);
    expect(out.stdout).toContain('  server s2 192.0.2.2:80 weight 1\n');
    expect(out.stdout).toContain('  balance roundrobin\n');
    haproxyCheck(work, out.stdout, 'a1');
    expect(() => haproxyCheck(work, out.stdout.replace('balance roundrobin', 'balance round-robin'), 'broken')).toThrow(/haproxy -c refused broken\.cfg/);
  });

  it('settings HAProxy cannot express: exit 2, every one on its own line, nothing on stdout', async () => {
    const file = experimentFile(work, 'peak', { balancer: { policy: 'peak-ewma' } });
    const out = await exportCli(file, '--to', 'haproxy');
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/cannot be exported to haproxy:\n {2}balancer\.policy: "peak-ewma" has no HAProxy equivalent/);
  });

  it('bad flags: exit 2 naming the flag and what is allowed', async () => {
    const unknownVariant = await exportCli('experiments/a3.json', '--to', 'fulcrum', '--variant', 'nope');
    expect(unknownVariant).toMatchObject({ code: 2, stderr: '--variant: got "nope"; allowed: original, retries, retries-health-ejection\n' });
    const badTo = await exportCli('experiments/a1.json', '--to', 'nginz');
    expect(badTo.code).toBe(2);
    expect(badTo.stderr).toContain('--to: got "nginz"; allowed: fulcrum, haproxy, nginx, caddy');
  });

  it('--to fulcrum: the proxy accepts the JSON as its --config, and stderr says how to run it', async () => {
    const out = await exportCli('experiments/a3.json', '--to', 'fulcrum', '--variant', 'retries-health-ejection');
    expect(out.code).toBe(0);
    const parsed = parseRoutingConfig(JSON.parse(out.stdout));
    expect(parsed.ok).toBe(true);
    expect(JSON.parse(out.stdout).health.active.intervalMs).toBe(250);
    expect(out.stderr).toContain('npm run proxy -- --config lb.json --backend s1=http://192.0.2.1:80@1');
  });

  it('weights HAProxy cannot take are problems at their JSON paths (the translation\'s), changes included', () => {
    const plan = roundRobin({
      servers: { count: 2, template: { serviceTimeMs: { dist: 'constant', value: 1 }, weight: 1 }, overrides: { s2: { weight: 2.5 } } },
      changes: [{ atMs: 10, server: 's1', weight: 400 }],
    });
    const chosen = chosenRun(plan, 'haproxy');
    const problems = exportHaproxy(plan, chosen.run, chosen.notes).problems!;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^servers\.overrides\.s2\.weight: 2\.5 /);
    expect(problems[1]).toMatch(/^changes\.0\.weight: 400 /);
  });

  it('changes become runtime API commands in comments; the result still passes haproxy -c', async () => {
    const plan = roundRobin({ changes: [{ atMs: 100, add: 's4', weight: 2 }, { atMs: 200, remove: 's1' }] });
    const chosen = chosenRun(plan, 'haproxy');
    const text = exportHaproxy(plan, chosen.run, chosen.notes).text!;
    expect(text).toContain('# changes at 100 ms (runtime API on the stats socket): add server servers/s4 <address> weight 2');
    expect(text).toContain('# changes at 200 ms (runtime API on the stats socket): disable server servers/s1');
    haproxyCheck(work, text, 'changes');
    expect(exportFulcrum(chosen.run).text).toContain('"policy": "round-robin"');
  });

  it('changes HAProxy\'s runtime API refuses under a static algorithm are problems (A-4 ip-hash adds s4 under map-based source)', async () => {
    const out = await exportCli('experiments/a4.json', '--to', 'haproxy', '--variant', 'ip-hash');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('  changes[0].add: "s4": HAProxy\'s static source with hash-type map-based cannot add a server at run time; use roundrobin, or hash-type consistent\n');
    const plan = roundRobin({
      proxies: { haproxy: { balance: 'static-rr' } },
      changes: [{ atMs: 10, server: 's1', weight: 3 }, { atMs: 30, server: 's1', weight: 1 }, { atMs: 40, remove: 's2' }],
    });
    const chosen = chosenRun(plan, 'haproxy');
    expect(exportHaproxy(plan, chosen.run, chosen.notes).problems).toEqual([
      'changes[0].weight: 3 on s1: HAProxy\'s static static-rr cannot change a weight at run time except to 0 or back to its configured 1',
    ]);
  });

  it('--sweep picks a point; a value that is not one is a problem listing the points', () => {
    const plan = roundRobin({ sweep: { path: 'servers.count', values: [2, 4] } });
    const four = chooseRun(plan, { to: 'haproxy', sweep: '4' });
    expect('run' in four && four.run.config.servers.count).toBe(4);
    expect(chooseRun(plan, { to: 'haproxy', sweep: '3' })).toEqual({ problems: ['--sweep: got "3"; allowed values of servers.count: 2, 4'] });
  });
});
