// Kubernetes probes on the admin listener, without the bearer token (a kubelet has none,
// and the answers reveal nothing): /healthz while the process serves, /readyz while it
// can forward a request.
import type { FastifyInstance } from 'fastify';
import type { Balancer } from '../../../core/index.ts';
import type { RouteTable } from './routes.ts';

/** Route config flag the auth hook reads: no token needed. */
export const PUBLIC_ROUTE = { public: true } as const;

export interface ReadinessSources {
  closing: () => boolean;
  dataListening: () => boolean;
  balancer: Balancer;
  now: () => number;
}

/**
 * Why the proxy should not get traffic now, or undefined when it should. "Can take traffic"
 * is the balancer's candidate set: what a pick would choose from (healthy, not ejected,
 * not draining, not admin-down; in panic, every backend not draining or down).
 */
export function notReadyReason(s: ReadinessSources): string | undefined {
  if (s.closing()) return 'shutting down';
  if (!s.dataListening()) return 'data listener is not up';
  if (s.balancer.hasCandidateBesides(new Set())) return undefined; // a pure read: probing never changes routing
  const backends = s.balancer.status(s.now());
  if (backends.length === 0) return 'no backends';
  const count = new Map<string, number>();
  for (const b of backends) {
    const why = b.lifecycle === 'draining' ? 'draining' : b.adminDown ? 'down' : b.health !== 'healthy' ? String(b.health) : 'ejected';
    count.set(why, (count.get(why) ?? 0) + 1);
  }
  return `no backend can take traffic (${[...count].map(([why, n]) => `${n} ${why}`).join(', ')})`;
}

export function probeRoutes(app: FastifyInstance, readiness: ReadinessSources, table: RouteTable): void {
  app.route({ method: 'GET', url: '/healthz', config: PUBLIC_ROUTE, handler: async () => ({ status: 'ok' }) });
  app.route({
    method: 'GET', url: '/readyz', config: PUBLIC_ROUTE,
    handler: async (_req, reply) => {
      const reason = notReadyReason(readiness);
      if (reason === undefined) return { status: 'ready' };
      reply.code(503);
      return { status: 'not_ready', reason };
    },
  });
  for (const path of ['/healthz', '/readyz']) table.push({ pattern: new RegExp(`^${path}/?$`), methods: new Set(['GET']) });
}
