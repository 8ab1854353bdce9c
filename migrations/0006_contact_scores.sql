-- The latest model outputs per contact, written by the models (RFM, BG/NBD, Gamma-Gamma, lifecycle)
-- and read by segments, templates and journeys. One row per contact; history of changes lives in
-- events ("RFM Cell Changed", "Lifecycle Stage Changed", "Churn Risk Changed").
create table contact_scores (
  workspace_id text not null,
  contact_id bigint not null,
  recency_score smallint,
  frequency_score smallint,
  monetary_score smallint,
  rfm_cell text,
  p_alive double precision,
  churn_risk double precision,
  churn_band text check (churn_band in ('low', 'medium', 'high', 'very_high')),
  expected_purchases_30d double precision,
  expected_purchases_90d double precision,
  expected_purchases_365d double precision,
  expected_next_order_at timestamptz,
  predicted_clv double precision,
  lifecycle_stage text,
  explanation text,
  scored_at timestamptz not null,
  primary key (workspace_id, contact_id)
);
create index contact_scores_rfm on contact_scores (workspace_id, rfm_cell);
create index contact_scores_stage on contact_scores (workspace_id, lifecycle_stage);
