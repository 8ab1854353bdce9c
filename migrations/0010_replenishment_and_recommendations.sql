-- Replenishment: how long a product lasts, learned from repeat purchases (or taken from the
-- product's lifetime_days or its category), and per contact and product when a replacement is due.
-- Only products that run out have a row; durable goods have none.
create table replenishment_intervals (
  workspace_id text not null references workspaces (id) on delete cascade,
  sku text not null,
  interval_days double precision not null check (interval_days > 0),
  -- Repeat purchases (per-unit gaps) the product's own data has; the interval uses them when source = 'learned'.
  observations integer not null,
  source text not null check (source in ('learned', 'lifetime', 'category')),
  fitted_at timestamptz not null,
  primary key (workspace_id, sku)
);

create table replenishment_due (
  workspace_id text not null,
  contact_id bigint not null,
  sku text not null,
  last_ordered_at timestamptz not null,
  -- Units bought in the last purchase (orders of the same product within a day count as one purchase).
  quantity integer not null,
  interval_days double precision not null,
  source text not null,
  due_at timestamptz not null,
  primary key (workspace_id, contact_id, sku)
);
-- "Whose filters run out next week": reminders and segments scan by due date.
create index replenishment_due_at on replenishment_due (workspace_id, due_at);

-- Recommendations: per product its strongest neighbours, by EASE weight ("for you") and by shrunk
-- cosine ("bought together"); "for you" is computed on demand from these rows and the contact's
-- own purchases.
create table product_neighbours (
  workspace_id text not null,
  sku text not null,
  neighbour_sku text not null,
  weight double precision not null,
  similarity double precision not null,
  co_customers integer not null,
  primary key (workspace_id, sku, neighbour_sku)
);

-- One fitted recommender per workspace: its parameters, the popular products (for contacts
-- without history), and how long the fit took.
create table recommendation_models (
  workspace_id text primary key references workspaces (id) on delete cascade,
  method text not null,
  lambda double precision not null,
  products integer not null,
  customers integer not null,
  popular jsonb not null,
  fit_ms integer not null,
  trained_until timestamptz not null,
  fitted_at timestamptz not null
);
