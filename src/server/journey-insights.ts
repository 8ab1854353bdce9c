import { z } from 'zod';
import type { RoutePlugin } from './app.ts';
import { JourneyDefinition } from '../journeys/index.ts';
import { dryRun } from '../journeys/dry-run.ts';
import { stats } from '../journeys/stats.ts';
import { sendProblem } from './routes.ts';

const Id = z.object({ id: z.coerce.number().int().positive() });
const Window = {
  /** The replayed window [from, to); by default the 28 days up to now. */
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  /** How many contacts to report with their paths (default 20). */
  sample: z.number().int().min(0).max(1000).optional(),
};
const DraftDryRun = z.strictObject({ definition: JourneyDefinition, ...Window });
const SavedDryRun = z.strictObject(Window);

/** What a journey would do (the dry run) and what it did (A/B and holdout statistics), on the admin API. */
export const journeyInsightRoutes: RoutePlugin = (routes, tend) => {
  const run = (workspaceId: string, definition: JourneyDefinition, body: z.infer<typeof SavedDryRun>, journeyId?: number) =>
    dryRun(tend.db, {
      workspaceId, definition, journeyId, now: tend.clock.now(), sampleLimit: body.sample,
      from: body.from ? new Date(body.from) : undefined, to: body.to ? new Date(body.to) : undefined,
    });

  routes.add({
    method: 'POST', url: '/api/journeys/dry-run', summary: 'Replay stored history through a draft journey without sending or saving anything', tag: 'Journeys', auth: 'admin',
    body: DraftDryRun,
    handler: async ({ workspaceId, body, reply }) => {
      const r = await run(workspaceId, body.definition, body);
      return r.ok ? r.value : sendProblem(reply, r.problem);
    },
  });
  routes.add({
    method: 'POST', url: '/api/journeys/:id/dry-run', summary: "Replay stored history through a journey's current draft", tag: 'Journeys', auth: 'admin',
    params: Id, body: SavedDryRun, responses: { 404: 'No such journey' },
    handler: async ({ workspaceId, params, body, reply }) => {
      const journey = await tend.journeys.get(workspaceId, params.id);
      if (!journey) return sendProblem(reply, { code: 'not_found', message: `journey ${params.id} not found` });
      const r = await run(workspaceId, journey.draft, body, journey.id);
      return r.ok ? r.value : sendProblem(reply, r.problem);
    },
  });
  routes.add({
    method: 'GET', url: '/api/journeys/:id/stats', summary: 'Entries, conversions, A/B results with intervals, holdout lift and the winner decision', tag: 'Journeys', auth: 'admin',
    params: Id, responses: { 404: 'No such journey' },
    handler: async ({ workspaceId, params, reply }) => {
      const r = await stats(tend.db, workspaceId, params.id, { now: tend.clock.now() });
      return r.ok ? r.value : sendProblem(reply, r.problem);
    },
  });
};
