import type { Db, Queryable } from '../db/index.ts';
import type { Clock } from '../core/clock.ts';
import { resolveIdentities } from '../contacts/identity.ts';
import { applyProfilePatches, type ProfilePatch } from '../contacts/profile.ts';
import { saveConsents } from '../contacts/consent.ts';
import { applyCommerceEvents, type CommerceEvent } from '../catalog/commerce.ts';
import { isCommerceEvent } from '../catalog/commerce-schema.ts';
import type { WorkspaceService, WorkspaceSettings } from '../workspaces/index.ts';
import { validateMessage, type AcceptedMessage, type MessageError } from './validate.ts';
import { insertEvents } from './store.ts';

export type IngestResult = { accepted: number; duplicates: number; rejected: MessageError[] };

/** What changed, told to listeners after the transaction commits (segments, journeys). */
export type IngestedBatch = {
  workspaceId: string;
  events: { id: number; contactId: number; type: string; name: string | null; occurredAt: Date; properties: Record<string, unknown> }[];
  contactIds: number[];
};

export type IngestOptions = { defaultType?: string; context?: Record<string, unknown> };

/**
 * The one path every event takes into Tend: the tracking API, CSV event imports and the demo
 * generator all come through here. A batch is validated message by message (bad ones are reported
 * by index and field, good ones kept), then written in one transaction: identities resolved,
 * events stored once per messageId, profiles, consent, carts and orders updated.
 */
export function createIngestService({ db, clock, workspaces }: { db: Db; clock: Clock; workspaces: WorkspaceService }) {
  const listeners: ((batch: IngestedBatch) => void | Promise<void>)[] = [];
  const settingsCache = new Map<string, { settings: WorkspaceSettings; until: number }>();
  // Skus known to be in the catalog (per workspace), so product views do not re-insert them.
  // Filled only after a commit; bounded, and simply forgotten when full.
  const knownSkus = new Map<string, Set<string>>();
  const rememberSkus = (workspaceId: string, skus: string[]) => {
    let set = knownSkus.get(workspaceId);
    if (!set || set.size > 100_000) knownSkus.set(workspaceId, (set = new Set()));
    for (const sku of skus) set.add(sku);
  };

  async function settingsOf(workspaceId: string): Promise<WorkspaceSettings> {
    const hit = settingsCache.get(workspaceId);
    const now = Date.now();
    if (hit && hit.until > now) return hit.settings;
    const ws = await workspaces.get(workspaceId);
    if (!ws) throw new Error(`unknown workspace ${workspaceId}`);
    settingsCache.set(workspaceId, { settings: ws.settings, until: now + 5_000 });
    return ws.settings;
  }

  async function ingest(workspaceId: string, raw: readonly unknown[], options: IngestOptions = {}): Promise<IngestResult> {
    const receivedAt = clock.now();
    const settings = await settingsOf(workspaceId);
    const accepted: AcceptedMessage[] = [];
    const rejected: MessageError[] = [];
    const seen = new Set<string>();
    let repeated = 0;
    raw.forEach((item, index) => {
      const r = validateMessage(item, index, receivedAt, settings, { type: options.defaultType, context: options.context });
      if (!r.ok) rejected.push(r.error);
      else if (seen.has(r.message.messageId)) repeated++; // the same messageId twice in one request is stored once
      else {
        seen.add(r.message.messageId);
        accepted.push(r.message);
      }
    });
    if (accepted.length === 0) return { accepted: repeated, duplicates: repeated, rejected };
    const { stored, batch, skus } = await db.transaction((tx) => write(tx, workspaceId, accepted, receivedAt));
    rememberSkus(workspaceId, skus);
    // The batch is committed: a failing listener (segments, scores) must not turn that into an
    // error for the sender, who would retry what is already stored.
    for (const l of listeners) {
      try {
        await l(batch);
      } catch (err) {
        console.error('a listener of ingested events failed', err);
      }
    }
    return { accepted: accepted.length + repeated, duplicates: accepted.length - stored + repeated, rejected };
  }

  async function write(tx: Queryable, workspaceId: string, messages: AcceptedMessage[], receivedAt: Date) {
    const merged: number[] = [];
    const contactIds = await resolveIdentities(
      tx,
      workspaceId,
      messages.map((m) => ({ userId: m.userId, anonymousId: m.anonymousId, previousId: m.previousId, at: m.occurredAt })),
      receivedAt,
      (from) => merged.push(from),
    );
    const inserted = await insertEvents(tx, workspaceId, messages, contactIds, receivedAt);
    const fresh = messages.map((m, i) => ({ m, contactId: contactIds[i]!, id: inserted.get(m.messageId) })).filter((x) => x.id !== undefined);
    // Only events stored for the first time change profiles, carts and orders: a retried delivery is a no-op.
    const patches: ProfilePatch[] = [];
    const consents: { contactId: number; rows: NonNullable<AcceptedMessage['profile']>['consent'] }[] = [];
    const commerce: CommerceEvent[] = [];
    for (const { m, contactId } of fresh) {
      if (m.profile) {
        const { consent, ...rest } = m.profile;
        patches.push({ contactId, ...rest });
        if (consent.length > 0) consents.push({ contactId, rows: consent });
      }
      if (m.type === 'track' && m.name && isCommerceEvent(m.name)) {
        commerce.push({ name: m.name, contactId, messageId: m.messageId, occurredAt: m.occurredAt, properties: m.properties });
      }
    }
    await applyProfilePatches(tx, workspaceId, patches, receivedAt);
    await saveConsents(tx, workspaceId, consents, 'identify', receivedAt);
    const { skus } = await applyCommerceEvents(tx, workspaceId, commerce, receivedAt, knownSkus.get(workspaceId));
    const batch: IngestedBatch = {
      workspaceId,
      // Profiles merged away are included: they leave their segments.
      contactIds: [...new Set([...contactIds, ...merged])],
      events: fresh.map(({ m, contactId, id }) => ({ id: id!, contactId, type: m.type, name: m.name, occurredAt: m.occurredAt, properties: m.properties })),
    };
    return { stored: fresh.length, batch, skus };
  }

  return {
    ingest,
    /** Called after every committed batch with what was stored for the first time. */
    onIngested(listener: (batch: IngestedBatch) => void | Promise<void>): void {
      listeners.push(listener);
    },
  };
}

export type IngestService = ReturnType<typeof createIngestService>;
