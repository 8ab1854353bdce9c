/**
 * Web push has no delivery webhooks: a push service only says it took the message. What Tend
 * learns afterwards comes from its own service worker, which POSTs `{ "id": "<idempotency key>",
 * "event": "shown" }` to the receipt URL (`/hooks/push/receipt`) when it displays a notification.
 * The key is known only to Tend and to the browser that decrypted the message, so a receipt cannot
 * be made up for someone else's message; the route still checks the key names a push message.
 */
import { z } from 'zod';
import { fail, ok, type Result } from '../../core/result.ts';
import type { DeliveryReport } from '../port.ts';

const PushReceipt = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,200}$/, 'an idempotency key'),
  event: z.enum(['shown']),
});

/** A service worker's receipt → a `delivered` report for the message. */
export function parsePushReceipt(body: unknown, receivedAt?: Date): Result<DeliveryReport> {
  const parsed = PushReceipt.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return fail({ code: 'invalid', message: `push receipt: ${issue.path.join('.') || 'body'}: ${issue.message}`, field: issue.path.join('.') || undefined });
  }
  return ok({ type: 'delivered', channel: 'push', idempotencyKey: parsed.data.id, reason: 'shown by the browser', occurredAt: receivedAt?.toISOString() });
}
