import { z } from 'zod';
import type { Db } from '../db/index.ts';
import type { Clock } from '../core/clock.ts';
import { fail, ok, type Result } from '../core/result.ts';
import { memberQuery } from '../segments/index.ts';
import { Content, Goal, messageChannels, type JourneyDefinition } from './schema.ts';
import { compileDefinition } from './decide.ts';
import { enrol } from './enrol.ts';
import type { JourneyService } from './service.ts';

const Stage = z.enum(['prospect', 'new_customer', 'active', 'loyal', 'at_risk', 'lapsed', 'won_back']);

/** A broadcast as the marketer writes it. */
export const BroadcastInput = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    segmentId: z.number().int().positive(),
    /** When to send; now when absent. */
    sendAt: z.iso.datetime({ offset: true }).optional(),
    channel: z.enum([...messageChannels, 'best']).default('email'),
    fallback: z.array(z.enum(messageChannels)).max(3).optional(),
    content: Content,
    /** Content that replaces `content` for contacts in a lifecycle stage ("we miss you" for the lapsed). */
    contentByStage: z.partialRecord(Stage, Content).optional(),
    /** A/B test of the message (for contacts without stage-specific content). */
    variants: z.array(z.strictObject({ name: z.string().min(1).max(100), weight: z.number().int().min(1).max(1000), content: Content })).min(2).max(10).optional(),
    topic: z.string().min(1).max(100).default('newsletter'),
    /** Throttling: at most this many messages a minute. */
    sendRatePerMinute: z.number().int().min(1).max(1_000_000).optional(),
    holdoutPercent: z.number().min(0).max(50).default(0),
    goal: Goal.optional(),
  });
export type BroadcastInput = z.infer<typeof BroadcastInput>;

export type Broadcast = {
  id: number; name: string; journeyId: number; segmentId: number; sendAt: Date; status: string; enrolled: number; createdAt: Date; finishedAt: Date | null;
};
type Row = { id: number; name: string; journey_id: number; segment_id: number; send_at: Date; status: string; enrolled: number; created_at: Date; finished_at: Date | null; checkpoint: number; workspace_id: string };
const toBroadcast = (r: Row): Broadcast => ({
  id: r.id, name: r.name, journeyId: r.journey_id, segmentId: r.segment_id, sendAt: r.send_at, status: r.status, enrolled: r.enrolled, createdAt: r.created_at, finishedAt: r.finished_at,
});

/** The journey a broadcast runs as: one send, or a branch on lifecycle stage to the stage's content. */
export function broadcastJourney(input: BroadcastInput): JourneyDefinition {
  const send = (id: string, content: Content, variants?: BroadcastInput['variants']) => ({
    id, type: 'send' as const, channel: input.channel, fallback: input.fallback, content, variants, topic: input.topic,
    transactional: false, bestHour: false, onCapped: 'defer' as const, next: 'end',
  });
  const stages = Object.entries(input.contentByStage ?? {}) as [z.infer<typeof Stage>, Content][];
  const steps = stages.length === 0
    ? [send('send', input.content, input.variants)]
    : [
        {
          id: 'stage', type: 'branch' as const,
          branches: stages.map(([stage]) => ({ name: stage, rule: { type: 'score' as const, field: 'lifecycle_stage' as const, op: 'eq' as const, value: stage }, next: `send-${stage.replace(/_/g, '-')}` })),
          otherwise: 'send',
        },
        send('send', input.content, input.variants),
        ...stages.map(([stage, content]) => send(`send-${stage.replace(/_/g, '-')}`, content)),
      ];
  return {
    name: `Broadcast: ${input.name}`,
    description: `Sent to segment ${input.segmentId}${input.sendAt ? ` at ${input.sendAt}` : ''}.`,
    trigger: { type: 'api' },
    settings: { reentry: 'never', priority: 40, holdoutPercent: input.holdoutPercent, sendRatePerMinute: input.sendRatePerMinute, goal: input.goal },
    steps: [...steps, { id: 'end', type: 'exit' }],
  };
}

/** Contacts enrolled per transaction (and per saved checkpoint). */
export const BROADCAST_PAGE = 5000;

/**
 * Broadcasts: one-off or scheduled sends to a segment. Each is a published journey (policy gate,
 * A/B variants, throttling and statistics come with it); `sweep` enrols the segment's members
 * when the time comes, a page of contacts per transaction with the page's last contact id saved
 * in it, so a crash resumes with the next page and nobody is enrolled twice.
 */
export function createBroadcastService({ db, clock, journeys, pageSize = BROADCAST_PAGE }: { db: Db; clock: Clock; journeys: JourneyService; pageSize?: number }) {
  async function get(workspaceId: string, id: number): Promise<Broadcast | null> {
    const { rows } = await db.query<Row>(`select * from broadcasts where workspace_id = $1 and id = $2`, [workspaceId, id]);
    return rows[0] ? toBroadcast(rows[0]) : null;
  }

  /** Sends the pages that are due; `maxPages` bounds one call (the sweep calls again). */
  async function sweep(maxPages = 100): Promise<number> {
    const now = clock.now();
    const { rows } = await db.query<Row>(`select * from broadcasts where status in ('scheduled', 'sending') and send_at <= $1 order by send_at`, [now]);
    let pages = 0;
    for (const b of rows) {
      const journey = await journeys.get(b.workspace_id, b.journey_id);
      if (!journey?.publishedVersion) continue;
      const definition = await journeys.version(b.workspace_id, b.journey_id, journey.publishedVersion);
      const live = { workspaceId: b.workspace_id, id: b.journey_id, version: journey.publishedVersion, compiled: compileDefinition(definition!) };
      for (;;) {
        if (pages++ >= maxPages) return pages;
        const more = await db.transaction(async (tx) => {
          // The row lock serialises two sweeping processes on the same broadcast.
          const { rows: current } = await tx.query<{ checkpoint: number; status: string }>(`select checkpoint, status from broadcasts where workspace_id = $1 and id = $2 for update`, [b.workspace_id, b.id]);
          if (!current[0] || current[0].status === 'cancelled' || current[0].status === 'sent') return false;
          const q = memberQuery({ type: 'segment', segmentId: b.segment_id }, b.workspace_id, now, 'set');
          const page = await tx.query<{ id: number }>(`${q.sql} and c.id > $${q.params.length + 1} order by c.id limit ${pageSize}`, [...q.params, current[0].checkpoint]);
          if (page.rows.length === 0) {
            await tx.query(`update broadcasts set status = 'sent', finished_at = $3 where workspace_id = $1 and id = $2`, [b.workspace_id, b.id, now]);
            return false;
          }
          const n = await enrol(tx, live, page.rows.map((m) => ({ contactId: m.id, entryKey: `broadcast:${b.id}:${m.id}`, trigger: { name: 'Broadcast', properties: { broadcast_id: b.id }, source: 'broadcast' } })), now);
          await tx.query(`update broadcasts set status = 'sending', checkpoint = $3, enrolled = enrolled + $4 where workspace_id = $1 and id = $2`, [
            b.workspace_id, b.id, page.rows[page.rows.length - 1]!.id, n,
          ]);
          return true;
        });
        if (!more) break;
      }
    }
    return pages;
  }

  return {
    get,
    sweep,
    async list(workspaceId: string): Promise<Broadcast[]> {
      const { rows } = await db.query<Row>(`select * from broadcasts where workspace_id = $1 order by id desc`, [workspaceId]);
      return rows.map(toBroadcast);
    },
    /** Checks the content (as publishing a journey does), publishes its journey and schedules it. */
    async create(workspaceId: string, input: BroadcastInput): Promise<Result<Broadcast>> {
      const exists = await db.query(`select 1 from segments where workspace_id = $1 and id = $2`, [workspaceId, input.segmentId]);
      if (exists.rows.length === 0) return fail({ code: 'invalid', message: `segment ${input.segmentId} does not exist`, field: 'segmentId' });
      const created = await journeys.create(workspaceId, broadcastJourney(input));
      if (!created.ok) return created;
      const published = await journeys.publish(workspaceId, created.value.id);
      if (!published.ok) {
        await journeys.archive(workspaceId, created.value.id);
        return published;
      }
      const now = clock.now();
      const { rows } = await db.query<Row>(
        `insert into broadcasts (workspace_id, name, journey_id, segment_id, send_at, created_at) values ($1, $2, $3, $4, $5, $6) returning *`,
        [workspaceId, input.name, created.value.id, input.segmentId, input.sendAt ? new Date(input.sendAt) : now, now],
      );
      return ok(toBroadcast(rows[0]!));
    },
    /** Stops a broadcast: no more contacts enrolled, and its journey paused so queued steps wait. */
    async cancel(workspaceId: string, id: number): Promise<Result<Broadcast>> {
      const b = await get(workspaceId, id);
      if (!b) return fail({ code: 'not_found', message: `broadcast ${id} does not exist` });
      if (b.status === 'sent' || b.status === 'cancelled') return fail({ code: 'conflict', message: `broadcast ${id} is already ${b.status}` });
      await db.query(`update broadcasts set status = 'cancelled', finished_at = $3 where workspace_id = $1 and id = $2`, [workspaceId, id, clock.now()]);
      await journeys.pause(workspaceId, b.journeyId);
      return ok({ ...b, status: 'cancelled' });
    },
  };
}

export type BroadcastService = ReturnType<typeof createBroadcastService>;
