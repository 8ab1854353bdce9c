-- Every row in Tend belongs to a workspace (a shop). Keys are stored only as SHA-256 hashes:
-- they are long random strings, so a fast hash is enough and a leaked table reveals nothing usable.
create table workspaces (
  id text primary key,
  name text not null,
  settings jsonb not null default '{}',
  created_at timestamptz not null default now()
);

create table api_keys (
  key_hash text primary key,
  workspace_id text not null references workspaces (id) on delete cascade,
  kind text not null check (kind in ('write', 'admin')),
  label text not null default '',
  created_at timestamptz not null default now()
);
create index api_keys_workspace on api_keys (workspace_id, kind);
