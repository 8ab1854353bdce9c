-- The ingest function's statements always use their generic plans.
--
-- Postgres plans a statement of a PL/pgSQL function for the values of its parameters (a custom
-- plan) the first few times, then keeps one generic plan unless custom plans look much cheaper.
-- For the ingest function they do while a call's arrays are small: then the sender lookup and the
-- statement that takes the events' ids were planned anew on every call. A call with one message
-- about a known customer (the browser script sends one event per request) spent about 100 µs of
-- its 270 planning them. The generic plans are the ones calls of a few hundred messages used
-- already, and they suit every size (each lookup is one index probe per message, whatever the
-- estimate). Measured, calling the ingest service in one process on a second cluster: one-message
-- calls 214 µs against 269 inside the function for known customers, 495 against 752 µs of
-- Postgres CPU a call for new ones; calls of 30 and of 300 messages 4–21 % less CPU an event in
-- seven comparisons of eight (2 % more in one).
--
-- A later `create or replace function tend_ingest_batch` must say `set plan_cache_mode =
-- force_generic_plan` again: replacing a function drops the settings it had.
alter function tend_ingest_batch(text, timestamptz, text[], boolean[], text[], text[], text[], text[], text[], jsonb[], jsonb[], timestamptz[], jsonb[], jsonb[])
  set plan_cache_mode = force_generic_plan;
