-- A daily rescoring read every customer's order history again: on a million customers and 2.8
-- million orders, aggregating the orders cost the server more than three seconds, more than the
-- fit, although almost nobody's orders had changed since the day before. Now each contact's scores
-- are stored with the order summary they were computed from, and a rescoring aggregates the
-- orders only of the contacts whose orders changed (src/models/scores/inputs-state.ts says when
-- the stored summary still holds).
--
-- customer_order_versions counts, per contact, the statements that wrote that contact's orders:
-- a trigger on orders bumps it in the writing transaction, so a version read before aggregating a
-- contact's orders proves that no order change committed before the read is missing from the
-- aggregate. Contacts without a version row have never had an order since this migration; the
-- seed below gives every contact who already has orders version 1, which no stored summary has
-- yet, so each is aggregated once more.
create table customer_order_versions (
  workspace_id text not null,
  contact_id bigint not null,
  version bigint not null,
  primary key (workspace_id, contact_id)
) with (fillfactor = 80);

insert into customer_order_versions (workspace_id, contact_id, version)
select distinct workspace_id, contact_id, 1 from orders;

-- One statement-level trigger per kind of write, with the rows it wrote: a bulk import of a
-- million orders bumps each of its contacts once per statement, not once per row. An update
-- bumps both the old and the new contact (a merge moves orders between profiles).
create function tend_bump_order_versions() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into customer_order_versions as v (workspace_id, contact_id, version)
    select distinct workspace_id, contact_id, 1 from new_orders order by 1, 2
    on conflict (workspace_id, contact_id) do update set version = v.version + 1;
  elsif tg_op = 'UPDATE' then
    insert into customer_order_versions as v (workspace_id, contact_id, version)
    select workspace_id, contact_id, 1 from (select workspace_id, contact_id from new_orders union select workspace_id, contact_id from old_orders) c order by 1, 2
    on conflict (workspace_id, contact_id) do update set version = v.version + 1;
  else
    insert into customer_order_versions as v (workspace_id, contact_id, version)
    select distinct workspace_id, contact_id, 1 from old_orders order by 1, 2
    on conflict (workspace_id, contact_id) do update set version = v.version + 1;
  end if;
  return null;
end
$$;

create trigger orders_versions_insert after insert on orders referencing new table as new_orders
  for each statement execute function tend_bump_order_versions();
create trigger orders_versions_update after update on orders referencing old table as old_orders new table as new_orders
  for each statement execute function tend_bump_order_versions();
create trigger orders_versions_delete after delete on orders referencing old table as old_orders
  for each statement execute function tend_bump_order_versions();

-- The summary the scores were computed from, beside what was already stored (purchase_days,
-- first_order_date, last_order_date): the days between the last two purchase days, the spend on
-- repeat purchase days and in all, and the contact's order version when it was read. Null for rows
-- written before this migration: those contacts are aggregated again.
alter table contact_scores
  add column last_gap integer,
  add column repeat_spend double precision,
  add column spend double precision,
  add column orders_version bigint;
