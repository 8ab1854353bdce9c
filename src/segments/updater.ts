import type { SegmentService } from './service.ts';

/**
 * Keeps segment membership current as events arrive, off the request path: contacts touched by
 * ingestion are queued per workspace, and one loop re-evaluates them in chunks. While a chunk is
 * being evaluated, new arrivals for the same contacts coalesce into the next chunk, so a burst of
 * events costs one evaluation per contact rather than one per event.
 */
export function createSegmentUpdater(segments: SegmentService, options: { chunk?: number; onError?: (err: unknown) => void } = {}) {
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
        await segments.refreshContacts(workspaceId, take);
      } catch (err) {
        (options.onError ?? ((e) => console.error('segment update failed', e)))(err);
      }
    }
  }

  return {
    enqueue(workspaceId: string, contactIds: readonly number[]): void {
      let set = pending.get(workspaceId);
      if (!set) pending.set(workspaceId, (set = new Set()));
      for (const id of contactIds) set.add(id);
      running ??= drain().finally(() => {
        running = null;
      });
    },
    /** Resolves when every queued contact has been evaluated. */
    async flush(): Promise<void> {
      while (running) await running;
    },
  };
}
