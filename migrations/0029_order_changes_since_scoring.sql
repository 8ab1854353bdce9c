-- A daily rescoring read every contact's order version (0024) to find the few whose orders had
-- changed since their scores were stored: on a million customers that read cost the server half a
-- second, a sixth of the whole rescoring. Now each version row also records the transaction that
-- last bumped it, and each full scoring records the oldest transaction still running when it began
-- (the xmin of a snapshot taken then): every transaction below that had finished before the run
-- read anything, so the run saw its orders. The next run asks only for the version rows bumped by
-- a transaction at or above that mark, and takes everybody else's version to be the one stored
-- with their scores (src/models/scores/scorer.ts says why that holds).
--
-- Rows bumped before this migration have no transaction (null): no run has recorded a mark yet,
-- so the first run after it reads every version as before, and records the first mark.
alter table customer_order_versions add column changed_xid xid8;
alter table score_runs add column snapshot_xmin xid8;

create or replace function tend_bump_order_versions() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into customer_order_versions as v (workspace_id, contact_id, version, changed_xid)
    select distinct workspace_id, contact_id, 1, pg_current_xact_id() from new_orders order by 1, 2
    on conflict (workspace_id, contact_id) do update set version = v.version + 1, changed_xid = excluded.changed_xid;
  elsif tg_op = 'UPDATE' then
    insert into customer_order_versions as v (workspace_id, contact_id, version, changed_xid)
    select workspace_id, contact_id, 1, pg_current_xact_id()
      from (select workspace_id, contact_id from new_orders union select workspace_id, contact_id from old_orders) c order by 1, 2
    on conflict (workspace_id, contact_id) do update set version = v.version + 1, changed_xid = excluded.changed_xid;
  else
    insert into customer_order_versions as v (workspace_id, contact_id, version, changed_xid)
    select distinct workspace_id, contact_id, 1, pg_current_xact_id() from old_orders order by 1, 2
    on conflict (workspace_id, contact_id) do update set version = v.version + 1, changed_xid = excluded.changed_xid;
  end if;
  return null;
end
$$;
