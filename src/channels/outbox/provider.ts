import type { Queryable } from '../../db/index.ts';
import type { Channel, ChannelProvider, OutgoingMessage, SendResult } from '../port.ts';

/**
 * The outbox: a provider that delivers nowhere and keeps every rendered message in the database,
 * where the web app and `GET /api/messages/{id}` show it. The demo sends here, so a new user can
 * watch the care models work without an SMTP server and without mailing the demo's made-up
 * customers. Writing the same message twice keeps the first copy (the idempotency key is the
 * message's).
 */
export function createOutboxProvider<C extends Channel>(db: Queryable, channel: C, clock: { now(): Date }): ChannelProvider<C> {
  return {
    channel,
    name: 'outbox',
    async send(message: OutgoingMessage<C>): Promise<SendResult> {
      await db.query(
        `insert into outbox (workspace_id, message_id, channel, payload, created_at) values ($1, $2, $3, $4, $5) on conflict do nothing`,
        [message.workspaceId, Number(message.id), channel, JSON.stringify(message.payload), clock.now()],
      );
      return { status: 'accepted', providerMessageId: `outbox-${message.id}` };
    },
    async close() {},
  };
}

/** An outbox provider for every channel. */
export function outboxProviders(db: Queryable, clock: { now(): Date }) {
  return {
    email: createOutboxProvider(db, 'email', clock),
    sms: createOutboxProvider(db, 'sms', clock),
    push: createOutboxProvider(db, 'push', clock),
    print: createOutboxProvider(db, 'print', clock),
    webhook: createOutboxProvider(db, 'webhook', clock),
  };
}
