// Admin access: a bearer token on every route but the probes (missing → 401, wrong → 403,
// compared in constant time), and no cross-site callers (a browser's Origin from another site → 403).
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { checkBearer } from '../../../http/security.ts';
import { AdminError, sendAdminError } from './errors.ts';

export function adminAuth(token: string) {
  return function authenticate(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
    if ((request.routeOptions.config as { public?: boolean }).public === true) { done(); return; }
    const check = checkBearer(request.headers.authorization, token);
    if (check === 'missing') {
      reply.header('www-authenticate', 'Bearer realm="fulcrum-admin"');
      sendAdminError(reply, new AdminError(401, 'unauthorized', 'missing bearer token'));
      return;
    }
    if (check === 'wrong') { sendAdminError(reply, new AdminError(403, 'forbidden', 'wrong bearer token')); return; }
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `http://${request.headers.host}`) {
      sendAdminError(reply, new AdminError(403, 'cross_origin', `requests from ${origin} are not accepted`));
      return;
    }
    done();
  };
}
