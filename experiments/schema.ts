// The experiment file: one JSON document that both engines (sim/ and live/) read. Times
// are in ms, rates per second. The routing sections reuse core/config.ts's schemas, so an
// experiment and the proxy's --config accept exactly the same balancer/health/retry input.
// Validation is all-or-nothing: every problem is reported with its JSON path, and nothing
// runs until the base file, every sweep point and every variant validate.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { BalancerSchema, HealthSchema, RetrySchema, TimeoutsSchema, describeIssues } from '../core/config.ts';
import { DistributionSchema, meanOf } from '../core/distributions.ts';
import { SERVER_ID, configProblems, initialServerIds, referenceProblems } from './rules.ts';
import { JsonSyntaxError, parseJson } from './json-location.ts';
import { withPatch } from './patch.ts';
import { type Answer, AnswerSchema } from './answer.ts';
import { NetworkSchema } from './network.ts';
import { BalancersSchema, ONE_BALANCER } from './balancers.ts';
import { readCalibration, withCalibration } from './calibration-file.ts';
import type { ProxyName } from './proxies.ts';
import { ProxiesSchema } from './proxies/blocks.ts';
import { TRACE_FORMATS, TraceError } from './trace/record.ts';
import { checkTrace } from './trace/arrivals.ts';

export { initialServerIds };

/** Longest time anywhere in a file (~11.6 days): beyond this a value is a typo. */
const MAX_TIME_MS = 1e9;
/** Clients map onto 127.0.0.2 … 127.255.255.255 (see workload.ts clientAddress). */
export const MAX_CLIENTS = 0xffffff - 1;

const timeMs = z.number().nonnegative().max(MAX_TIME_MS);
const spanMs = z.number().positive().max(MAX_TIME_MS);
const probability = z.number().min(0).max(1);
const serverId = z.string().regex(SERVER_ID, 'must look like s1, s2, … (lower-case letter, then letters, digits, - or _)');
/** Names become folder names under reports/. */
const folderName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1-64 of A-Z a-z 0-9 . _ - (a folder name), starting with a letter or digit');

const ServerTemplateSchema = z.strictObject({
  serviceTimeMs: DistributionSchema,
  /** Requests served at once; the rest wait in one FIFO queue. */
  concurrency: z.number().int().min(1).max(100_000).default(1),
  weight: z.number().positive().max(10_000).default(1),
});
const ServerOverrideSchema = z.strictObject({
  serviceTimeMs: DistributionSchema.optional(),
  concurrency: z.number().int().min(1).max(100_000).optional(),
  weight: z.number().positive().max(10_000).optional(),
});

const ServersSchema = z.strictObject({
  /** Servers s1 … sN present at start. */
  count: z.number().int().min(1).max(1_000),
  template: ServerTemplateSchema,
  /** Per-server differences, by id (also for servers added by `changes`). */
  overrides: z.record(z.string(), ServerOverrideSchema).default({}),
});

const ArrivalSchema = z.discriminatedUnion('process', [
  /** Open loop: exponential gaps, so arrivals ignore how the system is doing. */
  z.strictObject({ process: z.literal('poisson'), ratePerSec: z.number().positive().max(1e8) }),
  /** Open loop: evenly spaced. */
  z.strictObject({ process: z.literal('constant'), ratePerSec: z.number().positive().max(1e8) }),
  /** Closed loop: `concurrency` users, each sending its next request after a response and a think time. */
  z.strictObject({
    process: z.literal('closed'),
    concurrency: z.number().int().min(1).max(1_000_000),
    thinkTimeMs: DistributionSchema.default({ dist: 'constant', value: 0 }),
  }),
]);

const PopularitySchema = z.discriminatedUnion('dist', [
  z.strictObject({ dist: z.literal('uniform') }),
  /** P(rank k) ∝ 1 / k^s; client 0 is the most popular. */
  z.strictObject({ dist: z.literal('zipf'), s: z.number().min(0).max(10) }),
]);

const ClientsSchema = z.strictObject({
  count: z.number().int().min(1).max(MAX_CLIENTS).default(1),
  popularity: PopularitySchema.default({ dist: 'uniform' }),
});

/** A recorded trace as the workload: its arrivals, clients and service times (experiments/trace/). */
const TraceSchema = z.strictObject({
  /** Relative to the directory `npm run` is started in (the repository root). */
  file: z.string().min(1),
  format: z.enum(TRACE_FORMATS),
  /** 2 replays the same requests in half the time: "what at twice the traffic?". */
  speed: z.number().positive().max(1_000).default(1),
  /** The part of the trace to replay, in ms after its first arrival (trace time, before speed). */
  window: z.strictObject({ fromMs: timeMs.default(0), toMs: spanMs.optional() }).default({ fromMs: 0 }),
  /**
   * logged: the logged upstream time minus overheadMs; resampled: drawn per path from the
   * trace's own service times; servers: the servers' serviceTimeMs (the trace gives only arrivals).
   */
  serviceTime: z.enum(['logged', 'resampled', 'servers']).default('logged'),
  /** The proxy-side part of the logged time (network, proxy): subtracted to estimate the service time. */
  overheadMs: z.number().min(0).max(60_000).default(0),
  /** Requests each recorded server served at once (FIFO): the estimator then takes their queueing out too (trace/estimate.ts). */
  recordedConcurrency: z.number().int().min(1).max(100_000).optional(),
});

const WorkloadSchema = z.strictObject({
  /** Total client requests; with `durationMs`, whichever ends first. */
  requests: z.number().int().min(1).max(1e9).optional(),
  /** No new request starts at or after this time. */
  durationMs: spanMs.optional(),
  /** Exactly one of arrival (a generated schedule) and trace (a recorded one). */
  arrival: ArrivalSchema.optional(),
  trace: TraceSchema.optional(),
  clients: ClientsSchema.default({ count: 1, popularity: { dist: 'uniform' } }),
  /** For trace formats that log no method or path (Fulcrum's requests.csv), these apply. */
  method: z.string().regex(/^[A-Z]+$/, 'must be an upper-case HTTP method').default('GET'),
  path: z.string().startsWith('/').default('/'),
}).refine((w) => w.arrival !== undefined || w.trace !== undefined, {
  // At the missing field, so a typo ("arival") folds into one "did you mean" line.
  path: ['arrival'], message: 'needs "arrival" (a generated schedule) or "trace" (a recorded one)',
}).refine((w) => w.arrival === undefined || w.trace === undefined, {
  message: 'needs exactly one of "arrival" (a generated schedule) and "trace" (a recorded one), not both',
}).refine((w) => w.trace !== undefined || w.requests !== undefined || w.durationMs !== undefined, {
  message: 'needs "requests" or "durationMs" (or both), or the run never ends',
});

const faultBase = { atMs: timeMs, server: serverId };
const FaultSchema = z.discriminatedUnion('kind', [
  /**
   * Process dies: connections refused, in-flight and queued requests reset. The restart
   * policy starts it again after restartAfterMs; startupMs is how long the new process then
   * needs before it listens (simulator only: live, the real process takes its real time).
   */
  z.strictObject({ ...faultBase, kind: z.literal('crash'), restartAfterMs: spanMs.optional(), startupMs: spanMs.optional() }),
  /** Process stops answering (SIGSTOP): accepts, never responds, until durationMs passes. */
  z.strictObject({ ...faultBase, kind: z.literal('hang'), durationMs: spanMs.optional() }),
  /** Service times multiplied by `factor`. */
  z.strictObject({ ...faultBase, kind: z.literal('slow'), factor: z.number().positive().max(1_000), durationMs: spanMs.optional() }),
  /** Answers `status` at once (before queueing) with probability `probability`. */
  z.strictObject({
    ...faultBase, kind: z.literal('errors'), probability,
    status: z.number().int().min(500).max(599).default(503), durationMs: spanMs.optional(),
  }),
  /** Resets the connection at once with probability `probability`. */
  z.strictObject({ ...faultBase, kind: z.literal('reset'), probability, durationMs: spanMs.optional() }),
]);

/**
 * One membership change: exactly one of add, remove, or server + weight (the file's flat
 * form, checked with clear messages by rules.ts), parsed into a union so the
 * engines never guess which fields are set.
 */
const ChangeSchema = z.strictObject({
  atMs: timeMs,
  add: serverId.optional(),
  remove: serverId.optional(),
  server: serverId.optional(),
  weight: z.number().positive().max(10_000).optional(),
}).transform((c): Change => {
  if (c.add !== undefined) return { kind: 'add', atMs: c.atMs, server: c.add, weight: c.weight };
  if (c.remove !== undefined) return { kind: 'remove', atMs: c.atMs, server: c.remove };
  return { kind: 'weight', atMs: c.atMs, server: c.server!, weight: c.weight! }; // the rules require both
});

export type Change =
  | { kind: 'add'; atMs: number; server: string; weight?: number }
  | { kind: 'remove'; atMs: number; server: string }
  | { kind: 'weight'; atMs: number; server: string; weight: number };

const OutputSchema = z.strictObject({
  /** Width of a timeline.csv bucket; default 100 ms, widened for long runs (≤ ~1000 buckets). */
  timelineBucketMs: z.number().min(1).max(MAX_TIME_MS).optional(),
});

/** One complete run: what a sweep point or variant becomes once patched. */
export const RunSchema = z.strictObject({
  name: folderName,
  description: z.string().default(''),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(1),
  servers: ServersSchema,
  workload: WorkloadSchema,
  network: NetworkSchema.default({}),
  balancer: BalancerSchema.default(BalancerSchema.parse({})),
  /** Independent balancer instances and how requests reach them (balancers.ts); default one. */
  balancers: BalancersSchema.default(ONE_BALANCER),
  health: HealthSchema.optional(),
  retry: RetrySchema.optional(),
  timeouts: TimeoutsSchema.default(TimeoutsSchema.parse({})),
  faults: z.array(FaultSchema).max(10_000).default([]),
  changes: z.array(ChangeSchema).max(10_000).default([]),
  output: OutputSchema.default({}),
  /** Settings in one proxy's own vocabulary (`proxies.haproxy`); other proxies ignore them. */
  proxies: ProxiesSchema.default({}),
});

export const SweepSchema = z.strictObject({
  /** Dotted path into the experiment, e.g. "servers.count" or "balancer.policy". */
  path: z.string().min(1).refine((p) => !/^(sweep|variants|name|answer)(\.|$)/.test(p), { message: 'cannot sweep name, sweep, variants or answer' }),
  values: z.array(z.unknown()).min(1).max(1_000),
});

export const VariantSchema = z.strictObject({
  name: folderName,
  description: z.string().default(''),
  /** Dotted path → value; null deletes the field (turns an optional section off). */
  set: z.record(z.string(), z.unknown()).default({}),
});

/** The file: a run plus optional sweep and variants. */
export const ExperimentSchema = RunSchema.extend({
  sweep: SweepSchema.optional(),
  variants: z.array(VariantSchema).min(1).max(100).optional(),
  answer: AnswerSchema.optional(),
});

export type RunConfig = z.infer<typeof RunSchema>;
export type ExperimentFile = z.infer<typeof ExperimentSchema>;
export type ServerSpec = z.infer<typeof ServerTemplateSchema>;
export type Fault = z.infer<typeof FaultSchema>;
export type WorkloadConfig = z.infer<typeof WorkloadSchema>;
export type ArrivalConfig = z.infer<typeof ArrivalSchema>;
export type TraceConfig = z.infer<typeof TraceSchema>;
export type NetworkConfig = z.infer<typeof NetworkSchema>;
export type { ProxyCpuConfig } from './network.ts';

/** One run of a plan and where its files go. */
export interface PlannedRun {
  /** Folder under the mode folder: '' (single run), 'servers.count=3', 'no-retry', 'no-retry/servers.count=3'. */
  dir: string;
  variant?: { name: string; description: string };
  sweepValue?: unknown;
  config: RunConfig;
}

export interface ExperimentPlan {
  name: string;
  description: string;
  source: string;
  sweep?: { path: string; values: unknown[] };
  variants?: Array<{ name: string; description: string }>;
  answer?: Answer;
  runs: PlannedRun[];
}

/** Every problem found, one line each, naming the JSON path. The CLI exits 2 on it. */
export class ExperimentError extends Error {
  constructor(readonly source: string, readonly problems: string[]) {
    super(`${source} is not a valid experiment:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

export interface ParseOptions {
  /** Replaces the file's seed (the CLI's --seed). */
  seed?: number;
  /** The proxy the runs target: `network.calibration: true` reads its calibration file. Default fulcrum. */
  proxy?: ProxyName;
  /** Where calibration files are read from (tests); default experiments/calibration/. */
  calibrationDir?: string;
}

/** Reads and validates an experiment file. Throws ExperimentError. */
export async function loadExperiment(path: string, opts: ParseOptions = {}): Promise<ExperimentPlan> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ExperimentError(path, [`cannot read the file: ${(e as Error).message}`]);
  }
  const plan = parseExperiment(text, path, opts);
  checkTraces(plan);
  return plan;
}

/** Every trace a run replays is read through once, so a malformed line stops the plan before anything is written. */
function checkTraces(plan: ExperimentPlan): void {
  const checked = new Set<string>();
  for (const { config } of plan.runs) {
    const t = config.workload.trace;
    if (!t || checked.has(`${t.format}:${t.file}`)) continue;
    checked.add(`${t.format}:${t.file}`);
    try {
      checkTrace(t);
    } catch (e) {
      if (e instanceof TraceError) throw new ExperimentError(plan.source, [`workload.trace.file: ${e.message}`]);
      throw e;
    }
  }
}

/** Validates an experiment given as JSON text (or an already parsed value). Throws ExperimentError. */
export function parseExperiment(json: string | unknown, source: string, opts: ParseOptions = {}): ExperimentPlan {
  let raw: unknown;
  if (typeof json === 'string') {
    try {
      raw = parseJson(json.replace(/^\uFEFF/, ''));
    } catch (e) {
      if (e instanceof JsonSyntaxError) throw new ExperimentError(source, [`JSON syntax error at ${e.message}`]);
      throw e;
    }
  } else {
    raw = json;
  }
  if (opts.seed !== undefined && raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    raw = { ...(raw as object), seed: opts.seed };
  }
  const parsed = ExperimentSchema.safeParse(raw);
  const baseProblems = parsed.success
    ? [...referenceProblems(raw), ...configProblems(parsed.data)]
    : [...describeIssues(parsed.error.issues, raw), ...referenceProblems(raw)];
  if (!parsed.success || baseProblems.length) throw new ExperimentError(source, baseProblems);
  const file = parsed.data;

  const base = { ...(raw as Record<string, unknown>) };
  delete base.sweep;
  delete base.variants;
  delete base.answer;
  const proxy = opts.proxy ?? 'fulcrum';
  let calibration: ReturnType<typeof readCalibration> | undefined;
  const calibrationOnce = () => (calibration ??= readCalibration(proxy, opts.calibrationDir));
  const problems: string[] = [];
  const runs: PlannedRun[] = [];
  const variants = file.variants ?? [undefined];
  const names = new Set<string>();
  file.variants?.forEach((v, i) => {
    if (names.has(v.name)) problems.push(`variants.${i}.name: got ${JSON.stringify(v.name)}; variant names must be unique`);
    names.add(v.name);
  });
  variants.forEach((variant, vi) => {
    let variantRaw: unknown = base;
    const where = variant ? `variant "${variant.name}" (variants.${vi})` : '';
    if (variant) {
      for (const [path, value] of Object.entries(variant.set)) {
        if (/^(sweep|variants|name|answer)(\.|$)/.test(path)) {
          problems.push(`variants.${vi}.set: a variant cannot set "${path}"`);
          continue;
        }
        try { variantRaw = withPatch(variantRaw, path, value); } catch (e) {
          problems.push(`variants.${vi}.set: ${(e as Error).message}`);
        }
      }
    }
    const points = file.sweep ? file.sweep.values.map((v, i) => ({ value: v, index: i })) : [undefined];
    for (const point of points) {
      let pointRaw = variantRaw;
      let context = where;
      if (point && file.sweep) {
        context = `${where ? `${where}, ` : ''}sweep value ${JSON.stringify(point.value)} (sweep.values.${point.index})`;
        try { pointRaw = withPatch(variantRaw, file.sweep.path, point.value); } catch (e) {
          problems.push(`sweep.path: ${(e as Error).message}`);
          continue;
        }
      }
      const run = validateRun(pointRaw, calibrationOnce);
      if (!run.ok) {
        for (const p of run.problems) problems.push(context ? `${context}: ${p}` : p);
        continue;
      }
      const dirs: string[] = [];
      if (variant) dirs.push(variant.name);
      if (point && file.sweep) dirs.push(sweepFolder(file.sweep.path, point.value, point.index));
      runs.push({
        dir: dirs.join('/'),
        variant: variant ? { name: variant.name, description: variant.description } : undefined,
        sweepValue: point?.value,
        config: run.config,
      });
    }
  });
  if (problems.length) throw new ExperimentError(source, problems);
  return {
    name: file.name,
    description: file.description,
    source,
    sweep: file.sweep ? { path: file.sweep.path, values: file.sweep.values } : undefined,
    variants: file.variants?.map((v) => ({ name: v.name, description: v.description })),
    answer: file.answer,
    runs,
  };
}

function validateRun(
  raw: unknown, calibration: Parameters<typeof withCalibration>[1],
): { ok: true; config: RunConfig } | { ok: false; problems: string[] } {
  if (raw !== null && typeof raw === 'object' && 'network' in raw) {
    const resolved = withCalibration(raw.network, calibration);
    if ('problem' in resolved) return { ok: false, problems: [`network.calibration: ${resolved.problem}`] };
    raw = { ...raw, network: resolved.network };
  }
  const parsed = RunSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: [...describeIssues(parsed.error.issues, raw), ...referenceProblems(raw)] };
  const problems = [...referenceProblems(raw), ...configProblems(parsed.data)];
  return problems.length ? { ok: false, problems } : { ok: true, config: parsed.data };
}

/** `servers.count=3`; values that are not plain scalars get their index instead. */
function sweepFolder(path: string, value: unknown, index: number): string {
  const scalar = typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean';
  const text = scalar ? String(value) : `point-${index}`;
  return `${path}=${text}`.replace(/[^A-Za-z0-9._=-]/g, '_');
}

/**
 * Width of a timeline.csv bucket: the file's `output.timelineBucketMs`, else 100 ms, widened
 * to a 1-2-5 step for long runs so the timeline stays near 1000 buckets.
 */
export function timelineBucketMs(cfg: RunConfig): number {
  if (cfg.output.timelineBucketMs !== undefined) return cfg.output.timelineBucketMs;
  const estimateMs = Math.min(cfg.workload.durationMs ?? Infinity, estimatedRunMs(cfg));
  if (!Number.isFinite(estimateMs) || estimateMs <= 100_000) return 100;
  const target = estimateMs / 1000;
  for (let decade = 100; ; decade *= 10) {
    for (const step of [1, 2, 5]) if (step * decade >= target) return step * decade;
  }
}

/** Rough run length from the request count: arrival rate, or closed-loop throughput bound. */
function estimatedRunMs(cfg: RunConfig): number {
  const w = cfg.workload;
  if (w.requests === undefined || !w.arrival) return Infinity;
  if (w.arrival.process !== 'closed') return (w.requests * 1000) / w.arrival.ratePerSec;
  const serviceMs = meanOf(cfg.servers.template.serviceTimeMs);
  const cycleMs = serviceMs + meanOf(w.arrival.thinkTimeMs);
  const capacityPerMs = serviceMs > 0 ? (cfg.servers.count * cfg.servers.template.concurrency) / serviceMs : Infinity;
  const usersPerMs = cycleMs > 0 ? w.arrival.concurrency / cycleMs : Infinity;
  const throughputPerMs = Math.min(capacityPerMs, usersPerMs);
  return Number.isFinite(throughputPerMs) ? w.requests / throughputPerMs : 0;
}
