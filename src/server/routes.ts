import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { describeIssue, innermostIssue } from '../events/validate.ts';
import type { Problem } from '../core/result.ts';

export type Auth = 'write' | 'admin' | 'none';

/** One route of the admin API: its schemas validate requests and describe it in OpenAPI. */
export type RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> = {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  summary: string;
  tag: string;
  auth: Auth;
  params?: P;
  query?: Q;
  body?: B;
  /** A body that is not JSON (CSV uploads): documented, passed through as a stream. */
  rawBody?: { contentType: string; description: string };
  bodyLimit?: number;
  responses?: Record<number, string>;
  handler: (ctx: { workspaceId: string; params: z.infer<P>; query: z.infer<Q>; body: z.infer<B>; request: FastifyRequest; reply: FastifyReply }) => Promise<unknown>;
};

export type RouteRegistry = {
  add<P extends z.ZodType = z.ZodObject, Q extends z.ZodType = z.ZodObject, B extends z.ZodType = z.ZodUnknown>(spec: RouteSpec<P, Q, B>): void;
  openapi(info: { title: string; version: string }): unknown;
};

/** HTTP status for each kind of expected failure. */
export const statusOf: Record<Problem['code'], number> = { invalid: 400, unauthorized: 401, not_found: 404, conflict: 409, too_large: 413, busy: 503 };

/** Sends an expected failure as `{ error, code, field?, row? }`. */
export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  const { code, message, ...rest } = problem;
  return reply.code(statusOf[code]).send({ error: message, code, ...rest });
}

export function createRouteRegistry(app: FastifyInstance, authenticate: (request: FastifyRequest, auth: Auth) => Promise<string | null>): RouteRegistry {
  const specs: RouteSpec<z.ZodType, z.ZodType, z.ZodType>[] = [];

  function parse<T extends z.ZodType>(schema: T | undefined, value: unknown, where: string): { ok: true; value: z.infer<T> } | { ok: false; problem: Problem } {
    if (!schema) return { ok: true, value: value as z.infer<T> };
    const r = schema.safeParse(value ?? {});
    if (r.success) return { ok: true, value: r.data };
    const issue = innermostIssue(r.error.issues[0]!);
    const field = [where, ...issue.path].filter((p) => p !== '').join('.');
    return { ok: false, problem: { code: 'invalid', message: describeIssue(issue, [where]), field } };
  }

  return {
    add(spec) {
      specs.push(spec as unknown as RouteSpec<z.ZodType, z.ZodType, z.ZodType>);
      app.route({
        method: spec.method,
        url: spec.url,
        bodyLimit: spec.bodyLimit,
        handler: async (request, reply) => {
          let workspaceId = '';
          if (spec.auth !== 'none') {
            const ws = await authenticate(request, spec.auth);
            if (!ws) return sendProblem(reply, { code: 'unauthorized', message: spec.auth === 'admin' ? 'a valid admin token is required (Authorization: Bearer …)' : 'a valid write key is required' });
            workspaceId = ws;
          }
          const params = parse(spec.params, request.params, 'params');
          if (!params.ok) return sendProblem(reply, params.problem);
          const query = parse(spec.query, request.query, 'query');
          if (!query.ok) return sendProblem(reply, query.problem);
          const body = spec.rawBody ? { ok: true as const, value: request.body as never } : parse(spec.body, request.body, 'body');
          if (!body.ok) return sendProblem(reply, body.problem);
          const result = await spec.handler({ workspaceId, params: params.value, query: query.value, body: body.value, request, reply });
          if (reply.sent) return reply;
          return result;
        },
      });
    },

    openapi(info) {
      const paths: Record<string, Record<string, unknown>> = {};
      for (const s of specs) {
        const path = s.url.replace(/:([a-zA-Z]+)/g, '{$1}');
        const parameters: unknown[] = [];
        for (const [where, schema] of [['path', s.params], ['query', s.query]] as const) {
          if (!schema) continue;
          const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, unknown>; required?: string[] };
          for (const [name, prop] of Object.entries(json.properties ?? {})) {
            parameters.push({ name, in: where, required: where === 'path' || (json.required ?? []).includes(name), schema: prop });
          }
        }
        const op: Record<string, unknown> = { summary: s.summary, tags: [s.tag], parameters };
        if (s.auth === 'admin') op.security = [{ adminToken: [] }];
        if (s.auth === 'write') op.security = [{ writeKey: [] }];
        if (s.body) op.requestBody = { required: true, content: { 'application/json': { schema: z.toJSONSchema(s.body, { io: 'input', unrepresentable: 'any' }) } } };
        if (s.rawBody) op.requestBody = { required: true, description: s.rawBody.description, content: { [s.rawBody.contentType]: { schema: { type: 'string' } } } };
        op.responses = Object.fromEntries(
          Object.entries({ 200: 'OK', 400: 'Invalid input; the error names the field', 401: 'Missing or wrong credentials', ...s.responses }).map(([code, description]) => [code, { description }]),
        );
        (paths[path] ??= {})[s.method.toLowerCase()] = op;
      }
      return {
        openapi: '3.1.0',
        info,
        components: {
          securitySchemes: {
            adminToken: { type: 'http', scheme: 'bearer', description: 'The admin token printed on first start (or TEND_ADMIN_TOKEN)' },
            writeKey: { type: 'http', scheme: 'basic', description: 'The write key as the user name, no password (as Segment does)' },
          },
        },
        paths,
      };
    },
  };
}
