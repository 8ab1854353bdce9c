-- Segment membership is kept current after every ingested batch (src/segments/service.ts,
-- refreshContacts), which needs the workspace's computed segments. Reading them with a query per
-- batch cost the database about 1.5 µs and Tend about 1 µs per event on the ingestion benchmark,
-- where the workspace has no segment at all. Each process now keeps them until told they changed:
-- this trigger announces a change of what refreshContacts reads (a segment created, deleted,
-- renamed, given a new rule, or built) on the channel tend_segments, to every process listening,
-- with the workspace as the payload. Membership counts, which change with every update, are left
-- out on purpose.
create function tend_announce_segment_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('tend_segments', coalesce(new.workspace_id, old.workspace_id));
  return null;
end
$$;

create trigger segments_changed
  after insert or delete or update of name, rule, depends_on, last_computed_at on segments
  for each row execute function tend_announce_segment_change();
