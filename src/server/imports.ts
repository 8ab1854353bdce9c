import { once } from 'node:events';
import { Readable } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { Tend } from '../tend.ts';
import { exportFormats, exportKindNames, exportRows, getJob, importKindNames, listJobs, runImport } from '../imports/index.ts';
import { sendProblem, type RouteRegistry } from './routes.ts';

/**
 * CSV import and export over the admin API. An upload is streamed into the importer as it arrives
 * (no size limit, flat memory); the answer is the finished import job. An export streams pages of
 * rows as they are read.
 */
export function registerImportRoutes(routes: RouteRegistry, tend: Tend): void {
  routes.add({
    method: 'POST', url: '/api/imports/:kind', summary: 'Import a CSV file of contacts, products, orders, order items or events', tag: 'Imports', auth: 'admin',
    params: z.object({ kind: z.enum(importKindNames) }),
    query: z.object({
      mode: z.enum(['rows', 'all']).default('rows').describe('rows: import every valid row and report the rejected ones; all: import nothing if any row is rejected'),
      source: z.string().max(200).optional().describe('A name for the job record, e.g. the file name'),
    }),
    rawBody: { contentType: 'text/csv', description: 'The CSV file (docs/csv-formats.md): a header line, then one row per line' },
    bodyLimit: Number.MAX_SAFE_INTEGER,
    responses: { 200: 'The import job: counts and the first 1,000 rejected rows (line, column, message)', 400: 'The file was refused (a required column is missing) or, with mode=all, some row was rejected and nothing was imported' },
    handler: async ({ workspaceId, params, query, request, reply }) => {
      const body = request.body as IncomingMessage | undefined;
      if (!body || typeof (body as Partial<IncomingMessage>).on !== 'function') {
        return sendProblem(reply, { code: 'invalid', message: 'send the CSV file as the request body with Content-Type: text/csv', field: 'body' });
      }
      // The importer may stop reading early (a refused header); the request must then still be
      // read to its end, or the answer would be cut off with the connection.
      const input = body.iterator({ destroyOnReturn: false });
      const job = await runImport(tend, { workspaceId, kind: params.kind, mode: query.mode, source: query.source ? `upload ${query.source}` : 'upload', input });
      if (!body.readableEnded && !body.destroyed) {
        body.resume();
        await once(body, 'end').catch(() => {});
      }
      if (job.status === 'failed') return reply.code(400).send({ error: job.message, code: 'invalid', job });
      return job;
    },
  });
  routes.add({
    method: 'GET', url: '/api/imports', summary: 'Import jobs, newest first (without their error lists)', tag: 'Imports', auth: 'admin',
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).optional(), before: z.coerce.number().int().positive().optional() }),
    handler: async ({ workspaceId, query }) => ({ imports: await listJobs(tend.db, workspaceId, query) }),
  });
  routes.add({
    method: 'GET', url: '/api/imports/:id', summary: 'One import job with its first 1,000 rejected rows', tag: 'Imports', auth: 'admin',
    params: z.object({ id: z.coerce.number().int().positive() }), responses: { 404: 'No such import job' },
    handler: async ({ workspaceId, params, reply }) => (await getJob(tend.db, workspaceId, params.id)) ?? sendProblem(reply, { code: 'not_found', message: 'import job not found' }),
  });
  routes.add({
    method: 'GET', url: '/api/exports/:kind', summary: 'Export contacts, events or orders as CSV (the import format) or JSON lines, streamed', tag: 'Imports', auth: 'admin',
    params: z.object({ kind: z.enum(exportKindNames) }),
    query: z.object({ format: z.enum(exportFormats).default('csv') }),
    responses: { 200: 'text/csv or application/x-ndjson, streamed' },
    handler: async ({ workspaceId, params, query, reply }) => {
      const csv = query.format === 'csv';
      reply.header('content-type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="${params.kind}.${query.format}"`);
      return reply.send(Readable.from(exportRows(tend.db, workspaceId, params.kind, query.format)));
    },
  });
}
