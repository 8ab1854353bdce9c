import type { Queryable } from '../db/index.ts';
import { recordMessages, type NewMessage } from '../channels/messages.ts';
import { decideWith, loadGateFacts, type GateDecision, type GateFacts, type GateInput, type MessagingSettings } from '../policy/index.ts';
import type { DecisionRecord, Effects } from './run-types.ts';

const gateKey = (i: GateInput) => `${i.workspaceId}\u0000${i.contactId}\u0000${i.channel}\u0000${i.address}\u0000${i.topic}\u0000${i.transactional}`;

/**
 * The effects of one claimed batch of runs. Messages and decisions are written with one
 * statement each when the batch ends (inside its transaction). The gate's facts are read for the
 * whole batch up front where the runner can tell a send is coming, and otherwise when asked; in
 * both cases the messages this batch has already decided to send count against the caps, so two
 * journeys in one batch cannot both take a contact's last slot.
 */
export function createBatchEffects(tx: Queryable, settings: Map<string, MessagingSettings>, now: Date): Effects & {
  prefetch(inputs: readonly GateInput[]): Promise<void>;
  flush(): Promise<void>;
} {
  const messages: NewMessage[] = [];
  const decisions: DecisionRecord[] = [];
  const facts = new Map<string, GateFacts>();
  // Sends decided in this batch, per contact and channel, and per journey (for its send rate).
  const pendingContact = new Map<string, Date[]>();
  const pendingJourney = new Map<string, Date[]>();

  async function load(inputs: readonly GateInput[]): Promise<void> {
    const missing = inputs.filter((i) => !facts.has(gateKey(i)));
    if (missing.length === 0) return;
    const byWorkspace = new Map<string, GateInput[]>();
    for (const i of missing) byWorkspace.set(i.workspaceId, [...(byWorkspace.get(i.workspaceId) ?? []), i]);
    for (const [ws, list] of byWorkspace) {
      const loaded = await loadGateFacts(tx, settings.get(ws)!.policy, list, now);
      list.forEach((input, k) => facts.set(gateKey(input), loaded[k]!));
    }
  }

  return {
    prefetch: load,
    async gate(input: GateInput): Promise<GateDecision> {
      await load([input]);
      const known = facts.get(gateKey(input))!;
      const contactKey = `${input.workspaceId}\u0000${input.contactId}\u0000${input.channel}`;
      const journeyKey = `${input.workspaceId}\u0000${input.journeyId}`;
      const decision = decideWith(settings.get(input.workspaceId)!.policy, input, {
        ...known,
        recent: [...known.recent, ...(pendingContact.get(contactKey) ?? [])],
        journeyRecent: [...known.journeyRecent, ...(pendingJourney.get(journeyKey) ?? [])],
      }, now);
      if (decision.decision === 'send') {
        if (!input.transactional) pendingContact.set(contactKey, [...(pendingContact.get(contactKey) ?? []), now]);
        pendingJourney.set(journeyKey, [...(pendingJourney.get(journeyKey) ?? []), now]);
      }
      return decision;
    },
    message(m: NewMessage): void {
      messages.push(m);
    },
    decision(d: DecisionRecord): void {
      decisions.push(d);
    },
    async flush(): Promise<void> {
      await recordMessages(tx, messages);
      if (decisions.length === 0) return;
      const col = <T>(f: (d: DecisionRecord) => T) => decisions.map(f);
      await tx.query(
        `insert into policy_decisions (workspace_id, contact_id, journey_id, run_id, step_id, channel, decision, reason, until, decided_at)
         select w, c, j, r, s, ch, d, why, u, $1
           from unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])
                as v(w, c, j, r, s, ch, d, why, u)`,
        [
          now, col((d) => d.who.workspaceId), col((d) => d.who.contactId), col((d) => d.who.journeyId), col((d) => d.who.runId), col((d) => d.who.stepId),
          col((d) => d.who.channel), col((d) => d.decision.decision), col((d) => d.decision.reason), col((d) => (d.decision.decision === 'deferred' ? d.decision.until : null)),
        ],
      );
    },
  };
}
