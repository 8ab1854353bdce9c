import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/index.ts';
import type { Clock } from '../../core/clock.ts';
import { takeLease } from '../../core/lease.ts';
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
  const holder = randomUUID();
  const every = checkMs ?? Math.min(intervalMs, HOUR_MS);
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let current: Promise<void> | null = null;

  async function round(): Promise<void> {
    if (!(await takeLease(db, 'models:refit', holder, clock.now(), Math.max(every - 1000, 1000)))) return;
    const { rows } = await db.query<{ id: string }>(`select w.id from workspaces w where exists (select 1 from orders o where o.workspace_id = w.id) order by w.id`);
    for (const { id } of rows) {
      if (stopped) return;
      const last = await models.latestFit(id);
      if (last && clock.now().getTime() - last.fittedAt.getTime() < intervalMs) continue;
      const { fit, scored } = await models.fit(id);
      log?.(
        `models refitted in ${id}: ${fit.customers} customers in ${(fit.timings.totalMs / 1000).toFixed(1)} s` +
          (scored ? `, ${scored.scored} contacts scored (${scored.stageChanges} stage changes)` : '') +
          (fit.notes.length > 0 ? ` (${fit.notes.join('; ')})` : ''),
      );
    }
  }

  /** Runs one round now (tests, and the first check after start). */
  async function runOnce(): Promise<void> {
    await round();
  }

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = round()
        .catch((err) => log?.(`model refit failed: ${(err as Error).message}`))
        .finally(() => {
          current = null;
          schedule();
        });
    }, every);
    timer.unref();
  };
  schedule();

  return {
    runOnce,
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (current) await current;
    },
  };
}
