// The replica's fault switch: `GET /__control` shows the mode and queue, `PUT|POST /__control`
// changes it. Loopback peers with the bearer token only; registered only when a token is set.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type Fault, FaultSchema } from './faults.ts';
import { checkBearer, isLoopbackAddress } from '../http/security.ts';

export interface ControlState {
  fault: Fault;
  readonly stats: () => Record<string, number>;
}

export const CONTROL_PATH = '/__control';

export function controlPlugin(app: FastifyInstance, opts: { token: string; state: ControlState }): void {
  app.addHook('onRequest', (request, reply, done) => {
    if (!isLoopbackAddress(request.socket.remoteAddress)) {
      reply.code(403).send({ statusCode: 403, code: 'not_loopback', message: 'control is loopback-only' });
      return;
    }
    const check = checkBearer(request.headers.authorization, opts.token);
    if (check !== 'ok') {
      const status = check === 'missing' ? 401 : 403;
      reply.code(status).send({ statusCode: status, code: `token_${check}`, message: `control token ${check}` });
      return;
    }
    done();
  });
  app.get(CONTROL_PATH, async () => ({ fault: opts.state.fault, ...opts.state.stats() }));
  const change = async (request: { body: unknown }, reply: { code(n: number): unknown }) => {
    const parsed = FaultSchema.safeParse(request.body);
    if (!parsed.success) {
      reply.code(400);
      return {
        statusCode: 400, code: 'bad_fault', message: 'invalid fault',
        errors: parsed.error.issues.map((i) => ({ path: '/' + i.path.map(String).join('/'), message: i.message })),
      };
    }
    opts.state.fault = parsed.data;
    return { fault: opts.state.fault };
  };
  app.put(CONTROL_PATH, change);
  app.post(CONTROL_PATH, change);
}

export type FaultInput = z.input<typeof FaultSchema>;
