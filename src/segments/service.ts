import type { Db } from '../db/index.ts';
import type { Clock } from '../core/clock.ts';
import { fail, ok, type Result } from '../core/result.ts';
import { RuleError, segmentDependencies } from './compile.ts';
import { dependencyLayers, lockSegments, memberQuery, recomputeSegment, updateContacts, type MembershipChange, type StoredSegment } from './membership.ts';
import { SegmentRule, type SegmentInput } from './schema.ts';

export type Segment = {
  id: number; name: string; description: string; rule: SegmentRule; dependsOn: number[]; memberCount: number;
  lastComputedAt: Date | null; lastComputeMs: number | null; createdAt: Date; updatedAt: Date;
};
type Row = {
  id: number; name: string; description: string; rule: unknown; depends_on: number[]; member_count: number;
  last_computed_at: Date | null; last_compute_ms: number | null; created_at: Date; updated_at: Date;
};
const toSegment = (r: Row): Segment => ({
  id: r.id, name: r.name, description: r.description, rule: SegmentRule.parse(r.rule), dependsOn: r.depends_on, memberCount: r.member_count,
  lastComputedAt: r.last_computed_at, lastComputeMs: r.last_compute_ms, createdAt: r.created_at, updatedAt: r.updated_at,
});
const stored = (s: Segment): StoredSegment => ({ id: s.id, name: s.name, rule: s.rule, dependsOn: s.dependsOn, lastComputedAt: s.lastComputedAt });

// How long a process keeps a workspace's segments at most without hearing of a change.
const KEEP_SEGMENTS_MS = 10_000;

/**
 * Segments: saved rules with their membership. Membership is kept current two ways that must
 * agree: `refreshContacts` re-evaluates the contacts a batch of events touched (contact mode),
 * and `recompute` rebuilds a segment from scratch (set mode) — on a schedule, because rules with
 * time windows change membership as time passes even when nothing happens.
 */
export function createSegmentService({ db, clock }: { db: Db; clock: Clock }) {
  const listeners: ((workspaceId: string, changes: MembershipChange[]) => void | Promise<void>)[] = [];
  const notify = async (workspaceId: string, changes: MembershipChange[]) => {
    if (changes.length > 0) for (const l of listeners) await l(workspaceId, changes);
  };

  // The computed segments of each workspace, as refreshContacts (run after every ingested batch)
  // needs them: kept until a change is announced on tend_segments (migration 0028's trigger, from
  // any connection of any process) or made here, so a batch costs no query when nothing changed.
  // A list read while a change was announced is not kept, and none is kept longer than
  // KEEP_SEGMENTS_MS: behind a pooler in transaction mode (PgBouncer) announcements do not arrive.
  const computed = new Map<string, { segments: StoredSegment[]; until: number }>();
  const changesSeen = new Map<string, number>();
  const forget = (workspaceId: string) => {
    changesSeen.set(workspaceId, (changesSeen.get(workspaceId) ?? 0) + 1);
    computed.delete(workspaceId);
  };
  let watching: Promise<boolean> | null = null;
  const watch = () => (watching ??= db.listen('tend_segments', forget).then(() => true, () => false));

  async function computedSegments(workspaceId: string): Promise<StoredSegment[]> {
    const kept = computed.get(workspaceId);
    if (kept && kept.until > Date.now()) return kept.segments;
    const listening = await watch();
    const seen = changesSeen.get(workspaceId) ?? 0;
    // A segment still being built for the first time is left to that build: re-evaluating its
    // contacts here would announce them as "entered" while the build says they always were.
    const segments = (await list(workspaceId)).filter((s) => s.lastComputedAt !== null).map(stored);
    if (listening && (changesSeen.get(workspaceId) ?? 0) === seen) computed.set(workspaceId, { segments, until: Date.now() + KEEP_SEGMENTS_MS });
    return segments;
  }

  async function list(workspaceId: string): Promise<Segment[]> {
    const { rows } = await db.query<Row>(`select * from segments where workspace_id = $1 order by id`, [workspaceId]);
    return rows.map(toSegment);
  }
  async function get(workspaceId: string, id: number): Promise<Segment | null> {
    const { rows } = await db.query<Row>(`select * from segments where workspace_id = $1 and id = $2`, [workspaceId, id]);
    return rows[0] ? toSegment(rows[0]) : null;
  }

  /** Checks that a rule compiles and that the segments it refers to exist without a cycle. */
  async function check(workspaceId: string, rule: SegmentRule, selfId?: number): Promise<Result<number[]>> {
    try {
      memberQuery(rule, workspaceId, clock.now(), 'set');
      memberQuery(rule, workspaceId, clock.now(), 'contact', [0]);
    } catch (err) {
      if (err instanceof RuleError) return fail({ code: 'invalid', message: err.message, field: 'rule' });
      throw err;
    }
    const deps = segmentDependencies(rule);
    const all = await list(workspaceId);
    for (const d of deps) if (!all.some((s) => s.id === d)) return fail({ code: 'invalid', message: `segment ${d} does not exist`, field: 'rule' });
    if (selfId !== undefined) {
      const graph = all.map((s) => (s.id === selfId ? { ...stored(s), dependsOn: deps } : stored(s)));
      try {
        dependencyLayers(graph);
      } catch {
        return fail({ code: 'invalid', message: 'the rule refers back to this segment (a cycle)', field: 'rule' });
      }
    }
    return ok(deps);
  }

  async function recompute(workspaceId: string, id: number): Promise<{ members: number; entered: number; exited: number; ms: number } | null> {
    const segment = await get(workspaceId, id);
    if (!segment) return null;
    const started = performance.now();
    const now = clock.now();
    const r = await db.transaction(async (tx) => {
      await lockSegments(tx, workspaceId, [id]);
      return recomputeSegment(tx, workspaceId, stored(segment), now, segment.lastComputedAt !== null);
    });
    forget(workspaceId); // built: this process need not wait for the announcement
    const ms = Math.round(performance.now() - started);
    await db.query(`update segments set last_compute_ms = $3 where workspace_id = $1 and id = $2`, [workspaceId, id, ms]);
    // A large change makes the membership table's statistics stale at once; refreshing them now
    // (a sampled, cheap ANALYZE) keeps the next plans right instead of waiting for autovacuum.
    if (r.changed > 10_000) await db.query(`analyze segment_memberships`);
    await notify(workspaceId, [{ segmentId: id, segmentName: segment.name, entered: r.entered, exited: r.exited }].filter((c) => c.entered.length + c.exited.length > 0));
    return { members: r.members, entered: r.entered.length, exited: r.exited.length, ms };
  }

  return {
    list,
    get,

    async create(workspaceId: string, input: SegmentInput): Promise<Result<Segment>> {
      const deps = await check(workspaceId, input.rule);
      if (!deps.ok) return deps;
      const now = clock.now();
      try {
        const { rows } = await db.query<Row>(
          `insert into segments (workspace_id, name, description, rule, depends_on, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6) returning *`,
          [workspaceId, input.name, input.description, JSON.stringify(input.rule), deps.value, now],
        );
        const segment = toSegment(rows[0]!);
        await recompute(workspaceId, segment.id);
        return ok((await get(workspaceId, segment.id))!);
      } catch (err) {
        if ((err as { code?: string }).code === '23505') return fail({ code: 'conflict', message: `a segment named "${input.name}" exists already`, field: 'name' });
        throw err;
      }
    },

    async update(workspaceId: string, id: number, input: SegmentInput): Promise<Result<Segment>> {
      const deps = await check(workspaceId, input.rule, id);
      if (!deps.ok) return deps;
      const { rowCount } = await db.query(
        `update segments set name = $3, description = $4, rule = $5, depends_on = $6, updated_at = $7 where workspace_id = $1 and id = $2`,
        [workspaceId, id, input.name, input.description, JSON.stringify(input.rule), deps.value, clock.now()],
      );
      if (rowCount === 0) return fail({ code: 'not_found', message: `segment ${id} not found` });
      forget(workspaceId);
      await recompute(workspaceId, id);
      return ok((await get(workspaceId, id))!);
    },

    async remove(workspaceId: string, id: number): Promise<Result<true>> {
      const dependents = (await list(workspaceId)).filter((s) => s.dependsOn.includes(id));
      if (dependents.length > 0) return fail({ code: 'conflict', message: `segment ${id} is used by ${dependents.map((s) => `"${s.name}"`).join(', ')}` });
      return db.transaction(async (tx) => {
        const { rowCount } = await tx.query(`delete from segments where workspace_id = $1 and id = $2`, [workspaceId, id]);
        if (rowCount === 0) return fail({ code: 'not_found', message: `segment ${id} not found` });
        await tx.query(`delete from segment_memberships where workspace_id = $1 and segment_id = $2`, [workspaceId, id]);
        return ok(true as const);
      }).finally(() => forget(workspaceId));
    },

    recompute,

    /** Recomputes every segment of a workspace, dependencies first. */
    async recomputeAll(workspaceId: string) {
      const results: { id: number; name: string; members: number; entered: number; exited: number; ms: number }[] = [];
      for (const layer of dependencyLayers((await list(workspaceId)).map(stored))) {
        for (const s of layer) results.push({ id: s.id, name: s.name, ...(await recompute(workspaceId, s.id))! });
      }
      return results;
    },

    /** Re-evaluates these contacts against every segment, dependencies first; returns the changes. */
    async refreshContacts(workspaceId: string, contactIds: readonly number[]): Promise<MembershipChange[]> {
      if (contactIds.length === 0) return [];
      const segments = await computedSegments(workspaceId);
      if (segments.length === 0) return [];
      const now = clock.now();
      const changes: MembershipChange[] = [];
      for (const layer of dependencyLayers(segments)) {
        changes.push(
          ...(await db.transaction(async (tx) => {
            await lockSegments(tx, workspaceId, layer.map((s) => s.id));
            return updateContacts(tx, workspaceId, layer, contactIds, now);
          })),
        );
      }
      await notify(workspaceId, changes);
      return changes;
    },

    /** Count and a sample of the members of a rule that is not saved. */
    async preview(workspaceId: string, rule: SegmentRule, sample = 20): Promise<Result<{ count: number; sample: { id: number; userId: string | null; email: string | null }[] }>> {
      const checked = await check(workspaceId, rule);
      if (!checked.ok) return checked;
      const q = memberQuery(rule, workspaceId, clock.now(), 'set');
      const { rows } = await db.query<{ count: number; sample: { id: number; userId: string | null; email: string | null }[] | null }>(
        `with m as (${q.sql})
         select (select count(*) from m)::int as count,
                (select json_agg(json_build_object('id', c.id, 'userId', c.user_id, 'email', c.email) order by c.id)
                   from (select c.id, c.user_id, c.email from contacts c join m on m.id = c.id where c.workspace_id = $1 order by c.id limit ${Math.max(0, Math.min(sample, 1000))}) c) as sample`,
        q.params,
      );
      return ok({ count: rows[0]!.count, sample: rows[0]!.sample ?? [] });
    },

    /** Current members, paging by contact id. */
    async members(workspaceId: string, id: number, options: { limit?: number; after?: number } = {}) {
      const { rows } = await db.query<{ id: number; userId: string | null; email: string | null; enteredAt: Date }>(
        `select c.id, c.user_id as "userId", c.email, m.entered_at as "enteredAt"
           from segment_memberships m join contacts c on c.workspace_id = m.workspace_id and c.id = m.contact_id
          where m.workspace_id = $1 and m.segment_id = $2 and m.exited_at is null and m.contact_id > $3
          order by m.contact_id limit $4`,
        [workspaceId, id, options.after ?? 0, Math.min(Math.max(options.limit ?? 100, 1), 10_000)],
      );
      return rows;
    },

    /** The segments a contact is in now, with when they entered. */
    async ofContact(workspaceId: string, contactId: number) {
      const { rows } = await db.query<{ id: number; name: string; enteredAt: Date }>(
        `select s.id, s.name, m.entered_at as "enteredAt" from segment_memberships m join segments s on s.workspace_id = m.workspace_id and s.id = m.segment_id
          where m.workspace_id = $1 and m.contact_id = $2 and m.exited_at is null order by s.name`,
        [workspaceId, contactId],
      );
      return rows;
    },

    /** Called with every membership change (journeys start from these). */
    onChange(listener: (workspaceId: string, changes: MembershipChange[]) => void | Promise<void>): void {
      listeners.push(listener);
    },
  };
}

export type SegmentService = ReturnType<typeof createSegmentService>;
