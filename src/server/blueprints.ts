import { z } from 'zod';
import type { RoutePlugin } from './app.ts';
import { blueprintFile, installBlueprint, listBlueprints, loadBlueprint, type Blueprint } from '../journeys/blueprints.ts';
import { sendProblem } from './routes.ts';

const Name = z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a blueprint name such as abandoned-cart') });
const Id = z.object({ id: z.coerce.number().int().positive() });

/** What the gallery shows of a blueprint: its info, the journey's outline, the segments it brings. */
const summary = (b: Blueprint) => ({
  name: b.name,
  title: b.definition.name,
  description: b.definition.description,
  ...b.info,
  trigger: b.journey.trigger,
  steps: b.definition.steps.map((s) => ({ id: s.id, type: s.type, name: s.name ?? null })),
  segments: Object.entries(b.segments).map(([key, s]) => ({ key, name: s.name, description: s.description })),
});

/**
 * The blueprint gallery (list, one blueprint as its file, install in one step) and the journeys'
 * activity counts that the web app's journey screens show (who is inside, who reached each step,
 * messages sent): one aggregate query each, so the list does not page through runs and messages.
 */
export const blueprintRoutes: RoutePlugin = (routes, tend) => {
  routes.add({
    method: 'GET', url: '/api/blueprints', summary: 'The care models as ready journeys, to install in one step', tag: 'Blueprints', auth: 'admin',
    handler: async () => ({ blueprints: listBlueprints().map(summary) }),
  });
  routes.add({
    method: 'GET', url: '/api/blueprints/:name', summary: 'One blueprint: its journey file as shipped (with $segment references)', tag: 'Blueprints', auth: 'admin',
    params: Name, responses: { 404: 'No such blueprint' },
    handler: async ({ params, reply }) => {
      const r = loadBlueprint(params.name);
      if (!r.ok) return sendProblem(reply, r.problem);
      return { ...summary(r.value), file: blueprintFile(r.value) };
    },
  });
  routes.add({
    method: 'POST', url: '/api/blueprints/:name/install',
    summary: 'Create the segments the blueprint needs (or reuse them by name) and its journey as a draft; with publish: true, publish it too', tag: 'Blueprints', auth: 'admin',
    params: Name, body: z.strictObject({ publish: z.boolean().default(false) }),
    responses: { 201: 'Installed', 404: 'No such blueprint', 409: 'A segment could not be created' },
    handler: async ({ workspaceId, params, body, reply }) => {
      const found = loadBlueprint(params.name);
      if (!found.ok) return sendProblem(reply, found.problem);
      const r = await installBlueprint({ segments: tend.segments, journeys: tend.journeys }, workspaceId, found.value, { publish: body.publish });
      return r.ok ? reply.code(201).send(r.value) : sendProblem(reply, r.problem);
    },
  });

  routes.add({
    method: 'GET', url: '/api/journeys/activity', summary: 'Per journey: contacts who entered, contacts inside now, messages sent', tag: 'Journeys', auth: 'admin',
    handler: async ({ workspaceId }) => {
      const { rows } = await tend.db.query(
        `select j.id as "journeyId",
                coalesce(r.entered, 0) as entered, coalesce(r.inside, 0) as inside, coalesce(m.sent, 0) as "messagesSent", coalesce(m.total, 0) as messages
           from journeys j
           left join (select journey_id, count(*)::int as entered, (count(*) filter (where state in ('active', 'waiting')))::int as inside
                        from journey_runs where workspace_id = $1 group by journey_id) r on r.journey_id = j.id
           left join (select journey_id, (count(*) filter (where status = 'sent'))::int as sent, count(*)::int as total
                        from messages where workspace_id = $1 and journey_id is not null group by journey_id) m on m.journey_id = j.id
          where j.workspace_id = $1 order by j.id`,
        [workspaceId],
      );
      return { journeys: rows };
    },
  });
  routes.add({
    method: 'GET', url: '/api/journeys/:id/activity', summary: 'One journey: runs by state, and per step the runs that reached it, are on it now, and its messages', tag: 'Journeys', auth: 'admin',
    params: Id, responses: { 404: 'No such journey' },
    handler: async ({ workspaceId, params, reply }) => {
      if (!(await tend.journeys.get(workspaceId, params.id))) return sendProblem(reply, { code: 'not_found', message: `journey ${params.id} not found` });
      const args = [workspaceId, params.id];
      // `visited` lists the steps a run has reached (the runner appends each step once per run).
      const [states, reached, here, messages] = await Promise.all([
        tend.db.query<{ state: string; n: number }>(`select state, count(*)::int as n from journey_runs where workspace_id = $1 and journey_id = $2 group by state`, args),
        tend.db.query<{ step: string; n: number }>(
          `select v.step, count(*)::int as n from journey_runs r, jsonb_array_elements_text(coalesce(r.context->'visited', '[]'::jsonb)) as v(step)
            where r.workspace_id = $1 and r.journey_id = $2 group by v.step`, args),
        tend.db.query<{ step: string; n: number }>(
          `select step_id as step, count(*)::int as n from journey_runs where workspace_id = $1 and journey_id = $2 and state in ('active', 'waiting') group by step_id`, args),
        tend.db.query<{ step: string; status: string; n: number }>(
          `select step_id as step, status, count(*)::int as n from messages where workspace_id = $1 and journey_id = $2 group by step_id, status`, args),
      ]);
      const steps: Record<string, { reached: number; here: number; messages: Record<string, number> }> = {};
      const at = (id: string) => (steps[id] ??= { reached: 0, here: 0, messages: {} });
      for (const r of reached.rows) at(r.step).reached = r.n;
      for (const r of here.rows) at(r.step).here = r.n;
      for (const r of messages.rows) if (r.step) at(r.step).messages[r.status] = r.n;
      const byState = Object.fromEntries(states.rows.map((r) => [r.state, r.n]));
      const entered = states.rows.reduce((s, r) => s + r.n, 0);
      return { journeyId: params.id, entered, inside: (byState.active ?? 0) + (byState.waiting ?? 0), states: byState, steps };
    },
  });
};
