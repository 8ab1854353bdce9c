import type { Db } from '../db/index.ts';
import type { Clock } from '../core/clock.ts';
import { startPeriodic } from '../core/periodic.ts';
import type { SegmentService } from './service.ts';

/**
 * Recomputes every segment of every workspace on a schedule, because rules with time windows
 * ("no visit in the last 90 days") change membership as time passes without any event. With
 * several Tend processes on one Postgres, a lease makes one of them do each round.
 */
export function startSegmentScheduler({ db, clock, segments, intervalMs, log }: { db: Db; clock: Clock; segments: SegmentService; intervalMs: number; log?: (line: string) => void }) {
  return startPeriodic({
    db,
    clock,
    lease: 'segments:refresh',
    everyMs: intervalMs,
    onError: (err) => log?.(`segment refresh failed: ${err.message}`),
    async round(isStopped) {
      const { rows } = await db.query<{ workspace_id: string }>(`select distinct workspace_id from segments`);
      for (const { workspace_id } of rows) {
        if (isStopped()) return;
        const results = await segments.recomputeAll(workspace_id);
        const changed = results.filter((r) => r.entered + r.exited > 0);
        if (changed.length > 0) log?.(`segments refreshed in ${workspace_id}: ${changed.map((r) => `${r.name} +${r.entered}/-${r.exited}`).join(', ')}`);
      }
    },
  });
}
