import { createHash } from 'node:crypto';
import { z } from 'zod';
import { identifier, show, text, timestamp } from '../fields.ts';
import type { ImportKind, RowError } from '../types.ts';

const jsonObject = z.string().transform((raw, ctx) => {
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  ctx.addIssue({ code: 'custom', message: `${show(raw.trim())} is not a JSON object (write e.g. {"plan":"pro"}, with the cell quoted and its quotes doubled)` });
  return z.NEVER;
});

const eventTypes = ['track', 'page', 'screen', 'identify'] as const;

export const EventRow = z
  .object({
    user_id: identifier(256).optional(),
    anonymous_id: identifier(256).optional(),
    event: text(200).optional(),
    timestamp,
    properties: jsonObject.optional(),
    message_id: identifier(256).optional(),
    type: z.enum(eventTypes).optional(),
  })
  .strict()
  .refine((r) => r.user_id !== undefined || r.anonymous_id !== undefined, { error: 'user_id or anonymous_id is required', path: ['user_id'] })
  .refine((r) => (r.type ?? 'track') !== 'track' || r.event !== undefined, { error: 'is required for a track event', path: ['event'] })
  .transform((r): Record<string, unknown> => {
    const type = r.type ?? 'track';
    // Without a message_id, the id is derived from the row's content, so importing the same file
    // again stores nothing twice (two identical rows are then one event, which they are).
    const messageId =
      r.message_id ??
      `csv-${createHash('sha256')
        .update(JSON.stringify([r.user_id, r.anonymous_id, type, r.event, r.timestamp.toISOString(), r.properties ?? {}]))
        .digest('hex')
        .slice(0, 32)}`;
    const message: Record<string, unknown> = { type, messageId, timestamp: r.timestamp.toISOString() };
    if (r.user_id !== undefined) message.userId = r.user_id;
    if (r.anonymous_id !== undefined) message.anonymousId = r.anonymous_id;
    if (type === 'track') message.event = r.event;
    else if (r.event !== undefined && type !== 'identify') message.name = r.event;
    if (r.properties !== undefined) message[type === 'identify' ? 'traits' : 'properties'] = r.properties;
    return message;
  });

// Fields of a tracking message and the CSV columns they came from.
const columnOf: Record<string, string> = {
  userId: 'user_id', anonymousId: 'anonymous_id', event: 'event', name: 'event', timestamp: 'timestamp',
  properties: 'properties', traits: 'properties', messageId: 'message_id', type: 'type',
};

/**
 * Events go through the one ingestion path (tend.ingest), as if a Segment client had sent them:
 * identities are resolved, a message_id is stored once, and e-commerce events keep carts and
 * orders current.
 */
export const eventsKind: ImportKind<Record<string, unknown>> = {
  name: 'events',
  columns: [
    { name: 'user_id', type: 'text, up to 256 characters', required: true, description: 'Who did it. Required unless anonymous_id is given.' },
    { name: 'anonymous_id', type: 'text, up to 256 characters', required: false, description: 'A visitor id; with user_id too, it is linked to that profile.' },
    { name: 'event', type: 'text, up to 200 characters', required: true, description: "The event name, e.g. Order Completed (Segment's e-commerce names act on carts and orders). For page and screen rows, the page name; ignored for identify." },
    { name: 'timestamp', type: 'date or date-time', required: true, description: 'When it happened: ISO 8601 (UTC without an offset), YYYY-MM-DD or YYYYMMDD.' },
    { name: 'properties', type: 'JSON object', required: false, description: 'The event properties as JSON, e.g. {"order_id":"o1","total":20}. For identify rows, the traits.' },
    { name: 'message_id', type: 'text, up to 256 characters', required: false, description: "Deduplication key: an event is stored once per message_id. Blank: derived from the row's content. Ids starting `tend:`, `segment:` or `models:` (in an export, the events Tend recorded itself) are imported as Tend's own." },
    { name: 'type', type: 'track, page, screen or identify', required: false, description: 'Blank: track.' },
  ],
  requiredHeaders: [['user_id', 'anonymous_id'], ['event'], ['timestamp']],
  extraColumns: 'refuse',
  schema: EventRow,
  async write(ctx, rows) {
    const result = await ctx.ingest.ingest(ctx.workspaceId, rows.map((r) => r.value), { ownMessageIds: true });
    return result.rejected.map((e): RowError => {
      const field = e.field.split('.')[0] ?? '';
      return { line: rows[e.index]!.line, column: columnOf[field] ?? '', message: e.message };
    });
  },
};
