// An experiment's optional "answer": which measured metric answers its question, so the report
// can lead with that number (per variant and engine), the charts that show it and how close
// the simulator came to the real processes on it. The engines ignore it.
import { z } from 'zod';

/** Metric names as the report's fidelity tables spell them. */
export const ANSWER_METRICS = [
  'failed', 'success rate', 'retries', 'attempts per request', 'throughput',
  'latency mean', 'latency p50', 'latency p90', 'latency p99', 'latency max',
  'max/mean load', 'Jain index', 'stickiness', 'clients moved',
] as const;
export type AnswerMetric = (typeof ANSWER_METRICS)[number];

const metric = z.enum(ANSWER_METRICS);

export const AnswerSchema = z.strictObject({
  /** The question in one sentence; the description when absent. */
  question: z.string().min(1).max(300).optional(),
  /** The metric that answers it, e.g. "failed" (failed requests) for a fault-tolerance question. */
  metric,
  /** Further metrics quoted in the headline sentence. */
  also: z.array(metric).max(4).default([]),
  /** Which way is better: lower (failures, latency) or higher (success, Jain index). */
  better: z.enum(['lower', 'higher']).default('lower'),
  /** Chart ids (file names under charts/, without extension) shown under the headline, first one on the index. */
  charts: z.array(z.string().min(1).max(200)).max(4).default([]),
});

export type Answer = z.infer<typeof AnswerSchema>;
