// Rules an experiment must meet beyond its fields' own schemas: server references,
// one action per change, absurd distributions, and core's cross-field routing rules.
import { routingProblems } from '../core/config.ts';
import { type Distribution, meanOf } from '../core/distributions.ts';
import type { RunConfig } from './schema.ts';

export const SERVER_ID = /^[a-z][a-z0-9_-]{0,31}$/;
/** Mean of any distribution (1 h): a service or network time beyond this is a typo. */
export const MAX_MEAN_MS = 3_600_000;
/** Zipf popularity keeps a cumulative table of this many doubles at most (8 MB). */
export const MAX_ZIPF_CLIENTS = 1_000_000;

/** Initial server ids, s1 … sN. */
export function initialServerIds(cfg: { servers: { count: number } }): string[] {
  return Array.from({ length: cfg.servers.count }, (_, i) => `s${i + 1}`);
}

/**
 * Server references: overrides, faults and changes may only name s1 … sN and servers that
 * changes add; a change does exactly one thing. Reads the raw JSON defensively, so these
 * are reported even when other fields fail the schema.
 */
export function referenceProblems(raw: unknown): string[] {
  const problems: string[] = [];
  const doc = asRecord(raw);
  const workload = asRecord(doc.workload);
  if (workload.trace !== undefined && workload.clients !== undefined) {
    problems.push('workload.clients: a trace brings its own clients; remove "clients" (or "trace")');
  }
  const count = asRecord(doc.servers).count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1_000) return problems;
  const initial = initialServerIds({ servers: { count } });
  const changes = Array.isArray(doc.changes) ? doc.changes.map(asRecord) : [];
  const faults = Array.isArray(doc.faults) ? doc.faults.map(asRecord) : [];
  const added: string[] = [];
  changes.forEach((c, i) => {
    const actions = ['add', 'remove', 'server'].filter((k) => c[k] !== undefined).length;
    if (actions !== 1) {
      problems.push(`changes.${i}: needs exactly one of "add", "remove" or "server" (+ "weight")`);
      return;
    }
    if (typeof c.add === 'string') {
      if (initial.includes(c.add) || added.includes(c.add)) {
        problems.push(`changes.${i}.add: got ${JSON.stringify(c.add)}; that server already exists`);
      }
      added.push(c.add);
    }
    if (c.server !== undefined && c.weight === undefined) problems.push(`changes.${i}.weight: missing; "server" changes set a weight`);
    if (c.remove !== undefined && c.weight !== undefined) problems.push(`changes.${i}.weight: "remove" takes no weight`);
  });
  const known = [...initial, ...added];
  const knownText = `known: ${summariseIds(initial)}${added.length ? ` (and ${added.join(', ')} added by changes)` : ''}`;
  const checkId = (path: string, id: unknown): void => {
    // Ids of the wrong shape are the schema's to report.
    if (typeof id === 'string' && SERVER_ID.test(id) && !known.includes(id)) {
      problems.push(`${path}: got ${JSON.stringify(id)}; unknown server; ${knownText}`);
    }
  };
  for (const id of Object.keys(asRecord(asRecord(doc.servers).overrides))) {
    if (!known.includes(id)) problems.push(`servers.overrides.${id}: got ${JSON.stringify(id)}; unknown server; ${knownText}`);
  }
  faults.forEach((f, i) => checkId(`faults.${i}.server`, f.server));
  changes.forEach((c, i) => {
    checkId(`changes.${i}.remove`, c.remove);
    checkId(`changes.${i}.server`, c.server);
  });
  return problems;
}

/** Rules over valid fields: zipf table size, absurd means, and the core's routing rules. */
export function configProblems(cfg: RunConfig): string[] {
  const problems: string[] = [];
  const w = cfg.workload;
  if (w.clients.popularity.dist === 'zipf' && w.clients.count > MAX_ZIPF_CLIENTS) {
    problems.push(`workload.clients.count: got ${w.clients.count}; zipf popularity allows at most ${MAX_ZIPF_CLIENTS} clients`);
  }
  const dists: Array<[string, Distribution | undefined]> = [
    ['servers.template.serviceTimeMs', cfg.servers.template.serviceTimeMs],
    ...Object.entries(cfg.servers.overrides).map(([id, o]): [string, Distribution | undefined] => [`servers.overrides.${id}.serviceTimeMs`, o.serviceTimeMs]),
    ['network.clientToProxyMs', cfg.network.clientToProxyMs],
    ['network.proxyToServerMs', cfg.network.proxyToServerMs],
    ['network.connectMs', cfg.network.connectMs],
    ['network.proxyOverheadMs', cfg.network.proxyOverheadMs],
    ['network.proxyCpu.requestMs', cfg.network.proxyCpu?.requestMs],
    ['network.proxyCpu.retryMs', cfg.network.proxyCpu?.retryMs],
    ['network.proxyCpu.responseMs', cfg.network.proxyCpu?.responseMs],
  ];
  if (w.arrival?.process === 'closed') dists.push(['workload.arrival.thinkTimeMs', w.arrival.thinkTimeMs]);
  for (const [path, d] of dists) {
    if (d && !(meanOf(d) <= MAX_MEAN_MS)) problems.push(`${path}: got ${JSON.stringify(d)}; its mean must be at most ${MAX_MEAN_MS} ms`);
    if (d && d.dist === 'lognormal' && d.sigma > 5) problems.push(`${path}.sigma: got ${d.sigma}; at most 5`);
  }
  for (const p of routingProblems(cfg)) problems.push(`${p.path}: got ${JSON.stringify(valueAt(cfg, p.path))}; ${p.message}`);
  return problems;
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function summariseIds(ids: string[]): string {
  return ids.length <= 8 ? ids.join(', ') : `${ids.slice(0, 3).join(', ')}, …, ${ids[ids.length - 1]}`;
}

function valueAt(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

