import type { FastifyInstance } from 'fastify';
import { readFile } from 'node:fs/promises';
import { extname, normalize } from 'node:path';

const webDir = new URL('../../web/', import.meta.url);
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.ico': 'image/x-icon',
};

/**
 * Serves the web app (web/app) at / and the browser tracking script at /tend.js. Files are read
 * from the web folder only: the path is normalised and must stay inside it.
 */
export function registerWebRoutes(app: FastifyInstance): void {
  const send = async (relative: string, reply: import('fastify').FastifyReply) => {
    const clean = normalize(relative).replace(/^(\.\.(\/|\\|$))+/, '');
    if (clean.includes('..') || clean.startsWith('/')) return reply.code(404).send({ error: 'not found', code: 'not_found' });
    try {
      const body = await readFile(new URL(clean, webDir));
      return reply.type(types[extname(clean)] ?? 'application/octet-stream').header('cache-control', 'no-cache').send(body);
    } catch {
      return reply.code(404).send({ error: 'not found', code: 'not_found' });
    }
  };
  app.get('/tend.js', (_req, reply) => send('tend.js', reply.header('access-control-allow-origin', '*')));
  app.get('/', (_req, reply) => send('app/index.html', reply));
  app.get('/app/*', (req, reply) => send(`app/${(req.params as { '*': string })['*']}`, reply));
}
