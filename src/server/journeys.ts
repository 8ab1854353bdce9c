import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import type { RoutePlugin } from './app.ts';
import { JourneyDefinition } from '../journeys/index.ts';
import { BroadcastInput } from '../journeys/broadcasts.ts';
import { MessagingPolicy, saveMessagingPolicy, loadMessagingSettings } from '../policy/index.ts';
import { sendProblem } from './routes.ts';

const Id = z.object({ id: z.coerce.number().int().positive() });
const notFound = (id: number) => ({ code: 'not_found' as const, message: `journey ${id} not found` });

/** Journeys, their runs and messages, and the messaging policy on the admin API. */
export const journeyRoutes: RoutePlugin = (routes, tend) => {
  const result = <T>(reply: Parameters<typeof sendProblem>[0], r: { ok: true; value: T } | { ok: false; problem: Parameters<typeof sendProblem>[1] }) =>
    r.ok ? r.value : sendProblem(reply, r.problem);

  routes.add({
    method: 'GET', url: '/api/journeys', summary: 'List journeys', tag: 'Journeys', auth: 'admin',
    handler: async ({ workspaceId }) => ({ journeys: await tend.journeys.list(workspaceId) }),
  });
  routes.add({
    method: 'POST', url: '/api/journeys', summary: 'Create a journey draft (the same JSON as a journey file)', tag: 'Journeys', auth: 'admin',
    body: JourneyDefinition,
    handler: async ({ workspaceId, body, reply }) => {
      const r = await tend.journeys.create(workspaceId, body);
      return r.ok ? reply.code(201).send(r.value) : sendProblem(reply, r.problem);
    },
  });
  routes.add({
    method: 'GET', url: '/api/journeys/:id', summary: 'One journey with its draft', tag: 'Journeys', auth: 'admin', params: Id, responses: { 404: 'No such journey' },
    handler: async ({ workspaceId, params, reply }) => (await tend.journeys.get(workspaceId, params.id)) ?? sendProblem(reply, notFound(params.id)),
  });
  routes.add({
    method: 'PUT', url: '/api/journeys/:id', summary: 'Replace the draft (contacts inside keep their version)', tag: 'Journeys', auth: 'admin',
    params: Id, body: JourneyDefinition, responses: { 404: 'No such journey' },
    handler: async ({ workspaceId, params, body, reply }) => result(reply, await tend.journeys.update(workspaceId, params.id, body)),
  });
  routes.add({
    method: 'GET', url: '/api/journeys/:id/export', summary: 'The draft as a journey file (JSON), for keeping journeys in git', tag: 'Journeys', auth: 'admin',
    params: Id, responses: { 404: 'No such journey' },
    handler: async ({ workspaceId, params, reply }) => {
      const j = await tend.journeys.get(workspaceId, params.id);
      if (!j) return sendProblem(reply, notFound(params.id));
      const file = `${j.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'journey'}.journey.json`;
      return reply.header('content-disposition', `attachment; filename="${file}"`).send(j.draft);
    },
  });
  routes.add({
    method: 'POST', url: '/api/journeys/:id/publish', summary: 'Check the draft (templates, segments) and publish it as the next version', tag: 'Journeys', auth: 'admin',
    params: Id, responses: { 400: 'A template or rule has a problem (named by field, line and column)', 404: 'No such journey' },
    handler: async ({ workspaceId, params, reply }) => result(reply, await tend.journeys.publish(workspaceId, params.id)),
  });
  for (const action of ['pause', 'resume', 'archive'] as const) {
    routes.add({
      method: 'POST', url: `/api/journeys/:id/${action}`, summary: `${action[0]!.toUpperCase()}${action.slice(1)} the journey`, tag: 'Journeys', auth: 'admin',
      params: Id, responses: { 404: 'No such journey', 409: 'Not in a state that allows it' },
      handler: async ({ workspaceId, params, reply }) => result(reply, await tend.journeys[action](workspaceId, params.id)),
    });
  }
  routes.add({
    method: 'POST', url: '/api/journeys/:id/migrate', summary: 'Move contacts on older versions to the published one', tag: 'Journeys', auth: 'admin',
    params: Id, handler: async ({ workspaceId, params, reply }) => result(reply, await tend.journeys.migrate(workspaceId, params.id)),
  });
  routes.add({
    method: 'GET', url: '/api/journeys/:id/versions/:version', summary: 'A published version', tag: 'Journeys', auth: 'admin',
    params: z.object({ id: z.coerce.number().int().positive(), version: z.coerce.number().int().positive() }),
    handler: async ({ workspaceId, params, reply }) =>
      (await tend.journeys.version(workspaceId, params.id, params.version)) ?? sendProblem(reply, { code: 'not_found', message: `journey ${params.id} has no version ${params.version}` }),
  });
  routes.add({
    method: 'POST', url: '/api/journeys/:id/enrol', summary: 'Put a contact into an active journey (the API trigger)', tag: 'Journeys', auth: 'admin',
    params: Id,
    body: z.strictObject({
      contactId: z.number().int().positive().optional(),
      userId: z.string().min(1).max(200).optional(),
      properties: z.record(z.string(), z.unknown()).default({}),
      /** Makes the call idempotent: the same key enrols once. */
      key: z.string().min(1).max(200).optional(),
    }).refine((b) => b.contactId !== undefined || b.userId !== undefined, { message: 'give contactId or userId', path: ['contactId'] }),
    responses: { 404: 'No such contact', 409: 'The journey is not active' },
    handler: async ({ workspaceId, params, body, reply }) => {
      let contactId = body.contactId;
      if (contactId === undefined) {
        const { rows } = await tend.db.query<{ id: number }>(`select id from contacts where workspace_id = $1 and user_id = $2`, [workspaceId, body.userId]);
        if (!rows[0]) return sendProblem(reply, { code: 'not_found', message: `no contact has user id ${body.userId}`, field: 'body.userId' });
        contactId = rows[0].id;
      }
      return result(reply, await tend.journeys.enrol(workspaceId, params.id, contactId, body.properties, body.key ?? randomUUID()));
    },
  });
  routes.add({
    method: 'GET', url: '/api/journeys/:id/runs', summary: 'Contacts in the journey: state, step, next due time', tag: 'Journeys', auth: 'admin',
    params: Id, query: z.object({ state: z.string().max(20).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100), after: z.coerce.number().int().min(0).default(0) }),
    handler: async ({ workspaceId, params, query }) => {
      const { rows } = await tend.db.query(
        `select id, contact_id as "contactId", version, state, step_id as "stepId", due_at as "dueAt", context, last_error as "lastError", entered_at as "enteredAt", finished_at as "finishedAt"
           from journey_runs where workspace_id = $1 and journey_id = $2 and id > $3 and ($4::text is null or state = $4) order by id limit $5`,
        [workspaceId, params.id, query.after, query.state ?? null, query.limit],
      );
      return { runs: rows };
    },
  });
  routes.add({
    method: 'GET', url: '/api/messages', summary: 'Messages, newest first, by contact or journey', tag: 'Messages', auth: 'admin',
    query: z.object({ contactId: z.coerce.number().int().positive().optional(), journeyId: z.coerce.number().int().positive().optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
    handler: async ({ workspaceId, query }) => {
      const { rows } = await tend.db.query(
        `select id, contact_id as "contactId", journey_id as "journeyId", step_id as "stepId", variant, channel, topic, transactional, address, status, provider,
                attempts, error, created_at as "createdAt", sent_at as "sentAt"
           from messages where workspace_id = $1 and ($2::bigint is null or contact_id = $2) and ($3::bigint is null or journey_id = $3)
          order by id desc limit $4`,
        [workspaceId, query.contactId ?? null, query.journeyId ?? null, query.limit],
      );
      return { messages: rows };
    },
  });
  routes.add({
    method: 'GET', url: '/api/messages/:id', summary: 'One message with what was delivered (the outbox keeps the rendered copy)', tag: 'Messages', auth: 'admin',
    params: Id, responses: { 404: 'No such message' },
    handler: async ({ workspaceId, params, reply }) => {
      const { rows } = await tend.db.query(
        `select m.id, m.contact_id as "contactId", m.journey_id as "journeyId", m.step_id as "stepId", m.variant, m.channel, m.address, m.status, m.provider,
                m.attempts, m.error, m.created_at as "createdAt", m.sent_at as "sentAt", o.payload as rendered
           from messages m left join outbox o on o.workspace_id = m.workspace_id and o.message_id = m.id
          where m.workspace_id = $1 and m.id = $2`,
        [workspaceId, params.id],
      );
      return rows[0] ?? sendProblem(reply, { code: 'not_found', message: `message ${params.id} not found` });
    },
  });
  routes.add({
    method: 'GET', url: '/api/contacts/:id/journeys', summary: "A contact's journeys and the policy decisions about their messages", tag: 'Journeys', auth: 'admin', params: Id,
    handler: async ({ workspaceId, params }) => {
      const [runs, decisions] = await Promise.all([
        tend.db.query(
          `select r.id, r.journey_id as "journeyId", j.name as "journey", r.version, r.state, r.step_id as "stepId", r.due_at as "dueAt", r.entered_at as "enteredAt", r.finished_at as "finishedAt"
             from journey_runs r join journeys j on j.workspace_id = r.workspace_id and j.id = r.journey_id
            where r.workspace_id = $1 and r.contact_id = $2 order by r.id desc limit 100`,
          [workspaceId, params.id],
        ),
        tend.db.query(
          `select journey_id as "journeyId", step_id as "stepId", channel, decision, reason, until, decided_at as "decidedAt"
             from policy_decisions where workspace_id = $1 and contact_id = $2 order by decided_at desc, id desc limit 100`,
          [workspaceId, params.id],
        ),
      ]);
      return { runs: runs.rows, decisions: decisions.rows };
    },
  });
  routes.add({
    method: 'GET', url: '/api/broadcasts', summary: 'Broadcasts, newest first', tag: 'Broadcasts', auth: 'admin',
    handler: async ({ workspaceId }) => ({ broadcasts: await tend.broadcasts.list(workspaceId) }),
  });
  routes.add({
    method: 'POST', url: '/api/broadcasts', summary: 'Send to a segment now or at sendAt (content by lifecycle stage, A/B variants, throttling)', tag: 'Broadcasts', auth: 'admin',
    body: BroadcastInput, responses: { 400: 'A template or the segment has a problem' },
    handler: async ({ workspaceId, body, reply }) => {
      const r = await tend.broadcasts.create(workspaceId, body);
      if (!r.ok) return sendProblem(reply, r.problem);
      // A broadcast due now starts at once rather than at the next minute's sweep.
      void tend.broadcasts.sweep().catch((err: Error) => reply.log.error(err));
      return reply.code(201).send(r.value);
    },
  });
  routes.add({
    method: 'GET', url: '/api/broadcasts/:id', summary: 'One broadcast: status and contacts enrolled so far', tag: 'Broadcasts', auth: 'admin', params: Id,
    handler: async ({ workspaceId, params, reply }) =>
      (await tend.broadcasts.get(workspaceId, params.id)) ?? sendProblem(reply, { code: 'not_found', message: `broadcast ${params.id} not found` }),
  });
  routes.add({
    method: 'POST', url: '/api/broadcasts/:id/cancel', summary: 'Stop a scheduled or sending broadcast', tag: 'Broadcasts', auth: 'admin', params: Id,
    handler: async ({ workspaceId, params, reply }) => result(reply, await tend.broadcasts.cancel(workspaceId, params.id)),
  });
  routes.add({
    method: 'GET', url: '/api/messaging/policy', summary: 'Frequency caps, quiet hours and suppressed lifecycle stages', tag: 'Messages', auth: 'admin',
    handler: async ({ workspaceId }) => (await loadMessagingSettings(tend.db, workspaceId)).policy,
  });
  routes.add({
    method: 'PUT', url: '/api/messaging/policy', summary: 'Replace the messaging policy', tag: 'Messages', auth: 'admin', body: MessagingPolicy,
    handler: async ({ workspaceId, body }) => {
      await saveMessagingPolicy(tend.db, workspaceId, body);
      return body;
    },
  });
};
