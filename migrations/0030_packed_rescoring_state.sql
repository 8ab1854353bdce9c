-- A daily rescoring reads, for every stored row, what it compares its new scores with and the
-- order summary it reuses (0024): twelve values a row. Postgres sends each value of a COPY through
-- its type's output function, and on a million rows the values cost the server about 0.4 s more
-- than one field holding them all. Now the values the rescoring alone reads (the expected next
-- order day, the order summary and the order version) are kept packed in one field, written and read
-- by Tend (src/models/scores/sql/stored-scores.ts says how); the columns that only the rescoring
-- used go. The expected next order date, the purchase days and the first and last order dates
-- stay columns too, for segments, explanations and exports.
--
-- Rows keep no packed state here: a rescoring rewrites a row without one, aggregating the
-- contact's orders, as it did for rows stored before 0024.
alter table contact_scores
  add column rescore_state bytea,
  drop column last_gap,
  drop column repeat_spend,
  drop column spend,
  drop column orders_version;
