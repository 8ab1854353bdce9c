create table products (
  workspace_id text not null references workspaces (id) on delete cascade,
  sku text not null,
  name text not null,
  category text,
  price numeric(14, 2),
  currency text,
  url text,
  image_url text,
  -- How long one unit lasts, for replenishment reminders; null for durable goods.
  lifetime_days integer check (lifetime_days is null or lifetime_days > 0),
  related_skus text[] not null default '{}',
  upgrade_skus text[] not null default '{}',
  properties jsonb not null default '{}',
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (workspace_id, sku)
);
create index products_category on products (workspace_id, category);

create table orders (
  workspace_id text not null references workspaces (id) on delete cascade,
  order_id text not null,
  contact_id bigint not null,
  status text not null default 'completed' check (status in ('completed', 'refunded', 'cancelled')),
  total numeric(14, 2) not null,
  currency text,
  coupon text,
  discount numeric(14, 2),
  properties jsonb not null default '{}',
  ordered_at timestamptz not null,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (workspace_id, order_id)
);
create index orders_contact_time on orders (workspace_id, contact_id, ordered_at);
create index orders_time on orders (workspace_id, ordered_at);

create table order_items (
  workspace_id text not null,
  order_id text not null,
  sku text not null,
  quantity integer not null check (quantity > 0),
  unit_price numeric(14, 2) not null check (unit_price >= 0),
  primary key (workspace_id, order_id, sku)
);
create index order_items_sku on order_items (workspace_id, sku);

create table carts (
  workspace_id text not null references workspaces (id) on delete cascade,
  cart_id text not null,
  contact_id bigint not null,
  status text not null default 'open' check (status in ('open', 'checkout', 'completed')),
  coupon text,
  order_id text,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  primary key (workspace_id, cart_id)
);
create index carts_contact on carts (workspace_id, contact_id, updated_at);

create table cart_items (
  workspace_id text not null,
  cart_id text not null,
  sku text not null,
  quantity integer not null check (quantity > 0),
  unit_price numeric(14, 2),
  added_at timestamptz not null,
  primary key (workspace_id, cart_id, sku)
);
