import { randomBytes } from 'node:crypto';
import type { Queryable } from '../db/index.ts';
import { assertNever } from '../core/result.ts';
import { addDuration, isTimeZone } from '../core/zoned-time.ts';
import { memberQuery } from '../segments/index.ts';
import { saveConsents } from '../contacts/consent.ts';
import { recordEvents } from '../events/index.ts';
import { eraseContactIn, anonymiseContactIn } from '../contacts/index.ts';
import { messageKey } from '../channels/messages.ts';
import type { MessagingSettings } from '../policy/index.ts';
import { datedTraits, type ContactFacts } from './contact-facts.ts';
import { pickWeighted, resolveNext, satisfiesWait, triggerMatch, waitEnds, type Compiled } from './decide.ts';
import { runSendStep } from './send-step.ts';
import type { Step } from './schema.ts';
import type { Effects, RunRow, StepResult, Wait } from './run-types.ts';

export type StepEnv = {
  tx: Queryable;
  now: Date;
  compiled: Compiled;
  run: RunRow;
  contact: ContactFacts;
  settings: MessagingSettings;
  /** The wait the run was parked with on this step, if it is being run again. */
  wait: Wait | null;
  /** Contacts whose profile a step changed: their segments are refreshed after commit. */
  changed: Set<number>;
  effects: Effects;
};

/**
 * Runs one step for one contact inside the claiming transaction, so every effect inside Tend's
 * database (traits, consent, coupons, lists, recorded messages) commits together with the run's
 * move to its next step, or not at all.
 */
export async function runStep(env: StepEnv, step: Step): Promise<StepResult> {
  const { tx, now, compiled, run, contact } = env;
  const ws = run.workspace_id;
  const tz = isTimeZone(contact.timezone) ? contact.timezone : env.settings.policy.defaultTimezone;
  switch (step.type) {
    case 'wait':
    case 'wait_until':
      return { kind: 'park', state: 'active', dueAt: waitEnds(step, now, tz, datedTraits(contact)), wait: { step: step.id, kind: 'timer' } };
    case 'wait_for_event': {
      const wait: Wait = { step: step.id, kind: 'event', event: step.event, where: step.where, match: triggerMatch(step, run.context.trigger?.properties) };
      // The event may have come already, between the run becoming due here and now (the order in
      // the same request as the cart): then the wait is over before it starts.
      const since = run.due_at && new Date(run.due_at) < now ? new Date(run.due_at) : now;
      const { rows } = await tx.query<{ name: string; properties: Record<string, unknown> }>(
        `select name, properties from events where workspace_id = $1 and contact_id = $2 and name = $3 and received_at >= $4 and received_at <= $5 order by id limit 100`,
        [ws, contact.id, step.event, since, now],
      );
      if (rows.some((e) => satisfiesWait({ ...wait, event: step.event }, e))) return { kind: 'next', next: resolveNext(compiled, step, step.next) };
      return { kind: 'park', state: 'waiting', dueAt: addDuration(now, step.timeout), wait };
    }
    case 'branch': {
      for (const b of step.branches) {
        const q = memberQuery(b.rule, ws, now, 'contact', [contact.id]);
        const { rows } = await tx.query(q.sql, q.params);
        if (rows.length > 0) return { kind: 'next', next: resolveNext(compiled, step, b.next), note: { paths: { [step.id]: b.name } } };
      }
      return { kind: 'next', next: resolveNext(compiled, step, step.otherwise), note: { paths: { [step.id]: 'otherwise' } } };
    }
    case 'split': {
      const path = pickWeighted(step.paths, `split:${run.journey_id}:${run.id}:${step.id}`);
      return { kind: 'next', next: resolveNext(compiled, step, path.next), note: { paths: { [step.id]: path.name } } };
    }
    case 'send': {
      const settings = compiled.definition.settings;
      return runSendStep({ tx, now, run, contact, settings: env.settings, sendRatePerMinute: settings.sendRatePerMinute, wait: env.wait, effects: env.effects }, step, resolveNext(compiled, step, step.next));
    }
    case 'update_contact': {
      const set: Record<string, unknown> = { ...(step.traits ?? {}) };
      const tags = new Set(Array.isArray(contact.traits.tags) ? (contact.traits.tags as unknown[]).map(String) : []);
      for (const t of step.addTags ?? []) tags.add(t);
      for (const t of step.removeTags ?? []) tags.delete(t);
      if (step.addTags || step.removeTags) set.tags = [...tags];
      if (Object.keys(set).length > 0) {
        // null removes a trait; anything else replaces it.
        await tx.query(
          `update contacts set traits = jsonb_strip_nulls(traits || $3::jsonb), updated_at = $4 where workspace_id = $1 and id = $2`,
          [ws, contact.id, JSON.stringify(set), now],
        );
      }
      const stage = contact.scores?.lifecycle_stage ?? null;
      if (step.lifecycleStage && step.lifecycleStage !== stage) {
        await tx.query(
          `insert into contact_scores (workspace_id, contact_id, lifecycle_stage, scored_at) values ($1, $2, $3, $4)
           on conflict (workspace_id, contact_id) do update set lifecycle_stage = excluded.lifecycle_stage`,
          [ws, contact.id, step.lifecycleStage, now],
        );
        await recordEvents(tx, ws, [{
          contactId: contact.id, messageId: `tend:run:${run.id}:${step.id}:stage`, name: 'Lifecycle Stage Changed', occurredAt: now,
          properties: { from: stage, to: step.lifecycleStage, source: 'journey', journey_id: run.journey_id },
        }], now);
      }
      if (step.consent?.length) {
        await saveConsents(tx, ws, [{ contactId: contact.id, rows: step.consent.map((c) => ({ channel: c.channel, topic: c.topic ?? '*', granted: c.granted })) }], 'journey', now);
      }
      env.changed.add(contact.id);
      return { kind: 'next', next: resolveNext(compiled, step, step.next) };
    }
    case 'coupon': {
      const code = `${step.prefix}${randomBytes(5).toString('hex').toUpperCase()}`;
      const expiresAt = addDuration(now, step.validFor);
      await tx.query(
        `insert into coupons (workspace_id, code, contact_id, journey_id, run_id, percent_off, amount_off, expires_at, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [ws, code, contact.id, run.journey_id, run.id, step.percentOff ?? null, step.amountOff ?? null, expiresAt, now],
      );
      return {
        kind: 'next', next: resolveNext(compiled, step, step.next),
        note: { coupon: { code, percentOff: step.percentOff ?? null, amountOff: step.amountOff ?? null, expiresAt: expiresAt.toISOString() } },
      };
    }
    case 'webhook':
      // Outside Tend's database: recorded now, delivered (and retried) by the delivery worker.
      env.effects.message({
        workspaceId: ws, contactId: contact.id, idempotencyKey: messageKey([ws, 'run', run.id, step.id]), journeyId: run.journey_id, runId: run.id,
        stepId: step.id, channel: 'webhook', topic: 'webhook', transactional: true, address: step.url,
        source: { kind: 'journey', journeyId: run.journey_id, version: run.version, stepId: step.id, variant: null },
        context: { trigger: run.context.trigger ?? null, coupon: run.context.coupon ?? null }, at: now,
      });
      return { kind: 'next', next: resolveNext(compiled, step, step.next) };
    case 'list':
      if (step.action === 'add') {
        await tx.query(`insert into contact_lists (workspace_id, list, contact_id, added_at) values ($1, $2, $3, $4) on conflict do nothing`, [ws, step.list, contact.id, now]);
      } else {
        await tx.query(`delete from contact_lists where workspace_id = $1 and list = $2 and contact_id = $3`, [ws, step.list, contact.id]);
      }
      return { kind: 'next', next: resolveNext(compiled, step, step.next) };
    case 'delete_contact':
      if (step.mode === 'erase') {
        await eraseContactIn(tx, ws, contact.id);
        return { kind: 'gone' };
      }
      await anonymiseContactIn(tx, ws, contact.id, now);
      return { kind: 'finish', state: 'completed' };
    case 'exit':
      return { kind: 'finish', state: 'exited' };
    default:
      return assertNever(step);
  }
}
