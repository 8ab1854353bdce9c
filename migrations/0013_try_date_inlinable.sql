-- tend_try_date as a single expression, so Postgres inlines it into the calling query instead of
-- running a SQL function per row (a "birthday today" segment over a million contacts spent most of
-- its 35 s in function calls). Nested CASEs fix the order of the checks: the casts only run on text
-- that has the shape of a date.
create or replace function tend_try_date(value text) returns date
language sql immutable parallel safe as $$
  select case when value ~ '^\d{4}-\d{2}-\d{2}' then
    case when substr(value, 1, 4)::int between 1 and 9999 and substr(value, 6, 2)::int between 1 and 12 then
      case when substr(value, 9, 2)::int between 1 and extract(day from make_date(substr(value, 1, 4)::int, substr(value, 6, 2)::int, 1) + interval '1 month' - interval '1 day') then
        make_date(substr(value, 1, 4)::int, substr(value, 6, 2)::int, substr(value, 9, 2)::int)
      end
    end
  end
$$;
