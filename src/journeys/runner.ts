import type { Db, Queryable } from '../db/index.ts';
import { startWorkerLoop } from '../core/worker-loop.ts';
import type { Clock } from '../core/clock.ts';
import { loadMessagingSettings, type MessagingSettings } from '../policy/index.ts';
import { loadContactFacts } from './contact-facts.ts';
import { resolveNext, stepById, type Compiled } from './decide.ts';
import { runStep } from './steps.ts';
import { JOURNEYS_CHANNEL, type RunContext, type RunRow, type StepResult, type Wait } from './run-types.ts';
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
 * twice. Each run's steps execute inside the claiming transaction (under a savepoint, so one
 * failing run does not undo the batch): their database effects commit with the run's new state
 * or not at all, which makes them exactly-once even when a process dies mid-step. Failures are
 * retried with backoff, five times, then the run fails with the error kept on it.
 */
const MAX_STEPS_PER_CLAIM = 100;
const MAX_ATTEMPTS = 5;

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

  /** Claims up to `limit` due runs and advances them; returns how many were claimed. */
  async function tick(limit = 100): Promise<number> {
    const now = clock.now();
    const changed = new Map<string, Set<number>>();
    const claimed = await db.transaction(async (tx) => {
      const { rows } = await tx.query<RunRow>(
        `select r.workspace_id, r.id, r.journey_id, r.version, r.contact_id, r.state, r.step_id, r.due_at, r.wait, r.context, r.attempts, r.entered_at
           from journey_runs r
          where r.state in ('active', 'waiting') and r.due_at <= $1
            and exists (select 1 from journeys j where j.workspace_id = r.workspace_id and j.id = r.journey_id and j.status = 'active')
          order by r.due_at, r.priority desc
          limit $2
          for update of r skip locked`,
        [now, limit],
      );
      for (const run of rows) {
        const set = changed.get(run.workspace_id) ?? new Set<number>();
        changed.set(run.workspace_id, set);
        await tx.query('savepoint run');
        try {
          await advance(tx, run, now, set);
          await tx.query('release savepoint run');
        } catch (err) {
          await tx.query('rollback to savepoint run');
          await failed(tx, run, now, err as Error);
        }
      }
      return rows.length;
    });
    for (const [ws, ids] of changed) if (ids.size > 0) onContactsChanged?.(ws, [...ids]);
    return claimed;
  }

  async function advance(tx: Queryable, run: RunRow, now: Date, changed: Set<number>): Promise<void> {
    const compiled = await versions.get(tx, run.workspace_id, run.journey_id, run.version);
    await tx.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`contact:${run.workspace_id}:${run.contact_id}`]);
    const contact = await loadContactFacts(tx, run.workspace_id, run.contact_id);
    if (!contact) return finish(tx, run, now, 'exited', null, run.context, 'the contact no longer exists');
    const settings = await settingsFor(tx, run.workspace_id);
    const context: RunContext = { ...run.context };
    let stepId: string | null = run.step_id;
    let wait: Wait | null = run.wait;

    for (let hops = 0; hops < MAX_STEPS_PER_CLAIM; hops++) {
      if (stepId === null) return finish(tx, run, now, 'completed', null, context);
      const step = stepById(compiled, stepId);
      if (!step) return finish(tx, run, now, 'failed', stepId, context, `step "${stepId}" is not in version ${run.version}`);
      if (wait && wait.step === stepId && wait.kind !== 'retry') {
        // Coming back to a parked step: the wait is over (or the event came, or it timed out).
        const resume = resumeTarget(compiled, step, wait);
        wait = null;
        stepId = resume;
        continue;
      }
      if (!wait || wait.step !== stepId) (context.visited ??= []).push(stepId);
      const result: StepResult = await runStep({ tx, now, compiled, run: { ...run, context }, contact, settings, wait, changed }, step);
      wait = null;
      switch (result.kind) {
        case 'next':
          if (result.note?.paths) context.paths = { ...context.paths, ...result.note.paths };
          if (result.note?.variants) context.variants = { ...context.variants, ...result.note.variants };
          if (result.note?.coupon) context.coupon = result.note.coupon;
          stepId = result.next;
          continue;
        case 'park':
          await tx.query(
            `update journey_runs set state = $3, step_id = $4, due_at = $5, wait = $6, context = $7, attempts = 0, last_error = null, updated_at = $8, contact_id = $9
              where workspace_id = $1 and id = $2`,
            [run.workspace_id, run.id, result.state, stepId, result.dueAt, JSON.stringify(result.wait), JSON.stringify(context), now, contact.id],
          );
          return;
        case 'finish':
          return finish(tx, run, now, result.state, stepId, context);
        case 'gone':
          return;
      }
    }
    // A long chain of instant steps: carry on in the next claim rather than hold the transaction.
    await tx.query(
      `update journey_runs set step_id = $3, due_at = $4, wait = null, context = $5, updated_at = $4 where workspace_id = $1 and id = $2`,
      [run.workspace_id, run.id, stepId, now, JSON.stringify(context)],
    );
  }

  async function finish(tx: Queryable, run: RunRow, now: Date, state: string, stepId: string | null, context: RunContext, error?: string): Promise<void> {
    await tx.query(
      `update journey_runs set state = $3, step_id = $4, due_at = null, wait = null, context = $5, last_error = $6, updated_at = $7, finished_at = $7
        where workspace_id = $1 and id = $2`,
      [run.workspace_id, run.id, state, stepId, JSON.stringify(context), error ?? null, now],
    );
  }

  async function failed(tx: Queryable, run: RunRow, now: Date, err: Error): Promise<void> {
    const attempts = run.attempts + 1;
    log?.(`journey ${run.journey_id} run ${run.id} step ${run.step_id}: ${err.message}`);
    if (attempts >= MAX_ATTEMPTS) return finish(tx, run, now, 'failed', run.step_id, run.context, err.message);
    const retryAt = new Date(now.getTime() + 30_000 * 2 ** (attempts - 1));
    await tx.query(`update journey_runs set attempts = $3, last_error = $4, due_at = $5, updated_at = $6 where workspace_id = $1 and id = $2`, [
      run.workspace_id, run.id, attempts, err.message, retryAt, now,
    ]);
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
    /**
     * Runs in the background: wakes on `pg_notify` when work is added and at least every
     * `pollMs` for work that became due with time.
     */
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
