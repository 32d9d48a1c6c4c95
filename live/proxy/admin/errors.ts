// One error shape for every admin answer that is not a success (Fastify's own shape plus
// JSON-pointer paths, as Ajv reports them): {statusCode, code, message, errors:[{path, message}]}.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { MembershipError } from '../membership.ts';

export interface FieldError { path: string; message: string }

export class AdminError extends Error {
  constructor(readonly statusCode: number, readonly code: string, message: string, readonly errors: FieldError[] = []) { super(message); }
}

const MEMBERSHIP_STATUS = { invalid: 400, not_found: 404, conflict: 409, limit: 409 } as const;

export function fromZod(error: z.ZodError): AdminError {
  const pointer = (path: readonly PropertyKey[]) => '/' + path.map(String).join('/');
  // An unknown field is reported at its own path, like any other bad field.
  const errors = error.issues.flatMap((i) => (i.code === 'unrecognized_keys'
    ? i.keys.map((k) => ({ path: pointer([...i.path, k]), message: 'unknown field' }))
    : [{ path: pointer(i.path), message: i.message }]));
  return new AdminError(400, 'invalid_body', `request body is invalid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors);
}

export function sendAdminError(reply: FastifyReply, e: AdminError): FastifyReply {
  return reply.code(e.statusCode).send({ statusCode: e.statusCode, code: e.code, message: e.message, errors: e.errors });
}

/** Maps anything thrown in an admin route (or by Fastify's parsers) to the shape above. */
export function adminErrorHandler(err: unknown, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (err instanceof AdminError) return sendAdminError(reply, err);
  if (err instanceof MembershipError) {
    return sendAdminError(reply, new AdminError(MEMBERSHIP_STATUS[err.kind], err.kind, err.message, err.path ? [{ path: err.path, message: err.message }] : []));
  }
  const fe = err as FastifyError;
  const status = fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500 ? fe.statusCode : 500;
  const message = status === 500 ? 'internal error' : fe.message;
  return sendAdminError(reply, new AdminError(status, fe.code ?? 'error', message));
}
