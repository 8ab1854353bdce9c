import { z } from 'zod';

/**
 * The Segment HTTP Tracking API's messages, so existing Segment, RudderStack and analytics.js
 * set-ups can point at Tend unchanged. Unknown fields are kept out of the stored event but never
 * cause a rejection (clients add their own, e.g. `_metadata`, `integrations`).
 */
const Id = z.union([z.string().min(1).max(256), z.number().finite()]).transform(String);
const Timestamp = z.union([z.iso.datetime({ offset: true, local: true }), z.iso.date()]).transform((v) => new Date(v.length === 10 ? `${v}T00:00:00Z` : v));
const Json = z.record(z.string(), z.unknown());

const Common = {
  messageId: z.string().min(1).max(256).optional(),
  userId: Id.optional(),
  anonymousId: Id.optional(),
  timestamp: Timestamp.optional(),
  originalTimestamp: Timestamp.optional(),
  sentAt: Timestamp.optional(),
  context: Json.optional(),
  integrations: Json.optional(),
};

export const IdentifyMessage = z.object({ type: z.literal('identify'), ...Common, traits: Json.optional() });
export const TrackMessage = z.object({ type: z.literal('track'), ...Common, event: z.string().trim().min(1).max(200), properties: Json.optional() });
export const PageMessage = z.object({ type: z.literal('page'), ...Common, name: z.string().max(200).optional(), category: z.string().max(200).optional(), properties: Json.optional() });
export const ScreenMessage = z.object({ type: z.literal('screen'), ...Common, name: z.string().max(200).optional(), properties: Json.optional() });
export const GroupMessage = z.object({ type: z.literal('group'), ...Common, groupId: Id, traits: Json.optional() });
export const AliasMessage = z.object({ type: z.literal('alias'), ...Common, previousId: Id, userId: Id });

export const TrackingMessage = z
  .discriminatedUnion('type', [IdentifyMessage, TrackMessage, PageMessage, ScreenMessage, GroupMessage, AliasMessage])
  .refine((m) => m.userId !== undefined || m.anonymousId !== undefined, {
    message: 'userId or anonymousId is required',
    path: ['userId'],
  });
export type TrackingMessage = z.infer<typeof TrackingMessage>;
export type MessageType = TrackingMessage['type'];
export const messageTypes: readonly MessageType[] = ['identify', 'track', 'page', 'screen', 'group', 'alias'];

/** Segment's documented limits: 32 KB per message, 500 KB per batch request. */
export const MAX_MESSAGE_BYTES = 32 * 1024;
export const MAX_BATCH_BYTES = 500 * 1024;
