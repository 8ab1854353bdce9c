import { z } from 'zod';
import type { Tend } from '../tend.ts';
import { ConsentInput } from '../contacts/index.ts';
import { WorkspaceSettingsPatch } from '../workspaces/index.ts';
import { sendProblem, type RouteRegistry } from './routes.ts';

const ContactId = z.object({ id: z.coerce.number().int().positive() });
const Limit = z.coerce.number().int().min(1).max(1000).optional();

/** The admin API under /api: contacts, catalog, orders, events, GDPR export and erase, settings. */
export function registerAdminRoutes(routes: RouteRegistry, tend: Tend): void {
  const notFound = (what: string) => ({ code: 'not_found' as const, message: `${what} not found` });

  routes.add({
    method: 'GET', url: '/api/contacts', summary: 'List or search contacts, newest first', tag: 'Contacts', auth: 'admin',
    query: z.object({ q: z.string().max(200).optional(), limit: Limit, before: z.coerce.number().int().positive().optional(), known: z.enum(['true', 'false']).optional() }),
    handler: async ({ workspaceId, query }) => {
      const contacts = await tend.contacts.list(workspaceId, { ...query, known: query.known === 'true' });
      return { contacts, next: contacts.length > 0 ? contacts[contacts.length - 1]!.id : null };
    },
  });
  routes.add({
    method: 'GET', url: '/api/contacts/by-user/:userId', summary: 'Find a contact by user id (or a previous/anonymous id)', tag: 'Contacts', auth: 'admin',
    params: z.object({ userId: z.string().min(1).max(256) }), responses: { 404: 'No contact has this id' },
    handler: async ({ workspaceId, params, reply }) => {
      const id = await tend.contacts.findByUserId(workspaceId, params.userId);
      const contact = id === null ? null : await tend.contacts.get(workspaceId, id);
      return contact ?? sendProblem(reply, notFound('contact'));
    },
  });
  routes.add({
    method: 'GET', url: '/api/contacts/:id', summary: 'A contact with consent, anonymous ids and order totals', tag: 'Contacts', auth: 'admin',
    params: ContactId, responses: { 404: 'No such contact' },
    handler: async ({ workspaceId, params, reply }) => (await tend.contacts.get(workspaceId, params.id)) ?? sendProblem(reply, notFound('contact')),
  });
  routes.add({
    method: 'GET', url: '/api/contacts/:id/events', summary: "A contact's events, newest first", tag: 'Contacts', auth: 'admin',
    params: ContactId, query: z.object({ limit: Limit, before: z.coerce.date().optional() }),
    handler: async ({ workspaceId, params, query }) => ({ events: await tend.contacts.events(workspaceId, params.id, query) }),
  });
  routes.add({
    method: 'GET', url: '/api/contacts/:id/orders', summary: "A contact's orders and carts", tag: 'Contacts', auth: 'admin',
    params: ContactId,
    handler: async ({ workspaceId, params }) => ({
      orders: await tend.catalog.orders(workspaceId, { contactId: params.id, limit: 1000 }),
      carts: await tend.catalog.carts(workspaceId, params.id),
    }),
  });
  routes.add({
    method: 'PUT', url: '/api/contacts/:id/consent', summary: 'Set consent per channel and topic', tag: 'Contacts', auth: 'admin',
    params: ContactId, body: ConsentInput, responses: { 404: 'No such contact' },
    handler: async ({ workspaceId, params, body, reply }) =>
      (await tend.contacts.setConsent(workspaceId, params.id, body)) ? tend.contacts.get(workspaceId, params.id) : sendProblem(reply, notFound('contact')),
  });
  routes.add({
    method: 'GET', url: '/api/contacts/:id/export', summary: 'GDPR export: everything Tend holds about a contact', tag: 'Contacts', auth: 'admin',
    params: ContactId, responses: { 404: 'No such contact' },
    handler: async ({ workspaceId, params, reply }) => (await tend.contacts.exportData(workspaceId, params.id)) ?? sendProblem(reply, notFound('contact')),
  });
  routes.add({
    method: 'DELETE', url: '/api/contacts/:id', summary: 'GDPR erase: delete a contact and everything about them', tag: 'Contacts', auth: 'admin',
    params: ContactId, responses: { 404: 'No such contact' },
    handler: async ({ workspaceId, params, reply }) => ((await tend.contacts.erase(workspaceId, params.id)) ? { erased: true } : sendProblem(reply, notFound('contact'))),
  });

  routes.add({
    method: 'GET', url: '/api/products', summary: 'List products by sku', tag: 'Catalog', auth: 'admin',
    query: z.object({ q: z.string().max(200).optional(), category: z.string().max(200).optional(), limit: Limit, after: z.string().max(200).optional() }),
    handler: async ({ workspaceId, query }) => ({ products: await tend.catalog.products(workspaceId, query) }),
  });
  routes.add({
    method: 'GET', url: '/api/products/:sku', summary: 'One product', tag: 'Catalog', auth: 'admin',
    params: z.object({ sku: z.string().min(1).max(200) }), responses: { 404: 'No such product' },
    handler: async ({ workspaceId, params, reply }) => (await tend.catalog.product(workspaceId, params.sku)) ?? sendProblem(reply, notFound('product')),
  });
  routes.add({
    method: 'GET', url: '/api/orders', summary: 'Orders, newest first', tag: 'Orders', auth: 'admin',
    query: z.object({ limit: Limit, before: z.coerce.date().optional() }),
    handler: async ({ workspaceId, query }) => ({ orders: await tend.catalog.orders(workspaceId, query) }),
  });
  routes.add({
    method: 'GET', url: '/api/orders/:orderId', summary: 'One order with its items', tag: 'Orders', auth: 'admin',
    params: z.object({ orderId: z.string().min(1).max(200) }), responses: { 404: 'No such order' },
    handler: async ({ workspaceId, params, reply }) => (await tend.catalog.order(workspaceId, params.orderId)) ?? sendProblem(reply, notFound('order')),
  });
  routes.add({
    method: 'GET', url: '/api/events', summary: 'Recent events of the workspace, optionally of one name', tag: 'Events', auth: 'admin',
    query: z.object({ name: z.string().max(200).optional(), limit: Limit }),
    handler: async ({ workspaceId, query }) => {
      const params: unknown[] = [workspaceId, query.limit ?? 100];
      let where = 'e.workspace_id = $1';
      if (query.name) {
        params.push(query.name);
        where += ' and e.name = $3';
      }
      const { rows } = await tend.db.query(
        `select e.id, e.contact_id as "contactId", c.user_id as "userId", e.type, e.name, e.properties, e.occurred_at as "occurredAt"
           from events e left join contacts c on c.workspace_id = e.workspace_id and c.id = e.contact_id
          where ${where} order by e.id desc limit $2`,
        params,
      );
      return { events: rows };
    },
  });
  routes.add({
    method: 'GET', url: '/api/stats', summary: 'Counts of contacts, events, products, orders and revenue', tag: 'Workspace', auth: 'admin',
    handler: async ({ workspaceId }) => {
      const { rows } = await tend.db.query(
        `select (select count(*) from contacts where workspace_id = $1 and merged_into is null)::int as contacts,
                (select count(*) from contacts where workspace_id = $1 and merged_into is null and user_id is not null)::int as "knownContacts",
                (select count(*) from events where workspace_id = $1)::int as events,
                (select count(*) from products where workspace_id = $1)::int as products,
                (select count(*) from orders where workspace_id = $1 and status = 'completed')::int as orders,
                (select coalesce(sum(total), 0) from orders where workspace_id = $1 and status = 'completed')::numeric as revenue,
                (select count(*) from carts where workspace_id = $1 and status <> 'completed')::int as "openCarts"`,
        [workspaceId],
      );
      return rows[0];
    },
  });
  routes.add({
    method: 'GET', url: '/api/workspace', summary: 'The workspace of this token and its settings', tag: 'Workspace', auth: 'admin',
    handler: async ({ workspaceId }) => tend.workspaces.get(workspaceId),
  });
  routes.add({
    method: 'PATCH', url: '/api/workspace/settings', summary: 'Change workspace settings (e.g. emailPolicy: flag | reject)', tag: 'Workspace', auth: 'admin',
    body: WorkspaceSettingsPatch,
    handler: async ({ workspaceId, body }) => tend.workspaces.updateSettings(workspaceId, body),
  });
}
