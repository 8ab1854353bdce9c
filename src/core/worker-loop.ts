import type { Db } from '../db/index.ts';

/**
 * Runs `tick` in a loop in the background: again at once while it finds work, otherwise asleep
 * until a `pg_notify` on `channel` (work was added, by this process or another) or `pollMs` (work
 * that became due with time). Returns the function that stops it, after the tick in progress.
 */
export async function startWorkerLoop({ db, channel, pollMs, tick, onError }: {
  db: Db;
  channel: string;
  pollMs: number;
  tick: () => Promise<number>;
  onError?: (err: Error) => void;
}): Promise<() => Promise<void>> {
  let stopped = false;
  let wake: (() => void) | null = null;
  const unlisten = await db.listen(channel, () => wake?.());
  const loop = (async () => {
    while (!stopped) {
      let n = 0;
      try {
        n = await tick();
      } catch (err) {
        onError?.(err as Error);
      }
      if (n > 0 || stopped) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  })();
  return async () => {
    stopped = true;
    wake?.();
    await loop;
    await unlisten();
  };
}
