-- At most one live run per journey and contact. Enrolment relies on this instead of a lock per
-- contact (a large schedule or segment entry would need one lock per contact in one
-- transaction, more than Postgres's lock table holds): two processes enrolling the same contact
-- at once both try to insert a live run, and one of them gets nothing.
create unique index journey_runs_live on journey_runs (workspace_id, journey_id, contact_id) where state in ('active', 'waiting');
