-- Web push subscriptions (the browser's PushSubscription), one row per browser endpoint.
create table push_subscriptions (
  workspace_id text not null references workspaces (id) on delete cascade,
  endpoint text not null,
  contact_id bigint not null,
  keys jsonb not null,
  user_agent text,
  created_at timestamptz not null,
  primary key (workspace_id, endpoint)
);
create index push_subscriptions_contact on push_subscriptions (workspace_id, contact_id);
