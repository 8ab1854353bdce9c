import type { Db } from '../db/index.ts';
import type { Clock } from '../core/clock.ts';
import { fail, ok, type Problem, type Result } from '../core/result.ts';
import { describeIssue } from '../events/index.ts';
import { JourneyDefinition } from './schema.ts';
import { JOURNEYS_CHANNEL } from './run-types.ts';
import type { VersionCache } from './versions.ts';
import type { JourneyTriggers } from './triggers.ts';

export type JourneyStatus = 'draft' | 'active' | 'paused' | 'archived';
export type Journey = {
  id: number; name: string; status: JourneyStatus; draft: JourneyDefinition; publishedVersion: number | null; createdAt: Date; updatedAt: Date;
};
type Row = { id: number; name: string; status: JourneyStatus; draft: unknown; published_version: number | null; created_at: Date; updated_at: Date };
const toJourney = (r: Row): Journey => ({
  id: r.id, name: r.name, status: r.status, draft: JourneyDefinition.parse(r.draft), publishedVersion: r.published_version, createdAt: r.created_at, updatedAt: r.updated_at,
});

/** Checks what a schema cannot: segments that exist, templates that compile (see content.ts). */
export type DefinitionCheck = (workspaceId: string, definition: JourneyDefinition) => Promise<Problem[]>;

/**
 * The lifecycle of journeys: drafts are edited freely; publishing freezes the draft as a new
 * version that new entrants get (contacts inside stay on theirs until migrated); pause stops the
 * runner from claiming the journey's runs and the triggers from enrolling; resume continues where
 * every contact stood.
 */
export function createJourneyService({ db, clock, versions, triggers, check }: {
  db: Db; clock: Clock; versions: VersionCache; triggers: JourneyTriggers; check: DefinitionCheck;
}) {
  function parse(input: unknown): Result<JourneyDefinition> {
    const r = JourneyDefinition.safeParse(input);
    if (r.success) return ok(r.data);
    const issue = r.error.issues[0]!;
    return fail({ code: 'invalid', message: describeIssue(issue), field: issue.path.join('.'), details: r.error.issues.slice(0, 20).map((i) => ({ field: i.path.join('.'), message: i.message })) });
  }

  async function get(workspaceId: string, id: number): Promise<Journey | null> {
    const { rows } = await db.query<Row>(`select * from journeys where workspace_id = $1 and id = $2`, [workspaceId, id]);
    return rows[0] ? toJourney(rows[0]) : null;
  }

  async function setStatus(workspaceId: string, id: number, from: JourneyStatus[], to: JourneyStatus): Promise<Result<Journey>> {
    const j = await get(workspaceId, id);
    if (!j) return fail({ code: 'not_found', message: `journey ${id} does not exist` });
    if (!from.includes(j.status)) return fail({ code: 'conflict', message: `journey ${id} is ${j.status}; it must be ${from.join(' or ')}` });
    await db.query(`update journeys set status = $3, updated_at = $4 where workspace_id = $1 and id = $2`, [workspaceId, id, to, clock.now()]);
    await db.query(`select pg_notify($1, $2)`, [JOURNEYS_CHANNEL, workspaceId]);
    triggers.invalidate(workspaceId);
    return ok({ ...j, status: to });
  }

  return {
    parse,
    get,
    async list(workspaceId: string): Promise<Journey[]> {
      const { rows } = await db.query<Row>(`select * from journeys where workspace_id = $1 order by id`, [workspaceId]);
      return rows.map(toJourney);
    },

    /** Creates a draft from a definition (the API body or a journey file). */
    async create(workspaceId: string, input: unknown): Promise<Result<Journey>> {
      const parsed = parse(input);
      if (!parsed.ok) return parsed;
      const now = clock.now();
      const { rows } = await db.query<Row>(
        `insert into journeys (workspace_id, name, status, draft, created_at, updated_at) values ($1, $2, 'draft', $3, $4, $4) returning *`,
        [workspaceId, parsed.value.name, JSON.stringify(parsed.value), now],
      );
      return ok(toJourney(rows[0]!));
    },

    /** Replaces the draft; the published version and everyone inside it are untouched. */
    async update(workspaceId: string, id: number, input: unknown): Promise<Result<Journey>> {
      const parsed = parse(input);
      if (!parsed.ok) return parsed;
      const { rows } = await db.query<Row>(
        `update journeys set draft = $3, name = $4, updated_at = $5 where workspace_id = $1 and id = $2 and status <> 'archived' returning *`,
        [workspaceId, id, JSON.stringify(parsed.value), parsed.value.name, clock.now()],
      );
      return rows[0] ? ok(toJourney(rows[0])) : fail({ code: 'not_found', message: `journey ${id} does not exist or is archived` });
    },

    /**
     * Publishes the draft as the next version and activates the journey. Everything that can be
     * checked before a message goes out is checked here: the schema, the segments it names, and
     * every template (syntax, unknown variables, MJML) — a broken template is an error now, not a
     * failed send at 3 a.m.
     */
    async publish(workspaceId: string, id: number): Promise<Result<{ journey: Journey; version: number }>> {
      const j = await get(workspaceId, id);
      if (!j) return fail({ code: 'not_found', message: `journey ${id} does not exist` });
      if (j.status === 'archived') return fail({ code: 'conflict', message: `journey ${id} is archived` });
      const problems = await check(workspaceId, j.draft);
      if (problems.length > 0) return fail({ ...problems[0]!, details: problems });
      const now = clock.now();
      const version = await db.transaction(async (tx) => {
        const { rows } = await tx.query<{ v: number }>(
          `update journeys set published_version = coalesce(published_version, 0) + 1, status = case when status = 'paused' then 'paused' else 'active' end,
                  last_scheduled_at = coalesce(last_scheduled_at, $3), updated_at = $3
            where workspace_id = $1 and id = $2 returning published_version as v`,
          [workspaceId, id, now],
        );
        const v = rows[0]!.v;
        await tx.query(`insert into journey_versions (workspace_id, journey_id, version, definition, published_at) values ($1, $2, $3, $4, $5)`, [
          workspaceId, id, v, JSON.stringify(j.draft), now,
        ]);
        return v;
      });
      triggers.invalidate(workspaceId);
      return ok({ journey: (await get(workspaceId, id))!, version });
    },

    pause: (workspaceId: string, id: number) => setStatus(workspaceId, id, ['active'], 'paused'),
    resume: (workspaceId: string, id: number) => setStatus(workspaceId, id, ['paused'], 'active'),
    archive: (workspaceId: string, id: number) => setStatus(workspaceId, id, ['draft', 'active', 'paused'], 'archived'),

    async version(workspaceId: string, id: number, version: number): Promise<JourneyDefinition | null> {
      try {
        return (await versions.get(db, workspaceId, id, version)).definition;
      } catch {
        return null;
      }
    },

    /**
     * Moves the contacts inside older versions to the published one. A contact whose current step
     * no longer exists in the new version stays where it is and is counted as not moved.
     */
    async migrate(workspaceId: string, id: number): Promise<Result<{ moved: number; kept: number }>> {
      const j = await get(workspaceId, id);
      if (!j?.publishedVersion) return fail({ code: 'not_found', message: `journey ${id} has no published version` });
      const target = await versions.get(db, workspaceId, id, j.publishedVersion);
      const stepIds = [...target.index.keys()];
      const { rows } = await db.query<{ moved: number; kept: number }>(
        `with moved as (
           update journey_runs set version = $3, updated_at = $5
            where workspace_id = $1 and journey_id = $2 and state in ('active', 'waiting') and version <> $3 and step_id = any($4::text[])
           returning 1)
         select (select count(*) from moved)::int as moved,
                (select count(*) from journey_runs where workspace_id = $1 and journey_id = $2 and state in ('active', 'waiting') and version <> $3 and not (step_id = any($4::text[])))::int as kept`,
        [workspaceId, id, j.publishedVersion, stepIds, clock.now()],
      );
      return ok(rows[0]!);
    },

    /** Enrols a contact by hand (API-triggered journeys, and trying any journey on oneself). */
    async enrol(workspaceId: string, id: number, contactId: number, properties: Record<string, unknown>, key: string): Promise<Result<{ entered: boolean }>> {
      const j = await get(workspaceId, id);
      if (!j?.publishedVersion || j.status !== 'active') return fail({ code: 'conflict', message: `journey ${id} is not active` });
      const exists = await db.query(`select 1 from contacts where workspace_id = $1 and id = $2`, [workspaceId, contactId]);
      if (exists.rows.length === 0) return fail({ code: 'not_found', message: `contact ${contactId} does not exist`, field: 'contactId' });
      const compiled = await versions.get(db, workspaceId, id, j.publishedVersion);
      const n = await triggers.enrolContact(workspaceId, { workspaceId, id, version: j.publishedVersion, compiled }, contactId, properties, key);
      return ok({ entered: n > 0 });
    },
  };
}

export type JourneyService = ReturnType<typeof createJourneyService>;
