/**
 * Writes a batch of scores and announces what changed, in one statement.
 *
 * - The batch arrives as parallel arrays and is upserted with `unnest` (one round trip for
 *   thousands of rows). Parsing array parameters costs the server about half a microsecond per
 *   element whatever the type, which made it a third of the write: so the three scores and the
 *   three names (RFM cell, churn band, stage) travel packed in one integer per contact,
 *   decoded here (digits R F M, two digits for the cell's position in $12, one each for the
 *   band in $13 and the stage in $14; 0 is "none"), churn risk is computed here as 1 - P(alive),
 *   and the next-order date is a day number.
 * - The previous values are read in the same statement, by one index probe per contact: every
 *   part of a data-modifying statement sees the same snapshot, so they are what the upsert
 *   replaces. The probe is a LATERAL subquery with `limit 1` so that the planner cannot turn it
 *   into a join: it cannot know how many rows an unnest yields, and as a plain join it read all
 *   of contact_scores into a hash table for every batch (0.8 s a batch at a million rows), and
 *   joining CTEs with each other became nested loops over 10,000 × 10,000 rows.
 * - A row scored later than this batch (a contact rescored after an order while a full run was
 *   on its way) is neither overwritten nor announced: `scored_at <= $11`.
 * - Changes from a stored value to another become events "RFM Cell Changed", "Churn Risk
 *   Changed" and "Lifecycle Stage Changed" with properties {from, to}; a contact's first scores
 *   announce nothing (a workspace's first scoring would announce every contact). Their message_id
 *   is models:<kind>:<contact>:<from>:<to>:<scoring time in ms>, so a repeated run at the same
 *   time stores them once, while two different changes at one instant (a virtual clock) both
 *   count. Stage changes are the record of when a contact entered a stage.
 */
export const writeScoresSql = `
  with input as (
    select t.contact_id,
           nullif(t.code / 1000000 % 10, 0)::int2 as r, nullif(t.code / 100000 % 10, 0)::int2 as f, nullif(t.code / 10000 % 10, 0)::int2 as m,
           ($12::text[])[t.code / 100 % 100] as cell, ($13::text[])[t.code / 10 % 10] as band, ($14::text[])[t.code % 10] as stage,
           t.p_alive, 1 - t.p_alive as churn_risk, t.e30, t.e90, t.e365, t.next_day, t.clv, t.explanation,
           o.rfm_cell as old_cell, o.churn_band as old_band, o.lifecycle_stage as old_stage
      from unnest($2::bigint[], $3::int[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::int[], $9::float8[], $10::text[])
             as t(contact_id, code, p_alive, e30, e90, e365, next_day, clv, explanation)
      left join lateral (
        select s.scored_at, s.rfm_cell, s.churn_band, s.lifecycle_stage from contact_scores s
         where s.workspace_id = $1 and s.contact_id = t.contact_id limit 1) o on true
     where o.scored_at is null or o.scored_at <= $11
  ), written as (
    insert into contact_scores as s (workspace_id, contact_id, recency_score, frequency_score, monetary_score, rfm_cell, p_alive, churn_risk,
                                     churn_band, expected_purchases_30d, expected_purchases_90d, expected_purchases_365d, expected_next_order_at,
                                     predicted_clv, lifecycle_stage, explanation, scored_at)
    select $1, contact_id, r, f, m, cell, p_alive, churn_risk, band, e30, e90, e365,
           (date '1970-01-01' + next_day)::timestamp at time zone 'UTC', clv, stage, explanation, $11
      from input
    on conflict (workspace_id, contact_id) do update
       set recency_score = excluded.recency_score, frequency_score = excluded.frequency_score, monetary_score = excluded.monetary_score,
           rfm_cell = excluded.rfm_cell, p_alive = excluded.p_alive, churn_risk = excluded.churn_risk, churn_band = excluded.churn_band,
           expected_purchases_30d = excluded.expected_purchases_30d, expected_purchases_90d = excluded.expected_purchases_90d,
           expected_purchases_365d = excluded.expected_purchases_365d, expected_next_order_at = excluded.expected_next_order_at,
           predicted_clv = excluded.predicted_clv, lifecycle_stage = excluded.lifecycle_stage, explanation = excluded.explanation,
           scored_at = excluded.scored_at
     where s.scored_at <= excluded.scored_at
    returning 1
  ), changes as (
    select i.contact_id, k.kind, k.name, k.from_value, k.to_value
      from input i
     cross join lateral (values
       ('rfm', 'RFM Cell Changed', i.old_cell, i.cell),
       ('churn', 'Churn Risk Changed', i.old_band, i.band),
       ('stage', 'Lifecycle Stage Changed', i.old_stage, i.stage)
     ) as k(kind, name, from_value, to_value)
     where k.from_value <> k.to_value
  ), announced as (
    insert into events (workspace_id, contact_id, message_id, type, name, properties, occurred_at, received_at)
    select $1, contact_id,
           concat_ws(':', 'models', kind, contact_id::text, from_value, to_value, (extract(epoch from $11::timestamptz) * 1000)::bigint::text),
           'track', name, jsonb_build_object('from', from_value, 'to', to_value), $11, $11
      from changes
    on conflict (workspace_id, message_id) do nothing
    returning name
  )
  select (select count(*) from written)::int as written,
         (select count(*) from announced where name = 'RFM Cell Changed')::int as rfm_changes,
         (select count(*) from announced where name = 'Churn Risk Changed')::int as churn_changes,
         (select count(*) from announced where name = 'Lifecycle Stage Changed')::int as stage_changes`;

export type WriteScoresResult = { written: number; rfm_changes: number; churn_changes: number; stage_changes: number };

/** Removes the scores of contacts with ids above $2 (a full run's end: contacts erased or merged past the last live one). */
export const deleteScoresAfterSql = `delete from contact_scores where workspace_id = $1 and contact_id > $2`;

/** Removes the scores of the given contacts. */
export const deleteScoresSql = `delete from contact_scores where workspace_id = $1 and contact_id = any($2::bigint[])`;
