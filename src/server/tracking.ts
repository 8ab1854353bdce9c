import type { Tend } from '../tend.ts';
import { MAX_BATCH_BYTES, MAX_MESSAGE_BYTES, messageTypes } from '../events/index.ts';
import type { FastifyRequest } from 'fastify';
import { jsonBodyFacts } from './json-body.ts';
import { sendProblem, type RouteRegistry } from './routes.ts';

/**
 * Whether every message of the request is known to be within the size limit and free of NUL
 * characters and unpaired surrogates, the whole body being so (with 1 KB to spare for what the
 * server adds, such as the type of a single call).
 */
function bodyChecked(request: FastifyRequest): boolean {
  const facts = jsonBodyFacts(request);
  return facts !== null && facts.bytes <= MAX_MESSAGE_BYTES - 1024 && !facts.nul && !facts.surrogate;
}

/**
 * The Segment-compatible tracking API. Responses follow Segment's (`{ success: true }`), plus what
 * Tend adds: how many messages were accepted, how many were duplicates, and each rejected message
 * by index and field. A batch with some bad messages keeps the good ones and answers 200; a request
 * whose every message is bad answers 400.
 */
export function registerTrackingRoutes(routes: RouteRegistry, tend: Tend): void {
  for (const type of messageTypes) {
    routes.add({
      method: 'POST',
      url: `/v1/${type}`,
      summary: `Segment ${type} call`,
      tag: 'Tracking API',
      auth: 'write',
      bodyLimit: MAX_MESSAGE_BYTES + 1024,
      rawBody: { contentType: 'application/json', description: `A Segment ${type} message (32 KB at most)` },
      handler: async ({ workspaceId, body, request, reply }) => {
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          return sendProblem(reply, { code: 'invalid', message: 'the request body must be a JSON object', field: 'body' });
        }
        const result = await tend.ingest.ingest(workspaceId, [{ ...body, type }], { bodyChecked: bodyChecked(request) });
        if (result.rejected.length > 0) {
          const e = result.rejected[0]!;
          return sendProblem(reply, { code: 'invalid', message: e.message, field: e.field });
        }
        return { success: true, duplicate: result.duplicates > 0 };
      },
    });
  }

  routes.add({
    method: 'POST',
    url: '/v1/batch',
    summary: 'Segment batch call: up to 500 KB of identify, track, page, screen, group and alias messages',
    tag: 'Tracking API',
    auth: 'write',
    bodyLimit: MAX_BATCH_BYTES,
    rawBody: { contentType: 'application/json', description: '`{ "batch": [messages], "context"?: {…} }`' },
    responses: { 413: 'The request is larger than 500 KB' },
    handler: async ({ workspaceId, body, request, reply }) => {
      const b = body as { batch?: unknown; context?: unknown } | null;
      if (typeof b !== 'object' || b === null || !Array.isArray(b.batch)) {
        return sendProblem(reply, { code: 'invalid', message: 'the request body must be an object with a "batch" array', field: 'batch' });
      }
      const context = typeof b.context === 'object' && b.context !== null && !Array.isArray(b.context) ? (b.context as Record<string, unknown>) : undefined;
      const result = await tend.ingest.ingest(workspaceId, b.batch, { context, bodyChecked: bodyChecked(request) });
      const payload = {
        success: result.rejected.length === 0,
        accepted: result.accepted,
        duplicates: result.duplicates,
        rejected: result.rejected.map((e) => ({ index: e.index, field: `batch.${e.index}${e.field ? `.${e.field}` : ''}`, message: e.message })),
      };
      if (result.accepted === 0 && result.rejected.length > 0) return reply.code(400).send({ ...payload, error: `every message in the batch was rejected; the first: ${payload.rejected[0]!.field}: ${payload.rejected[0]!.message}`, code: 'invalid' });
      return payload;
    },
  });
}
