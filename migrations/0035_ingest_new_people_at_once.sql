-- The ingest function (0033) with two changes for the messages about people it does not know yet.
--
-- A batch whose messages left after the lookups (see 0032) each name a single id, a new user id or
-- a new anonymous id (a new visitor's first page, a new customer's first identify), creates their
-- profiles in one statement of four steps instead of running every identity rule. On the ingestion
-- benchmark, whose first half meets its 20,000 customers, the rules took about 20 µs for each
-- customer created.
--
-- The lookup of every message keeps only its contact; the ids of the messages left are looked up
-- again, for those messages only, where the rules need them. Most batches have none left, and
-- they no longer build two arrays they would not use.
--
-- The function keeps `set plan_cache_mode = force_generic_plan` (0034), which replacing it would
-- otherwise drop. Otherwise it is 0033's: see 0015 for how it works.
create or replace function tend_ingest_batch(
  p_workspace_id text,
  p_received_at timestamptz,
  p_lock_ids text[],
  -- Per lock id: whether a shared lock is enough (see the locks below).
  p_lock_shared boolean[],
  -- The messages, one element each, in the fields of tend_ingest_message.
  p_user_ids text[],
  p_anonymous_ids text[],
  p_message_ids text[],
  p_types text[],
  p_names text[],
  p_properties jsonb[],
  p_contexts jsonb[],
  p_occurred_at timestamptz[],
  p_profiles jsonb[],
  p_commerce jsonb[],
  out merge_needed boolean,
  out contact_ids bigint[],
  out event_ids bigint[]
) language plpgsql set plan_cache_mode = force_generic_plan as $$
declare
  -- unnest over several arrays zips them element by element, in order.
  v_msgs tend_ingest_message[] := array(
    select (u, a, id, t, n, p, c, o, pr, cm)::tend_ingest_message
      from unnest(p_user_ids, p_anonymous_ids, p_message_ids, p_types, p_names, p_properties, p_contexts, p_occurred_at, p_profiles, p_commerce)
             as x(u, a, id, t, n, p, c, o, pr, cm));
  v_names text[];
  v_shared text[];
  v_cart text;
  v_ids bigint[];
  v_seq regclass;
  -- Per message, whether it is a cart event that goes one by one (see the carts below).
  v_loop boolean[];
  -- Per message, its contact where the identities resolve at once (see below).
  v_quick bigint[];
  -- Per message left to the rules (below), in their order, what its user id and its anonymous id
  -- resolve to.
  v_user_c bigint[];
  v_anon_c bigint[];
  -- Whether a message left names both a user id and an anonymous id, or an id under a shared lock.
  v_complex boolean;
  -- The messages left to the identity rules (their places in the batch), and the contacts the
  -- rules found for them, in that order.
  v_rest integer[];
  v_found bigint[];
  i integer;
  -- Whether the batch has cart events whose order matters (see the carts below).
  v_ordered boolean;
  r record;
begin
  -- Every id of the batch, in the caller's sorted order (the order src/contacts/identity.ts and the
  -- contact import lock in, so no two writers deadlock): "look up, then create" is safe against a
  -- concurrent batch about the same visitor.
  --
  -- The caller asks for a shared lock on an id it has seen resolve before, unless a message about it
  -- reads the contact's open cart (a cart event without a cart_id): batches about known people then
  -- run side by side, where they used to wait for each other. An id under a shared lock must not be
  -- created or linked here; if it would be (the caller's memory was wrong: a profile erased since,
  -- say), nothing is written and merge_needed sends the batch the way of merges, which locks every
  -- id exclusively.
  perform case when t.s then pg_advisory_xact_lock_shared(hashtextextended(p_workspace_id || ':' || t.id, 0))
               else pg_advisory_xact_lock(hashtextextended(p_workspace_id || ':' || t.id, 0)) end
     from unnest(p_lock_ids, p_lock_shared) with ordinality as t(id, s, ord) order by t.ord;

  -- Identities, by Segment's rules as resolveIdentities applies them, minus merges: a user id is its
  -- profile (or, once that profile was merged away, the profile its alias names; else created on
  -- first sight); an anonymous id with a user id is linked to that profile unless it already
  -- belongs to a known one (a shared device);
  -- an anonymous id alone resolves through its alias, or through a link made elsewhere in the batch,
  -- or gets a new anonymous profile. An anonymous id that belongs to an anonymous profile and comes
  -- with a user id would merge the two: then nothing is written and merge_needed is returned.
  --
  -- Every id is looked up first, message by message, by one index probe each (lateral, limit 1,
  -- so that the plan is right even on a table whose statistics still say it is empty): what a
  -- user id resolves to (its own profile, or else through an alias) and what an anonymous id is
  -- an alias of. Most messages are about people already known: their user id resolves and their
  -- anonymous id, if any, is an alias of that same profile. They have their contact at once;
  -- only the others (new people, new anonymous ids, links and merges) go through the rules, with
  -- what the lookups found. Every message naming an id that does not resolve is among them, so
  -- the rules see all of that id's messages (its first and last time, the user id it comes with).
  select array_agg(case when m.u is null then an.c when an.c is null and m.a is not null then null
                        when m.a is null or an.c = coalesce(uc.c, ua.c) then coalesce(uc.c, ua.c) end order by m.ord)
    into v_quick
      from unnest(p_user_ids, p_anonymous_ids) with ordinality as m(u, a, ord)
      left join lateral (select x.id as c from contacts x
                          where m.u is not null and (x.workspace_id || ':' || x.user_id) = (p_workspace_id || ':' || m.u)
                            and x.user_id = m.u and x.user_id is not null limit 1) uc on true
      left join lateral (select x.contact_id as c from contact_aliases x
                          where m.u is not null and uc.c is null and (x.workspace_id || ':' || x.alias_id) = (p_workspace_id || ':' || m.u) and x.alias_id = m.u limit 1) ua on true
      left join lateral (select x.contact_id as c from contact_aliases x
                          where m.a is not null and (x.workspace_id || ':' || x.alias_id) = (p_workspace_id || ':' || m.a) and x.alias_id = m.a limit 1) an on true;
  if array_position(v_quick, null) is null then
    merge_needed := false;
    contact_ids := v_quick;
  else
  v_shared := array(select t.id from unnest(p_lock_ids, p_lock_shared) as t(id, s) where t.s);
  -- The places of the messages left (an array, so that the planner knows how many there are), and
  -- whether any of them names two ids or an id the caller holds a shared lock on.
  select array_agg(q.ord::integer order by q.ord),
         coalesce(bool_or((p_user_ids[q.ord] is not null and p_anonymous_ids[q.ord] is not null)
                          or coalesce(p_user_ids[q.ord], p_anonymous_ids[q.ord]) = any(v_shared)), false)
    into v_rest, v_complex
    from unnest(v_quick) with ordinality as q(c, ord) where q.c is null;
  if not v_complex then
  -- Every message left names one id, which resolves to nobody (or the lookup above would have
  -- found it): new people only, the commonest case after the known ones (a new visitor's first
  -- page, a new customer's first identify). Each new user id gets a profile (in user id order)
  -- and then each new anonymous id an anonymous profile and its alias (in the order the batch
  -- first names them), as the rules below would do, in fewer steps.
  with msg as (
    select p_user_ids[rest.ord] as u, p_anonymous_ids[rest.ord] as a, p_occurred_at[rest.ord] as o, rest.ord
      from unnest(v_rest) as rest(ord)
  ),
  -- First and last times per id, as the rules take them (an id's messages as a user id and as an
  -- anonymous id together).
  seen as (
    select id, min(o) as f, max(o) as l
      from (select u as id, o from msg where u is not null union all select a, o from msg where a is not null) s group by id
  ),
  created as (
    insert into contacts (workspace_id, user_id, first_seen_at, last_seen_at, created_at, updated_at)
    select p_workspace_id, s.id, s.f, s.l, p_received_at, p_received_at
      from (select distinct u from msg where u is not null) d join seen s on s.id = d.u
     order by s.id
    on conflict (workspace_id, user_id) where user_id is not null do nothing
    returning id, user_id
  ),
  pending as (
    select a, min(ord) as first from msg where a is not null group by a
  ),
  anon_created as (
    insert into contacts (workspace_id, first_seen_at, last_seen_at, created_at, updated_at)
    select p_workspace_id, s.f, s.l, p_received_at, p_received_at from pending p join seen s on s.id = p.a
     where (select count(*) from created) >= 0
     order by p.first
    returning id
  ),
  anon_c as (
    select p.a, c.id
      from (select a, row_number() over (order by first) as n from pending) p
      join (select id, row_number() over (order by id) as n from anon_created) c on c.n = p.n
  ),
  aliases as (
    insert into contact_aliases (workspace_id, alias_id, contact_id)
    select p_workspace_id, a, id from anon_c
    on conflict (workspace_id, alias_id) do update set contact_id = excluded.contact_id
    returning 1
  )
  select array_agg(coalesce(uc.id, ac.id) order by m.ord)
    into v_found
    from msg m
    left join created uc on uc.user_id = m.u
    left join anon_c ac on m.u is null and ac.a = m.a;
  merge_needed := false;
  else
  -- The ids of the messages left, looked up again for the rules (only theirs: the lookup above
  -- keeps one result per message).
  select array_agg(coalesce(uc.c, ua.c) order by l.i), array_agg(an.c order by l.i)
    into v_user_c, v_anon_c
      from (select y.i, p_user_ids[y.ord] as u, p_anonymous_ids[y.ord] as a from unnest(v_rest) with ordinality as y(ord, i)) l
      left join lateral (select x.id as c from contacts x
                          where l.u is not null and (x.workspace_id || ':' || x.user_id) = (p_workspace_id || ':' || l.u)
                            and x.user_id = l.u and x.user_id is not null limit 1) uc on true
      left join lateral (select x.contact_id as c from contact_aliases x
                          where l.u is not null and uc.c is null and (x.workspace_id || ':' || x.alias_id) = (p_workspace_id || ':' || l.u) and x.alias_id = l.u limit 1) ua on true
      left join lateral (select x.contact_id as c from contact_aliases x
                          where l.a is not null and (x.workspace_id || ':' || x.alias_id) = (p_workspace_id || ':' || l.a) and x.alias_id = l.a limit 1) an on true;
  with msg as (
    select p_user_ids[rest.ord] as u, p_anonymous_ids[rest.ord] as a, p_occurred_at[rest.ord] as o, rest.ord, rest.user_c, rest.anon_c
      from unnest(v_rest, v_user_c, v_anon_c) as rest(ord, user_c, anon_c)
  ),
  seen as (
    select id, min(o) as f, max(o) as l
      from (select u as id, o from msg where u is not null union all select a, o from msg where a is not null) s group by id
  ),
  -- A user id's profile as looked up (through an alias or its own; null for a new person), and
  -- an anonymous id's.
  usr as (
    select d.id, s.f, s.l, d.c
      from (select u as id, max(user_c) as c from msg where u is not null group by u) d
      join seen s on s.id = d.id
  ),
  anon as (
    select d.id, d.c as alias_c, coalesce(k.known, false) as known
      from (select a as id, max(anon_c) as c from msg where a is not null group by a) d
      left join lateral (select x.user_id is not null as known from contacts x where x.workspace_id = p_workspace_id and x.id = d.c limit 1) k on true
  ),
  pairs as (
    select m.ord, m.a, us.id as u, us.c as target, an.alias_c, an.known
      from msg m join usr us on us.id = m.u join anon an on an.id = m.a
  ),
  conflict as (
    select true as found from pairs where alias_c is not null and alias_c is distinct from target and not known
    union all
    select true from usr where c is null and id = any(v_shared)
    union all
    select true from anon where alias_c is null and id = any(v_shared)
    limit 1
  ),
  created as (
    insert into contacts (workspace_id, user_id, first_seen_at, last_seen_at, created_at, updated_at)
    select p_workspace_id, id, f, l, p_received_at, p_received_at from usr
     where c is null and not exists (select from conflict)
     order by id
    on conflict (workspace_id, user_id) where user_id is not null do nothing
    returning id, user_id
  ),
  user_c as (
    select id, c from usr where c is not null
    union all
    select user_id, id from created
  ),
  -- An anonymous id without an alias is linked to the profile of the first message naming it with a user id.
  linked as (
    select distinct on (p.a) p.a, uc.c from pairs p join user_c uc on uc.id = p.u where p.alias_c is null order by p.a, p.ord
  ),
  pending as (
    select m.a, min(m.ord) as first from msg m join anon an on an.id = m.a
     where m.u is null and an.alias_c is null and not exists (select from linked l where l.a = m.a)
     group by m.a
  ),
  -- Reading `created` first makes the known profiles take their ids before the anonymous ones, the
  -- order resolveIdentities creates them in (sibling CTEs otherwise run in no defined order).
  anon_created as (
    insert into contacts (workspace_id, first_seen_at, last_seen_at, created_at, updated_at)
    select p_workspace_id, s.f, s.l, p_received_at, p_received_at from pending p join seen s on s.id = p.a
     where not exists (select from conflict) and (select count(*) from created) >= 0
     order by p.first
    returning id
  ),
  -- Identity values are handed out in insertion order, so sorting by id restores the pending order.
  anon_c as (
    select p.a, c.id
      from (select a, row_number() over (order by first) as n from pending) p
      join (select id, row_number() over (order by id) as n from anon_created) c on c.n = p.n
  ),
  aliases as (
    insert into contact_aliases (workspace_id, alias_id, contact_id)
    select p_workspace_id, a, c from (select a, c from linked union all select a, id from anon_c) x
     where not exists (select from conflict)
    on conflict (workspace_id, alias_id) do update set contact_id = excluded.contact_id
    returning 1
  )
  select exists (select from conflict), array_agg(coalesce(uc.c, an.alias_c, l.c, ac.id) order by m.ord)
    into merge_needed, v_found
    from msg m
    left join user_c uc on uc.id = m.u
    left join anon an on m.u is null and an.id = m.a
    left join linked l on m.u is null and l.a = m.a
    left join anon_c ac on m.u is null and ac.a = m.a;
  end if;
  contact_ids := v_quick;
  for i in 1 .. cardinality(v_rest) loop
    contact_ids[v_rest[i]] := v_found[i];
  end loop;
  end if;
  if merge_needed then
    contact_ids := null;
    return;
  end if;

  -- Events, stored once per messageId: a redelivered message is a no-op here and below. A plain
  -- insert first: `on conflict do nothing` probes the message id index once more per row, and
  -- redeliveries are rare. Its ids are taken from the events' sequence beforehand, in message
  -- order, so that they need not be matched back to the messages. A batch that repeats a stored
  -- messageId (or races a batch carrying the same one) fails that insert, which the block undoes,
  -- and takes the insert that skips them.
  begin
    v_seq := pg_get_serial_sequence('events', 'id')::regclass;
    v_ids := array(select nextval(v_seq) from generate_series(1, cardinality(v_msgs)));
    insert into events (id, workspace_id, contact_id, message_id, type, name, properties, context, occurred_at, received_at)
    select v_ids[m.ordinality], p_workspace_id, contact_ids[m.ordinality], m.message_id, m.type, m.name, m.properties, m.context, m.occurred_at, p_received_at
      from unnest(v_msgs) with ordinality as m;
    event_ids := v_ids;
  exception when unique_violation then
    with ins as (
      insert into events (workspace_id, contact_id, message_id, type, name, properties, context, occurred_at, received_at)
      select p_workspace_id, contact_ids[m.ordinality], m.message_id, m.type, m.name, m.properties, m.context, m.occurred_at, p_received_at
        from unnest(v_msgs) with ordinality as m
      on conflict (workspace_id, message_id) do nothing
      returning id, message_id
    )
    select array_agg(ins.id order by m.ordinality) into event_ids
      from unnest(v_msgs) with ordinality as m left join ins on ins.message_id = m.message_id;
  end;

  -- Profiles, in message order: traits merge key by key (null removes a key), fields replace.
  for r in
    select contact_ids[m.ordinality] as contact_id, m.profile from unnest(v_msgs) with ordinality as m
     where m.profile is not null and event_ids[m.ordinality] is not null order by m.ordinality
  loop
    update contacts c set
        traits = (c.traits || (r.profile->'traits'))
                 - coalesce((select array_agg(key) from jsonb_each(r.profile->'traits') where jsonb_typeof(value) = 'null'), '{}'),
        email = coalesce(r.profile->>'email', c.email),
        email_check = coalesce(r.profile->'email_check', c.email_check),
        phone = coalesce(r.profile->>'phone', c.phone),
        timezone = coalesce(r.profile->>'timezone', c.timezone),
        locale = coalesce(r.profile->>'locale', c.locale),
        updated_at = p_received_at
     where c.workspace_id = p_workspace_id and c.id = r.contact_id;
  end loop;

  -- Consent: the batch's last statement about each contact, channel and topic wins.
  insert into contact_consents (workspace_id, contact_id, channel, topic, granted, source, updated_at)
  select distinct on (contact_id, channel, topic) p_workspace_id, contact_id, channel, topic, granted, 'identify', p_received_at
    from (select contact_ids[m.ordinality] as contact_id, x.value->>'channel' as channel, x.value->>'topic' as topic,
                 (x.value->>'granted')::boolean as granted, m.ordinality as ord, x.ordinality as pos
            from unnest(v_msgs) with ordinality as m
            cross join lateral jsonb_array_elements(m.profile->'consent') with ordinality as x
           where m.profile ? 'consent' and event_ids[m.ordinality] is not null) s
   order by contact_id, channel, topic, ord desc, pos desc
  on conflict (workspace_id, contact_id, channel, topic)
  do update set granted = excluded.granted, source = excluded.source, updated_at = excluded.updated_at;

  -- The names of the batch's e-commerce events, an add to the open cart (no cart_id) told apart.
  v_names := array(select distinct case when m.name = 'Product Added' and not m.commerce ? 'cart_id' then 'Product Added to the open cart' else m.name end
                     from unnest(v_msgs) with ordinality as m
                    where m.commerce is not null and event_ids[m.ordinality] is not null);
  if cardinality(v_names) = 0 then
    return;
  end if;

  -- Products the catalog lacks, from the events' own fields (each field from the last event that
  -- states it); existing products are left alone, the catalog import is their source of truth.
  -- Sorted, so two batches adding the same new products lock their keys in the same order.
  insert into products (workspace_id, sku, name, category, price, url, image_url, created_at, updated_at)
  select p_workspace_id, sku, coalesce(name, sku), category, price, url, image_url, p_received_at, p_received_at
    from (select x.value->>'sku' as sku,
                 (array_agg(x.value->>'name' order by m.ordinality desc, x.ordinality desc) filter (where x.value ? 'name'))[1] as name,
                 (array_agg(x.value->>'category' order by m.ordinality desc, x.ordinality desc) filter (where x.value ? 'category'))[1] as category,
                 (array_agg((x.value->>'price')::numeric order by m.ordinality desc, x.ordinality desc) filter (where x.value ? 'price'))[1] as price,
                 (array_agg(x.value->>'url' order by m.ordinality desc, x.ordinality desc) filter (where x.value ? 'url'))[1] as url,
                 (array_agg(x.value->>'image_url' order by m.ordinality desc, x.ordinality desc) filter (where x.value ? 'image_url'))[1] as image_url
            from unnest(v_msgs) with ordinality as m
            cross join lateral jsonb_array_elements(m.commerce->'products') with ordinality as x
           where m.commerce ? 'products' and event_ids[m.ordinality] is not null
           group by 1) p
   order by sku collate "C"
  on conflict (workspace_id, sku) do nothing;

  -- Carts. An event names its cart, or is about the contact's open cart, or opens a new one; a
  -- cart that has become an order stays completed.
  if v_names && array['Product Added', 'Product Added to the open cart', 'Product Removed', 'Cart Viewed', 'Checkout Started', 'Order Completed', 'Coupon Applied'] then
    -- "Product Added" with a cart_id goes in one statement per table, unless its contact has other
    -- cart events in the batch, or its cart is named by one, added to by such a contact or stored
    -- as theirs (events about a contact's open cart depend on the order of what touches it). What
    -- the events do one after another adds up: the quantities summed, the last price stated, the
    -- cart open unless completed, touched at its latest event. Adding to cart is most of a shop's
    -- cart events, and one by one each cost the server four times what storing the event did.
    -- Every other cart event goes one by one, in message order, below. A batch whose only cart
    -- events are such adds (most batches) has nothing to put in order.
    v_ordered := v_names && array['Product Added to the open cart', 'Product Removed', 'Cart Viewed', 'Checkout Started', 'Order Completed', 'Coupon Applied'];
    if not v_ordered then
      v_loop := array_fill(false, array[cardinality(v_msgs)]);
    else
    with cart_events as (
      select m.ordinality as ord, contact_ids[m.ordinality] as contact_id, m.name, m.commerce->>'cart_id' as cart_id,
             m.name = 'Product Added' and m.commerce ? 'cart_id' as adds
        from unnest(v_msgs) with ordinality as m
       where m.commerce is not null and event_ids[m.ordinality] is not null
         and m.name in ('Product Added', 'Product Removed', 'Cart Viewed', 'Checkout Started', 'Order Completed', 'Coupon Applied')
         and not (m.name = 'Coupon Applied' and m.commerce ? 'order_id')
    ),
    -- People with other cart events: events about their open cart depend on the order of events.
    ordered_contacts as (select distinct contact_id from cart_events where not adds),
    -- Carts named by other cart events, added to by those people, or stored as theirs (one index
    -- probe per cart, so that the plan is right even on a table whose statistics say it is empty).
    ordered_carts as (
      select cart_id from cart_events where not adds and cart_id is not null
      union
      select cart_id from cart_events where adds and contact_id in (select contact_id from ordered_contacts)
      union
      select a.cart_id
        from (select distinct cart_id from cart_events where adds and exists (select from ordered_contacts)) a
        join lateral (select k.contact_id from carts k where k.workspace_id = p_workspace_id and k.cart_id = a.cart_id limit 1) k on true
       where k.contact_id in (select contact_id from ordered_contacts)
    )
    select array_agg(e.ord is not null and (not e.adds or e.contact_id in (select contact_id from ordered_contacts)
                                            or e.cart_id in (select cart_id from ordered_carts)) order by m.ordinality)
      into v_loop
      from unnest(v_msgs) with ordinality as m left join cart_events e on e.ord = m.ordinality;
    end if;
    with adds as (
      select m.ordinality as ord, contact_ids[m.ordinality] as contact_id, m.commerce->>'cart_id' as cart_id, m.commerce->>'sku' as sku,
             (m.commerce->>'quantity')::int as quantity, (m.commerce->>'price')::numeric as price, m.commerce->>'coupon_name' as coupon, m.occurred_at
        from unnest(v_msgs) with ordinality as m
       where m.name = 'Product Added' and m.commerce ? 'cart_id' and event_ids[m.ordinality] is not null
         and not v_loop[m.ordinality]
    ),
    carts_added as (
      insert into carts as k (workspace_id, cart_id, contact_id, status, coupon, created_at, updated_at)
      select p_workspace_id, cart_id, (array_agg(contact_id order by ord))[1], 'open', (array_agg(coupon order by ord))[1],
             (array_agg(occurred_at order by ord))[1], max(occurred_at)
        from adds group by cart_id order by cart_id collate "C"
      on conflict (workspace_id, cart_id) do update set
        status = case when k.status = 'completed' then 'completed' else excluded.status end,
        updated_at = greatest(k.updated_at, excluded.updated_at)
      returning 1
    )
    insert into cart_items as i (workspace_id, cart_id, sku, quantity, unit_price, added_at)
    select p_workspace_id, cart_id, sku, sum(quantity), (array_agg(price order by ord desc) filter (where price is not null))[1],
           (array_agg(occurred_at order by ord))[1]
      from adds where (select count(*) from carts_added) >= 0
     group by cart_id, sku order by cart_id collate "C", sku collate "C"
    on conflict (workspace_id, cart_id, sku)
    do update set quantity = i.quantity + excluded.quantity, unit_price = coalesce(excluded.unit_price, i.unit_price);

    for r in
      select contact_ids[m.ordinality] as contact_id, m.name, m.occurred_at, m.commerce as c from unnest(v_msgs) with ordinality as m
       where v_ordered and v_loop[m.ordinality]
       order by m.ordinality
    loop
      -- An event that names no cart is about the person's open cart: theirs, not completed, the
      -- one touched at the latest time (the latest name breaking a tie), as it is for an event
      -- arriving alone.
      v_cart := coalesce(r.c->>'cart_id',
        (select cart_id from carts where workspace_id = p_workspace_id and contact_id = r.contact_id and status <> 'completed'
          order by updated_at desc, cart_id collate "C" desc limit 1));
      if r.name = 'Order Completed' then
        update carts k set status = 'completed', order_id = r.c->>'order_id', updated_at = greatest(k.updated_at, r.occurred_at)
         where k.workspace_id = p_workspace_id and k.cart_id = v_cart and k.contact_id = r.contact_id;
        continue;
      end if;
      v_cart := coalesce(v_cart, 'c' || r.contact_id || '-' || (extract(epoch from r.occurred_at) * 1000)::bigint);
      insert into carts as k (workspace_id, cart_id, contact_id, status, coupon, created_at, updated_at)
      values (p_workspace_id, v_cart, r.contact_id, case when r.name = 'Checkout Started' then 'checkout' else 'open' end,
              r.c->>'coupon_name', r.occurred_at, r.occurred_at)
      on conflict (workspace_id, cart_id) do update set
        status = case when k.status = 'completed' then 'completed' else excluded.status end,
        coupon = case when r.name = 'Coupon Applied' then excluded.coupon else k.coupon end,
        updated_at = greatest(k.updated_at, excluded.updated_at);
      if r.name = 'Product Added' then
        insert into cart_items as i (workspace_id, cart_id, sku, quantity, unit_price, added_at)
        values (p_workspace_id, v_cart, r.c->>'sku', (r.c->>'quantity')::int, (r.c->>'price')::numeric, r.occurred_at)
        on conflict (workspace_id, cart_id, sku)
        do update set quantity = i.quantity + excluded.quantity, unit_price = coalesce(excluded.unit_price, i.unit_price);
      elsif r.name = 'Product Removed' then
        delete from cart_items
         where workspace_id = p_workspace_id and cart_id = v_cart and sku = r.c->>'sku' and quantity <= (r.c->>'quantity')::int;
        if not found then
          update cart_items set quantity = quantity - (r.c->>'quantity')::int
           where workspace_id = p_workspace_id and cart_id = v_cart and sku = r.c->>'sku';
        end if;
      elsif r.c ? 'lines' then
        -- Cart Viewed and Checkout Started with products: the cart holds exactly these lines.
        delete from cart_items i
         where i.workspace_id = p_workspace_id and i.cart_id = v_cart
           and not exists (select from jsonb_array_elements(r.c->'lines') l where l.value->>'sku' = i.sku);
        insert into cart_items as i (workspace_id, cart_id, sku, quantity, unit_price, added_at)
        select p_workspace_id, v_cart, l.value->>'sku', (l.value->>'quantity')::int, (l.value->>'price')::numeric, r.occurred_at
          from jsonb_array_elements(r.c->'lines') as l
        on conflict (workspace_id, cart_id, sku) do update set quantity = excluded.quantity, unit_price = excluded.unit_price;
      end if;
    end loop;
  end if;

  -- Orders: the batch's last statement about each order wins; its lines replace the stored ones.
  if v_names && array['Order Completed', 'Order Updated'] then
    for r in
      select distinct on (m.commerce->>'order_id') m.commerce->>'order_id' as order_id, contact_ids[m.ordinality] as contact_id,
             m.commerce as c, m.occurred_at
        from unnest(v_msgs) with ordinality as m
       where m.name in ('Order Completed', 'Order Updated') and m.commerce ? 'order_id' and event_ids[m.ordinality] is not null
       order by m.commerce->>'order_id', m.ordinality desc
    loop
      insert into orders as o (workspace_id, order_id, contact_id, status, total, currency, coupon, discount, ordered_at, created_at, updated_at)
      values (p_workspace_id, r.order_id, r.contact_id, 'completed', (r.c->>'total')::numeric, r.c->>'currency', r.c->>'coupon',
              (r.c->>'discount')::numeric, r.occurred_at, p_received_at, p_received_at)
      on conflict (workspace_id, order_id) do update set total = excluded.total, currency = coalesce(excluded.currency, o.currency),
        coupon = coalesce(excluded.coupon, o.coupon), discount = coalesce(excluded.discount, o.discount), updated_at = excluded.updated_at;
      if jsonb_array_length(coalesce(r.c->'lines', '[]')) > 0 then
        delete from order_items where workspace_id = p_workspace_id and order_id = r.order_id;
        insert into order_items (workspace_id, order_id, sku, quantity, unit_price)
        select p_workspace_id, r.order_id, l.value->>'sku', (l.value->>'quantity')::int, coalesce((l.value->>'price')::numeric, 0)
          from jsonb_array_elements(r.c->'lines') as l;
      end if;
    end loop;
  end if;
  if v_names && array['Order Refunded', 'Order Cancelled', 'Coupon Applied'] then
    update orders o set status = v.status, updated_at = p_received_at
      from (select distinct on (m.commerce->>'order_id') m.commerce->>'order_id' as order_id,
                   case m.name when 'Order Refunded' then 'refunded' else 'cancelled' end as status
              from unnest(v_msgs) with ordinality as m
             where m.name in ('Order Refunded', 'Order Cancelled') and event_ids[m.ordinality] is not null
             order by m.commerce->>'order_id', m.ordinality desc) v
     where o.workspace_id = p_workspace_id and o.order_id = v.order_id;
    update orders o set coupon = v.coupon
      from (select distinct on (m.commerce->>'order_id') m.commerce->>'order_id' as order_id, m.commerce->>'coupon_name' as coupon
              from unnest(v_msgs) with ordinality as m
             where m.name = 'Coupon Applied' and m.commerce ? 'order_id' and event_ids[m.ordinality] is not null
             order by m.commerce->>'order_id', m.ordinality desc) v
     where o.workspace_id = p_workspace_id and o.order_id = v.order_id;
  end if;
end
$$;
