// The three questions the four-proxy page puts to every proxy (issue 17): A-3 a crash, A-4
// client affinity under Zipf clients, A-5 one slow server. Each question names its experiment,
// the columns it shows (prediction beside measurement) and the checks that judge it; its
// answer is written from the numbers by finders. A finder may add a proxy's explanation, kept
// here as text keyed by what it detected; the numbers always come from the results.
import type { ProxyName } from '../experiments/proxies.ts';
import { milliseconds as ms } from './answer.ts';
import type { CheckName, CompareRun, EngineNumbers } from './comparison.ts';
import { formatNumber } from './format.ts';
import { PROXY_LABELS } from './proxies.ts';

export interface Column {
  head: string;
  cell: (n: EngineNumbers, servers: readonly string[]) => string;
}

export interface Question {
  id: string;
  experiment: string;
  title: string;
  columns: (servers: readonly string[]) => Column[];
  /** The checks shown in the verdict column, in this order. */
  checks: CheckName[];
  /** Sentences answering the question, written from the runs (every proxy, every variant). */
  answer: (runs: readonly CompareRun[]) => string[];
}

const pct = (v: number | null): string => (v === null ? '—' : `${formatNumber(v * 100, 1)} %`);
const label = (p: ProxyName): string => PROXY_LABELS[p];

/** The number a sentence quotes for a run: the measurement when there is one, else the prediction. */
function quoted(r: CompareRun): { n: EngineNumbers; predicted: boolean } {
  return r.live ? { n: r.live, predicted: false } : { n: r.sim!, predicted: true };
}

/** Variants in first-seen order, each with its runs in proxy order. */
export function byVariant(runs: readonly CompareRun[]): Array<[string, CompareRun[]]> {
  const groups = new Map<string, CompareRun[]>();
  for (const r of runs) groups.set(r.run, [...(groups.get(r.run) ?? []), r]);
  return [...groups];
}

/** "Fulcrum's proxy 335, HAProxy 322, NGINX 310 (predicted)", or "0 on every proxy" when all agree. */
function perProxy(runs: readonly CompareRun[], value: (n: EngineNumbers) => string): string {
  const parts = runs.map((r) => ({ r, ...quoted(r), text: value(quoted(r).n) }));
  if (parts.length > 1 && parts.every((p) => p.text === parts[0].text)) return `${parts[0].text} on every proxy`;
  return parts.map((p) => `${label(p.r.proxy)} ${p.text}${p.predicted ? ' (predicted)' : ''}`).join(', ');
}

/** "a, b and c". */
const andList = (items: readonly string[]): string => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`);
/** "Fulcrum's proxy and HAProxy"; "every proxy" is the caller's business. */
const names = (proxies: readonly ProxyName[]): string => andList(proxies.map(label));

/** `code` around a variant name, as the sentence prints it. */
const v = (name: string): string => `\`${name}\``;
/** A variant as one proxy ran it: `leastconn` (variant `peak-ewma`) when the proxy has its own word for it. */
const runOn = (r: CompareRun): string => (r.balance ? `\`${r.balance}\` (variant ${v(r.run)})` : v(r.run));

/**
 * Variants asking for different policies that one proxy runs with the same balancing (HAProxy
 * has no peak-EWMA: a5's `peak-ewma` runs as `leastconn`, like `least-connections`): their
 * numbers are one algorithm twice.
 */
export function sameBalance(runs: readonly CompareRun[]): string[] {
  const out: string[] = [];
  for (const p of [...new Set(runs.map((r) => r.proxy))]) {
    const groups = new Map<string, CompareRun[]>();
    for (const r of runs) if (r.proxy === p && r.balance) groups.set(r.balance, [...(groups.get(r.balance) ?? []), r]);
    for (const [words, rs] of groups) {
      const variants = rs.map((r) => r.run);
      // Variants that ask for one policy and differ elsewhere (retries, checks) are not a merger.
      if (new Set(rs.map((r) => r.policy)).size > 1) out.push(`On ${label(p)}, ${andList(variants.map(v))} ${variants.length === 2 ? 'both' : 'all'} run as \`${words}\`: one algorithm under ${variants.length} names.`);
    }
  }
  return out;
}

// ---- A-3 -----------------------------------------------------------------------------

/** Why a proxy retried far more than the others on the same variant. */
const MOST_RETRIES_WHY: Partial<Record<ProxyName, string>> = {
  haproxy: 'with `option redispatch`, HAProxy 2.6 redispatches every retry of a non-hash balance and the redispatch takes a round-robin turn, so the dead server keeps its share of attempts',
};

function crashAnswer(runs: readonly CompareRun[]): string[] {
  const out: string[] = [];
  for (const [variant, rs] of byVariant(runs)) {
    const retried = rs.some((r) => quoted(r).n.retries > 0);
    out.push(`${v(variant)}: failed requests ${perProxy(rs, (n) => formatNumber(n.failed))}${retried ? `; retries ${perProxy(rs, (n) => formatNumber(n.retries))}` : ''}.`);
    const clean = rs.filter((r) => quoted(r).n.failed === 0);
    if (clean.length > 0 && clean.length < rs.length) {
      out.push(`With ${v(variant)} only ${names(clean.map((r) => r.proxy))} lost no request.`);
    }
    const withRetries = rs.filter((r) => quoted(r).n.retries > 0);
    if (withRetries.length > 1) {
      const top = withRetries.reduce((a, b) => (quoted(b).n.retries > quoted(a).n.retries ? b : a));
      const rest = withRetries.filter((r) => r !== top).map((r) => quoted(r).n.retries);
      // A fifth more than every other proxy: a difference of rule, not of timing.
      if (quoted(top).n.retries >= 1.2 * Math.max(...rest)) {
        const why = MOST_RETRIES_WHY[top.proxy];
        out.push(`${label(top.proxy)} retried most with ${v(variant)} (${formatNumber(quoted(top).n.retries)} against ${span(rest)})${why ? `: ${why}` : ''}.`);
      }
    }
  }
  return out;
}

/** "355" or "355–377". */
function span(values: readonly number[]): string {
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  return lo === hi ? formatNumber(lo) : `${formatNumber(lo)}–${formatNumber(hi)}`;
}

// ---- A-4 -----------------------------------------------------------------------------

/** A hash policy that sends (nearly) every request to one server: 99 % or more. */
export const ONE_SERVER_SHARE = 0.99;

/** Why a proxy's hash put every loopback client on one server. */
const ONE_SERVER_WHY: Partial<Record<ProxyName, string>> = {
  nginx: 'NGINX\'s `ip_hash` hashes only the first three octets of an IPv4 address (ngx_http_upstream_ip_hash_module.c), and every client here is 127.0.0.x: one key for all',
};

/** Why a proxy never sent a request to a server the others used (one that joined during the run). */
const IDLE_SERVER_WHY: Partial<Record<ProxyName, string>> = {
  haproxy: 'under map-based `balance source` HAProxy 2.6 refuses `add server` at run time, so the server that joins never does',
};

const share = (n: EngineNumbers): { server: string; share: number } | null => {
  const total = n.servers.reduce((a, [, c]) => a + c, 0);
  if (total === 0) return null;
  const [server, top] = n.servers.reduce((a, b) => (b[1] > a[1] ? b : a));
  return { server, share: top / total };
};

function affinityAnswer(runs: readonly CompareRun[]): string[] {
  const out: string[] = [];
  const allServers = [...new Set(runs.flatMap((r) => [...(r.sim?.servers ?? []), ...(r.live?.servers ?? [])].filter(([, c]) => c > 0).map(([s]) => s)))];
  for (const [variant, rs] of byVariant(runs)) {
    out.push(`${v(variant)}: max/mean load ${perProxy(rs, (n) => formatNumber(n.maxOverMean, 2))}`
      + `${rs.some((r) => quoted(r).n.stayed !== null) ? `; clients that stayed on one server ${perProxy(rs, (n) => pct(n.stayed))}` : ''}.`);
    for (const r of rs) {
      const one = oneServer(r);
      if (one) { out.push(one); continue; } // its idle servers follow from it
      const { n, predicted } = quoted(r);
      const idle = allServers.filter((s) => !n.servers.some(([id, c]) => id === s && c > 0));
      if (idle.length > 0 && rs.some((o) => o !== r && idle.every((s) => quoted(o).n.servers.some(([id, c]) => id === s && c > 0)))) {
        const why = IDLE_SERVER_WHY[r.proxy];
        out.push(`Under ${runOn(r)}, ${label(r.proxy)} sent no request to ${idle.join(', ')}${predicted ? ' (predicted)' : ''}${why ? `: ${why}` : ''}.`);
      }
    }
  }
  return out;
}

/** "sends every client to one server", over the whole run or one server at a time; null otherwise. */
function oneServer(r: CompareRun): string | null {
  const { n, predicted } = quoted(r);
  const top = share(n);
  const why = ONE_SERVER_WHY[r.proxy];
  const tail = `under ${runOn(r)}${why ? `: ${why}` : ''}.`;
  if (top && top.share >= ONE_SERVER_SHARE && n.servers.length > 1) {
    return `With its defaults, ${label(r.proxy)} sends ${top.share === 1 ? 'every' : 'nearly every'} client to one server (${top.server} took ${pct(top.share)}${predicted ? ', predicted' : ''}) ${tail}`;
  }
  if (n.busiest && n.busiest.share >= ONE_SERVER_SHARE && n.busiest.servers.length > 1) {
    // One server at a time: a membership change re-hashed the single key onto another server.
    return `With its defaults, ${label(r.proxy)} sends every client to one server at a time (${n.busiest.servers.join(', then ')}; ${pct(n.busiest.share)} of attempts went to the busiest server of their moment${predicted ? ', predicted' : ''}) ${tail}`;
  }
  return null;
}

// ---- A-5 -----------------------------------------------------------------------------

/** A policy this many times the proxy's best p99 ignores the slow server's queue. */
const FAR_WORSE = 10;

function slowServerAnswer(runs: readonly CompareRun[]): string[] {
  const out: string[] = [];
  for (const [variant, rs] of byVariant(runs)) {
    out.push(`${v(variant)}: p50 ${perProxy(rs, (n) => ms(n.p50Ms))}; p99 ${perProxy(rs, (n) => ms(n.p99Ms))}.`);
  }
  const proxies = [...new Set(runs.map((r) => r.proxy))];
  const best = proxies.map((p) => {
    const mine = runs.filter((r) => r.proxy === p);
    return { proxy: p, runs: mine, top: mine.reduce((a, b) => (quoted(b).n.p99Ms < quoted(a).n.p99Ms ? b : a)) };
  });
  out.push(`Lowest p99 per proxy: ${best.map((b) => `${label(b.proxy)} ${ms(quoted(b.top).n.p99Ms)}${quoted(b.top).predicted ? ' (predicted)' : ''} with ${runOn(b.top)}`).join('; ')}.`);
  const far = [...new Set(best.flatMap((b) => b.runs.filter((r) => quoted(r).n.p99Ms >= FAR_WORSE * quoted(b.top).n.p99Ms).map((r) => r.run)))];
  for (const variant of far) {
    const on = best.filter((b) => b.runs.some((r) => r.run === variant && quoted(r).n.p99Ms >= FAR_WORSE * quoted(b.top).n.p99Ms)).map((b) => b.proxy);
    out.push(`${v(variant)} is at least ${FAR_WORSE}× the best p99 on ${on.length === proxies.length && on.length > 1 ? 'every proxy' : names(on)}: it ignores load, so the slow server keeps its full share and its queue grows.`);
  }
  return out;
}

// ---- the three -----------------------------------------------------------------------

const serverCell = (n: EngineNumbers, servers: readonly string[]): string =>
  servers.map((s) => { const c = n.servers.find(([id]) => id === s); return c ? formatNumber(c[1]) : '–'; }).join(' / ');

export const QUESTIONS: readonly Question[] = [
  {
    id: 'A-3',
    experiment: 'a3',
    title: 'A crash: failed requests and retries',
    columns: () => [
      { head: 'failed', cell: (n) => formatNumber(n.failed) },
      { head: 'retries', cell: (n) => formatNumber(n.retries) },
    ],
    checks: ['failed'],
    answer: crashAnswer,
  },
  {
    id: 'A-4',
    experiment: 'a4',
    title: 'Stickiness and imbalance under Zipf clients',
    columns: (servers) => [
      { head: `per server (${servers.join(' / ')})`, cell: serverCell },
      { head: 'max/mean', cell: (n) => formatNumber(n.maxOverMean, 2) },
      { head: 'stayed on one server', cell: (n) => pct(n.stayed) },
    ],
    checks: ['counts', 'latency mean'],
    answer: affinityAnswer,
  },
  {
    id: 'A-5',
    experiment: 'a5',
    title: 'One slow server: p50 and p99 per policy',
    columns: () => [
      { head: 'p50', cell: (n) => ms(n.p50Ms) },
      { head: 'p99', cell: (n) => ms(n.p99Ms) },
      { head: 'mean', cell: (n) => ms(n.meanMs) },
    ],
    checks: ['latency mean', 'counts'],
    answer: slowServerAnswer,
  },
];
