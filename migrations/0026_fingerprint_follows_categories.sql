-- A rescoring learns which RFM cell, churn band and lifecycle stage a row holds from the top bits
-- of its fingerprint (src/models/scores/changes.ts), and announces a change from those. Anything
-- else that writes the names (a journey step setting a stage) made the fingerprint wrong about
-- them, so every rescoring compared the three names with the fingerprint, row by row: on a million
-- rows that cost the server 0.7 to 1.5 s, more than reading the rows did.
--
-- Now a row whose names change while its fingerprint does not loses its fingerprint (a trigger,
-- whatever the writer), and a rescoring rewrites a row without one, reading its names then. Rows
-- that already disagree lose theirs here. (The lists are those of src/models/scores/schema.ts, in
-- the order of the fingerprint's codes.)
update contact_scores
   set fingerprint = null
 where fingerprint is not null
   and (rfm_cell is distinct from (array['Champions', 'Loyal', 'Potential loyalist', 'New customers', 'Promising', 'Need attention',
                                         'About to sleep', 'At risk', 'Can''t lose them', 'Hibernating', 'Lost'])[((fingerprint >> 40) & 15)::int]
        or churn_band is distinct from (array['low', 'medium', 'high', 'very_high'])[((fingerprint >> 37) & 7)::int]
        or lifecycle_stage is distinct from (array['prospect', 'new_customer', 'active', 'loyal', 'at_risk', 'lapsed', 'won_back'])[((fingerprint >> 34) & 7)::int]);

create function tend_forget_fingerprint() returns trigger language plpgsql as $$
begin
  new.fingerprint := null;
  return new;
end
$$;

create trigger contact_scores_names_without_fingerprint before update on contact_scores for each row
  when (new.fingerprint is not distinct from old.fingerprint
        and (new.rfm_cell, new.churn_band, new.lifecycle_stage) is distinct from (old.rfm_cell, old.churn_band, old.lifecycle_stage))
  execute function tend_forget_fingerprint();
