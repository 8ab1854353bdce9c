import { z } from 'zod';
import type { RoutePlugin } from './app.ts';
import { SegmentInput, SegmentRule } from '../segments/index.ts';
import { sendProblem } from './routes.ts';

const Id = z.object({ id: z.coerce.number().int().positive() });

/** Segments on the admin API: CRUD, preview of an unsaved rule, members, recompute. */
export const segmentRoutes: RoutePlugin = (routes, tend) => {
  const notFound = (id: number) => ({ code: 'not_found' as const, message: `segment ${id} not found` });

  routes.add({
    method: 'GET', url: '/api/segments', summary: 'List segments with their member counts', tag: 'Segments', auth: 'admin',
    handler: async ({ workspaceId }) => ({ segments: await tend.segments.list(workspaceId) }),
  });
  routes.add({
    method: 'POST', url: '/api/segments', summary: 'Create a segment; its membership is computed at once', tag: 'Segments', auth: 'admin',
    body: SegmentInput, responses: { 409: 'A segment with this name exists' },
    handler: async ({ workspaceId, body, reply }) => {
      const r = await tend.segments.create(workspaceId, body);
      return r.ok ? reply.code(201).send(r.value) : sendProblem(reply, r.problem);
    },
  });
  routes.add({
    method: 'POST', url: '/api/segments/preview', summary: 'Count and sample members of a rule without saving it', tag: 'Segments', auth: 'admin',
    body: z.object({ rule: SegmentRule, sample: z.number().int().min(0).max(1000).optional() }),
    handler: async ({ workspaceId, body, reply }) => {
      const r = await tend.segments.preview(workspaceId, body.rule, body.sample);
      return r.ok ? r.value : sendProblem(reply, r.problem);
    },
  });
  routes.add({
    method: 'GET', url: '/api/segments/:id', summary: 'One segment', tag: 'Segments', auth: 'admin', params: Id, responses: { 404: 'No such segment' },
    handler: async ({ workspaceId, params, reply }) => (await tend.segments.get(workspaceId, params.id)) ?? sendProblem(reply, notFound(params.id)),
  });
  routes.add({
    method: 'PUT', url: '/api/segments/:id', summary: 'Change a segment; its membership is recomputed', tag: 'Segments', auth: 'admin',
    params: Id, body: SegmentInput, responses: { 404: 'No such segment' },
    handler: async ({ workspaceId, params, body, reply }) => {
      const r = await tend.segments.update(workspaceId, params.id, body);
      return r.ok ? r.value : sendProblem(reply, r.problem);
    },
  });
  routes.add({
    method: 'DELETE', url: '/api/segments/:id', summary: 'Delete a segment (refused while another segment uses it)', tag: 'Segments', auth: 'admin',
    params: Id, responses: { 404: 'No such segment', 409: 'Another segment refers to it' },
    handler: async ({ workspaceId, params, reply }) => {
      const r = await tend.segments.remove(workspaceId, params.id);
      return r.ok ? { deleted: true } : sendProblem(reply, r.problem);
    },
  });
  routes.add({
    method: 'GET', url: '/api/segments/:id/members', summary: 'Current members, paged by contact id', tag: 'Segments', auth: 'admin',
    params: Id, query: z.object({ limit: z.coerce.number().int().min(1).max(10_000).optional(), after: z.coerce.number().int().min(0).optional() }),
    handler: async ({ workspaceId, params, query, reply }) => {
      if (!(await tend.segments.get(workspaceId, params.id))) return sendProblem(reply, notFound(params.id));
      const members = await tend.segments.members(workspaceId, params.id, query);
      return { members, next: members.length > 0 ? members[members.length - 1]!.id : null };
    },
  });
  routes.add({
    method: 'POST', url: '/api/segments/:id/recompute', summary: 'Recompute membership from scratch now', tag: 'Segments', auth: 'admin',
    params: Id, responses: { 404: 'No such segment' },
    handler: async ({ workspaceId, params, reply }) => (await tend.segments.recompute(workspaceId, params.id)) ?? sendProblem(reply, notFound(params.id)),
  });
  routes.add({
    method: 'GET', url: '/api/contacts/:id/segments', summary: 'The segments a contact is in now', tag: 'Segments', auth: 'admin', params: Id,
    handler: async ({ workspaceId, params }) => ({ segments: await tend.segments.ofContact(workspaceId, params.id) }),
  });
};
