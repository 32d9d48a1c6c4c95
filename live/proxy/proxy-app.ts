// The data-plane Fastify instance: strict limits set explicitly (Fastify's requestTimeout
// defaults to off), request bodies left unread for the forwarder, and one catch-all route.
import { METHODS } from 'node:http';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { createForwarder } from './forward.ts';
import { sendProxyError, writeClientError } from './responses.ts';

export interface ProxyLimits {
  /** Largest request body accepted at all (413 above). */
  maxBodyBytes: number;
  /** Most request headers accepted (431 above). */
  maxHeaderCount: number;
  /** Time allowed to receive request headers (slowloris). */
  headersTimeoutMs: number;
  /** Time allowed to receive the whole request from the client. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Open client connections at most; Node closes any beyond it on accept (slowloris with many sockets). */
  maxConnections: number;
}

export function buildProxyApp(limits: ProxyLimits, forward: ReturnType<typeof createForwarder>, accessLog: boolean): FastifyInstance {
  const app = Fastify({
    http: {
      // Node checks headersTimeout/requestTimeout on this interval (default 30 s, far too coarse for slowloris).
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
      // Checked by the forwarder instead, so the 400 carries the proxy's headers like every other refusal.
      requireHostHeader: false,
    },
    logger: accessLog ? { level: 'info' } : false,
    // Fastify's own request lines are off: the forwarder writes one access line with the routing detail.
    logController: new LogController({ disableRequestLogging: true }),
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    exposeHeadRoutes: false,
    // While closing, a request already on a kept-alive connection is still served (its answer
    // says Connection: close) rather than refused with Fastify's bare 503.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    clientErrorHandler: writeClientError,
    // A target Fastify cannot route (bad percent-encoding): same refusal shape as the others.
    frameworkErrors: (_err, _request, reply) => { sendProxyError(reply, 400, 'bad_target', [], { close: true }); },
  });
  app.server.headersTimeout = limits.headersTimeoutMs;
  app.server.maxConnections = limits.maxConnections;
  // Room above the limit, so request-guards sees every header and answers too_many_headers:
  // Node 24's parser fails a request over maxHeadersCount outright (HPE_HEADER_OVERFLOW) where
  // Node 20 dropped the extra headers. 2000 is Node's default.
  app.server.maxHeadersCount = Math.max(2000, limits.maxHeaderCount + 1);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null)); // the forwarder reads the raw stream
  app.setErrorHandler((err, _request, reply) => {
    const status = (err as { statusCode?: number }).statusCode ?? 500;
    reply.code(status >= 400 && status < 600 ? status : 500)
      .header('x-fulcrum-error', status === 413 ? 'body_too_large' : 'bad_request')
      .header('x-fulcrum-attempts', '')
      .send({ statusCode: status, code: (err as { code?: string }).code ?? 'error', message: (err as Error).message });
  });
  app.setNotFoundHandler((_request, reply) => { sendProxyError(reply, 404, 'not_found'); });
  // Every method Node's parser knows is forwarded (WebDAV and friends too), except CONNECT: no tunnels.
  for (const method of METHODS) {
    if (method !== 'CONNECT' && !app.supportedMethods.includes(method)) app.addHttpMethod(method, { hasBody: true });
  }
  app.all('/*', forward);
  return app;
}
