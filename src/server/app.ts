import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import { readFile } from 'node:fs/promises';
import type { Tend } from '../tend.ts';
import { createAuthenticator } from './auth.ts';
import { parseJsonBody } from './json-body.ts';
import { createRouteRegistry, sendProblem, type RouteRegistry } from './routes.ts';
import { registerTrackingRoutes } from './tracking.ts';
import { registerAdminRoutes } from './admin.ts';
import { registerWebRoutes } from './web.ts';

export type ServerOptions = { logger?: boolean | { level: string }; version?: string };

/** Extra route groups (imports, segments, journeys…) plug in here without touching the server. */
export type RoutePlugin = (routes: RouteRegistry, tend: Tend, app: FastifyInstance) => void;

/**
 * Builds the HTTP server: the tracking API at /v1, the admin API at /api (with OpenAPI at
 * /api/openapi.json), /health, the browser script at /tend.js and the web app at /. Bad input of any
 * kind (malformed JSON, wrong content type, oversized bodies) gets a 4xx with a JSON error, never a 500.
 */
export async function buildServer(tend: Tend, options: ServerOptions = {}, plugins: RoutePlugin[] = []): Promise<FastifyInstance> {
  const logger = options.logger ?? false;
  const verbose = typeof logger === 'object' && (logger.level === 'debug' || logger.level === 'trace');
  // One line per request only when asked for (LOG_LEVEL=debug): a tracking endpoint sees thousands.
  // Tracking links carry a signed token in the path (a few hundred characters with the URL inside).
  const app = Fastify({ logger, bodyLimit: 1024 * 1024, trustProxy: true, routerOptions: { maxParamLength: 8192 }, logController: new LogController({ disableRequestLogging: !verbose }) });

  // JSON, and JSON sent as text/plain (browsers' sendBeacon): json-body.ts.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonBody);
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, parseJsonBody);
  // CSV uploads stream straight into the importer, whatever their size.
  app.addContentTypeParser('text/csv', (_req, payload, done) => done(null, payload));

  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/v1/')) return;
    reply.header('access-control-allow-origin', '*');
    reply.header('access-control-allow-headers', 'authorization, content-type');
    reply.header('access-control-allow-methods', 'POST, OPTIONS');
    reply.header('access-control-max-age', '86400');
    if (request.method === 'OPTIONS') return reply.code(204).send();
  });
  app.options('/v1/*', async (_req, reply) => reply.code(204).send());

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply.code(500).send({ error: 'internal error', code: 'internal' });
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendProblem(reply, { code: 'too_large', message: `the request body is larger than this endpoint's limit of ${request.routeOptions.bodyLimit ?? 0} bytes` });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send({ error: `unsupported content type ${request.headers['content-type'] ?? '(none)'}; send application/json`, code: 'invalid' });
    }
    const message = error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'the request body is empty' : error instanceof SyntaxError || /JSON/i.test(error.message) ? `malformed JSON: ${error.message}` : error.message;
    const field = (error as { field?: unknown }).field;
    return reply.code(status).send({ error: message, code: 'invalid', ...(typeof field === 'string' ? { field } : {}) });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}`, code: 'not_found' }));

  const routes = createRouteRegistry(app, createAuthenticator(tend.workspaces));
  app.get('/health', async () => {
    await tend.db.query('select 1');
    return { status: 'ok', database: tend.db.kind };
  });
  registerTrackingRoutes(routes, tend);
  registerAdminRoutes(routes, tend);
  for (const plugin of plugins) plugin(routes, tend, app);
  const version = options.version ?? JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version;
  app.get('/api/openapi.json', async () => routes.openapi({ title: 'Tend API', version }));
  registerWebRoutes(app);
  return app;
}
