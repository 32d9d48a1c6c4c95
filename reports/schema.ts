// The shapes of summary.json the report accepts, checked at the edge so a malformed file
// fails with its name and the JSON path at fault. Objects are loose: engines may add fields.
import { z } from 'zod';
import { describeIssues } from '../core/config.ts';
import type { ReportRunSummary } from './model.ts';

const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();
const ratio = z.number().nonnegative().nullable();

const RunFields = {
  policy: z.string().optional(),
  seed: z.number().optional(),
  requests: z.looseObject({ total: count, ok: count, failed: count, attempts: count, retries: count }),
  servers: z.record(z.string(), z.looseObject({ requests: count, ok: count, errors: count })),
  latencyMs: z.looseObject({ mean: ms, p50: ms, p90: ms, p99: ms, max: ms }),
  fairness: z.looseObject({ maxOverMean: ratio, jain: ratio }),
  durationMs: ms,
};

// `proxy` is absent on Fulcrum's own results (their files predate it) and names any other proxy.
const Head = { experiment: z.string().optional(), mode: z.enum(['sim', 'live']).optional(), proxy: z.string().optional(), variant: z.string().optional() };

export const RunSummarySchema = z.looseObject({ ...Head, ...RunFields });
const SweepPointSchema = z.looseObject({ value: z.unknown(), ...RunFields });
const SweepSchema = z.looseObject({ path: z.string().min(1), points: z.array(SweepPointSchema) });
export const SweepIndexSchema = z.looseObject({ ...Head, sweep: SweepSchema });
export const VariantsIndexSchema = z.looseObject({
  ...Head,
  variants: z.array(z.union([
    z.looseObject({ name: z.string().min(1), description: z.string().optional(), sweep: SweepSchema }),
    z.looseObject({ name: z.string().min(1), description: z.string().optional(), ...RunFields }),
  ])).min(1),
});

export type SweepData = z.infer<typeof SweepSchema>;
export type SweepIndex = z.infer<typeof SweepIndexSchema>;
export type VariantsIndex = z.infer<typeof VariantsIndexSchema>;

interface FileHead { mode?: 'sim' | 'live'; proxy?: string; experiment?: string }

export type SummaryFile =
  | FileHead & { kind: 'run'; summary: ReportRunSummary }
  | FileHead & { kind: 'sweep'; index: SweepIndex }
  | FileHead & { kind: 'variants'; index: VariantsIndex };

/** Classifies and validates a parsed summary.json; returns problems, one per line, on failure. */
export function parseSummaryFile(raw: unknown): { ok: true; file: SummaryFile } | { ok: false; problems: string[] } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, problems: ['expected a JSON object'] };
  }
  const has = (k: string): boolean => k in raw;
  const schema = has('sweep') ? SweepIndexSchema : has('variants') ? VariantsIndexSchema : RunSummarySchema;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { ok: false, problems: describeIssues(parsed.error.issues, raw) };
  const { mode, proxy, experiment } = parsed.data;
  if (has('sweep')) return { ok: true, file: { kind: 'sweep', mode, proxy, experiment, index: parsed.data as SweepIndex } };
  if (has('variants')) return { ok: true, file: { kind: 'variants', mode, proxy, experiment, index: parsed.data as VariantsIndex } };
  return { ok: true, file: { kind: 'run', mode, proxy, experiment, summary: toRunSummary(parsed.data as z.infer<typeof RunSummarySchema>) } };
}

/** Keeps only the fields the report reads, so derived files never depend on extra ones. */
export function toRunSummary(s: z.infer<typeof SweepPointSchema> | z.infer<typeof RunSummarySchema>): ReportRunSummary {
  const servers: ReportRunSummary['servers'] = {};
  for (const [id, v] of Object.entries(s.servers)) servers[id] = { requests: v.requests, ok: v.ok, errors: v.errors };
  const { total, ok, failed, attempts, retries } = s.requests;
  const { mean, p50, p90, p99, max } = s.latencyMs;
  return {
    policy: s.policy,
    seed: s.seed,
    requests: { total, ok, failed, attempts, retries },
    servers,
    latencyMs: { mean, p50, p90, p99, max },
    fairness: { maxOverMean: s.fairness.maxOverMean, jain: s.fairness.jain },
    durationMs: s.durationMs,
  };
}
