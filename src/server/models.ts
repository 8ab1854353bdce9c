import { Readable } from 'node:stream';
import { z } from 'zod';
import type { RoutePlugin } from './app.ts';
import { sendProblem } from './routes.ts';
import { ModelSettingsPatch, TimeUnit, exportPredictions, fitSummary } from '../models/scores/index.ts';

const Day = z.iso.date();

/**
 * The customer models on the admin API: fit (and score) on demand, the latest fits, the model
 * settings, one contact's scores with their explanation, and every customer's predictions
 * (a page as JSON, or the whole export streamed as CSV or JSON lines).
 */
export const modelRoutes: RoutePlugin = (routes, tend) => {
  routes.add({
    method: 'POST', url: '/api/models/fit', summary: 'Fit BG/NBD, Gamma-Gamma and RFM cut points on the orders up to asOf, store the fit and score every contact', tag: 'Models', auth: 'admin',
    body: z.object({ asOf: Day.optional(), timeUnit: TimeUnit.optional(), score: z.boolean().default(true) }).strict(),
    handler: async ({ workspaceId, body }) => {
      const { fit, scored } = await tend.models.fit(workspaceId, { asOf: body.asOf, timeUnit: body.timeUnit, score: body.score });
      return fitSummary(fit, scored);
    },
  });
  routes.add({
    method: 'POST', url: '/api/models/score', summary: 'Score every contact with the latest fit, as of a day (default today)', tag: 'Models', auth: 'admin',
    body: z.object({ asOf: Day.optional() }).strict(),
    handler: async ({ workspaceId, body }) => {
      const { contacts: _list, ...result } = await tend.models.score(workspaceId, { asOf: body.asOf });
      return result;
    },
  });
  routes.add({
    method: 'GET', url: '/api/models', summary: 'The latest fits, newest first', tag: 'Models', auth: 'admin',
    query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(10) }),
    handler: async ({ workspaceId, query }) => ({ fits: await tend.models.recentFits(workspaceId, query.limit) }),
  });
  routes.add({
    method: 'GET', url: '/api/models/settings', summary: 'Model settings: RFM thresholds, churn bands, lifetime-value horizon, lifecycle rules', tag: 'Models', auth: 'admin',
    handler: async ({ workspaceId }) => tend.models.settings(workspaceId),
  });
  routes.add({
    method: 'PATCH', url: '/api/models/settings', summary: 'Change model settings (each given key is replaced whole)', tag: 'Models', auth: 'admin',
    body: ModelSettingsPatch,
    handler: async ({ workspaceId, body }) => tend.models.updateSettings(workspaceId, body),
  });
  routes.add({
    method: 'GET', url: '/api/contacts/:id/scores', summary: "A contact's scores with the explanation and lifecycle stage history", tag: 'Models', auth: 'admin',
    params: z.object({ id: z.coerce.number().int().positive() }), responses: { 404: 'The contact has no scores (unknown, or not scored yet)' },
    handler: async ({ workspaceId, params, reply }) =>
      (await tend.models.scoresOf(workspaceId, params.id)) ?? sendProblem(reply, { code: 'not_found', message: `no scores for contact ${params.id}` }),
  });
  routes.add({
    method: 'GET', url: '/api/predictions', summary: "Customers' predictions with the latest fit as of a day: a page as JSON, or with format the whole export streamed", tag: 'Models', auth: 'admin',
    query: z.object({
      asOf: Day.optional(),
      after: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      format: z.enum(['csv', 'jsonl']).optional(),
    }),
    responses: { 200: 'JSON { predictions, next } (next: the `after` of the next page), or text/csv / application/x-ndjson streamed' },
    handler: async ({ workspaceId, query, reply }) => {
      if (!query.format) return tend.models.predictions(workspaceId, { asOf: query.asOf, after: query.after, limit: query.limit });
      const csv = query.format === 'csv';
      reply.header('content-type', csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="predictions.${query.format}"`);
      return reply.send(Readable.from(exportPredictions(await tend.models.allPredictions(workspaceId, { asOf: query.asOf }), query.format)));
    },
  });
};
