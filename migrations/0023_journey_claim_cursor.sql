-- The runner claims due runs in (due time, priority, id) order and remembers where its last claim
-- ended, so the next claim seeks past it instead of stepping again over the index entries of runs
-- it has just moved on (dead until vacuum: with a million contacts due at once, rescanning them
-- made every claim slower than the last). The row comparison (due_at, -priority, id) > (…) is an
-- index condition on this index.
create index journey_runs_claim on journey_runs (due_at, (-priority), id) where state in ('active', 'waiting');
drop index journey_runs_due;
