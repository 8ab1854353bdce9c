import type { Db } from '../db/index.ts';
import type { Clock } from '../core/clock.ts';
import { identityLockIds, resolveIdentities } from '../contacts/identity.ts';
import type { WorkspaceService, WorkspaceSettings } from '../workspaces/index.ts';
import { validateMessage, type AcceptedMessage, type MessageError } from './validate.ts';
import { writeBatch } from './store.ts';

export type IngestResult = { accepted: number; duplicates: number; rejected: MessageError[] };

/** What changed, told to listeners after the transaction commits (segments, journeys). */
export type IngestedBatch = {
  workspaceId: string;
  events: { id: number; contactId: number; type: string; name: string | null; occurredAt: Date; properties: Record<string, unknown> }[];
  contactIds: number[];
};

export type IngestOptions = {
  defaultType?: string;
  context?: Record<string, unknown>;
  /** Keep messageIds with the prefixes of Tend's own events (an import of exported events); refused otherwise. */
  ownMessageIds?: boolean;
  /** The request these messages came in was within the message size limit and free of NUL characters as a whole: no need to check each message for them. */
  bodyChecked?: boolean;
};

/**
 * The one path every event takes into Tend: the tracking API, CSV event imports and the demo
 * generator all come through here. A batch is validated message by message (bad ones are reported
 * by index and field, good ones kept), then written in one transaction: identities resolved,
 * events stored once per messageId, profiles, consent, carts and orders updated. That transaction
 * is a single statement, a call of the ingest function (events/store.ts), because on a Postgres
 * server each round trip cost more than the work it carried.
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
      const r = validateMessage(item, index, receivedAt, settings, { type: options.defaultType, context: options.context, ownMessageIds: options.ownMessageIds, bodyChecked: options.bodyChecked });
      if (!r.ok) rejected.push(r.error);
      else if (seen.has(r.message.messageId)) repeated++; // the same messageId twice in one request is stored once
      else {
        seen.add(r.message.messageId);
        accepted.push(r.message);
      }
    });
    if (accepted.length === 0) return { accepted: repeated, duplicates: repeated, rejected };
    const { stored, batch, skus } = await write(workspaceId, accepted, receivedAt);
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

  /**
   * One call of the ingest function in the common case. A batch that would merge profiles (an
   * anonymous visitor's first identify, an alias call) resolves its identities first, with the
   * merges, and then calls the function in the same transaction, where nothing is left to merge.
   */
  async function write(workspaceId: string, messages: AcceptedMessage[], receivedAt: Date) {
    const refs = messages.map((m) => ({ userId: m.userId, anonymousId: m.anonymousId, previousId: m.previousId, at: m.occurredAt }));
    const lockIds = identityLockIds(refs);
    const known = knownSkus.get(workspaceId) ?? new Set<string>();
    const merged: number[] = [];
    // Alias calls always merge or link a previous id, which only resolveIdentities does.
    let stored = messages.some((m) => m.previousId) ? 'merge_needed' : await writeBatch(db, workspaceId, messages, lockIds, receivedAt, known);
    if (stored === 'merge_needed') {
      stored = await db.transaction(async (tx) => {
        await resolveIdentities(tx, workspaceId, refs, receivedAt, (from) => merged.push(from));
        const again = await writeBatch(tx, workspaceId, messages, lockIds, receivedAt, known);
        if (again === 'merge_needed') throw new Error('ingest: profiles still to merge after resolving the identities');
        return again;
      });
    }
    const fresh = messages.flatMap((m, i) => {
      const id = stored.eventIds[i];
      return id === null || id === undefined ? [] : [{ m, id, contactId: stored.contactIds[i]! }];
    });
    const batch: IngestedBatch = {
      workspaceId,
      // Profiles merged away are included: they leave their segments.
      contactIds: [...new Set([...stored.contactIds, ...merged])],
      events: fresh.map(({ m, contactId, id }) => ({ id, contactId, type: m.type, name: m.name, occurredAt: m.occurredAt, properties: m.properties })),
    };
    const skus = fresh.flatMap(({ m }) => m.commerce?.products?.map((p) => p.sku) ?? []);
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
