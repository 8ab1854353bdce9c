/**
 * Writing a page of changed scores and announcing what changed.
 *
 * The rows arrive by COPY into a temporary table (one per connection, emptied at every commit),
 * and one statement applies them. Why (measured on a million contacts, Postgres 15):
 * - COPY takes rows for a fraction of what array parameters cost (in text format 0.75 s of server
 *   time for a million rows, against 1.4 s for `unnest` of eleven arrays), and in binary format
 *   neither side formats or parses a number as text.
 * - Contacts that already have a row are updated with a join (`update … from`), not an upsert:
 *   `insert … on conflict do update` costs a speculative insertion per row, 8–10 µs a row against
 *   5.5 µs, the rest being the heap-only update that the table's fill factor (0016) leaves room
 *   for. The rows are fetched where the rescoring read them, by their address (ctid, read with
 *   them: sql/stored-scores.ts), rather than by scanning the page's id range and matching every
 *   row of it (a tenth of the rows change on a day: the scan handled ten rows for each it
 *   updated). A row updated since it was read is no longer at that address for this statement,
 *   and is left alone, as the fingerprint condition would leave it; the contact id is checked
 *   too, and the range ($6, $7] bounds whatever plan is chosen (the temporary table has no
 *   statistics).
 * - Contacts without a row are inserted; one inserted meanwhile (a contact rescored after an
 *   order while a full run was on its way) is newer, and is left alone (`do nothing`).
 * - A row scored later than this batch is neither overwritten nor announced: `scored_at <= $2`.
 * - The previous cell, band and stage come with the batch: they are the top bits of the stored
 *   fingerprint the rescoring read (changes.ts), or the stored names where there is none
 *   (sql/stored-scores.ts). A row is only updated while its fingerprint is still the one read, so
 *   they are what the update replaces (reading them again here, by a join, cost a third of the
 *   statement).
 *   Changes from a stored value to another become events "RFM Cell Changed", "Churn Risk
 *   Changed" and "Lifecycle Stage Changed" with properties {from, to}; a contact's first scores
 *   announce nothing (a workspace's first scoring would announce every contact). Their message_id
 *   is models:<kind>:<contact>:<from>:<to>:<scoring time in ms>, so a repeated run at the same
 *   time stores them once, while two different changes at one instant (a virtual clock) both
 *   count. Stage changes are the record of when a contact entered a stage.
 * - What only the next rescoring reads (the expected next order day, the order summary, the order
 *   version) comes packed in one value, `state` (sql/stored-scores.ts), and is stored as it is.
 * - The three scores and the three names travel packed in one integer (changes.ts,
 *   categoryCode: R, F, M, then the positions of the cell in $3, the band in $4 and the stage in
 *   $5; 0 is none), churn risk is 1 - P(alive), and days are day numbers.
 */

/**
 * The staging table: created on first use by each connection, emptied when its transaction
 * commits. (Its name changes with its columns: a connection keeps its temporary tables.)
 */
export const createBatchSql = `
  create temp table if not exists contact_scores_staging (
    contact_id bigint not null, old_fingerprint bigint, old_code integer, code integer not null,
    p_alive float8, e30 float8, e90 float8, e365 float8, next_day integer, clv float8, p_order_90d float8,
    purchase_days integer not null, first_day integer, last_day integer, fingerprint bigint not null, state bytea not null, old_tid tid
  ) on commit delete rows`;

/** The COPY target: columns in the order of the rows the writer builds. */
export const batchTarget =
  'contact_scores_staging (contact_id, old_fingerprint, old_code, code, p_alive, e30, e90, e365, next_day, clv, p_order_90d, purchase_days, first_day, last_day, ' +
  'fingerprint, state, old_tid)';

/** contact_scores itself as a COPY target, for pages of which nothing is stored yet (writer.ts). */
export const scoresTarget =
  'contact_scores (workspace_id, contact_id, recency_score, frequency_score, monetary_score, rfm_cell, p_alive, churn_risk, churn_band, ' +
  'expected_purchases_30d, expected_purchases_90d, expected_purchases_365d, expected_next_order_at, predicted_clv, lifecycle_stage, ' +
  'p_order_90d, purchase_days, first_order_date, last_order_date, fingerprint, scored_at, rescore_state)';

const cell = (code: string) => `($3::text[])[(${code} >> 6) & 15]`;
const band = (code: string) => `($4::text[])[(${code} >> 3) & 7]`;
const stage = (code: string) => `($5::text[])[${code} & 7]`;
const decoded = `
  nullif((b.code >> 16) & 7, 0)::int2 as r, nullif((b.code >> 13) & 7, 0)::int2 as f, nullif((b.code >> 10) & 7, 0)::int2 as m,
  ${cell('b.code')} as cell, ${band('b.code')} as band, ${stage('b.code')} as stage,
  b.p_alive, 1 - b.p_alive as churn_risk, b.e30, b.e90, b.e365, date '1970-01-01' + b.next_day as next_order_at,
  b.clv, b.p_order_90d, b.purchase_days, date '1970-01-01' + b.first_day as first_order_date, date '1970-01-01' + b.last_day as last_order_date,
  b.fingerprint, b.state`;

/**
 * Applies the batch. `$1` workspace, `$2` scoring time, `$3`–`$5` the cell, band and stage names
 * (the order the category codes use), `($6, $7]` the contact ids the batch lies in.
 */
export const applyScoresSql = `
  with updated as (
    update contact_scores s
       set recency_score = n.r, frequency_score = n.f, monetary_score = n.m, rfm_cell = n.cell, p_alive = n.p_alive, churn_risk = n.churn_risk,
           churn_band = n.band, expected_purchases_30d = n.e30, expected_purchases_90d = n.e90, expected_purchases_365d = n.e365,
           expected_next_order_at = n.next_order_at, predicted_clv = n.clv, lifecycle_stage = n.stage, p_order_90d = n.p_order_90d,
           purchase_days = n.purchase_days, first_order_date = n.first_order_date, last_order_date = n.last_order_date,
           fingerprint = n.fingerprint, scored_at = $2, rescore_state = n.state
      from (select b.contact_id, b.old_fingerprint, b.old_code, b.code, ${decoded} from contact_scores_staging b where b.old_code is not null) n
     where s.ctid = any (array(select old_tid from contact_scores_staging where old_tid is not null))
       and s.workspace_id = $1 and s.contact_id = n.contact_id and s.contact_id > $6 and s.contact_id <= $7
       and s.fingerprint is not distinct from n.old_fingerprint and s.scored_at <= $2
    returning n.contact_id, n.old_code, n.code
  ), inserted as (
    insert into contact_scores (workspace_id, contact_id, recency_score, frequency_score, monetary_score, rfm_cell, p_alive, churn_risk,
                                churn_band, expected_purchases_30d, expected_purchases_90d, expected_purchases_365d, expected_next_order_at,
                                predicted_clv, lifecycle_stage, p_order_90d, purchase_days, first_order_date, last_order_date, fingerprint, scored_at,
                                rescore_state)
    select $1, n.contact_id, n.r, n.f, n.m, n.cell, n.p_alive, n.churn_risk, n.band, n.e30, n.e90, n.e365, n.next_order_at, n.clv, n.stage,
           n.p_order_90d, n.purchase_days, n.first_order_date, n.last_order_date, n.fingerprint, $2, n.state
      from (select b.contact_id, ${decoded} from contact_scores_staging b where b.old_code is null) n
    on conflict (workspace_id, contact_id) do nothing
    returning 1
  ), changes as (
    select u.contact_id, k.kind, k.name, k.from_value, k.to_value
      from updated u
     cross join lateral (values
       ('rfm', 'RFM Cell Changed', ${cell('u.old_code')}, ${cell('u.code')}),
       ('churn', 'Churn Risk Changed', ${band('u.old_code')}, ${band('u.code')}),
       ('stage', 'Lifecycle Stage Changed', ${stage('u.old_code')}, ${stage('u.code')})
     ) as k(kind, name, from_value, to_value)
     where (u.old_code & 1023) <> (u.code & 1023) and k.from_value <> k.to_value
  ), announced as (
    insert into events (workspace_id, contact_id, message_id, type, name, properties, occurred_at, received_at)
    select $1, contact_id,
           concat_ws(':', 'models', kind, contact_id::text, from_value, to_value, (extract(epoch from $2::timestamptz) * 1000)::bigint::text),
           'track', name, jsonb_build_object('from', from_value, 'to', to_value), $2, $2
      from changes
    on conflict (workspace_id, message_id) do nothing
    returning name
  )
  select ((select count(*) from updated) + (select count(*) from inserted))::int as written,
         (select count(*) from announced where name = 'RFM Cell Changed')::int as rfm_changes,
         (select count(*) from announced where name = 'Churn Risk Changed')::int as churn_changes,
         (select count(*) from announced where name = 'Lifecycle Stage Changed')::int as stage_changes`;

export type ApplyScoresResult = { written: number; rfm_changes: number; churn_changes: number; stage_changes: number };

/** Removes the scores of contacts with ids above $2 (a full run's end: contacts erased or merged past the last live one). */
export const deleteScoresAfterSql = `delete from contact_scores where workspace_id = $1 and contact_id > $2`;

/** Removes the scores of the given contacts. */
export const deleteScoresSql = `delete from contact_scores where workspace_id = $1 and contact_id = any($2::bigint[])`;

/**
 * Records a full run's as-of day, time and mark (`$1` workspace, `$2` as-of day, `$3` scoring
 * time, `$4` the mark taken as it began: sql/customer-days.ts, snapshotXminSql), unless a later
 * run did.
 */
export const recordRunSql = `
  insert into score_runs as r (workspace_id, as_of, scored_at, snapshot_xmin) values ($1, $2::date, $3, $4::xid8)
  on conflict (workspace_id) do update set as_of = excluded.as_of, scored_at = excluded.scored_at, snapshot_xmin = excluded.snapshot_xmin
  where r.scored_at <= excluded.scored_at`;

/**
 * Before a run that aggregates every contact's orders as of `$2`: the recorded as-of day goes no
 * later than that, since the rows the run writes will be as of it (scorer.ts, inputsPlan).
 */
export const lowerRunAsOfSql = `update score_runs set as_of = least(as_of, $2::date) where workspace_id = $1`;
