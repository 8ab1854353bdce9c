import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { z } from 'zod';
import { fail, ok, type Problem, type Result } from '../core/result.ts';
import { describeIssue, innermostIssue } from '../events/index.ts';
import { SegmentInput, type SegmentService } from '../segments/index.ts';
import { JourneyDefinition } from './schema.ts';
import type { Journey, JourneyService } from './service.ts';

/**
 * Blueprints: the care models as ready journeys. A blueprint is an ordinary journey file
 * (`blueprints/<name>.journey.json`, the same JSON as `POST /api/journeys` and `tend journeys
 * create`) with two optional sections beside the journey's own fields:
 *
 *  - `blueprint`: what the gallery shows — the care model, its stage, and what to adjust;
 *  - `segments`: audiences the journey needs, `{ "<key>": { name, description, rule } }`. A
 *    file cannot know a workspace's segment ids, so the journey names them as
 *    `"segmentId": "$segment:<key>"` (in the trigger or in a branch rule). Installing creates each
 *    segment, or reuses the workspace's segment of that name (a marketer who adjusted the rule keeps
 *    it), and puts the ids in before the draft is created.
 *
 * Nothing else is special: once installed, a blueprint is a journey like any other.
 */

/** Where the shipped blueprints live (the repository's `blueprints/` folder). */
export const BLUEPRINTS_DIR = fileURLToPath(new URL('../../blueprints/', import.meta.url));

const FILE_SUFFIX = '.journey.json';
const SEGMENT_REF = /^\$segment:([a-z0-9][a-z0-9_-]{0,63})$/;

export const BlueprintInfo = z.strictObject({
  /** The care model this blueprint implements ("Abandoned cart"). */
  careModel: z.string().min(1).max(200),
  /** The customer's stage (DESIGN.md's table): prospect, shopping, new customer, … */
  stage: z.enum(['new contact', 'shopping', 'new customer', 'repeat customer', 'drifting away', 'lost', 'back again']),
  /** One paragraph: what it does, for whom. */
  summary: z.string().min(1).max(2000),
  /** What a marketer should look at before publishing (the offer, the waits, the shop's address). */
  adjust: z.array(z.string().min(1).max(500)).max(20).default([]),
});
export type BlueprintInfo = z.infer<typeof BlueprintInfo>;

const SegmentKey = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a segment key: lower-case letters, digits, _ and -');

export type Blueprint = {
  /** The file name without `.journey.json`: what `tend blueprints install NAME` takes. */
  name: string;
  info: BlueprintInfo;
  segments: Record<string, SegmentInput>;
  /** The journey as written in the file, with `$segment:<key>` references. */
  journey: Record<string, unknown>;
  /** The journey after validation (references stand in as placeholder ids); for summaries. */
  definition: JourneyDefinition;
};

/** Replaces every `"$segment:<key>"` string in a JSON value; `ids` maps keys to segment ids. */
export function substituteSegments(value: unknown, ids: ReadonlyMap<string, number>): unknown {
  if (typeof value === 'string') {
    const m = SEGMENT_REF.exec(value);
    return m && ids.has(m[1]!) ? ids.get(m[1]!) : value;
  }
  if (Array.isArray(value)) return value.map((v) => substituteSegments(v, ids));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteSegments(v, ids)]));
  return value;
}

/** Every `$segment:<key>` reference in a JSON value, with its path. */
function segmentRefs(value: unknown, path: (string | number)[] = []): { key: string; path: string }[] {
  if (typeof value === 'string') {
    const m = SEGMENT_REF.exec(value);
    return m ? [{ key: m[1]!, path: path.join('.') }] : value.startsWith('$segment:') ? [{ key: value.slice(9), path: path.join('.') }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => segmentRefs(v, [...path, i]));
  if (value !== null && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => segmentRefs(v, [...path, k]));
  return [];
}

const invalid = (message: string, field?: string): Problem => ({ code: 'invalid', message, ...(field ? { field } : {}) });

/**
 * Reads a blueprint from its JSON text and checks all of it: the info, each segment's rule, that
 * every `$segment:` reference names a declared segment (and every declared segment is used), and
 * the journey against the journey schema. Problems name the field (`steps.3.branches.0.rule…`).
 */
export function parseBlueprint(name: string, text: string): Result<Blueprint> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fail(invalid(`${name}${FILE_SUFFIX} is not valid JSON: ${(err as Error).message}`));
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return fail(invalid(`${name}${FILE_SUFFIX} must hold a JSON object`));
  const { blueprint, segments: rawSegments, ...journey } = json as Record<string, unknown>;

  const info = BlueprintInfo.safeParse(blueprint ?? {});
  if (!info.success) {
    const issue = innermostIssue(info.error.issues[0]!);
    return fail(invalid(describeIssue(issue, ['blueprint']), ['blueprint', ...issue.path].join('.')));
  }
  const segments: Record<string, SegmentInput> = {};
  if (rawSegments !== undefined) {
    if (rawSegments === null || typeof rawSegments !== 'object' || Array.isArray(rawSegments)) return fail(invalid('segments must be an object of segment key → { name, description, rule }', 'segments'));
    for (const [key, input] of Object.entries(rawSegments)) {
      if (!SegmentKey.safeParse(key).success) return fail(invalid(`segments.${key}: a segment key is lower-case letters, digits, _ and -`, `segments.${key}`));
      const parsed = SegmentInput.safeParse(input);
      if (!parsed.success) {
        const issue = innermostIssue(parsed.error.issues[0]!);
        return fail(invalid(describeIssue(issue, ['segments', key]), ['segments', key, ...issue.path].join('.')));
      }
      segments[key] = parsed.data;
    }
  }
  const refs = segmentRefs(journey);
  for (const ref of refs) {
    if (!(ref.key in segments)) return fail(invalid(`${ref.path} refers to $segment:${ref.key}, which the segments section does not declare`, ref.path));
  }
  for (const key of Object.keys(segments)) {
    if (!refs.some((r) => r.key === key)) return fail(invalid(`segments.${key} is declared but the journey does not use it`, `segments.${key}`));
  }
  // Validate with stand-in ids: the schema wants positive numbers where the references stand.
  const placeholders = new Map(Object.keys(segments).map((key, i) => [key, i + 1]));
  const parsed = JourneyDefinition.safeParse(substituteSegments(journey, placeholders));
  if (!parsed.success) {
    const issue = innermostIssue(parsed.error.issues[0]!);
    return fail(invalid(describeIssue(issue), issue.path.join('.')));
  }
  return ok({ name, info: info.data, segments, journey, definition: parsed.data });
}

/** A blueprint as its file: the journey with its `blueprint` and `segments` sections (what `tend blueprints show --json` prints). */
export function blueprintFile(b: Blueprint): Record<string, unknown> {
  const { name, description, ...rest } = b.journey;
  return { name, description, blueprint: b.info, ...(Object.keys(b.segments).length > 0 ? { segments: b.segments } : {}), ...rest };
}

/** The shipped blueprints, in file-name order. A broken file is a bug in Tend: it throws, naming the file and field. */
export function listBlueprints(dir: string = BLUEPRINTS_DIR): Blueprint[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(FILE_SUFFIX))
    .sort()
    .map((file) => {
      const name = file.slice(0, -FILE_SUFFIX.length);
      const r = parseBlueprint(name, readFileSync(join(dir, file), 'utf8'));
      if (!r.ok) throw new Error(`blueprint ${file}: ${r.problem.message}`);
      return r.value;
    });
}

/** One blueprint by name, or not_found listing the names there are. */
export function loadBlueprint(name: string, dir: string = BLUEPRINTS_DIR): Result<Blueprint> {
  const all = listBlueprints(dir);
  const found = all.find((b) => b.name === name);
  return found ? ok(found) : fail({ code: 'not_found', message: `there is no blueprint "${name}"; there are: ${all.map((b) => b.name).join(', ')}` });
}

export type InstalledSegment = { key: string; id: number; name: string; created: boolean };
export type Installation = { blueprint: string; journey: Journey; segments: InstalledSegment[]; version: number | null };

/**
 * Installs a blueprint into a workspace: its segments (created, or reused by name), then the
 * journey as a draft, named after the blueprint (with " (2)", " (3)" … when a journey of that name
 * exists, so installing twice gives two journeys to tell apart). With `publish`, the draft is
 * published at once — the "activate in one step" of the care models; a publish problem is returned
 * with the id of the draft that stays.
 */
export async function installBlueprint(
  deps: { segments: SegmentService; journeys: JourneyService },
  workspaceId: string,
  blueprint: Blueprint,
  options: { publish?: boolean } = {},
): Promise<Result<Installation>> {
  const existing = await deps.segments.list(workspaceId);
  const installed: InstalledSegment[] = [];
  for (const [key, input] of Object.entries(blueprint.segments)) {
    const same = existing.find((s) => s.name === input.name);
    if (same) {
      installed.push({ key, id: same.id, name: same.name, created: false });
      continue;
    }
    const r = await deps.segments.create(workspaceId, input);
    if (!r.ok) return fail({ ...r.problem, field: `segments.${key}${r.problem.field ? `.${r.problem.field}` : ''}` });
    installed.push({ key, id: r.value.id, name: r.value.name, created: true });
  }
  const ids = new Map(installed.map((s) => [s.key, s.id]));
  const journey = substituteSegments(blueprint.journey, ids) as Record<string, unknown>;
  const names = new Set((await deps.journeys.list(workspaceId)).map((j) => j.name));
  const base = String(journey.name);
  let name = base;
  for (let n = 2; names.has(name); n++) name = `${base} (${n})`;
  const created = await deps.journeys.create(workspaceId, { ...journey, name });
  if (!created.ok) return created;
  if (!options.publish) return ok({ blueprint: blueprint.name, journey: created.value, segments: installed, version: null });
  const published = await deps.journeys.publish(workspaceId, created.value.id);
  if (!published.ok) return fail({ ...published.problem, message: `journey ${created.value.id} was created as a draft but not published: ${published.problem.message}` });
  return ok({ blueprint: blueprint.name, journey: published.value.journey, segments: installed, version: published.value.version });
}
