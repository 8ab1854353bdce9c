-- The indexes on contact_scores' RFM cell and lifecycle stage cost about a quarter of the time of
-- writing a million contacts' scores, and nothing reads through them: a segment on a score scans
-- the workspace's scores once (a few hundred milliseconds at a million contacts).
drop index contact_scores_rfm;
drop index contact_scores_stage;
