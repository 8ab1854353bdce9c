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

type Written = { stored: number; batch: IngestedBatch; skus: string[] };

// Cart events that may name no cart: the ingest function then reads the contact's open cart,
// which only an exclusive lock on the contact's ids keeps from two batches at once.
const OPEN_CART_EVENTS = new Set(['Product Added', 'Product Removed', 'Cart Viewed', 'Checkout Started', 'Order Completed', 'Coupon Applied']);

/** Per lock id: a shared lock for an id known to resolve, unless a message about it reads the open cart. */
function sharedLocks(known: ReadonlySet<string> | undefined, messages: readonly AcceptedMessage[], lockIds: readonly string[]): boolean[] {
  if (!known) return lockIds.map(() => false);
  const exclusive = new Set<string>();
  for (const m of messages) {
    if (m.name === null || !OPEN_CART_EVENTS.has(m.name) || m.commerce?.cart_id !== undefined) continue;
    if (m.userId) exclusive.add(m.userId);
    if (m.anonymousId) exclusive.add(m.anonymousId);
  }
  return lockIds.map((id) => known.has(id) && !exclusive.has(id));
}

// Workspaces whose skus and identities a process remembers at once; beyond, it starts afresh.
const REMEMBERED_WORKSPACES = 1_000;

/** Adds `values` to a workspace's set in `memory`: a set past `limit`, or the whole memory past REMEMBERED_WORKSPACES, is forgotten first. */
export function remember(memory: Map<string, Set<string>>, workspaceId: string, values: readonly string[], limit: number): void {
  let set = memory.get(workspaceId);
  if (!set || set.size > limit) {
    if (!set && memory.size >= REMEMBERED_WORKSPACES) memory.clear();
    memory.set(workspaceId, (set = new Set()));
  }
  for (const v of values) set.add(v);
}

type Pending = { messages: AcceptedMessage[]; receivedAt: Date; resolve: (w: Written) => void; reject: (err: unknown) => void };

export type IngestServiceOptions = {
  /** Calls of the ingest function at once per workspace; requests beyond wait and go together (default 3). */
  callsPerWorkspace?: number;
  /** Messages in one call at most, unless a single request brings more (default 1,000). */
  groupMessages?: number;
};

/**
 * The one path every event takes into Tend: the tracking API, CSV event imports and the demo
 * generator all come through here. A batch is validated message by message (bad ones are reported
 * by index and field, good ones kept), then written in one transaction: identities resolved,
 * events stored once per messageId, profiles, consent, carts and orders updated. That transaction
 * is a single statement, a call of the ingest function (events/store.ts), because on a Postgres
 * server each round trip cost more than the work it carried; under load, requests that wait for
 * the database share one call (see `write`).
 */
export function createIngestService(
  { db, clock, workspaces }: { db: Db; clock: Clock; workspaces: WorkspaceService },
  { callsPerWorkspace = 3, groupMessages = 1000 }: IngestServiceOptions = {},
) {
  const listeners: ((batch: IngestedBatch) => void | Promise<void>)[] = [];
  const settingsCache = new Map<string, { settings: WorkspaceSettings; until: number }>();
  // Skus known to be in the catalog (per workspace), so product views do not re-insert them.
  // Filled only after a commit; bounded, and simply forgotten when full.
  const knownSkus = new Map<string, Set<string>>();
  const rememberSkus = (workspaceId: string, skus: string[]) => remember(knownSkus, workspaceId, skus, 100_000);
  // Identities (user, anonymous and previous ids) seen to resolve, per workspace: the ingest
  // function needs only a shared lock on them. A hint, never trusted for the result: an id that
  // turns out to need creating sends its batch the way of merges. Bounded like knownSkus.
  const knownIds = new Map<string, Set<string>>();
  const rememberIds = (workspaceId: string, ids: readonly string[]) => remember(knownIds, workspaceId, ids, 200_000);

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

  // Requests waiting for the database, per workspace, and the calls of the ingest function running.
  const queues = new Map<string, { waiting: Pending[]; running: number }>();

  /**
   * Writes one request's messages. While `callsPerWorkspace` calls of the ingest function are
   * running for the workspace, further requests wait and then go together, as one call (group
   * commit). The database spends much less time per message in larger calls (on the development
   * machine 41 µs of CPU per message in calls of 100, 28 µs in calls of 1,000: the same
   * instructions, but run warm), so under load the server does more with the same cores; when
   * Tend is not busy a request goes at once, alone.
   */
  function write(workspaceId: string, messages: AcceptedMessage[], receivedAt: Date): Promise<Written> {
    return new Promise<Written>((resolve, reject) => {
      let q = queues.get(workspaceId);
      if (!q) queues.set(workspaceId, (q = { waiting: [], running: 0 }));
      q.waiting.push({ messages, receivedAt, resolve, reject });
      pump(workspaceId, q);
    });
  }

  function pump(workspaceId: string, q: { waiting: Pending[]; running: number }): void {
    while (q.running < callsPerWorkspace && q.waiting.length > 0) {
      // Whole requests, oldest first, up to the group's size (a larger request goes alone).
      let size = q.waiting[0]!.messages.length;
      let count = 1;
      while (count < q.waiting.length && size + q.waiting[count]!.messages.length <= groupMessages) size += q.waiting[count++]!.messages.length;
      const group = q.waiting.splice(0, count);
      q.running++;
      void writeGroup(workspaceId, group).finally(() => {
        q.running--;
        if (q.running === 0 && q.waiting.length === 0) queues.delete(workspaceId);
        else pump(workspaceId, q);
      });
    }
  }

  /** One call for the group; if it fails, each request again on its own, so one cannot fail the others. */
  async function writeGroup(workspaceId: string, group: Pending[]): Promise<void> {
    try {
      const results = await writeTogether(workspaceId, group);
      group.forEach((p, i) => p.resolve(results[i]!));
    } catch (err) {
      if (group.length === 1) return group[0]!.reject(err);
      for (const p of group) {
        try {
          p.resolve((await writeTogether(workspaceId, [p]))[0]!);
        } catch (e) {
          p.reject(e);
        }
      }
    }
  }

  /**
   * The requests' messages in one call of the ingest function (events/store.ts). A messageId that
   * an earlier request of the group also carries is left to that one: stored once, a duplicate for
   * the later request, as if the two had come one after the other. A batch that would merge
   * profiles (an anonymous visitor's first identify, an alias call) resolves its identities first,
   * with the merges, and then calls the function in the same transaction, where nothing is left to
   * merge.
   */
  async function writeTogether(workspaceId: string, group: Pending[]): Promise<Written[]> {
    // Per request: each message's place in `messages`, or -(place + 1) of the message it repeats
    // (a request alone is its own messages, in place).
    let messages: AcceptedMessage[] = group[0]!.messages;
    const at: (number[] | null)[] = [null];
    if (group.length > 1) {
      messages = [];
      at.length = 0;
      const firstAt = new Map<string, number>();
      for (const p of group) {
        at.push(p.messages.map((m) => {
          const first = firstAt.get(m.messageId);
          if (first !== undefined) return -(first + 1);
          firstAt.set(m.messageId, messages.length);
          messages.push(m);
          return messages.length - 1;
        }));
      }
    }
    const receivedAt = group[0]!.receivedAt; // the group's events count as received with its first request
    const refs = messages.map((m) => ({ userId: m.userId, anonymousId: m.anonymousId, previousId: m.previousId, at: m.occurredAt }));
    const lockIds = identityLockIds(refs);
    const known = knownSkus.get(workspaceId) ?? new Set<string>();
    const shared = sharedLocks(knownIds.get(workspaceId), messages, lockIds);
    const merged: number[] = [];
    // Alias calls always merge or link a previous id, which only resolveIdentities does.
    let stored = messages.some((m) => m.previousId) ? 'merge_needed' : await writeBatch(db, workspaceId, messages, lockIds, receivedAt, known, shared);
    if (stored === 'merge_needed') {
      stored = await db.transaction(async (tx) => {
        await resolveIdentities(tx, workspaceId, refs, receivedAt, (from) => merged.push(from));
        const again = await writeBatch(tx, workspaceId, messages, lockIds, receivedAt, known, shared);
        if (again === 'merge_needed') throw new Error('ingest: profiles still to merge after resolving the identities');
        return again;
      });
    }
    const done = stored;
    rememberIds(workspaceId, lockIds.filter((_, i) => !shared[i]));
    return group.map((p, r) => {
      const places = at[r];
      const events: IngestedBatch['events'] = [];
      const contacts = new Set<number>(merged); // profiles merged away too: they leave their segments
      const skus: string[] = [];
      p.messages.forEach((m, i) => {
        const k = places ? places[i]! : i;
        const contactId = done.contactIds[k < 0 ? -k - 1 : k]!;
        contacts.add(contactId);
        const id = k < 0 ? null : done.eventIds[k];
        if (id === null || id === undefined) return;
        events.push({ id, contactId, type: m.type, name: m.name, occurredAt: m.occurredAt, properties: m.properties });
        for (const product of m.commerce?.products ?? []) skus.push(product.sku);
      });
      return { stored: events.length, batch: { workspaceId, contactIds: [...contacts], events }, skus };
    });
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
