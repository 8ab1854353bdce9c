import type { Db, Queryable } from '../db/index.ts';
import { startWorkerLoop } from '../core/worker-loop.ts';
import type { Clock } from '../core/clock.ts';
import { loadMessagingSettings, type GateInput, type MessagingSettings } from '../policy/index.ts';
import { loadContactFactsMany, type ContactFacts } from './contact-facts.ts';
import { resolveNext, stepById, type Compiled } from './decide.ts';
import { runStep } from './steps.ts';
import { sendGateInput } from './send-step.ts';
import { createBatchEffects } from './batch-effects.ts';
import { JOURNEYS_CHANNEL, type Effects, type RunContext, type RunRow, type StepResult, type Wait } from './run-types.ts';
import type { VersionCache } from './versions.ts';

/**
 * The journey runner: claims due runs and moves each as far as it can go now.
 *
 * State machine of a run (journey_runs.state):
 *
 *   active(step S, due T) ──T passed, claimed──► run S … ──► active(step S', due T')  a wait or a deferral
 *        ▲                                              ├──► waiting(step S', timeout T')  wait for an event
 *        │                                              └──► completed | exited | failed    end of the path
 *   waiting(S, T) ──matching event──► active(S, due now, wait.outcome = event) ──► S's next
 *                 ──T passed────────► S's timeoutNext
 *   any live state ──goal event──► converted;  journey paused ──► not claimed until resumed
 *
 * Claiming is `FOR UPDATE SKIP LOCKED` on due rows, oldest due first and higher journey priority
 * first at the same time, so any number of runner processes share the work and no run is taken
 * twice. A claimed batch executes inside the claiming transaction: every database effect of its
 * steps commits with the runs' new states or not at all, which makes them exactly-once even when
 * a process dies mid-step. Failures are retried with backoff, five times, then the run fails with
 * the error kept on it.
 */
const MAX_STEPS_PER_CLAIM = 100;
const MAX_ATTEMPTS = 5;

type RunUpdate = {
  run: RunRow; state: string; stepId: string | null; dueAt: Date | null; wait: Wait | null; context: RunContext; contactId: number;
  error: string | null; finished: boolean;
};

export function createJourneyRunner({ db, clock, versions, onContactsChanged, log }: {
  db: Db;
  clock: Clock;
  versions: VersionCache;
  onContactsChanged?: (workspaceId: string, contactIds: number[]) => void;
  log?: (line: string) => void;
}) {
  const settingsCache = new Map<string, { at: number; value: MessagingSettings }>();
  async function settingsFor(tx: Queryable, workspaceId: string): Promise<MessagingSettings> {
    const hit = settingsCache.get(workspaceId);
    if (hit && Date.now() - hit.at < 5_000) return hit.value;
    const value = await loadMessagingSettings(tx, workspaceId);
    settingsCache.set(workspaceId, { at: Date.now(), value });
    return value;
  }

  /**
   * Claims up to `limit` due runs and advances them in one transaction; returns how many were
   * claimed. The batch shares its reads (contacts, the gate's facts) and its writes (messages,
   * decisions, the runs' new states), one statement each. If anything in the batch throws, the
   * batch is rolled back and its runs are taken again one per transaction, so one broken run
   * costs its own retry, not its neighbours' progress.
   */
  async function tick(limit = 500): Promise<number> {
    const now = clock.now();
    const changed = new Map<string, Set<number>>();
    let claimed: RunRow[] = [];
    try {
      await db.transaction(async (tx) => {
        claimed = await claim(tx, now, limit, null);
        await processBatch(tx, claimed, now, changed);
      });
    } catch (err) {
      if (claimed.length === 0) throw err;
      for (const one of claimed) {
        try {
          await db.transaction(async (tx) => processBatch(tx, await claim(tx, now, 1, one), now, changed));
        } catch (e) {
          await db.transaction(async (tx) => {
            const again = await claim(tx, now, 1, one);
            if (again[0]) await failed(tx, again[0], now, e as Error);
          });
        }
      }
    }
    for (const [ws, ids] of changed) if (ids.size > 0) onContactsChanged?.(ws, [...ids]);
    return claimed.length;
  }

  // Where the last claim of this pass ended: the next one seeks past it (see migration 0023). A
  // claim that comes back short ends the pass, and the next starts from the beginning again, so a
  // run that became due behind the cursor (a higher priority at the same time) waits one pass.
  let cursor: { dueAt: Date; negPriority: number; id: number } | null = null;

  async function claim(tx: Queryable, now: Date, limit: number, only: RunRow | null): Promise<RunRow[]> {
    const from = only ? null : cursor;
    const { rows } = await tx.query<RunRow & { neg_priority: number }>(
      `select r.workspace_id, r.id, r.journey_id, r.version, r.contact_id, r.state, r.step_id, r.due_at, r.wait, r.context, r.attempts, r.entered_at,
              -r.priority as neg_priority
         from journey_runs r
        where r.state in ('active', 'waiting') and r.due_at <= $1
          and ($3::text is null or (r.workspace_id = $3 and r.id = $4))
          and ($5::timestamptz is null or (r.due_at, -r.priority, r.id) > ($5::timestamptz, $6::int, $7::bigint))
          and exists (select 1 from journeys j where j.workspace_id = r.workspace_id and j.id = r.journey_id and j.status = 'active')
        order by r.due_at, -r.priority, r.id
        limit $2
        for update of r skip locked`,
      [now, limit, only?.workspace_id ?? null, only?.id ?? null, from?.dueAt ?? null, from?.negPriority ?? null, from?.id ?? null],
    );
    if (!only) {
      const last = rows[rows.length - 1];
      cursor = rows.length === limit && last ? { dueAt: new Date(last.due_at!), negPriority: last.neg_priority, id: last.id } : null;
      // Nothing past the cursor: look once more from the beginning before saying there is no work.
      if (rows.length === 0 && from) return claim(tx, now, limit, null);
    }
    return rows;
  }

  async function processBatch(tx: Queryable, runs: readonly RunRow[], now: Date, changed: Map<string, Set<number>>): Promise<void> {
    if (runs.length === 0) return;
    // The contacts' rows are locked, in id order so two batches cannot deadlock: caps are counted
    // and messages recorded for a contact by one transaction at a time. Row locks, not advisory
    // ones: they live in the rows, so a batch of hundreds does not fill Postgres's lock table.
    await tx.query(
      `select 1 from contacts c join unnest($1::text[], $2::bigint[]) as k(w, id) on c.workspace_id = k.w and c.id = k.id order by c.workspace_id, c.id for update of c`,
      [runs.map((r) => r.workspace_id), runs.map((r) => r.contact_id)],
    );
    const contacts = await loadContactFactsMany(tx, runs.map((r) => ({ workspaceId: r.workspace_id, contactId: r.contact_id })));
    const settings = new Map<string, MessagingSettings>();
    for (const ws of new Set(runs.map((r) => r.workspace_id))) settings.set(ws, await settingsFor(tx, ws));

    const effects = createBatchEffects(tx, settings, now);
    await effects.prefetch(await prefetchInputs(tx, runs, contacts, settings));
    const updates: RunUpdate[] = [];
    for (const run of runs) {
      const set = changed.get(run.workspace_id) ?? new Set<number>();
      changed.set(run.workspace_id, set);
      const update = await advance(tx, run, now, set, contacts.get(`${run.workspace_id}:${run.contact_id}`) ?? null, settings.get(run.workspace_id)!, effects);
      if (update) updates.push(update);
    }
    await effects.flush();
    if (updates.length === 0) return;
    await tx.query(
      `update journey_runs r
          set state = v.state, step_id = v.step, due_at = v.due, wait = v.wait, context = v.ctx, contact_id = v.contact,
              attempts = 0, last_error = v.err, updated_at = $1, finished_at = case when v.fin then $1::timestamptz end
         from unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[], $8::jsonb[], $9::bigint[], $10::text[], $11::boolean[])
              as v(w, id, state, step, due, wait, ctx, contact, err, fin)
        where r.workspace_id = v.w and r.id = v.id`,
      [
        now, updates.map((u) => u.run.workspace_id), updates.map((u) => u.run.id), updates.map((u) => u.state), updates.map((u) => u.stepId),
        updates.map((u) => u.dueAt), updates.map((u) => (u.wait ? JSON.stringify(u.wait) : null)), updates.map((u) => JSON.stringify(u.context)),
        updates.map((u) => u.contactId), updates.map((u) => u.error), updates.map((u) => u.finished),
      ],
    );
  }

  /** The gate's inputs for runs about to run a send step, so their facts come in one read. */
  async function prefetchInputs(tx: Queryable, runs: readonly RunRow[], contacts: Map<string, ContactFacts>, settings: Map<string, MessagingSettings>): Promise<GateInput[]> {
    const inputs: GateInput[] = [];
    for (const run of runs) {
      const contact = contacts.get(`${run.workspace_id}:${run.contact_id}`);
      if (!contact || run.step_id === null) continue;
      const compiled = await versions.get(tx, run.workspace_id, run.journey_id, run.version);
      // The step the run will execute first: past a finished wait, the one after it.
      let stepId: string | null = run.step_id;
      const parked = stepById(compiled, run.step_id);
      if (parked && run.wait && run.wait.step === run.step_id && run.wait.kind !== 'retry') stepId = resumeTarget(compiled, parked, run.wait);
      const step = stepId === null ? undefined : stepById(compiled, stepId);
      if (step?.type !== 'send' || step.channel === 'best') continue;
      const input = sendGateInput(run, contact, step, settings.get(run.workspace_id)!, compiled.definition.settings.sendRatePerMinute);
      if (input) inputs.push(input);
    }
    return inputs;
  }

  async function advance(
    tx: Queryable, run: RunRow, now: Date, changed: Set<number>, contact: ContactFacts | null, settings: MessagingSettings, effects: Effects,
  ): Promise<RunUpdate | null> {
    const compiled = await versions.get(tx, run.workspace_id, run.journey_id, run.version);
    const context: RunContext = { ...run.context };
    const end = (state: string, stepId: string | null, error: string | null = null): RunUpdate =>
      ({ run, state, stepId, dueAt: null, wait: null, context, contactId: contact?.id ?? run.contact_id, error, finished: true });
    if (!contact) return end('exited', run.step_id, 'the contact no longer exists');
    let stepId: string | null = run.step_id;
    let wait: Wait | null = run.wait;

    for (let hops = 0; hops < MAX_STEPS_PER_CLAIM; hops++) {
      if (stepId === null) return end('completed', null);
      const step = stepById(compiled, stepId);
      if (!step) return end('failed', stepId, `step "${stepId}" is not in version ${run.version}`);
      if (wait && wait.step === stepId && wait.kind !== 'retry') {
        // Coming back to a parked step: the wait is over (or the event came, or it timed out).
        const resume = resumeTarget(compiled, step, wait);
        wait = null;
        stepId = resume;
        continue;
      }
      if (!wait || wait.step !== stepId) (context.visited ??= []).push(stepId);
      const result: StepResult = await runStep({ tx, now, compiled, run: { ...run, context }, contact, settings, wait, changed, effects }, step);
      wait = null;
      switch (result.kind) {
        case 'next':
          if (result.note?.paths) context.paths = { ...context.paths, ...result.note.paths };
          if (result.note?.variants) context.variants = { ...context.variants, ...result.note.variants };
          if (result.note?.coupon) context.coupon = result.note.coupon;
          stepId = result.next;
          continue;
        case 'park':
          return { run, state: result.state, stepId, dueAt: result.dueAt, wait: result.wait, context, contactId: contact.id, error: null, finished: false };
        case 'finish':
          return end(result.state, stepId);
        case 'gone':
          return null;
      }
    }
    // A long chain of instant steps: carry on in the next claim rather than hold the transaction.
    return { run, state: 'active', stepId, dueAt: now, wait: null, context, contactId: contact.id, error: null, finished: false };
  }

  async function failed(tx: Queryable, run: RunRow, now: Date, err: Error): Promise<void> {
    const attempts = run.attempts + 1;
    log?.(`journey ${run.journey_id} run ${run.id} step ${run.step_id}: ${err.message}`);
    const final = attempts >= MAX_ATTEMPTS;
    const retryAt = new Date(now.getTime() + 30_000 * 2 ** (attempts - 1));
    await tx.query(
      `update journey_runs set attempts = $3, last_error = $4, due_at = case when $5 then null else $6::timestamptz end,
              state = case when $5 then 'failed' else state end, finished_at = case when $5 then $7::timestamptz end, updated_at = $7
        where workspace_id = $1 and id = $2`,
      [run.workspace_id, run.id, attempts, err.message, final, retryAt, now],
    );
  }

  /** Runs every due run until none is left (tests and simulations on a virtual clock). */
  async function drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await tick();
      total += n;
      if (n === 0) return total;
    }
  }

  let stop: (() => Promise<void>) | null = null;
  return {
    tick,
    drain,
    /** Runs in the background, woken by `pg_notify` when work is added and every `pollMs` for work that fell due. */
    async start(pollMs = 1000): Promise<void> {
      stop = await startWorkerLoop({ db, channel: JOURNEYS_CHANNEL, pollMs, tick, onError: (err) => log?.(`journey runner: ${err.message}`) });
    },
    async stop(): Promise<void> {
      await stop?.();
      stop = null;
    },
  };
}

function resumeTarget(compiled: Compiled, step: Parameters<typeof resolveNext>[1], wait: Wait): string | null {
  if (step.type === 'wait_for_event') return resolveNext(compiled, step, wait.outcome === 'event' ? step.next : step.timeoutNext);
  return resolveNext(compiled, step, 'next' in step ? (step.next as string | undefined) : undefined);
}

export type JourneyRunner = ReturnType<typeof createJourneyRunner>;
