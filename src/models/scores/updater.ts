import type { IngestedBatch } from '../../events/index.ts';
import type { ModelService } from './service.ts';

/** Events after which a contact's scores are out of date: their order history changed. */
export const orderEvents = new Set(['Order Completed', 'Order Updated', 'Order Refunded', 'Order Cancelled']);

/**
 * Keeps scores current as customers order, off the request path: contacts whose ingested batch
 * holds an order event are queued per workspace and rescored in chunks with the stored fit (no
 * refit; before a workspace's first fit, nothing). Arrivals during a chunk coalesce into the next
 * one, so a burst of orders costs one rescoring per contact. `onRescored` hears which contacts were rescored (segments re-evaluate
 * them, since their score rules may now match differently).
 */
export function createScoreUpdater(
  models: Pick<ModelService, 'rescoreContacts'>,
  options: { chunk?: number; onRescored?: (workspaceId: string, contactIds: number[]) => void; onError?: (err: unknown) => void } = {},
) {
  const chunk = options.chunk ?? 1000;
  const pending = new Map<string, Set<number>>();
  let running: Promise<void> | null = null;

  async function drain(): Promise<void> {
    for (;;) {
      const next = pending.entries().next();
      if (next.done) return;
      const [workspaceId, ids] = next.value;
      const take = [...ids].slice(0, chunk);
      for (const id of take) ids.delete(id);
      if (ids.size === 0) pending.delete(workspaceId);
      try {
        const result = await models.rescoreContacts(workspaceId, take);
        if (result.contacts.length > 0) options.onRescored?.(workspaceId, result.contacts);
      } catch (err) {
        (options.onError ?? ((e) => console.error('rescoring failed', e)))(err);
      }
    }
  }

  function enqueue(workspaceId: string, contactIds: readonly number[]): void {
    if (contactIds.length === 0) return;
    let set = pending.get(workspaceId);
    if (!set) pending.set(workspaceId, (set = new Set()));
    for (const id of contactIds) set.add(id);
    running ??= drain().finally(() => {
      running = null;
    });
  }

  return {
    enqueue,
    /** The ingestion listener: queues the contacts of the batch's order events. */
    onIngested(batch: IngestedBatch): void {
      const ids = new Set<number>();
      for (const e of batch.events) if (e.type === 'track' && e.name !== null && orderEvents.has(e.name)) ids.add(e.contactId);
      enqueue(batch.workspaceId, [...ids]);
    },
    /** Resolves when every queued contact has been rescored. */
    async flush(): Promise<void> {
      while (running) await running;
    },
  };
}

export type ScoreUpdater = ReturnType<typeof createScoreUpdater>;
