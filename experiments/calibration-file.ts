// A proxy's calibration file, experiments/calibration/<proxy>.json: the network model and
// CPU station fitted by `npm run calibrate -- --proxy X` on one machine, with what was
// measured and how close the simulator came. An experiment with `"network": {"calibration":
// true}` takes its network from the file of the proxy the run targets; its own fields win.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { z } from 'zod';
import { describeIssues } from '../core/config.ts';
import { NetworkModelSchema, type NetworkModel } from './network.ts';
import { PROXY_NAMES, type ProxyName } from './proxies.ts';

/** Where the committed calibration files live. */
export const CALIBRATION_DIR = fileURLToPath(new URL('./calibration/', import.meta.url));

const LatencySchema = z.strictObject({ mean: z.number(), p50: z.number(), p99: z.number() });

const SaturationSchema = z.strictObject({ throughputPerSec: z.number().nonnegative(), meanMs: z.number().nonnegative() });

/** One load level of the CPU measurement. */
const CpuLevelSchema = z.strictObject({
  ratePerSec: z.number().positive(),
  requests: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  /** The proxy process's user + system CPU time over the level. */
  cpuMs: z.number().nonnegative(),
});

export const CalibrationFileSchema = z.strictObject({
  proxy: z.enum(PROXY_NAMES),
  description: z.string().default(''),
  /** ISO 8601, UTC. */
  measuredAt: z.string(),
  /** machine, measured and fit are what npm run calibrate writes; a hand fit tells them in its description. */
  machine: z.strictObject({
    cpus: z.number().int().positive(),
    cpuModel: z.string(),
    os: z.string(),
    node: z.string(),
    /** The proxy's own version line (haproxy -v), or Fulcrum's package version. */
    proxyVersion: z.string(),
  }).optional(),
  /** The experiment that was run live and fitted. */
  experiment: z.string(),
  /** What experiments take with `network.calibration: true`. */
  network: NetworkModelSchema,
  measured: z.strictObject({
    requests: z.number().int().nonnegative(),
    /** The machine's load average (1, 5, 15 min) when the measurement ended: a busy machine fits a slower proxy. */
    loadAverage: z.array(z.number().nonnegative()).length(3),
    latencyMs: LatencySchema,
    /** Round trip client → replica → client with no proxy (median): twice the fitted hop. */
    directRttMs: z.number().nonnegative(),
    cpu: z.array(CpuLevelSchema),
    /** CPU per request from the levels: the slope, so idle and timer costs cancel. */
    cpuPerRequestMs: z.number().nonnegative(),
  }).optional(),
  fit: z.strictObject({
    /** The simulator's answer to the same experiment with this file's network. */
    simLatencyMs: LatencySchema,
    /** (sim − live) / live × 100 per statistic. */
    errorPct: LatencySchema,
    /** A closed loop with no think time, the proxy as busy as the load generator can make it. */
    saturation: z.strictObject({
      users: z.number().int().positive(),
      requests: z.number().int().positive(),
      live: SaturationSchema,
      /** The proxy's CPU per request in the closed loop: its cost when busy (batched wake-ups). */
      liveCpuPerRequestMs: z.number().nonnegative(),
      sim: SaturationSchema,
      /** The same simulation without the CPU station: the infinitely fast proxy. */
      simWithoutCpu: SaturationSchema,
    }),
  }).optional(),
});

export type CalibrationFile = z.infer<typeof CalibrationFileSchema>;
/** What npm run calibrate writes: every section present. */
export type MeasuredCalibration = CalibrationFile & Required<Pick<CalibrationFile, 'machine' | 'measured' | 'fit'>>;

export function calibrationPath(proxy: ProxyName, dir = CALIBRATION_DIR): string {
  return join(dir, `${proxy}.json`);
}

/** The fitted network of `proxy`, or one line saying why there is none. */
export function readCalibration(proxy: ProxyName, dir = CALIBRATION_DIR): { network: NetworkModel } | { problem: string } {
  const path = calibrationPath(proxy, dir);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    return { problem: `cannot read the calibration of ${proxy}, ${path}: ${reason} (npm run calibrate -- --proxy ${proxy} writes it)` };
  }
  const parsed = CalibrationFileSchema.safeParse(raw);
  if (!parsed.success) return { problem: `${path} is not a valid calibration file: ${describeIssues(parsed.error.issues, raw).join('; ')}` };
  if (parsed.data.proxy !== proxy) return { problem: `${path}: proxy is ${JSON.stringify(parsed.data.proxy)}, expected ${JSON.stringify(proxy)}` };
  return { network: parsed.data.network };
}

/**
 * The run's raw `network` with `calibration: true` replaced by the calibration's fields
 * (the experiment's own fields win). Anything else is returned as it is.
 */
export function withCalibration(
  network: unknown, calibration: (() => { network: NetworkModel } | { problem: string }),
): { network: unknown } | { problem: string } {
  if (network === null || typeof network !== 'object' || Array.isArray(network)) return { network };
  const { calibration: wanted, ...own } = network as Record<string, unknown>;
  if (wanted !== true) return { network: wanted === false ? own : network };
  const fitted = calibration();
  if ('problem' in fitted) return fitted;
  return { network: { ...fitted.network, ...own } };
}
