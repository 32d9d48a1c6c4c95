// DNS discovery's pure half: backend ids from addresses, the wanted set from the targets'
// answers, and the add/drain plan that brings the pool to it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  backendIdFor, backendUrlFor, parseHostPort, planDiscovery, wantedBackends,
} from '../../live/proxy/discovery-plan.ts';
import { BACKEND_ID } from '../../live/proxy/membership.ts';

const app = { host: 'app.test', port: 9001 };
const api = { host: 'api.test', port: 9002 };

describe('backend ids and urls', () => {
  it('are the address and port, IPv6 colons made safe for the id rule', () => {
    expect(backendIdFor('10.0.0.5', 9001)).toBe('10.0.0.5_9001');
    expect(backendIdFor('fd00::5', 9001)).toBe('fd00--5_9001');
    expect(backendUrlFor('10.0.0.5', 9001)).toBe('http://10.0.0.5:9001');
    expect(backendUrlFor('fd00::5', 9001)).toBe('http://[fd00::5]:9001');
  });

  it('every IPv4 and IPv6 address gives a valid, distinct id and a parseable url', () => {
    fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.ipV6(), fc.integer({ min: 1, max: 65_535 }), (a, b, port) => {
      const id = backendIdFor(a, port);
      expect(id).toMatch(BACKEND_ID);
      if (new URL(`http://[${b}]`).hostname !== new URL(backendUrlFor(a, 1)).hostname) expect(backendIdFor(b, port)).not.toBe(id);
      expect(new URL(backendUrlFor(a, port)).port).toBe(port === 80 ? '' : String(port));
    }), { seed: 7 });
  });
});

describe('wantedBackends', () => {
  it('is the union of the answers, sorted by id, duplicates once (the first target keeps it)', () => {
    const wanted = wantedBackends([
      { target: app, addresses: ['10.0.0.9', '10.0.0.10', '10.0.0.9'] },
      { target: { host: 'again.test', port: 9001 }, addresses: ['10.0.0.10'] },
      { target: api, addresses: ['fd00::1'] },
    ]);
    expect([...wanted.keys()]).toEqual(['10.0.0.10_9001', '10.0.0.9_9001', 'fd00--1_9002']);
    expect(wanted.get('10.0.0.10_9001')).toEqual({ id: '10.0.0.10_9001', url: 'http://10.0.0.10:9001', target: 'app.test:9001' });
    expect(wanted.get('fd00--1_9002')?.url).toBe('http://[fd00::1]:9002');
  });

  it('skips a target with no answer yet, and addresses a URL cannot carry', () => {
    const wanted = wantedBackends([
      { target: app, addresses: undefined },
      { target: api, addresses: ['fe80::1%eth0', 'not-an-address', '10.0.0.1'] },
    ]);
    expect([...wanted.keys()]).toEqual(['10.0.0.1_9002']);
  });
});

describe('planDiscovery', () => {
  const wanted = (...ids: string[]) => new Map(ids.map((id) => [id, {}]));

  it('adds new addresses and drains vanished ones', () => {
    expect(planDiscovery(wanted('a', 'b', 'c'), new Set(['a', 'b']), new Set())).toEqual({ add: ['c'], remove: [] });
    expect(planDiscovery(wanted('a'), new Set(['a', 'b']), new Set())).toEqual({ add: [], remove: ['b'] });
    expect(planDiscovery(wanted('b', 'c'), new Set(['a', 'b']), new Set())).toEqual({ add: ['c'], remove: ['a'] });
  });

  it('waits for a drain to end before adding the same address again', () => {
    expect(planDiscovery(wanted('a', 'b'), new Set(['a']), new Set(['b']))).toEqual({ add: [], remove: [] });
    expect(planDiscovery(wanted('a', 'b'), new Set(['a']), new Set())).toEqual({ add: ['b'], remove: [] });
  });

  it('after the plan, the active set is the wanted set less what is still draining', () => {
    const id = fc.constantFrom<string>('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h');
    fc.assert(fc.property(fc.uniqueArray(id), fc.uniqueArray(id), fc.uniqueArray(id), (w, activeIds, drainingIds) => {
      const active = new Set(activeIds);
      const draining = new Set(drainingIds.filter((x) => !active.has(x))); // a backend is one or the other
      const plan = planDiscovery(wanted(...w), active, draining);
      for (const x of plan.remove) expect(active.has(x)).toBe(true);
      for (const x of plan.add) expect(active.has(x) || draining.has(x)).toBe(false);
      const after = new Set([...active].filter((x) => !plan.remove.includes(x)).concat(plan.add));
      expect([...after].sort()).toEqual(w.filter((x) => !draining.has(x)).sort());
      expect(plan.add).toEqual([...plan.add].sort());
      expect(plan.remove).toEqual([...plan.remove].sort());
    }), { seed: 11 });
  });
});

describe('parseHostPort', () => {
  it('takes names, IPv4 and [IPv6] with a port', () => {
    expect(parseHostPort('replicas.default.svc.cluster.local:9001')).toEqual({ ok: true, host: 'replicas.default.svc.cluster.local', port: 9001 });
    expect(parseHostPort('10.0.0.1:53', true)).toEqual({ ok: true, host: '10.0.0.1', port: 53 });
    expect(parseHostPort('[::1]:5353', true)).toEqual({ ok: true, host: '::1', port: 5353 });
  });

  it('refuses the rest, saying what is allowed', () => {
    for (const bad of ['app.test', 'app.test:0', 'app.test:65536', 'http://app.test:80', '-app:80', 'a b:80', ':80', '[zz]:80']) {
      const r = parseHostPort(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.message).toBe(`got "${bad}"; allowed: HOST:PORT (a DNS name or an address, port 1-65535), e.g. replicas.default.svc.cluster.local:9001`);
    }
    const name = parseHostPort('dns.test:53', true);
    expect(name.ok).toBe(false);
    if (!name.ok) expect(name.message).toContain('allowed: IP:PORT');
  });
});
