import type { Queryable } from '../db/index.ts';
import { fail, ok, type Result } from '../core/result.ts';
import { addDuration } from '../core/zoned-time.ts';
import { matchesWhere } from './decide.ts';
import { JourneyDefinition, type Goal } from './schema.ts';
import {
  armStats, compareWithControl, decideWinner, WINNER_RULE,
  type ArmStats, type Comparison, type Observation, type WinnerDecision, type WinnerRule,
} from './ab-stats.ts';

export type ExperimentArm = ArmStats & {
  /** Units in the arm so far; `units` counts those whose conversion window has closed. */
  assigned: number;
  pending: number;
  /** Completed orders' total within the conversion window, per measured unit. */
  revenuePerUnit: number;
};
export type Experiment = {
  kind: 'variants' | 'split' | 'holdout';
  /** The send or split step (null for the holdout). */
  stepId: string | null;
  unit: 'sends' | 'entries';
  /** The first arm is the control: the first variant or path, or the holdout group. */
  arms: ExperimentArm[];
  comparisons: Comparison[];
  decision: WinnerDecision;
};
export type JourneyStats = {
  journeyId: number;
  measuredAt: string;
  goal: { event: string; within: string } | null;
  /** Runs that entered (holdout included), the holdout, and runs by final state. */
  entered: number;
  holdout: number;
  completed: number;
  /** Runs (holdout included) whose contact did the goal event within the goal's time of entering. */
  converted: number;
  states: Record<string, number>;
  experiments: Experiment[];
  /** Treated against holdout: the incremental lift of the whole journey. Null without a holdout. */
  holdoutLift: Experiment | null;
  rule: string;
  notes: string[];
};

/** The winner rule in the words the API and the docs use. */
export function describeRule(rule: WinnerRule = WINNER_RULE): string {
  return `An arm wins when every arm has at least ${rule.minUnits} measured units (sends or entries whose conversion window has closed) `
    + `and ${rule.minConversions} conversions, and against every other arm its conversion rate is higher and the always-valid p-value of the `
    + `mixture sequential probability ratio test (normal mixture, τ = ${rule.tau}) is below ${rule.alpha} divided by the number of pairs of arms (Bonferroni). `
    + `The test stays valid however often the results are looked at.`;
}

type Unit = { arm: string; contactId: number; start: Date };

/**
 * A journey's results: entries, outcomes, and for every A/B test (send variants, split paths) and
 * the holdout group, conversion rates with intervals, uplift against the control and the winner
 * decision. A conversion is the goal event within `goal.within` of the unit's start: the send for
 * a variant, entering the journey for a path or the holdout. Only units whose window has closed
 * are measured, so a recent send that may still convert does not count as a failure.
 */
export async function stats(db: Queryable, workspaceId: string, journeyId: number, options: { now?: Date; rule?: WinnerRule } = {}): Promise<Result<JourneyStats>> {
  const now = options.now ?? new Date();
  const rule = options.rule ?? WINNER_RULE;
  const found = await db.query<{ draft: unknown; definition: unknown }>(
    `select j.draft, v.definition from journeys j
       left join journey_versions v on v.workspace_id = j.workspace_id and v.journey_id = j.id and v.version = j.published_version
      where j.workspace_id = $1 and j.id = $2`,
    [workspaceId, journeyId],
  );
  if (!found.rows[0]) return fail({ code: 'not_found', message: `journey ${journeyId} not found` });
  const definition = JourneyDefinition.parse(found.rows[0].definition ?? found.rows[0].draft);
  const goal = definition.settings.goal ?? null;

  const byState = await db.query<{ state: string; n: number }>(
    `select state, count(*)::int as n from journey_runs where workspace_id = $1 and journey_id = $2 group by state`,
    [workspaceId, journeyId],
  );
  const states = Object.fromEntries(byState.rows.map((r) => [r.state, r.n]));
  const out: JourneyStats = {
    journeyId, measuredAt: now.toISOString(), goal: goal ? { event: goal.event, within: goal.within } : null,
    entered: byState.rows.reduce((s, r) => s + r.n, 0), holdout: states.holdout ?? 0, completed: states.completed ?? 0, converted: 0,
    states, experiments: [], holdoutLift: null, rule: describeRule(rule), notes: [],
  };
  if (!goal) {
    out.notes.push('The journey has no goal (settings.goal), so there are no conversions to compare.');
    return ok(out);
  }

  const runs = (await db.query<{ id: number; contact_id: number; state: string; entered_at: Date; paths: Record<string, string> | null }>(
    `select id, contact_id, state, entered_at, context->'paths' as paths from journey_runs where workspace_id = $1 and journey_id = $2 order by entered_at, id`,
    [workspaceId, journeyId],
  )).rows;
  // Cancelled messages never went; failed ones were assigned their variant and count (intention to treat).
  const sends = (await db.query<{ contact_id: number; step_id: string; variant: string; created_at: Date }>(
    `select contact_id, step_id, variant, created_at from messages
      where workspace_id = $1 and journey_id = $2 and variant is not null and status <> 'cancelled' order by created_at, id`,
    [workspaceId, journeyId],
  )).rows;
  const outcomes = await readOutcomes(db, workspaceId, journeyId, goal);
  const measure = (units: Unit[], names: string[], kind: Experiment['kind'], stepId: string | null, unit: Experiment['unit']) =>
    experiment(units, names, kind, stepId, unit, goal, outcomes, now, rule);

  out.converted = runs.filter((r) => outcomes.convertedAt(Number(r.contact_id), new Date(r.entered_at), goal) !== null).length;
  for (const step of definition.steps) {
    if (step.type === 'send' && step.variants) {
      const units = sends.filter((m) => m.step_id === step.id).map((m) => ({ arm: m.variant, contactId: Number(m.contact_id), start: new Date(m.created_at) }));
      out.experiments.push(measure(units, step.variants.map((v) => v.name), 'variants', step.id, 'sends'));
    }
    if (step.type === 'split') {
      const units = runs.filter((r) => r.paths?.[step.id] !== undefined).map((r) => ({ arm: r.paths![step.id]!, contactId: Number(r.contact_id), start: new Date(r.entered_at) }));
      out.experiments.push(measure(units, step.paths.map((p) => p.name), 'split', step.id, 'entries'));
    }
  }
  if (out.holdout > 0) {
    const units = runs.map((r) => ({ arm: r.state === 'holdout' ? 'holdout' : 'journey', contactId: Number(r.contact_id), start: new Date(r.entered_at) }));
    out.holdoutLift = measure(units, ['holdout', 'journey'], 'holdout', null, 'entries');
  }
  return ok(out);
}

type Outcomes = {
  convertedAt(contactId: number, start: Date, goal: Goal): Date | null;
  revenue(contactId: number, start: Date, end: Date): number;
};

/**
 * The goal events and completed orders of the journey's contacts since its first entry. The goal's
 * property filters are applied here with matchesWhere, so "converted" means exactly what the
 * engine's goal check means.
 */
async function readOutcomes(db: Queryable, ws: string, journeyId: number, goal: Goal): Promise<Outcomes> {
  const scope = `contact_id in (select contact_id from journey_runs where workspace_id = $1 and journey_id = $2)`;
  const first = (await db.query<{ at: Date | null }>(`select min(entered_at) as at from journey_runs where workspace_id = $1 and journey_id = $2`, [ws, journeyId])).rows[0]?.at ?? null;
  if (first === null) return { convertedAt: () => null, revenue: () => 0 };
  const events = (await db.query<{ contact_id: number; occurred_at: Date; properties: Record<string, unknown> }>(
    `select contact_id, occurred_at, properties from events
      where workspace_id = $1 and name = $4 and ${scope} and occurred_at > $3 order by contact_id, occurred_at`,
    [ws, journeyId, first, goal.event],
  )).rows;
  const orders = (await db.query<{ contact_id: number; ordered_at: Date; total: number }>(
    `select contact_id, ordered_at, total from orders where workspace_id = $1 and status = 'completed' and ${scope} and ordered_at > $3`,
    [ws, journeyId, first],
  )).rows;
  const goalTimes = new Map<number, number[]>();
  for (const e of events) {
    if (!matchesWhere(e.properties, goal.where)) continue;
    const list = goalTimes.get(Number(e.contact_id)) ?? [];
    list.push(new Date(e.occurred_at).getTime());
    goalTimes.set(Number(e.contact_id), list);
  }
  const orderList = new Map<number, { at: number; total: number }[]>();
  for (const o of orders) {
    const list = orderList.get(Number(o.contact_id)) ?? [];
    list.push({ at: new Date(o.ordered_at).getTime(), total: Number(o.total) });
    orderList.set(Number(o.contact_id), list);
  }
  return {
    convertedAt(contactId, start, g) {
      const end = addDuration(start, g.within).getTime();
      const hit = (goalTimes.get(contactId) ?? []).find((t) => t > start.getTime() && t <= end);
      return hit === undefined ? null : new Date(hit);
    },
    revenue(contactId, start, end) {
      return (orderList.get(contactId) ?? []).filter((o) => o.at > start.getTime() && o.at <= end.getTime()).reduce((s, o) => s + o.total, 0);
    },
  };
}

/** One experiment's arms, comparisons and decision from its units. */
function experiment(
  units: Unit[], declared: string[], kind: Experiment['kind'], stepId: string | null, unit: Experiment['unit'],
  goal: Goal, outcomes: Outcomes, now: Date, rule: WinnerRule,
): Experiment {
  // Arms in the definition's order (the first is the control); arms seen in the data but no longer
  // in the definition (a renamed variant) follow.
  const names = [...declared, ...new Set(units.map((u) => u.arm).filter((a) => !declared.includes(a)))];
  const index = new Map(names.map((n, i) => [n, i]));
  const tally = names.map(() => ({ assigned: 0, units: 0, conversions: 0, revenue: 0 }));
  const closed: (Observation & { end: number })[] = [];
  for (const u of units) {
    const i = index.get(u.arm)!;
    const t = tally[i]!;
    t.assigned++;
    const end = addDuration(u.start, goal.within);
    if (end > now) continue;
    const converted = outcomes.convertedAt(u.contactId, u.start, goal) !== null;
    t.units++;
    if (converted) t.conversions++;
    t.revenue += outcomes.revenue(u.contactId, u.start, end);
    closed.push({ arm: i, converted, end: end.getTime() });
  }
  // The sequential test reads outcomes in the order they became final.
  closed.sort((a, b) => a.end - b.end);
  const arms: ExperimentArm[] = names.map((name, i) => {
    const t = tally[i]!;
    return { ...armStats(name, t.units, t.conversions), assigned: t.assigned, pending: t.assigned - t.units, revenuePerUnit: t.units === 0 ? 0 : Math.round((100 * t.revenue) / t.units) / 100 };
  });
  return { kind, stepId, unit, arms, comparisons: compareWithControl(arms, closed, rule), decision: decideWinner(arms, closed, unit, rule) };
}
