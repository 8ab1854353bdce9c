/**
 * What a print vendor tells Tend after a batch was handed over. Vendors differ, so Tend defines one
 * small JSON format for `/hooks/print` that a vendor (or a few lines of glue) posts:
 *
 *   { "events": [ { "piece_id": "<idempotency key>", "status": "delivered",
 *                   "reason": "…", "occurred_at": "2026-03-05T09:00:00Z" } ] }
 *
 * status: printed | mailed | in_transit (progress, no report), delivered, returned (undeliverable:
 * a hard bounce of the postal address), failed (the vendor could not produce or mail the piece).
 */
import { z } from 'zod';
import { fail, ok, type Result } from '../../core/result.ts';
import type { DeliveryReport } from '../port.ts';

const PrintEvent = z.object({
  piece_id: z.string().min(1),
  status: z.enum(['printed', 'mailed', 'in_transit', 'delivered', 'returned', 'failed']),
  reason: z.string().optional(),
  occurred_at: z.iso.datetime({ offset: true }).optional(),
});
const PrintEvents = z.object({ events: z.array(PrintEvent).min(1).max(10_000) });

/** A vendor's status events → DeliveryReports (progress events yield none). */
export function parsePrintEvents(body: unknown): Result<DeliveryReport[]> {
  const parsed = PrintEvents.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.');
    return fail({ code: 'invalid', message: `print events: ${field ? `${field}: ` : ''}${issue.message}`, field: field || undefined });
  }
  const reports: DeliveryReport[] = [];
  for (const e of parsed.data.events) {
    const base = { channel: 'print' as const, idempotencyKey: e.piece_id, providerMessageId: e.piece_id, reason: e.reason, occurredAt: e.occurred_at && new Date(e.occurred_at).toISOString() };
    if (e.status === 'delivered') reports.push({ ...base, type: 'delivered' });
    else if (e.status === 'returned') reports.push({ ...base, type: 'bounced', hard: true, reason: e.reason ?? 'returned to sender' });
    else if (e.status === 'failed') reports.push({ ...base, type: 'failed' });
  }
  return ok(reports);
}
