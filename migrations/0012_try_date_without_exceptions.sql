-- tend_try_date without an exception block: an exception block opens a subtransaction, which
-- Postgres forbids in parallel workers ("cannot start subtransactions during a parallel
-- operation"), and a plain SQL function can also be inlined into the query. Same results: a
-- malformed or impossible date (2026-02-30, month 13, year 0) is null.
create or replace function tend_try_date(value text) returns date
language sql immutable parallel safe as $$
  select case
    when y between 1 and 9999 and m between 1 and 12
     and d between 1 and extract(day from make_date(y, m, 1) + interval '1 month' - interval '1 day')
    then make_date(y, m, d)
  end
  from (select substr(value, 1, 4)::int as y, substr(value, 6, 2)::int as m, substr(value, 9, 2)::int as d
         where value ~ '^\d{4}-\d{2}-\d{2}') parts
$$;
