/** Collects the values of a statement and hands out their placeholders ($1, $2 …). */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown, cast?: string): string {
    this.values.push(value);
    return cast ? `$${this.values.length}::${cast}` : `$${this.values.length}`;
  }
}

const units: Record<string, string> = { min: 'minutes', h: 'hours', d: 'days', w: 'weeks', mo: 'months', y: 'years' };

/** "90d" → "90 days", "-3mo" → "-3 months": the text of a Postgres interval, passed as a parameter. */
export function intervalText(duration: string): string {
  const m = /^([+-]?\d+)(min|h|d|w|mo|y)$/.exec(duration);
  if (!m) throw new Error(`not a duration: ${duration}`);
  return `${m[1]} ${units[m[2]!]}`;
}

/** Is "90d"-style text a duration (rather than an ISO date)? */
export const isDuration = (value: string) => /^[+-]?\d+(min|h|d|w|mo|y)$/.test(value);

/** Escapes LIKE wildcards so a search text matches literally. */
export const likeEscape = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);
