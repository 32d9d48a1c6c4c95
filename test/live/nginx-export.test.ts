// `npm run export FILE -- --to nginx`: the printed nginx.conf is the runner's (servers at
// placeholder addresses, changes as reload instructions), NGINX's own validator accepts it,
// and what NGINX cannot do is listed with exit code 2.
import { describe, expect, it } from 'vitest';
import { nginxCheck } from './config-checks.ts';
import { workFolder } from '../work-folder.ts';
import { experimentFile, exportCli } from './export-kit.ts';

const work = workFolder('nginx-export');

describe('npm run export -- --to nginx', () => {
  it('A-4 ring-hash: exit 0, hash $remote_addr consistent, placeholder servers, the add as a reload, and nginx -t accepts it', async () => {
    const out = await exportCli('experiments/a4.json', '--to', 'nginx', '--variant', 'ring-hash');
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^# .*EDIT BEFORE USE: servers s1…s3 are at placeholder addresses/m);
    expect(out.stdout).toContain('    hash $remote_addr consistent;\n');
    expect(out.stdout).toContain('    server 192.0.2.2:80 weight=1 max_fails=1 fail_timeout=10s; # s2\n');
    expect(out.stdout).toContain('# changes at 6000 ms: add "server <address> weight=1 …; # s4" to the upstream block, then reload');
    expect(out.stdout).toContain('    listen 8080;\n');
    expect(out.stdout).not.toContain('fulcrum-generation'); // the launcher's own location stays out
    nginxCheck(work, out.stdout, 'a4');
    expect(() => nginxCheck(work, out.stdout.replace('consistent;', 'consistently;'), 'broken')).toThrow(/nginx -t refused broken/);
  });

  it('active health checks: exit 2, the JSON path and the reason, nothing printed', async () => {
    const file = experimentFile(work, 'active', {
      servers: { count: 2, template: { serviceTimeMs: { dist: 'constant', value: 1 } } },
      health: { active: { path: '/heartbeat', intervalMs: 1000, timeoutMs: 500 } },
    });
    const out = await exportCli(file, '--to', 'nginx');
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/cannot be exported to nginx:\n {2}health\.active: .*NGINX open source has no active health checks/);
  });
});
