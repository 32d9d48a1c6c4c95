// The experiment → HAProxy translation: every generic mapping, every problem line, and the
// `proxies.haproxy` block (HAProxy's own vocabulary) winning over the generic sections.
import { describe, expect, it } from 'vitest';
import { parseExperiment } from '../../experiments/schema.ts';
import { problemsOf, runConfig, schemaProblems, settingsOf, smallExperiment } from './helpers.ts';
import { haproxySettings, parseBalance, parseHashType } from '../../experiments/proxies/haproxy.ts';

const settings = (extra: Record<string, unknown>) => settingsOf(haproxySettings(runConfig(extra)));
const problems = (extra: Record<string, unknown>) => problemsOf(haproxySettings(runConfig(extra)));

describe('generic → HAProxy: balance', () => {
  it.each([
    ['round-robin', {}, { algorithm: 'roundrobin' }],
    ['weighted-round-robin', {}, { algorithm: 'roundrobin' }],
    ['random', {}, { algorithm: 'random', draws: 1 }],
    ['p2c', {}, { algorithm: 'random', draws: 2 }],
    ['p2c', { choices: 3 }, { algorithm: 'random', draws: 3 }],
    ['least-connections', {}, { algorithm: 'leastconn' }],
    ['ip-hash', {}, { algorithm: 'source', hashType: { method: 'map-based', function: 'sdbm', avalanche: false } }],
    ['ring-hash', {}, { algorithm: 'source', hashType: { method: 'consistent', function: 'sdbm', avalanche: true } }],
    ['bounded-load', {}, { algorithm: 'source', hashType: { method: 'consistent', function: 'sdbm', avalanche: true }, hashBalanceFactor: 125 }],
    ['bounded-load', { balanceFactor: 1.5 }, { algorithm: 'source', hashType: { method: 'consistent', function: 'sdbm', avalanche: true }, hashBalanceFactor: 150 }],
  ])('%s %j → %j', (policy, options, expected) => {
    expect(settings({ balancer: { policy, ...options } }).balance).toEqual(expected);
  });

  it('the haproxy-* policies are their own algorithm, maxconn included', () => {
    expect(settings({ balancer: { policy: 'haproxy-first', maxconn: 3 } })).toMatchObject({ balance: { algorithm: 'first' }, maxconn: 3 });
    expect(settings({ balancer: { policy: 'haproxy-random', draws: 3 } }).balance).toEqual({ algorithm: 'random', draws: 3 });
    expect(settings({ balancer: { policy: 'haproxy-source', hashMethod: 'consistent', avalanche: true, hashBalanceFactor: 150 } }).balance)
      .toEqual({ algorithm: 'source', hashType: { method: 'consistent', function: 'sdbm', avalanche: true }, hashBalanceFactor: 150 });
  });

  it.each(['peak-ewma', 'maglev', 'rendezvous'])('%s is a problem naming the nearest HAProxy algorithm', (policy) => {
    const [p, ...rest] = problems({ balancer: { policy } });
    expect(rest).toEqual([]);
    expect(p).toMatch(new RegExp(`^balancer\\.policy: "${policy}" has no HAProxy equivalent; nearest: (leastconn|source)`));
  });

  it('ring-hash tuning, a non-ring bounded-load table and a factor of 1 are problems', () => {
    expect(problems({ balancer: { policy: 'ring-hash', vnodes: 100, ringPreset: 'clb-512x9' } })).toEqual([
      expect.stringMatching(/^balancer\.ringPreset: "clb-512x9" has no HAProxy equivalent/),
      expect.stringMatching(/^balancer\.vnodes: 100 has no HAProxy equivalent/),
    ]);
    expect(problems({ balancer: { policy: 'bounded-load', table: 'maglev' } })).toEqual([
      expect.stringMatching(/^balancer\.table: "maglev" has no HAProxy equivalent/),
    ]);
    expect(problems({ balancer: { policy: 'bounded-load', balanceFactor: 1 } })).toEqual([
      expect.stringMatching(/^balancer\.balanceFactor: 1 has no HAProxy equivalent: hash-balance-factor must be above 100/),
    ]);
  });

  it('panic threshold: 0 and the default 50 map to HAProxy; any other value is a problem', () => {
    expect(settings({ balancer: { panicThresholdPercent: 0 } }).balance).toEqual({ algorithm: 'roundrobin' });
    expect(problems({ balancer: { panicThresholdPercent: 30 } })).toEqual([
      expect.stringMatching(/^balancer\.panicThresholdPercent: 30 has no HAProxy equivalent/),
    ]);
  });

  it('slow start: windowMs → slowstart; aggression and minWeightPercent only at their defaults', () => {
    expect(settings({ balancer: { policy: 'weighted-round-robin', slowStart: { windowMs: 5000 } } }).slowstartMs).toBe(5000);
    expect(problems({ balancer: { policy: 'weighted-round-robin', slowStart: { windowMs: 5000, aggression: 2, minWeightPercent: 0 } } })).toEqual([
      expect.stringMatching(/^balancer\.slowStart\.aggression: 2 has no HAProxy equivalent: HAProxy ramps the weight linearly/),
      expect.stringMatching(/^balancer\.slowStart\.minWeightPercent: 0 has no HAProxy equivalent/),
    ]);
  });
});

describe('generic → HAProxy: weights', () => {
  it('a weight that is not an integer from 1 to 256 is a problem, wherever it is set', () => {
    expect(problems({
      servers: { count: 2, template: { serviceTimeMs: { dist: 'constant', value: 5 }, weight: 1.5 }, overrides: { s2: { weight: 300 } } },
      changes: [{ atMs: 10, server: 's1', weight: 2.5 }, { atMs: 20, server: 's1', weight: 4 }],
    })).toEqual([
      'servers.template.weight: 1.5 has no HAProxy equivalent: a server weight is an integer from 1 to 256',
      'servers.overrides.s2.weight: 300 has no HAProxy equivalent: a server weight is an integer from 1 to 256',
      'changes.0.weight: 2.5 has no HAProxy equivalent: a server weight is an integer from 1 to 256',
    ]);
  });
});

describe('generic → HAProxy: retries and timeouts', () => {
  it('no retry section: retries 0, HAProxy\'s default retry-on, no redispatch', () => {
    const s = settings({});
    expect(s.retries).toBe(0);
    expect(s.retryOn).toEqual(['conn-failure']);
    expect(s.redispatch).toBeUndefined();
    expect(s.timeouts).toEqual({ connectMs: 1000, serverMs: 30_000, clientMs: 30_000 });
  });

  it('maxAttempts → retries N-1 with a redispatch on every retry; statuses → retry-on keywords', () => {
    const s = settings({ retry: { maxAttempts: 3, retryOn: [500, 503] } });
    expect(s.retries).toBe(2);
    expect(s.redispatch).toBe(1);
    expect(s.retryOn).toEqual(['conn-failure', 'empty-response', '500', '503']);
  });

  it('a per-try timeout → timeout server, and response-timeout is retried', () => {
    const s = settings({ retry: {}, timeouts: { perTryMs: 200, connectMs: 50 } });
    expect(s.timeouts).toEqual({ connectMs: 50, serverMs: 200, clientMs: 30_000 });
    expect(s.retryOn).toEqual(['conn-failure', 'empty-response', 'response-timeout', '502', '503', '504']);
  });

  it('an overall deadline beside a per-try timeout is a problem (HAProxy has none)', () => {
    expect(problems({ timeouts: { perTryMs: 200, requestMs: 1000 } })).toEqual([
      expect.stringMatching(/^timeouts\.requestMs: 1000 has no HAProxy equivalent: HAProxy has no deadline over all attempts/),
    ]);
  });

  it('every retry setting HAProxy cannot express is its own problem line', () => {
    const ps = problems({
      retry: {
        retryOn: [429, 503], budget: {}, backoffBaseMs: 10, retryAfterMaxMs: 0, maxReplayBodyBytes: 0, idempotentMethods: ['GET'],
      },
    });
    expect(ps).toEqual([
      expect.stringMatching(/^retry\.budget: \{"ratio":0\.2,"minConcurrent":3\} has no HAProxy equivalent \(no retry budget\); set proxies\.haproxy\.retries/),
      expect.stringMatching(/^retry\.backoffBaseMs: \[10,250\] has no HAProxy equivalent: HAProxy waits min\(timeout connect, 1 s\)/),
      expect.stringMatching(/^retry\.retryAfterMaxMs: 0 has no HAProxy equivalent: HAProxy ignores Retry-After/),
      expect.stringMatching(/^retry\.maxReplayBodyBytes: 0 has no HAProxy equivalent/),
      expect.stringMatching(/^retry\.idempotentMethods: \["GET"\] has no HAProxy equivalent/),
      expect.stringMatching(/^retry\.retryOn: 429 has no HAProxy retry-on keyword \(allowed statuses: 401, 403, 404, 408, 425, 500, 501, 502, 503, 504\)/),
    ]);
  });

  it('proxies.haproxy.retries replaces the whole generic retry section and silences its problems', () => {
    const s = settings({ retry: { budget: {}, retryOn: [429] }, proxies: { haproxy: { retries: 3 } } });
    expect(s.retries).toBe(3);
    expect(s.retryOn).toEqual(['conn-failure']);
    expect(s.redispatch).toBeUndefined();
  });

  it('redispatch: true → -1 (the last retry), an interval as given, false/0 → off', () => {
    expect(settings({ proxies: { haproxy: { retries: 3, redispatch: true } } }).redispatch).toBe(-1);
    expect(settings({ proxies: { haproxy: { retries: 3, redispatch: 2 } } }).redispatch).toBe(2);
    expect(settings({ retry: {}, proxies: { haproxy: { redispatch: false } } }).redispatch).toBeUndefined();
    expect(settings({ retry: {}, proxies: { haproxy: { redispatch: 0 } } }).redispatch).toBeUndefined();
  });

  it('block retry-on and timeouts win field by field', () => {
    const s = settings({
      retry: {}, timeouts: { perTryMs: 300 },
      proxies: { haproxy: { retryOn: ['conn-failure', '503'], timeouts: { serverMs: 900, queueMs: 100, checkMs: 50 } } },
    });
    expect(s.retryOn).toEqual(['conn-failure', '503']);
    expect(s.retries).toBe(2); // the generic maxAttempts still gives the count
    expect(s.timeouts).toEqual({ connectMs: 1000, serverMs: 900, clientMs: 30_000, queueMs: 100, checkMs: 50 });
  });
});

describe('generic → HAProxy: health', () => {
  const active = { intervalMs: 500, timeoutMs: 100, rise: 1, fall: 2, path: '/health' };

  it('health.active → httpchk + check inter rise fall + timeout check', () => {
    const s = settings({ health: { active } });
    expect(s.check).toEqual({ path: '/health', interMs: 500, rise: 1, fall: 2 });
    expect(s.timeouts.checkMs).toBe(100);
  });

  it('active jitter is a problem; requireFirstPass is not (HAProxy starts servers up)', () => {
    expect(problems({ health: { active: { ...active, jitterMs: 10, requireFirstPass: false } } })).toEqual([
      expect.stringMatching(/^health\.active\.jitterMs: 10 has no per-backend HAProxy equivalent/),
    ]);
    expect(settings({ health: { active: { ...active, requireFirstPass: false } } }).check).toEqual({ path: '/health', interMs: 500, rise: 1, fall: 2 });
  });

  it('health.outlier → observe layer7 error-limit N on-error mark-down', () => {
    expect(settings({ health: { active, outlier: { consecutiveFailures: 4 } } }).observe).toEqual({ errorLimit: 4, onError: 'mark-down' });
  });

  it('outlier settings off their defaults, and outlier detection without checks, are problems', () => {
    expect(problems({ health: { active, outlier: { baseEjectionMs: 1000, maxEjectionPercent: 100, count500: true, decayMs: 5 } } })).toEqual([
      expect.stringMatching(/^health\.outlier\.baseEjectionMs: 1000 has no HAProxy equivalent: HAProxy's observe layer7 marks the server down/),
      expect.stringMatching(/^health\.outlier\.maxEjectionPercent: 100 has no HAProxy equivalent/),
      expect.stringMatching(/^health\.outlier\.count500: true has no HAProxy equivalent/),
      expect.stringMatching(/^health\.outlier\.decayMs: 5 has no HAProxy equivalent/),
    ]);
    expect(problems({ health: { outlier: {} } })).toEqual([
      expect.stringMatching(/^health\.outlier: \{"errorLimit":5,"onError":"mark-down"\} needs active checks on HAProxy/),
    ]);
    expect(problems({ proxies: { haproxy: { observe: {} } } })).toEqual([
      expect.stringMatching(/^proxies\.haproxy\.observe: \{"errorLimit":10,"onError":"fail-check"\} needs active checks/),
    ]);
  });

  it('the block\'s check and observe replace the generic ones; false turns them off', () => {
    const s = settings({
      health: { active: { ...active, jitterMs: 10 }, outlier: { baseEjectionMs: 1 } },
      proxies: { haproxy: { check: { interMs: 1000, fastinterMs: 100 }, observe: { errorLimit: 3, onError: 'sudden-death' } } },
    });
    expect(s.check).toEqual({ path: '/heartbeat', interMs: 1000, rise: 2, fall: 3, fastinterMs: 100 });
    expect(s.observe).toEqual({ errorLimit: 3, onError: 'sudden-death' });
    expect(s.timeouts.checkMs).toBe(100); // the generic probe timeout still applies
    const off = settings({ health: { active, outlier: { baseEjectionMs: 1 } }, proxies: { haproxy: { check: false, observe: false } } });
    expect(off.check).toBeUndefined();
    expect(off.observe).toBeUndefined();
    expect(off.timeouts.checkMs).toBeUndefined();
  });

  it('checks from the block alone default timeout check to inter (HAProxy\'s rule)', () => {
    expect(settings({ proxies: { haproxy: { check: {} } } }).timeouts.checkMs).toBe(2000);
  });
});

describe('the proxies.haproxy block', () => {
  it('balance wins over the generic policy and silences its problem', () => {
    expect(settings({ balancer: { policy: 'peak-ewma' }, proxies: { haproxy: { balance: 'leastconn' } } }).balance).toEqual({ algorithm: 'leastconn' });
  });

  it.each([
    ['static-rr', { algorithm: 'static-rr' }],
    ['first', { algorithm: 'first' }],
    ['random', { algorithm: 'random', draws: 2 }],
    ['random(5)', { algorithm: 'random', draws: 5 }],
    ['source', { algorithm: 'source', hashType: { method: 'map-based', function: 'sdbm', avalanche: false } }],
  ])('balance %s', (balance, expected) => {
    expect(parseBalance(balance)).toEqual(expected);
    expect(settings({ proxies: { haproxy: { balance } } }).balance).toEqual(expected);
  });

  it.each([
    ['map-based', { method: 'map-based', function: 'sdbm', avalanche: false }],
    ['consistent', { method: 'consistent', function: 'sdbm', avalanche: true }],
    ['consistent sdbm', { method: 'consistent', function: 'sdbm', avalanche: false }],
    ['map-based wt6 avalanche', { method: 'map-based', function: 'wt6', avalanche: true }],
    ['consistent  crc32', { method: 'consistent', function: 'crc32', avalanche: false }],
  ])('hash-type %s', (text, expected) => {
    expect(parseHashType(text)).toEqual(expected);
  });

  it('hashType and hashBalanceFactor apply to source (and the factor to random)', () => {
    expect(settings({ proxies: { haproxy: { balance: 'source', hashType: 'consistent djb2', hashBalanceFactor: 150 } } }).balance)
      .toEqual({ algorithm: 'source', hashType: { method: 'consistent', function: 'djb2', avalanche: false }, hashBalanceFactor: 150 });
    expect(settings({ balancer: { policy: 'bounded-load' }, proxies: { haproxy: { hashBalanceFactor: 0 } } }).balance)
      .toEqual({ algorithm: 'source', hashType: { method: 'consistent', function: 'sdbm', avalanche: true } });
    expect(settings({ balancer: { policy: 'ip-hash' }, proxies: { haproxy: { hashType: 'map-based crc32' } } }).balance)
      .toEqual({ algorithm: 'source', hashType: { method: 'map-based', function: 'crc32', avalanche: false } });
    expect(settings({ proxies: { haproxy: { balance: 'random', hashBalanceFactor: 150 } } }).balance).toEqual({ algorithm: 'random', draws: 2 });
    expect(problems({ proxies: { haproxy: { balance: 'roundrobin', hashType: 'consistent', hashBalanceFactor: 150 } } })).toEqual([
      'proxies.haproxy.hashType: "consistent" applies to balance source only (balance is roundrobin)',
      'proxies.haproxy.hashBalanceFactor: 150 applies to balance source (consistent) and random only (balance is roundrobin)',
    ]);
    expect(problems({ proxies: { haproxy: { balance: 'source', hashBalanceFactor: 150 } } })).toEqual([
      expect.stringMatching(/^proxies\.haproxy\.hashBalanceFactor: 150 needs hash-type consistent/),
    ]);
  });

  it('slowstartMs and maxconn pass through; slowstartMs 0 turns a generic slow start off', () => {
    const s = settings({ balancer: { policy: 'weighted-round-robin', slowStart: { windowMs: 100, aggression: 3 } }, proxies: { haproxy: { slowstartMs: 0, maxconn: 4 } } });
    expect(s.slowstartMs).toBeUndefined();
    expect(s.maxconn).toBe(4);
    expect(settings({ proxies: { haproxy: { slowstartMs: 2500 } } }).slowstartMs).toBe(2500);
  });

  it('a variant may set proxies.haproxy.* fields', () => {
    const plan = parseExperiment({
      ...smallExperiment(),
      variants: [{ name: 'rr' }, { name: 'first', set: { 'proxies.haproxy.balance': 'first', 'proxies.haproxy.maxconn': 2 } }],
    }, 'test.json');
    expect(haproxySettings(plan.runs[0].config).settings!.balance).toEqual({ algorithm: 'roundrobin' });
    const first = haproxySettings(plan.runs[1].config).settings!;
    expect(first.balance).toEqual({ algorithm: 'first' });
    expect(first.maxconn).toBe(2);
  });

  it('bad values name their path and the allowed values', () => {
    expect(schemaProblems({ proxies: { haproxy: { balance: 'rundrobin' } } })).toEqual([
      expect.stringMatching(/^proxies\.haproxy\.balance: got "rundrobin"; allowed: "roundrobin", "static-rr", "leastconn", "first", "source", "random", "random\(<draws>\)"/),
    ]);
    expect(schemaProblems({ proxies: { haproxy: { balance: 'random(0)' } } })).toEqual([expect.stringMatching(/^proxies\.haproxy\.balance: got "random\(0\)"/)]);
    expect(schemaProblems({ proxies: { haproxy: { hashType: 'consistent md5' } } })).toEqual([
      expect.stringMatching(/^proxies\.haproxy\.hashType: got "consistent md5"; allowed: "<map-based\|consistent> \[<sdbm\|djb2\|wt6\|crc32> \[avalanche\]\]"/),
    ]);
    expect(schemaProblems({ proxies: { haproxy: { retryOn: ['conn-failur'] } } })).toEqual([
      expect.stringMatching(/^proxies\.haproxy\.retryOn\.0: got "conn-failur"; allowed: .*"conn-failure", .*; did you mean "conn-failure"\?$/),
    ]);
    expect(schemaProblems({ proxies: { haproxy: { hashBalanceFactor: 90 } } })).toEqual([
      expect.stringMatching(/^proxies\.haproxy\.hashBalanceFactor: got 90; must be 0 \(off\) or above 100/),
    ]);
    expect(schemaProblems({ proxies: { haproxy: { observe: { onError: 'eject' } } } })).toEqual([
      'proxies.haproxy.observe.onError: got "eject"; allowed: "fastinter", "fail-check", "sudden-death", "mark-down"',
    ]);
    expect(schemaProblems({ proxies: { haproxy: { retrys: 2 } } })).toEqual(['proxies.haproxy: unknown field "retrys"']);
    expect(schemaProblems({ proxies: { envoy: {} } })).toEqual(['proxies: unknown field "envoy"']);
  });
});
