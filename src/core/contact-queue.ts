/**
 * A queue of contacts to process per workspace, off the request path: ids are collected in a set
 * per workspace and one loop processes them in chunks. Arrivals while a chunk is being processed
 * coalesce into the next one, so a burst of events about the same contacts costs one run per
 * contact rather than one per event. Segments and scores keep themselves current this way.
 */
export function createContactQueue(
  process: (workspaceId: string, contactIds: number[]) => Promise<void>,
  options: { chunk?: number; onError?: (err: unknown) => void } = {},
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
        await process(workspaceId, take);
      } catch (err) {
        (options.onError ?? ((e) => console.error('background update failed', e)))(err);
      }
    }
  }

  return {
    enqueue(workspaceId: string, contactIds: readonly number[]): void {
      if (contactIds.length === 0) return;
      let set = pending.get(workspaceId);
      if (!set) pending.set(workspaceId, (set = new Set()));
      for (const id of contactIds) set.add(id);
      running ??= drain().finally(() => {
        running = null;
      });
    },
    /** Resolves when every queued contact has been processed. */
    async flush(): Promise<void> {
      while (running) await running;
    },
  };
}
