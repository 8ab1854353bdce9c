-- The model inputs (src/models/scores/sql/customer-days.ts) read every completed order in
-- (contact, UTC day) order. This index serves that read from the index alone, already sorted, so
-- the per-customer summary of a million customers streams without a sort or a hash table.
create index orders_model_inputs on orders (workspace_id, contact_id, ((ordered_at at time zone 'UTC')::date))
  include (ordered_at, total) where status = 'completed';
