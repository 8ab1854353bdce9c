import { checkEmail, type EmailCheck } from '../../contacts/index.ts';
import type { WorkspaceSettings } from '../../workspaces/index.ts';
import type { Row } from '../types.ts';
import { show } from '../fields.ts';

/** The cells of a row whose columns are not part of the format (they become traits or properties). */
export function extras(row: Record<string, unknown>, known: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(row)) if (!Object.hasOwn(known, k) && typeof v === 'string') out[k] = v;
  return out;
}

/** One row per key, the last line winning, in the order of those last lines. */
export function lastWins<T>(rows: readonly Row<T>[], key: (value: T) => string): Row<T>[] {
  const byKey = new Map<string, Row<T>>();
  for (const r of rows) {
    const k = key(r.value);
    byKey.delete(k); // re-inserting keeps the map in the order of the last occurrence
    byKey.set(k, r);
  }
  return [...byKey.values()];
}

/**
 * Checks an address against the workspace's email policy: with `flag` every address is kept with
 * its check result; with `reject` invalid and disposable ones (and role addresses, when asked) are
 * refused, as the tracking API does.
 */
export function screenEmail(raw: string, settings: WorkspaceSettings): { ok: true; email: { address: string; check: EmailCheck } } | { ok: false; message: string } {
  const check = checkEmail(raw);
  if (settings.emailPolicy === 'reject' && (!check.valid || (check.role && settings.rejectRoleAddresses))) {
    return { ok: false, message: `${show(raw.trim())} refused: ${check.reason}${check.suggestion ? ` (did you mean ${check.suggestion}?)` : ''}` };
  }
  return { ok: true, email: { address: check.normalized ?? raw.trim().slice(0, 320), check } };
}
