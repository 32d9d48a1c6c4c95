// The experiment's `network` section: the delays of each hop, the proxy's own overhead and
// its CPU station. Its model fields are also what a calibration file holds
// (experiments/calibration/<proxy>.json), so both are validated by the same schema.
import { z } from 'zod';
import { DistributionSchema } from '../core/distributions.ts';

/**
 * The proxy's CPU: `workers` parallel servers in front of one FIFO queue (Node: 1 event loop;
 * HAProxy: nbthread; NGINX: worker processes). Each client request needs `requestMs` on the
 * way in, each retry attempt `retryMs`, each response `responseMs` on the way out.
 */
export const ProxyCpuSchema = z.strictObject({
  requestMs: DistributionSchema,
  /** Default: requestMs + responseMs (measured: a retried attempt costs about a whole request). */
  retryMs: DistributionSchema.optional(),
  /** Default: none. */
  responseMs: DistributionSchema.optional(),
  workers: z.number().int().min(1).max(1_024).default(1),
});

/** Each hop samples its own value; absent means 0 ms. */
export const NetworkModelSchema = z.strictObject({
  /** Client → proxy, and again proxy → client for the response. */
  clientToProxyMs: DistributionSchema.optional(),
  /** Proxy → server, and again server → proxy for the response. */
  proxyToServerMs: DistributionSchema.optional(),
  /** TCP connect to a server (the handshake round trip); a crashed server refuses after this. */
  connectMs: DistributionSchema.optional(),
  /** Proxy delay per request that queues for nothing (kernel, sockets, timers): the fitted excess. */
  proxyOverheadMs: DistributionSchema.optional(),
  /** The proxy's own CPU as a queue (sim/model/proxy-cpu.ts); absent: the proxy never waits for CPU. */
  proxyCpu: ProxyCpuSchema.optional(),
});

export const NetworkSchema = NetworkModelSchema.extend({
  /**
   * true: every field above comes from the calibration file of the proxy the run targets
   * (experiments/calibration/<proxy>.json, written by npm run calibrate); fields given here win.
   */
  calibration: z.boolean().optional(),
});

export type NetworkModel = z.infer<typeof NetworkModelSchema>;
export type ProxyCpuConfig = z.infer<typeof ProxyCpuSchema>;
