import type { Queryable } from '../db/index.ts';
import { durationMs } from '../core/zoned-time.ts';
import { inHoldout, type Compiled } from './decide.ts';
import { JOURNEYS_CHANNEL, type RunContext } from './run-types.ts';

export type LiveJourney = { workspaceId: string; id: number; version: number; compiled: Compiled };

export type Entry = {
  contactId: number;
  /** What makes this entry this entry (an event's message id, a segment change, a day): enrols once. */
  entryKey: string;
  trigger: RunContext['trigger'];
  /** When the first step runs (now by default; a date trigger's local time of day). */
  dueAt?: Date;
};

/**
 * Enrols contacts into a journey's published version in one statement, applying the re-entry
 * rule and the holdout. Re-entry: `never` — once ever; `always` — again after the previous run
 * ended; `once_per_period` — at most once per period. There is never more than one live run of a
 * journey per contact: a unique index on live runs (migration 0021) settles two processes enrolling
 * the same contact at the same moment, and `on conflict do nothing` skips the loser. Holdout contacts are recorded as entered, in state `holdout`, and get nothing:
 * they are the control group for the journey's lift. Returns the number of runs created.
 */
export async function enrol(tx: Queryable, journey: LiveJourney, entries: readonly Entry[], now: Date): Promise<number> {
  const byContact = new Map<number, Entry>();
  for (const e of entries) if (!byContact.has(e.contactId)) byContact.set(e.contactId, e);
  if (byContact.size === 0) return 0;
  const list = [...byContact.values()].sort((a, b) => a.contactId - b.contactId);
  const settings = journey.compiled.definition.settings;
  const ids = list.map((e) => e.contactId);
  const period = settings.reentry === 'once_per_period' ? durationMs(settings.reentryPeriod!) : null;
  const first = journey.compiled.definition.steps[0]!.id;
  const { rows } = await tx.query<{ n: number }>(
    `with inserted as (
       insert into journey_runs (workspace_id, journey_id, version, contact_id, state, step_id, due_at, context, entry_key, priority, entered_at, updated_at, finished_at)
       select $1, $2, $3, e.c, case when e.h then 'holdout' else 'active' end, case when e.h then null else $4 end,
              case when e.h then null else coalesce(e.d, $5) end, e.x, e.k, $6, $5, $5, case when e.h then $5::timestamptz end
         from unnest($7::bigint[], $8::text[], $9::jsonb[], $10::boolean[], $11::timestamptz[]) as e(c, k, x, h, d)
        where not exists (
                select 1 from journey_runs r
                 where r.workspace_id = $1 and r.journey_id = $2 and r.contact_id = e.c
                   and ($12 = 'never'
                        or r.state in ('active', 'waiting')
                        or ($12 = 'once_per_period' and r.entered_at > $5::timestamptz - $13::bigint * interval '1 millisecond')))
       on conflict do nothing
       returning 1)
     select count(*)::int as n from inserted`,
    [
      journey.workspaceId, journey.id, journey.version, first, now, settings.priority,
      ids, list.map((e) => e.entryKey), list.map((e) => JSON.stringify({ trigger: e.trigger } satisfies RunContext)),
      list.map((e) => inHoldout(journey.id, e.contactId, settings.holdoutPercent)), list.map((e) => e.dueAt ?? null),
      settings.reentry, period ?? 0,
    ],
  );
  const n = rows[0]!.n;
  if (n > 0) await tx.query(`select pg_notify($1, $2)`, [JOURNEYS_CHANNEL, journey.workspaceId]);
  return n;
}
