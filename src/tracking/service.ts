import { createHash } from 'node:crypto';
import type { Db } from '../db/index.ts';
import type { Clock } from '../core/clock.ts';
import { recordEvents } from '../events/index.ts';
import { saveConsents } from '../contacts/consent.ts';
import { loadMessagingSettings, suppress } from '../policy/index.ts';
import { verifyToken, type LinkKind, type LinkPayload, type TokenFailure } from './links.ts';
import { messageEvent } from '../channels/messages.ts';

type MessageRef = {
  workspace_id: string; id: number; idempotency_key: string; contact_id: number; channel: string; topic: string; address: string;
  journey_id: number | null; broadcast_id: number | null; step_id: string | null; variant: string | null;
};
type Verified<K extends LinkKind> = { ok: true; payload: Extract<LinkPayload, { k: K }>; message: MessageRef | null } | TokenFailure;

export const messageTopics = ['marketing'] as const;

/**
 * What people do with messages, back into Tend as events: opens (the pixel), clicks (the signed
 * redirect), unsubscribes (one click, RFC 8058) and preference changes. Every action first checks
 * the link's signature with its workspace's secret; a tampered or unsigned link does nothing.
 * Each fact is recorded with a deterministic id, so a scanner opening a link twice counts once.
 */
export function createTrackingService({ db, clock, onEvents }: { db: Db; clock: Clock; onEvents?: (workspaceId: string, contactIds: number[]) => void | Promise<void> }) {
  async function verify<K extends LinkKind>(token: string, kind: K): Promise<Verified<K>> {
    // The workspace named inside the token picks the secret; the signature then proves the rest.
    const unverified = peekWorkspace(token);
    if (!unverified) return { ok: false, reason: 'malformed', message: 'not a link token' };
    const exists = await db.query(`select 1 from workspaces where id = $1`, [unverified]);
    if (exists.rows.length === 0) return { ok: false, reason: 'tampered', message: 'the link does not belong to a known workspace' };
    const { linkSecret } = await loadMessagingSettings(db, unverified);
    const r = verifyToken(linkSecret, token, kind);
    if (!r.ok) return r;
    const { rows } = await db.query<MessageRef>(
      `select workspace_id, id, idempotency_key, contact_id, channel, topic, address, journey_id, broadcast_id, step_id, variant
         from messages where workspace_id = $1 and id = $2`,
      [r.payload.w, Number(r.payload.m)],
    );
    return { ok: true, payload: r.payload as Extract<LinkPayload, { k: K }>, message: rows[0] ?? null };
  }

  async function record(m: MessageRef, name: string, key: string, extra: Record<string, unknown> = {}): Promise<void> {
    const now = clock.now();
    const stored = await recordEvents(db, m.workspace_id, [messageEvent(m, name, key, now, extra)], now);
    if (stored.length > 0) await onEvents?.(m.workspace_id, stored);
  }

  return {
    verify,
    async open(token: string): Promise<void> {
      const v = await verify(token, 'o');
      if (v.ok && v.message) await record(v.message, 'Message Opened', 'opened');
    },
    /** The URL to send the person to, only when the link verifies. */
    async click(token: string): Promise<{ ok: true; url: string } | TokenFailure> {
      const v = await verify(token, 'c');
      if (!v.ok) return v;
      if (v.message) {
        await record(v.message, 'Message Clicked', `clicked:${createHash('sha1').update(v.payload.u).digest('hex').slice(0, 16)}`, { url: v.payload.u });
        // A click proves an open, even when images were blocked.
        await record(v.message, 'Message Opened', 'opened');
      }
      return { ok: true, url: v.payload.u };
    },
    /**
     * Unsubscribes the contact the link was made for: from a topic when the link names one, else
     * from the whole channel, whose address is then suppressed too (an unsubscribe must hold even
     * if a later import says "opted in" again by mistake).
     */
    async unsubscribe(token: string): Promise<{ ok: true; channel: string; topic: string | null } | TokenFailure> {
      const v = await verify(token, 'u');
      if (!v.ok) return v;
      const m = v.message;
      const now = clock.now();
      const ws = v.payload.w;
      const contactId = Number(v.payload.c);
      const channel = v.payload.ch;
      const topic = v.payload.t ?? null;
      await db.transaction(async (tx) => {
        if (channel !== 'email' && channel !== 'sms' && channel !== 'push' && channel !== 'print') return;
        await saveConsents(tx, ws, [{ contactId, rows: [{ channel, topic: topic ?? '*', granted: false }] }], 'unsubscribe', now);
        if (!topic && m) {
          await suppress(tx, [{ workspaceId: ws, channel, address: m.address, reason: 'unsubscribed' }], now);
        }
      });
      if (m) await record(m, 'Unsubscribed', `unsubscribed:${topic ?? '*'}`, { unsubscribed_topic: topic ?? '*' });
      else await onEvents?.(ws, [contactId]);
      return { ok: true, channel, topic };
    },
    /**
     * A survey answer from a link in a message (`?q=<survey>&a=<answer>`): recorded as "Survey
     * Answered" with the survey and the answer, once per survey and message (the last click wins
     * nothing: the first answer stands, as a scanner may follow every link).
     */
    async answer(token: string, survey: string, answer: string): Promise<{ ok: true } | TokenFailure> {
      const v = await verify(token, 's');
      if (!v.ok) return v;
      if (v.message) {
        const numeric = /^-?\d+(\.\d+)?$/.test(answer) ? Number(answer) : answer;
        await record(v.message, 'Survey Answered', `survey:${createHash('sha1').update(survey).digest('hex').slice(0, 16)}`, { survey, answer: numeric });
      }
      return { ok: true };
    },
    /** The contact's consent per topic on a channel, for the preference page. */
    async preferences(token: string): Promise<{ ok: true; workspaceId: string; contactId: number; channel: string; subscribed: boolean; topics: { topic: string; subscribed: boolean }[] } | TokenFailure> {
      const v = await verify(token, 'p');
      if (!v.ok) return v;
      const ws = v.payload.w;
      const contactId = Number(v.payload.c);
      const channel = v.payload.ch ?? 'email';
      const { rows } = await db.query<{ topic: string; granted: boolean }>(
        `select topic, granted from contact_consents where workspace_id = $1 and contact_id = $2 and channel = $3`, [ws, contactId, channel],
      );
      const known = await db.query<{ topic: string }>(`select distinct topic from messages where workspace_id = $1 and channel = $2 and not transactional`, [ws, channel]);
      const topics = [...new Set([...messageTopics, ...known.rows.map((r) => r.topic), ...rows.map((r) => r.topic).filter((t) => t !== '*')])].sort();
      const granted = new Map(rows.map((r) => [r.topic, r.granted]));
      return {
        ok: true, workspaceId: ws, contactId, channel, subscribed: granted.get('*') === true,
        topics: topics.map((t) => ({ topic: t, subscribed: granted.get(t) !== false })),
      };
    },
    /** Saves the preference page: the channel as a whole and each topic. */
    async savePreferences(token: string, choice: { subscribed: boolean; topics: Record<string, boolean> }): Promise<{ ok: true } | TokenFailure> {
      const v = await verify(token, 'p');
      if (!v.ok) return v;
      const ws = v.payload.w;
      const contactId = Number(v.payload.c);
      const channel = v.payload.ch ?? 'email';
      if (channel !== 'email' && channel !== 'sms' && channel !== 'push' && channel !== 'print') return { ok: true };
      const rows = [{ channel, topic: '*', granted: choice.subscribed }, ...Object.entries(choice.topics).map(([topic, granted]) => ({ channel, topic, granted }))];
      await db.transaction((tx) => saveConsents(tx, ws, [{ contactId, rows }], 'preferences', clock.now()));
      if (choice.subscribed && v.message) await db.query(`delete from suppressions where workspace_id = $1 and channel = $2 and address = $3 and reason = 'unsubscribed'`, [ws, channel, v.message.address]);
      await onEvents?.(ws, [contactId]);
      return { ok: true };
    },
  };
}

/** The workspace id inside a token, before its signature is checked (to pick the secret). */
function peekWorkspace(token: string): string | null {
  if (typeof token !== 'string' || token.length > 8192) return null;
  const body = token.split('.')[0] ?? '';
  try {
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { w?: unknown };
    return typeof payload.w === 'string' && payload.w.length <= 100 ? payload.w : null;
  } catch {
    return null;
  }
}

export type TrackingService = ReturnType<typeof createTrackingService>;
