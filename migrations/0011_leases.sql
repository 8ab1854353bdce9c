-- Leases let one of several Tend processes run a periodic task (a segment refresh, a model refit):
-- a process takes the lease when it has expired, so the task runs once per period in a cluster.
create table leases (
  name text primary key,
  holder text not null,
  expires_at timestamptz not null
);
