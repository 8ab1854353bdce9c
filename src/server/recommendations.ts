import { z } from 'zod';
import type { RoutePlugin } from './app.ts';
import { sendProblem } from './routes.ts';

const ContactId = z.object({ id: z.coerce.number().int().positive() });
const Limit = z.object({ limit: z.coerce.number().int().min(1).max(100).optional() });
const FitBody = z.object({
  lambda: z.number().positive().optional(),
  priorWeight: z.number().min(0).optional(),
  asOf: z.coerce.date().optional(),
});

/** Replenishment and recommendations on the admin API. */
export const recommendationRoutes: RoutePlugin = (routes, tend) => {
  const { replenishment, recommendations } = tend;
  const contactNotFound = (id: number) => ({ code: 'not_found' as const, message: `contact ${id} not found` });

  routes.add({
    method: 'GET', url: '/api/replenishment/products', summary: 'Products that run out: learned interval, observations and source', tag: 'Models', auth: 'admin',
    handler: async ({ workspaceId }) => ({ products: await replenishment.products(workspaceId) }),
  });
  routes.add({
    method: 'POST', url: '/api/replenishment/fit', summary: "Relearn how long products last and recompute every contact's due dates", tag: 'Models', auth: 'admin',
    handler: async ({ workspaceId }) => replenishment.fit(workspaceId),
  });
  routes.add({
    method: 'GET', url: '/api/contacts/:id/replenishment', summary: "A contact's replenishable products with due dates and reasons", tag: 'Models', auth: 'admin',
    params: ContactId, responses: { 404: 'No such contact' },
    handler: async ({ workspaceId, params, reply }) => {
      if (!(await tend.contacts.get(workspaceId, params.id))) return sendProblem(reply, contactNotFound(params.id));
      return { contactId: params.id, items: await replenishment.forContact(workspaceId, params.id) };
    },
  });
  routes.add({
    method: 'GET', url: '/api/products/:sku/recommendations', summary: 'Products bought together with this one, with reasons', tag: 'Models', auth: 'admin',
    params: z.object({ sku: z.string().min(1).max(200) }), query: Limit, responses: { 404: 'No such product' },
    handler: async ({ workspaceId, params, query, reply }) =>
      (await recommendations.forProduct(workspaceId, params.sku, query.limit)) ?? sendProblem(reply, { code: 'not_found', message: `product ${params.sku} not found` }),
  });
  routes.add({
    method: 'GET', url: '/api/contacts/:id/recommendations', summary: '"For you": due replenishments, then what similar customers bought, with reasons', tag: 'Models', auth: 'admin',
    params: ContactId, query: Limit, responses: { 404: 'No such contact' },
    handler: async ({ workspaceId, params, query, reply }) => {
      if (!(await tend.contacts.get(workspaceId, params.id))) return sendProblem(reply, contactNotFound(params.id));
      return { contactId: params.id, recommendations: await recommendations.forContact(workspaceId, params.id, query.limit) };
    },
  });
  routes.add({
    method: 'POST', url: '/api/recommendations/fit', summary: 'Refit replenishment and the recommender from the order history', tag: 'Models', auth: 'admin',
    body: FitBody,
    handler: async ({ workspaceId, body }) => recommendations.fit(workspaceId, body),
  });
  routes.add({
    method: 'GET', url: '/api/recommendations/model', summary: 'The fitted recommender: parameters, size, fit time', tag: 'Models', auth: 'admin',
    responses: { 404: 'Not fitted yet' },
    handler: async ({ workspaceId, reply }) => (await recommendations.model(workspaceId)) ?? sendProblem(reply, { code: 'not_found', message: 'no recommender fitted yet; POST /api/recommendations/fit' }),
  });
  routes.add({
    method: 'GET', url: '/api/recommendations/evaluation', summary: 'Offline evaluation on a time hold-out: recall@k of the models and of popularity', tag: 'Models', auth: 'admin',
    query: z.object({
      testDays: z.coerce.number().int().min(1).max(3650).optional(),
      cutoff: z.coerce.date().optional(),
      lambda: z.coerce.number().positive().optional(),
      k: z.coerce.number().int().min(1).max(100).optional(),
    }),
    responses: { 404: 'No orders to evaluate on' },
    handler: async ({ workspaceId, query, reply }) => {
      const r = await recommendations.evaluate(workspaceId, query);
      return r.ok ? r.value : sendProblem(reply, r.problem);
    },
  });
};
