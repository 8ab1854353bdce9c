import type { Queryable } from '../db/index.ts';
import type { EmailCheck } from './email-check.ts';

/** A change to a profile's own fields; traits are merged key by key (null removes a key). */
export type ProfilePatch = {
  contactId: number;
  traits: Record<string, unknown>;
  email?: { address: string; check: EmailCheck };
  phone?: string;
  timezone?: string;
  locale?: string;
};

/**
 * Applies patches in order; several patches to one contact fold into one update. Rows are found by
 * a primary-key probe each and updated by ctid, so the plan stays a handful of index lookups even
 * on a fresh table whose statistics still say it is empty (a join let Postgres scan the workspace).
 */
export async function applyProfilePatches(tx: Queryable, workspaceId: string, patches: readonly ProfilePatch[], at: Date): Promise<void> {
  if (patches.length === 0) return;
  const folded = new Map<number, ProfilePatch>();
  for (const p of patches) {
    const prev = folded.get(p.contactId);
    folded.set(p.contactId, prev ? { ...prev, ...definedOnly(p), traits: { ...prev.traits, ...p.traits } } : p);
  }
  const list = [...folded.values()];
  await tx.query(
    `update contacts c set
        traits = (c.traits || v.traits) - coalesce((select array_agg(key) from jsonb_each(v.traits) where jsonb_typeof(value) = 'null'), '{}'),
        email = coalesce(v.email, c.email),
        email_check = coalesce(v.email_check, c.email_check),
        phone = coalesce(v.phone, c.phone),
        timezone = coalesce(v.timezone, c.timezone),
        locale = coalesce(v.locale, c.locale),
        updated_at = $8
       from unnest($2::bigint[], $3::jsonb[], $4::text[], $5::jsonb[], $6::text[], $7::text[], $9::text[])
              as v(id, traits, email, email_check, phone, timezone, locale)
            cross join lateral (select ctid from contacts x where x.workspace_id = $1 and x.id = v.id limit 1) x
      where c.ctid = x.ctid`,
    [
      workspaceId,
      list.map((p) => p.contactId),
      list.map((p) => JSON.stringify(p.traits)),
      list.map((p) => p.email?.address ?? null),
      list.map((p) => (p.email ? JSON.stringify(p.email.check) : null)),
      list.map((p) => p.phone ?? null),
      list.map((p) => p.timezone ?? null),
      at,
      list.map((p) => p.locale ?? null),
    ],
  );
}

function definedOnly(p: ProfilePatch): Partial<ProfilePatch> {
  return Object.fromEntries(Object.entries(p).filter(([k, v]) => v !== undefined && k !== 'traits'));
}

/** Is this a valid IANA time zone name? */
export function isTimeZone(value: string): boolean {
  if (value.length > 64) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}
