import type { Db } from '../../db/index.ts';
import type { Clock } from '../../core/clock.ts';
import { startPeriodic } from '../../core/periodic.ts';
import type { ModelService } from './service.ts';

const HOUR_MS = 3_600_000;

/**
 * Refits and rescores every workspace with orders once its latest fit is older than `intervalMs`
 * (default a day): new customers and orders move the parameters, and scores age as time passes
 * (P(alive) falls while nobody orders). It checks every `checkMs` (default: an hour, or the
 * interval when shorter), so a workspace never fitted, or a server started after a long stop, is
 * refitted soon rather than a full interval later. With several Tend processes on one Postgres,
 * a lease makes one of them do each round.
 */
export function startModelScheduler({ db, clock, models, intervalMs = 24 * HOUR_MS, checkMs, log }: {
  db: Db;
  clock: Clock;
  models: Pick<ModelService, 'fit' | 'latestFit'>;
  intervalMs?: number;
  checkMs?: number;
  log?: (line: string) => void;
}) {
  return startPeriodic({
    db,
    clock,
    lease: 'models:refit',
    everyMs: checkMs ?? Math.min(intervalMs, HOUR_MS),
    onError: (err) => log?.(`model refit failed: ${err.message}`),
    async round(isStopped) {
      const { rows } = await db.query<{ id: string }>(`select w.id from workspaces w where exists (select 1 from orders o where o.workspace_id = w.id) order by w.id`);
      for (const { id } of rows) {
        if (isStopped()) return;
        const last = await models.latestFit(id);
        if (last && clock.now().getTime() - last.fittedAt.getTime() < intervalMs) continue;
        const { fit, scored } = await models.fit(id);
        log?.(
          `models refitted in ${id}: ${fit.customers} customers in ${(fit.timings.totalMs / 1000).toFixed(1)} s` +
            (scored ? `, ${scored.scored} contacts scored (${scored.stageChanges} stage changes)` : '') +
            (fit.notes.length > 0 ? ` (${fit.notes.join('; ')})` : ''),
        );
      }
    },
  });
}
