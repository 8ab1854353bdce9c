import { randomUUID } from 'node:crypto';
import type { Db } from '../db/index.ts';
import type { Clock } from '../core/clock.ts';
import { takeLease } from '../core/lease.ts';
import type { SegmentService } from './service.ts';

/**
 * Recomputes every segment of every workspace on a schedule, because rules with time windows
 * ("no visit in the last 90 days") change membership as time passes without any event. With
 * several Tend processes on one Postgres, a lease makes one of them do each round.
 */
export function startSegmentScheduler({ db, clock, segments, intervalMs, log }: { db: Db; clock: Clock; segments: SegmentService; intervalMs: number; log?: (line: string) => void }) {
  const holder = randomUUID();
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<void> | null = null;

  async function round(): Promise<void> {
    if (!(await takeLease(db, 'segments:refresh', holder, clock.now(), Math.max(intervalMs - 1000, 1000)))) return;
    const { rows } = await db.query<{ workspace_id: string }>(`select distinct workspace_id from segments`);
    for (const { workspace_id } of rows) {
      if (stopped) return;
      const results = await segments.recomputeAll(workspace_id);
      const changed = results.filter((r) => r.entered + r.exited > 0);
      if (changed.length > 0) log?.(`segments refreshed in ${workspace_id}: ${changed.map((r) => `${r.name} +${r.entered}/-${r.exited}`).join(', ')}`);
    }
  }

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = round()
        .catch((err) => log?.(`segment refresh failed: ${(err as Error).message}`))
        .finally(() => {
          current = null;
          schedule();
        });
    }, intervalMs);
    timer.unref();
  };
  schedule();

  return {
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (current) await current;
    },
  };
}
