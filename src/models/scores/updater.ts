import type { IngestedBatch } from '../../events/index.ts';
import type { ModelService } from './service.ts';
import { createContactQueue } from '../../core/contact-queue.ts';

/** Events after which a contact's scores are out of date: their order history changed. */
export const orderEvents = new Set(['Order Completed', 'Order Updated', 'Order Refunded', 'Order Cancelled']);

/**
 * Keeps scores current as customers order, off the request path: contacts whose ingested batch
 * holds an order event are queued (core/contact-queue.ts) and rescored with the stored fit (no
 * refit; before a workspace's first fit, nothing). `onRescored` hears which contacts were
 * rescored (segments re-evaluate them, since their score rules may now match differently).
 */
export function createScoreUpdater(
  models: Pick<ModelService, 'rescoreContacts'>,
  options: { chunk?: number; onRescored?: (workspaceId: string, contactIds: number[]) => void; onError?: (err: unknown) => void } = {},
) {
  const queue = createContactQueue(
    async (workspaceId, ids) => {
      const result = await models.rescoreContacts(workspaceId, ids);
      if (result.contacts.length > 0) options.onRescored?.(workspaceId, result.contacts);
    },
    { chunk: options.chunk, onError: options.onError ?? ((e) => console.error('rescoring failed', e)) },
  );

  return {
    enqueue: queue.enqueue,
    /** The ingestion listener: queues the contacts of the batch's order events. */
    onIngested(batch: IngestedBatch): void {
      const ids = new Set<number>();
      for (const e of batch.events) if (e.type === 'track' && e.name !== null && orderEvents.has(e.name)) ids.add(e.contactId);
      queue.enqueue(batch.workspaceId, [...ids]);
    },
    /** Resolves when every queued contact has been rescored. */
    flush: queue.flush,
  };
}

export type ScoreUpdater = ReturnType<typeof createScoreUpdater>;
