/**
 * What a rescoring compares its new scores with: per stored row, the fingerprint and the expected
 * next order day (changes.ts). A few numbers a row, returned as array literals (arrays.ts): a
 * million rows cost the server about half a second, far less than rewriting them.
 * Read by contact-id range (the primary key's order), like the page it belongs to.
 *
 * The fingerprint's top bits say which RFM cell, churn band and stage the row was written with.
 * Where the stored ones differ (a row written before fingerprints existed, 0016, or a stage set by
 * something else, such as a journey step), `stored_code` gives the categories as they are stored,
 * so that the rescoring rewrites the row and announces what it really changed from. Checking the
 * three names costs the server about 0.15 s a million rows. `$n`–`$n+2` are the cell, band and
 * stage lists. (Postgres gives the bit operators one precedence, left to right: hence the
 * parentheses.)
 */
import { parseNumbers } from './arrays.ts';

const arrays = `
  select coalesce(array_agg(contact_id), '{}')::text as id, coalesce(array_agg(fingerprint), '{}')::text as fingerprint,
         coalesce(array_agg(next_day), '{}')::text as next_day, coalesce(array_agg(stored_code), '{}')::text as stored_code`;
const columns = (lists: number) => {
  const [cells, bands, stages] = [`$${lists}::text[]`, `$${lists + 1}::text[]`, `$${lists + 2}::text[]`];
  return `contact_id, fingerprint, expected_next_order_at - date '1970-01-01' as next_day,
    case when fingerprint is null
           or rfm_cell is distinct from (${cells})[((fingerprint >> 40) & 15)::int]
           or churn_band is distinct from (${bands})[((fingerprint >> 37) & 7)::int]
           or lifecycle_stage is distinct from (${stages})[((fingerprint >> 34) & 7)::int]
    then (coalesce(recency_score, 0)::int << 16) | (coalesce(frequency_score, 0)::int << 13) | (coalesce(monetary_score, 0)::int << 10) |
         (coalesce(array_position(${cells}, rfm_cell), 0) << 6) | (coalesce(array_position(${bands}, churn_band), 0) << 3) |
         coalesce(array_position(${stages}, lifecycle_stage), 0)
    end as stored_code`;
};

/** The stored scores of the contacts with ids in ($2, $3], in id order. `$1` workspace, `$4`–`$6` the name lists. */
export const storedPageSql = `${arrays}
    from (select ${columns(4)} from contact_scores where workspace_id = $1 and contact_id > $2 and contact_id <= $3 order by contact_id) page`;

/** The stored scores of the given contacts (`$2` ids), in id order. `$3`–`$5` the name lists. */
export const storedByIdSql = `${arrays}
    from (select ${columns(3)} from contact_scores where workspace_id = $1 and contact_id = any($2::bigint[]) order by contact_id) page`;

/**
 * Stored rows as parallel arrays sorted by contact id; `stored_code` is set where the stored
 * categories are not those of the fingerprint (or there is none).
 */
export type StoredScores = { id: number[]; fingerprint: (number | null)[]; next_day: (number | null)[]; stored_code: (number | null)[] };

export type StoredScoresRow = Record<keyof StoredScores, string>;

export function parseStoredScores(row: StoredScoresRow): StoredScores {
  return { id: parseNumbers(row.id) as number[], fingerprint: parseNumbers(row.fingerprint), next_day: parseNumbers(row.next_day), stored_code: parseNumbers(row.stored_code) };
}
