/**
 * What a rescoring compares its new scores with: per stored row, the fingerprint and the expected
 * next order day (changes.ts), and the order summary the row was computed from with the contact's
 * order version then (0024), which a rescoring uses instead of aggregating the orders again
 * (pages.ts). Read by contact-id range (the primary key's order), like the page it belongs to.
 *
 * The rows come by COPY in binary format (Db.copyTo): eleven numbers a row, which as text array
 * literals cost the server 1.8 s a million rows, and 1.0 s this way (and the Node side reads bytes
 * instead of parsing text); the dates go as they are stored (days since 2000) and become day
 * numbers in Node. Each row also comes with its address (ctid), where the rescoring updates it
 * (sql/write-scores.ts). COPY takes no parameters: the workspace id and the name lists go in as
 * literals (sqlLiteral), the ids as integers.
 *
 * The fingerprint's top bits say which RFM cell, churn band and stage the row was written with. A
 * row without a fingerprint (written before fingerprints existed, 0016, or whose names something
 * else changed, such as a journey step: a trigger drops the fingerprint then, 0026) has
 * `stored_code`, the categories as they are stored, so that the rescoring rewrites the row and
 * announces what it really changed from. (Postgres gives the bit operators one precedence, left
 * to right: hence the parentheses.)
 */
import { readCopyBinary, type CopyColumn } from '../../../db/copy-binary.ts';
import { sqlInteger, sqlLiteral, type Queryable } from '../../../db/index.ts';
import { churnBands, lifecycleStages, rfmCells } from '../schema.ts';

const list = (names: readonly string[]) => `array[${names.map(sqlLiteral).join(', ')}]::text[]`;
const [cells, bands, stages] = [list(rfmCells), list(churnBands), list(lifecycleStages)];

const select = (workspaceId: string, filter: string) => `
  select contact_id, fingerprint, expected_next_order_at as next_day,
    case when fingerprint is null
    then (coalesce(recency_score, 0)::int << 16) | (coalesce(frequency_score, 0)::int << 13) | (coalesce(monetary_score, 0)::int << 10) |
         (coalesce(array_position(${cells}, rfm_cell), 0) << 6) | (coalesce(array_position(${bands}, churn_band), 0) << 3) |
         coalesce(array_position(${stages}, lifecycle_stage), 0)
    end as stored_code,
    purchase_days, first_order_date as first_day, last_order_date as last_day,
    last_gap, repeat_spend, spend, orders_version, ctid
  from contact_scores where workspace_id = ${sqlLiteral(workspaceId)} and ${filter} order by contact_id`;

const columns: CopyColumn[] = ['int', 'int', 'date', 'int', 'int', 'date', 'date', 'int', 'float8', 'float8', 'int', 'tid'];

/** Stored rows as parallel arrays sorted by contact id; `stored_code` is set where there is no fingerprint. */
export type StoredScores = {
  id: number[]; fingerprint: (number | null)[]; next_day: (number | null)[]; stored_code: (number | null)[];
  /** The order summary of the row (null where it was written before 0024) and the order version it was read at. */
  purchase_days: (number | null)[]; first_day: (number | null)[]; last_day: (number | null)[]; last_gap: (number | null)[];
  repeat_spend: (number | null)[]; spend: (number | null)[]; orders_version: (number | null)[];
  /** Where the row lies (its ctid): the rescoring updates it there (sql/write-scores.ts). */
  tid: (number | null)[];
};

async function read(q: Queryable, sql: string): Promise<StoredScores> {
  if (!q.copyTo) throw new Error('reading stored scores needs a database connection that supports COPY');
  const [id, fingerprint, next_day, stored_code, purchase_days, first_day, last_day, last_gap, repeat_spend, spend, orders_version, tid] = readCopyBinary(await q.copyTo(sql), columns);
  return {
    id: id as number[], fingerprint: fingerprint!, next_day: next_day!, stored_code: stored_code!, purchase_days: purchase_days!, first_day: first_day!, last_day: last_day!,
    last_gap: last_gap!, repeat_spend: repeat_spend!, spend: spend!, orders_version: orders_version!, tid: tid!,
  };
}

/** The stored scores of the contacts with ids in (after, upTo]. */
export const readStoredRange = (q: Queryable, workspaceId: string, after: number, upTo: number): Promise<StoredScores> =>
  read(q, select(workspaceId, `contact_id > ${sqlInteger(after)} and contact_id <= ${sqlInteger(upTo)}`));

/** The stored scores of the given contacts. */
export const readStoredById = (q: Queryable, workspaceId: string, contactIds: readonly number[]): Promise<StoredScores> =>
  read(q, select(workspaceId, `contact_id = any('{${contactIds.map(sqlInteger).join(',')}}'::bigint[])`));
