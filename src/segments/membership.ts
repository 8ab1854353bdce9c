import type { Queryable } from '../db/index.ts';
import { Params } from './params.ts';
import { compileRule, type CompileMode } from './compile.ts';
import type { SegmentRule } from './schema.ts';

export type StoredSegment = { id: number; name: string; rule: SegmentRule; dependsOn: number[]; lastComputedAt: Date | null };
export type MembershipChange = { segmentId: number; segmentName: string; entered: number[]; exited: number[] };

/**
 * The statement selecting a rule's members (optionally only among some contacts). `$1` is the
 * workspace; the time parameter is added only when the rule uses it (an unused parameter has no
 * type Postgres can infer).
 */
export function memberQuery(rule: SegmentRule, workspaceId: string, now: Date, mode: CompileMode, contactIds?: readonly number[], params = new Params()) {
  const ws = params.add(workspaceId);
  let at: string | undefined;
  const expr = compileRule(rule, {
    mode,
    params,
    ws,
    get now() {
      return (at ??= params.add(now, 'timestamptz'));
    },
  });
  const only = contactIds ? ` and c.id = any(${params.add(contactIds, 'bigint[]')})` : '';
  return { sql: `select c.id from contacts c where c.workspace_id = ${ws} and c.merged_into is null${only} and ${expr}`, params: params.values };
}

/** Serialises membership writes per segment (full recomputes and incremental updates). */
export async function lockSegments(tx: Queryable, workspaceId: string, ids: readonly number[]): Promise<void> {
  await tx.query(
    `select pg_advisory_xact_lock(hashtextextended($1 || ':segment:' || id::text, 0)) from unnest($2::bigint[]) with ordinality as t(id, ord) order by ord`,
    [workspaceId, [...ids].sort((a, b) => a - b)],
  );
}

/**
 * Recomputes a whole segment in one statement: the rule's members (set mode) and the current
 * members are materialised once and compared with EXCEPT, which is linear whatever the planner
 * believes about the tables (with `not exists` against a membership table whose statistics still
 * said "empty", Postgres chose a nested loop and a 30,000-member segment took 100 s).
 * New members get an open membership row, departed ones have theirs closed. When `emit` is set,
 * "Segment Entered" / "Segment Exited" events are written in the same statement (not on a
 * segment's first build, which would announce every existing member as new).
 */
export async function recomputeSegment(tx: Queryable, workspaceId: string, segment: StoredSegment, now: Date, emit: boolean) {
  const p = new Params();
  const q = memberQuery(segment.rule, workspaceId, now, 'set', undefined, p);
  const at = p.add(now, 'timestamptz');
  const seg = p.add(segment.id, 'bigint');
  const name = p.add(segment.name, 'text');
  const doEmit = p.add(emit, 'boolean');
  const { rows } = await tx.query<{ members: number; changed: number; entered: number[]; exited: number[] }>(
    `with target as materialized (${q.sql}),
     current as materialized (
       select contact_id from segment_memberships where workspace_id = $1 and segment_id = ${seg} and exited_at is null),
     entered as (
       insert into segment_memberships (workspace_id, segment_id, contact_id, entered_at)
       select $1, ${seg}, n.id, ${at} from (select id from target except select contact_id from current) n
       on conflict (workspace_id, segment_id, contact_id) where exited_at is null do nothing
       returning contact_id),
     exited as (
       update segment_memberships m set exited_at = ${at}
         from (select contact_id from current except select id from target) g
        where m.workspace_id = $1 and m.segment_id = ${seg} and m.contact_id = g.contact_id and m.exited_at is null
       returning m.contact_id),
     ev as (
       insert into events (workspace_id, contact_id, message_id, type, name, properties, occurred_at, received_at)
       select $1, x.contact_id, 'segment:' || ${seg}::text || ':' || x.contact_id::text || ':' || x.kind || ':' || extract(epoch from ${at})::text,
              'track', case x.kind when 'in' then 'Segment Entered' else 'Segment Exited' end,
              jsonb_build_object('segment_id', ${seg}, 'segment', ${name}), ${at}, ${at}
         from (select contact_id, 'in' as kind from entered union all select contact_id, 'out' from exited) x
        where ${doEmit}
       on conflict (workspace_id, message_id) do nothing)
     select (select count(*) from target)::int as members,
            ((select count(*) from entered) + (select count(*) from exited))::int as changed,
            case when ${doEmit} then array(select contact_id from entered) else '{}' end as entered,
            case when ${doEmit} then array(select contact_id from exited) else '{}' end as exited`,
    p.values,
  );
  const r = rows[0]!;
  await tx.query(`update segments set member_count = $3, last_computed_at = $4 where workspace_id = $1 and id = $2`, [workspaceId, segment.id, r.members, now]);
  return { members: r.members, changed: r.changed, entered: r.entered, exited: r.exited };
}

/**
 * Re-evaluates some contacts against a set of segments (contact mode: index probes per contact)
 * and applies the differences, returning what changed. All segments of one dependency layer are
 * evaluated in a single statement.
 */
export async function updateContacts(tx: Queryable, workspaceId: string, segments: readonly StoredSegment[], contactIds: readonly number[], now: Date): Promise<MembershipChange[]> {
  if (segments.length === 0 || contactIds.length === 0) return [];
  const params = new Params();
  const ws = params.add(workspaceId);
  const ids = params.add(contactIds, 'bigint[]');
  let at: string | undefined;
  const ctx = {
    mode: 'contact' as const,
    params,
    ws,
    get now() {
      return (at ??= params.add(now, 'timestamptz'));
    },
  };
  const columns = segments.map((s, i) => `${compileRule(s.rule, ctx)} as m${i}`);
  // Rows are reached by per-id index probes (lateral … offset 0 keeps Postgres from turning them
  // into a join it might plan as a scan when statistics are stale).
  const evaluated = await tx.query<Record<string, unknown> & { id: number }>(
    `select c.id, ${columns.join(', ')}
       from unnest(${ids}) as t(id)
       cross join lateral (select * from contacts c where c.workspace_id = ${ws} and c.id = t.id and c.merged_into is null offset 0) c`,
    params.values,
  );
  const current = await tx.query<{ segment_id: number; contact_id: number }>(
    `select m.segment_id, m.contact_id from unnest($2::bigint[]) as t(id)
       cross join lateral (select segment_id, contact_id from segment_memberships
                            where workspace_id = $1 and contact_id = t.id and exited_at is null offset 0) m
      where m.segment_id = any($3::bigint[])`,
    [workspaceId, contactIds, segments.map((s) => s.id)],
  );
  const isMember = new Set(current.rows.map((r) => `${r.segment_id}:${r.contact_id}`));
  const shouldBe = new Set<string>();
  for (const row of evaluated.rows) segments.forEach((s, i) => row[`m${i}`] === true && shouldBe.add(`${s.id}:${row.id}`));
  const changes: MembershipChange[] = segments.map((s) => ({ segmentId: s.id, segmentName: s.name, entered: [], exited: [] }));
  segments.forEach((s, i) => {
    for (const id of contactIds) {
      const key = `${s.id}:${id}`;
      if (shouldBe.has(key) && !isMember.has(key)) changes[i]!.entered.push(id);
      if (!shouldBe.has(key) && isMember.has(key)) changes[i]!.exited.push(id);
    }
  });
  const entered = changes.flatMap((c) => c.entered.map((id) => ({ seg: c.segmentId, id, name: c.segmentName })));
  const exited = changes.flatMap((c) => c.exited.map((id) => ({ seg: c.segmentId, id, name: c.segmentName })));
  if (entered.length > 0) {
    await tx.query(
      `insert into segment_memberships (workspace_id, segment_id, contact_id, entered_at)
       select $1, s, c, $2 from unnest($3::bigint[], $4::bigint[]) as t(s, c)
       on conflict (workspace_id, segment_id, contact_id) where exited_at is null do nothing`,
      [workspaceId, now, entered.map((e) => e.seg), entered.map((e) => e.id)],
    );
  }
  if (exited.length > 0) {
    await tx.query(
      `update segment_memberships m set exited_at = $2
         from unnest($3::bigint[], $4::bigint[]) as t(s, c)
         cross join lateral (select ctid from segment_memberships x
                              where x.workspace_id = $1 and x.segment_id = t.s and x.contact_id = t.c and x.exited_at is null limit 1) x
        where m.ctid = x.ctid`,
      [workspaceId, now, exited.map((e) => e.seg), exited.map((e) => e.id)],
    );
  }
  const all = [...entered.map((e) => ({ ...e, kind: 'in' })), ...exited.map((e) => ({ ...e, kind: 'out' }))];
  if (all.length > 0) {
    await tx.query(
      `insert into events (workspace_id, contact_id, message_id, type, name, properties, occurred_at, received_at)
       select $1, c, 'segment:' || s::text || ':' || c::text || ':' || k || ':' || extract(epoch from $2::timestamptz)::text, 'track',
              case k when 'in' then 'Segment Entered' else 'Segment Exited' end, jsonb_build_object('segment_id', s, 'segment', n), $2, $2
         from unnest($3::bigint[], $4::bigint[], $5::text[], $6::text[]) as t(s, c, k, n)
       on conflict (workspace_id, message_id) do nothing`,
      [workspaceId, now, all.map((e) => e.seg), all.map((e) => e.id), all.map((e) => e.kind), all.map((e) => e.name)],
    );
    const counts = new Map<number, number>();
    for (const e of all) counts.set(e.seg, (counts.get(e.seg) ?? 0) + (e.kind === 'in' ? 1 : -1));
    await tx.query(
      `update segments s set member_count = s.member_count + t.d from unnest($2::bigint[], $3::int[]) as t(id, d) where s.workspace_id = $1 and s.id = t.id`,
      [workspaceId, [...counts.keys()], [...counts.values()]],
    );
  }
  return changes.filter((c) => c.entered.length > 0 || c.exited.length > 0);
}

/** Orders segments so that every segment comes after the segments its rule refers to, in layers. */
export function dependencyLayers(segments: readonly StoredSegment[]): StoredSegment[][] {
  const byId = new Map(segments.map((s) => [s.id, s]));
  const depth = new Map<number, number>();
  const visit = (s: StoredSegment, path: Set<number>): number => {
    if (depth.has(s.id)) return depth.get(s.id)!;
    if (path.has(s.id)) throw new Error(`segment ${s.id} depends on itself`);
    path.add(s.id);
    const d = Math.max(-1, ...s.dependsOn.map((id) => (byId.has(id) ? visit(byId.get(id)!, path) : -1))) + 1;
    path.delete(s.id);
    depth.set(s.id, d);
    return d;
  };
  const layers: StoredSegment[][] = [];
  for (const s of segments) (layers[visit(s, new Set())] ??= []).push(s);
  return layers.filter(Boolean);
}
