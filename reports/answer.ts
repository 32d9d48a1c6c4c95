// The answer an experiment page (and the index) leads with: the metric the experiment file's
// "answer" names, per run and engine, in one sentence; the charts that show it; and how far
// live was from sim on that metric. Without an "answer", no headline: the page starts with
// its runs table as before. With several proxies there is one headline per proxy, each
// sentence starting "On HAProxy (predicted/measured): …".
import type { Answer } from '../experiments/answer.ts';
import { METRICS, relativeError, roundTo } from './derive.ts';
import { FIDELITY_GUIDE_PCT } from './charts/fidelity.ts';
import { closestName } from '../core/did-you-mean.ts';
import { formatNumber } from './format.ts';
import { type ExperimentResults, type Mode, type RunKey, keyLabel, runOf } from './model.ts';
import { PROXY_LABELS, chartIdOf, enginesWord } from './proxies.ts';

export interface AnswerRow {
  run: string;
  sim: number | null;
  live: number | null;
  /** (live − sim) / |sim| in %; null when a side is missing or only sim is 0. */
  relErrorPct: number | null;
  /** Beyond the fidelity guide, or sim 0 and live not: worth a look. */
  far: boolean;
}

export interface Headline {
  /** Present when the page has several proxies: whose headline this is. */
  proxy?: string;
  question: string;
  metric: string;
  unit: string;
  /** One sentence with the key numbers, plain text. */
  sentence: string;
  /** The same numbers, one row per run, with live's error against sim. */
  rows: AnswerRow[];
  /** One sentence on how close sim came to live on this metric; '' with one engine. */
  fidelity: string;
  /** Chart ids to show under the headline; the first is the index's. */
  charts: string[];
}

const LABELS: Record<string, string> = { failed: 'failed requests', retries: 'retries' };
/** A metric as a sentence names it: failed → failed requests. */
export const labelOf = (metric: string): string => LABELS[metric] ?? metric;

function digitsOf(unit: string): number {
  return unit === 'count' ? 0 : unit === 'ratio' ? 4 : unit === '%' ? 2 : unit === 'req/s' ? 1 : 2;
}

function format(v: number | null, unit: string): string {
  if (v === null) return '—';
  if (unit === 'ms') return milliseconds(v);
  const n = formatNumber(v, digitsOf(unit));
  return unit === '%' ? `${n} %` : unit === 'req/s' ? `${n}/s` : n;
}

/** About three significant digits, as a reader says them: 4.73 ms, 25.8 ms, 378 ms, 2.31 s. */
export function milliseconds(ms: number): string {
  const abs = Math.abs(ms);
  if (abs >= 1000) return `${formatNumber(ms / 1000, 2)} s`;
  return `${formatNumber(ms, abs >= 100 ? 0 : abs >= 10 ? 1 : 2)} ms`;
}

/** "317 sim, 309 live" or "317 sim" when live did not run. */
function engines(values: Partial<Record<Mode, number | null>>, modes: readonly Mode[], unit: string): string {
  return modes.map((m) => `${format(values[m] ?? null, unit)} ${m}`).join(' / ');
}

/** Sweeps: one clause per variant from the first to the last point; else one per run. */
function clauses(e: ExperimentResults, get: (k: RunKey, m: Mode) => number | null, unit: string): string[] {
  const valuesOf = (k: RunKey): Partial<Record<Mode, number | null>> => Object.fromEntries(e.modes.map((m) => [m, get(k, m)]));
  if (!e.sweep) return e.keys.map((k) => `${keyLabel(k) ? `${keyLabel(k)} ` : ''}${engines(valuesOf(k), e.modes, unit)}`);
  const groups = new Map<string, RunKey[]>();
  for (const k of e.keys) groups.set(k.variant ?? '', [...(groups.get(k.variant ?? '') ?? []), k]);
  return [...groups].map(([variant, keys]) => {
    const [first, last] = [keys[0], keys[keys.length - 1]];
    const span = e.modes.map((m) => `${format(get(first, m), unit)} → ${format(get(last, m), unit)} ${m}`).join(' / ');
    return `${variant ? `${variant} ` : ''}${span}`;
  });
}

/** "from servers.count = 2 to 6" for a sweep, '' otherwise. */
function sweepSpan(e: ExperimentResults): string {
  if (!e.sweep || e.sweep.values.length < 2) return '';
  const v = e.sweep.values;
  return ` from ${e.sweep.path} = ${JSON.stringify(v[0])} to ${JSON.stringify(v[v.length - 1])}`;
}

/** "Lowest: retries (both engines)" across variants of a plain variant list; '' otherwise. */
function best(e: ExperimentResults, get: (k: RunKey, m: Mode) => number | null, better: Answer['better']): string {
  if (e.sweep || e.keys.length < 2) return '';
  const winners = e.modes.map((m) => {
    const vals = e.keys.map((k) => get(k, m)).filter((v): v is number => v !== null);
    if (vals.length === 0) return '';
    const top = better === 'lower' ? Math.min(...vals) : Math.max(...vals);
    return e.keys.filter((k) => get(k, m) === top).map(keyLabel).join(' = ');
  });
  const word = better === 'lower' ? 'Lowest' : 'Highest';
  if (winners.every((w) => w === winners[0])) return winners[0] ? `${word}: ${winners[0]}${e.modes.length > 1 ? ' (both engines)' : ''}.` : '';
  return `${word}: ${winners.map((w, i) => `${w} (${e.modes[i]})`).join(', ')}.`;
}

/**
 * `multi`: the page has several proxies, so the sentence names this one. Another proxy than
 * Fulcrum's looks its charts up under its own ids (haproxy--variants-failed) and, drawing fewer,
 * leaves out the ones it does not have without a warning.
 */
export function headlineOf(e: ExperimentResults, answer: Answer, chartIds: readonly string[], warnings: string[], multi = false): Headline {
  const metricOf = (name: string) => METRICS.find((m) => m.name === name)!;
  const main = metricOf(answer.metric);
  const getter = (name: string) => (k: RunKey, m: Mode): number | null => {
    const r = runOf(e, k, m);
    const v = r ? metricOf(name).get(r) : null;
    return v === null ? null : roundTo(v, metricOf(name).digits);
  };
  const get = getter(answer.metric);
  const on = multi ? `On ${PROXY_LABELS[e.proxy]} (${enginesWord(e.modes)}): ` : '';
  const sentences = [
    `${on}${(multi ? (t: string) => t : capitalise)(labelOf(main.name))}${sweepSpan(e)}: ${clauses(e, get, main.unit).join('; ')}.`,
    best(e, get, answer.better),
    ...answer.also.map((name) => `${capitalise(labelOf(name))}${sweepSpan(e)}: ${clauses(e, getter(name), metricOf(name).unit).join('; ')}.`),
  ].filter(Boolean);

  const rows = e.keys.map((k): AnswerRow => {
    const sim = get(k, 'sim');
    const live = get(k, 'live');
    const rel = sim !== null && live !== null ? relativeError(sim, live) : null;
    const relErrorPct = rel === null ? null : roundTo(rel * 100, 3);
    const far = sim !== null && live !== null && (relErrorPct === null || Math.abs(relErrorPct) > FIDELITY_GUIDE_PCT);
    return { run: keyLabel(k) || 'run', sim, live, relErrorPct, far };
  });

  const charts: string[] = [];
  for (const id of answer.charts.map((c) => chartIdOf(e.proxy, c))) {
    if (chartIds.includes(id)) { charts.push(id); continue; }
    if (e.proxy !== 'fulcrum') continue;
    const near = closestName(id, chartIds);
    warnings.push(`answer.charts: no chart "${id}" in this report${near ? `; did you mean "${near}"?` : ''}`);
  }
  return {
    ...(multi ? { proxy: e.proxy } : {}),
    question: answer.question ?? e.description,
    metric: answer.metric,
    unit: main.unit,
    sentence: sentences.join(' '),
    rows,
    fidelity: fidelitySentence(labelOf(main.name), rows),
    charts,
  };
}

function fidelitySentence(label: string, rows: readonly AnswerRow[]): string {
  const both = rows.filter((r) => r.sim !== null && r.live !== null);
  if (both.length === 0) return '';
  const known = both.filter((r) => r.relErrorPct !== null);
  const worst = known.reduce<AnswerRow | null>((w, r) => (w === null || Math.abs(r.relErrorPct!) > Math.abs(w.relErrorPct!) ? r : w), null);
  const parts = [];
  if (worst && worst.relErrorPct === 0) {
    parts.push(both.length === 1 ? 'live equals sim' : 'live equals sim on every run');
  } else if (worst) {
    const pct = `${worst.relErrorPct! > 0 ? '+' : ''}${formatNumber(worst.relErrorPct, 1)} %`;
    parts.push(both.length === 1 ? `live is ${pct} from sim` : `live is within ${formatNumber(Math.abs(worst.relErrorPct!), 1)} % of sim${known.length > 1 ? ` (worst: ${worst.run}, ${pct})` : ''}`);
  }
  const zeroSim = both.filter((r) => r.relErrorPct === null);
  if (zeroSim.length) parts.push(`${zeroSim.map((r) => `${r.run}: sim 0, live ${formatNumber(r.live)}`).join('; ')}`);
  return `Fidelity of ${label}: ${parts.join('; ')}.`;
}

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
