// The admin routes. Mutations are POST/PUT/DELETE only, JSON only, validated in full
// before anything changes. `/rep`, `/add`, `/rm` keep the original project's names.
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { z } from 'zod';
import type { Balancer, RoutingConfig } from '../../../core/index.ts';
import type { BackendRegistry } from '../backends.ts';
import type { EventLog } from '../event-log.ts';
import { BACKEND_ID, type Membership } from '../membership.ts';
import type { ProxyMetrics } from '../metrics.ts';
import { AdminError, fromZod } from './errors.ts';
import { backendView } from './views.ts';

export interface AdminDeps {
  balancer: Balancer;
  registry: BackendRegistry;
  membership: Membership;
  events: EventLog;
  metrics: ProxyMetrics;
  now: () => number;
  config: () => object;
  routing: RoutingConfig;
  onAudit?: (entry: { action: string; id?: string; detail?: unknown; client: string }) => void;
}

const weight = z.number().positive().max(1_000_000);
const AddBody = z.strictObject({
  id: z.string().regex(BACKEND_ID, 'must be 1-64 of A-Z a-z 0-9 . _ -').optional(),
  url: z.string().max(2_048),
  weight: weight.optional(),
});
const WeightBody = z.strictObject({ weight });
const RemoveBody = z.strictObject({ id: z.string().regex(BACKEND_ID, 'must be 1-64 of A-Z a-z 0-9 . _ -') });
/** down/up take no fields; an empty JSON object or no body at all. */
const EmptyBody = z.strictObject({}).optional();

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) throw fromZod(r.error);
  return r.data;
}

/** Route patterns and their methods, so an unknown method on a known path gets 405 + Allow. */
export type RouteTable = Array<{ pattern: RegExp; methods: Set<string> }>;

export function adminRoutes(app: FastifyInstance, d: AdminDeps, table: RouteTable): void {
  const route = (methods: HTTPMethods[], url: string, handler: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) => {
    app.route({ method: methods, url, handler });
    const pattern = new RegExp('^' + url.replace(/:[^/]+/g, '[^/]+') + '/?$');
    const entry = table.find((t) => t.pattern.source === pattern.source);
    if (entry) for (const m of methods) entry.methods.add(m);
    else table.push({ pattern, methods: new Set(methods) });
  };
  const audit = (req: FastifyRequest, action: string, id?: string, detail?: unknown) =>
    d.onAudit?.({ action, id, detail, client: req.socket.remoteAddress ?? '' });
  const view = (id: string) => {
    const s = d.balancer.status(d.now()).find((x) => x.id === id);
    if (!s) throw new AdminError(404, 'not_found', `no backend ${id}`);
    return backendView(s, d.registry.get(id), d.events);
  };
  const list = () => d.balancer.status(d.now()).map((s) => backendView(s, d.registry.get(s.id), d.events));
  const idParam = (req: FastifyRequest) => (req.params as { id: string }).id;

  const add = async (req: FastifyRequest, reply: FastifyReply) => {
    const body = parse(AddBody, req.body);
    const { record } = d.membership.add(body, false);
    audit(req, 'add', record.id, { url: record.origin, weight: body.weight ?? 1 });
    reply.code(201);
    return view(record.id);
  };
  const remove = async (id: string, req: FastifyRequest, reply: FastifyReply) => {
    const result = d.membership.remove(id);
    audit(req, 'remove', id, { result });
    reply.code(result === 'draining' ? 202 : 200);
    return result === 'draining' ? view(id) : { id, state: 'removed' };
  };
  const setWeight = async (req: FastifyRequest) => {
    const id = idParam(req);
    const { weight: w } = parse(WeightBody, req.body);
    d.membership.setWeight(id, w);
    audit(req, 'weight', id, { weight: w });
    return view(id);
  };
  const mark = (down: boolean) => async (req: FastifyRequest) => {
    parse(EmptyBody, req.body);
    const id = idParam(req);
    d.membership.setAdminDown(id, down);
    audit(req, down ? 'down' : 'up', id);
    return view(id);
  };

  route(['GET'], '/backends', async () => ({ backends: list() }));
  route(['POST'], '/backends', add);
  route(['GET'], '/backends/:id', async (req) => view(idParam(req)));
  route(['DELETE'], '/backends/:id', (req, reply) => remove(idParam(req), req, reply));
  route(['PUT', 'POST'], '/backends/:id/weight', setWeight);
  route(['PUT', 'POST'], '/backends/:id/down', mark(true));
  route(['PUT', 'POST'], '/backends/:id/up', mark(false));
  route(['GET'], '/events', async (req) => {
    const q = req.query as { since?: string; backend?: string };
    const since = q.since === undefined ? undefined : Number(q.since);
    if (since !== undefined && !Number.isInteger(since)) throw new AdminError(400, 'invalid_query', 'since must be an integer', [{ path: '/since', message: 'must be an integer' }]);
    return { events: d.events.list({ sinceSeq: since, backend: q.backend }) };
  });
  route(['GET'], '/metrics', async (_req, reply) => {
    reply.type(d.metrics.registry.contentType);
    return d.metrics.registry.metrics();
  });
  route(['GET'], '/config', async () => d.config());

  // The original project's endpoints.
  route(['GET'], '/rep', async () => {
    const replicas = d.balancer.ids();
    return { message: { N: replicas.length, replicas }, status: 'successful' };
  });
  route(['POST'], '/add', add);
  route(['DELETE', 'POST'], '/rm', async (req, reply) => remove(parse(RemoveBody, req.body).id, req, reply));
}

