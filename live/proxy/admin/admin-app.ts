// The admin listener: its own Fastify instance (never reachable on the data port), JSON
// bodies only, 64 KiB at most, token-guarded (all but the two probes), and 405 + Allow for
// a wrong method.
import Fastify, { type FastifyInstance } from 'fastify';
import { adminAuth } from './auth.ts';
import { AdminError, adminErrorHandler, sendAdminError } from './errors.ts';
import { type ReadinessSources, probeRoutes } from './probes.ts';
import { type AdminDeps, type RouteTable, adminRoutes } from './routes.ts';

export function buildAdminApp(token: string, deps: AdminDeps, readiness: ReadinessSources): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, requestTimeout: 10_000, exposeHeadRoutes: false });
  app.server.headersTimeout = 5_000;
  app.removeContentTypeParser('text/plain'); // JSON only: a form or text body gets 415 (no CSRF via simple requests)
  app.addHook('onRequest', adminAuth(token));
  app.setErrorHandler(adminErrorHandler);
  const table: RouteTable = [];
  adminRoutes(app, deps, table);
  probeRoutes(app, readiness, table);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = table.filter((t) => t.pattern.test(path)).flatMap((t) => [...t.methods]);
    if (allowed.length > 0) {
      reply.header('allow', [...new Set(allowed)].sort().join(', '));
      return sendAdminError(reply, new AdminError(405, 'method_not_allowed', `${request.method} is not allowed on ${path}`));
    }
    return sendAdminError(reply, new AdminError(404, 'not_found', `no route ${request.method} ${path}`));
  });
  return app;
}
