import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { checkEmail, type EmailCheck } from '../contacts/email-check.ts';
import { ConsentInput, consentRows, type ConsentRow } from '../contacts/consent.ts';
import { isTimeZone } from '../contacts/profile.ts';
import { ownEventPrefixes } from '../contacts/seen.ts';
import { commerceEvents, isCommerceEvent, quickProductEvent } from '../catalog/commerce-schema.ts';
import { commerceFields, type CommerceFields, type CommerceProps } from '../catalog/commerce.ts';
import type { WorkspaceSettings } from '../workspaces/index.ts';
import { MAX_MESSAGE_BYTES, TrackingMessage, quickParse } from './schema.ts';

/** A rejected message: its position in the request and what is wrong, naming the field. */
export type MessageError = { index: number; field: string; message: string };

/** A message that passed every check, in the shape the store writes. */
export type AcceptedMessage = {
  index: number;
  messageId: string;
  type: TrackingMessage['type'];
  name: string | null;
  userId?: string;
  anonymousId?: string;
  previousId?: string;
  properties: Record<string, unknown>;
  context: Record<string, unknown> | null;
  occurredAt: Date;
  profile?: {
    traits: Record<string, unknown>;
    email?: { address: string; check: EmailCheck };
    phone?: string;
    timezone?: string;
    locale?: string;
    consent: ConsentRow[];
  };
  /** E-commerce events only: what carts, orders and the catalog take from them. */
  commerce?: CommerceFields;
};

/** Fields of identify traits that Tend keeps in their own columns rather than in `traits`. */
const PROFILE_FIELDS = new Set(['email', 'phone', 'timezone', 'consent']);

/**
 * Checks one raw message from the tracking API or an import. Never throws: every problem comes
 * back as an error naming the field, so the rest of a batch can still be stored. A messageId with
 * one of the prefixes of the events Tend records itself (contacts/seen.ts) is refused unless
 * `ownMessageIds` says to keep it: an import of exported events brings Tend's own back as they
 * were, a tracking call cannot pass for one. With `bodyChecked` the caller vouches that the
 * message is within the size limit and holds no NUL character and no unpaired surrogate (its
 * whole request did not).
 */
export function validateMessage(
  raw: unknown,
  index: number,
  receivedAt: Date,
  settings: WorkspaceSettings,
  defaults: { type?: string; context?: Record<string, unknown>; ownMessageIds?: boolean; bodyChecked?: boolean } = {},
): { ok: true; message: AcceptedMessage } | { ok: false; error: MessageError } {
  const bad = (field: string, message: string) => ({ ok: false as const, error: { index, field, message } });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return bad('', 'a message must be a JSON object');
  if (!defaults.bodyChecked) {
    const text = JSON.stringify(raw);
    const size = Buffer.byteLength(text);
    if (size > MAX_MESSAGE_BYTES) return bad('', `message is ${size} bytes; the limit is ${MAX_MESSAGE_BYTES} bytes (32 KB)`);
    // PostgreSQL cannot store the NUL character in text or jsonb; say where it is instead of failing the batch.
    if (text.includes('\\u0000')) return bad(findString(raw, (s) => s.includes('\0')) ?? '', 'contains a NUL character (\\u0000), which cannot be stored');
    // JSON.stringify writes an unpaired surrogate as an escape (a pair stays as it is): only then look for it.
    if (SURROGATE_ESCAPE.test(text)) {
      const at = unpairedSurrogateAt(raw);
      if (at !== null) return bad(at, 'contains an unpaired surrogate (half of a UTF-16 pair, such as \\ud800), which is not valid Unicode and cannot be stored');
    }
  }
  const input = defaults.type && !('type' in raw) ? { ...raw, type: defaults.type } : raw;
  let m = quickParse(input);
  if (!m) {
    const parsed = TrackingMessage.safeParse(input);
    if (!parsed.success) {
      const issue = innermostIssue(parsed.error.issues[0]!);
      return bad(issue.path.join('.'), describeIssue(issue));
    }
    m = parsed.data;
  }
  if (m.messageId && !defaults.ownMessageIds && ownEventPrefixes.some((p) => m.messageId!.startsWith(p))) {
    return bad('messageId', `messageIds starting with ${ownEventPrefixes.join(', ')} are reserved for the events Tend records itself`);
  }
  const context = m.context || defaults.context ? { ...defaults.context, ...m.context } : null;
  const occurredAt = m.timestamp ?? m.originalTimestamp ?? receivedAt;
  const base = { index, messageId: m.messageId ?? randomUUID(), type: m.type, userId: m.userId, anonymousId: m.anonymousId, context, occurredAt };

  switch (m.type) {
    case 'track': {
      const properties = m.properties ?? {};
      if (isCommerceEvent(m.event)) {
        const quick = m.event === 'Product Viewed' || m.event === 'Product Added' || m.event === 'Product Removed' ? quickProductEvent(properties) : undefined;
        if (quick) return { ok: true, message: { ...base, name: m.event, properties, commerce: commerceFields(m.event, quick as CommerceProps) } };
        const check = commerceEvents[m.event].safeParse(properties);
        if (!check.success) {
          const issue = innermostIssue(check.error.issues[0]!);
          return bad(['properties', ...issue.path].join('.'), describeIssue(issue, ['properties']));
        }
        return { ok: true, message: { ...base, name: m.event, properties, commerce: commerceFields(m.event, check.data as CommerceProps) } };
      }
      return { ok: true, message: { ...base, name: m.event, properties } };
    }
    case 'page':
    case 'screen':
      return { ok: true, message: { ...base, name: m.name ?? null, properties: { ...(m.type === 'page' && m.category ? { category: m.category } : {}), ...m.properties } } };
    case 'group':
      return { ok: true, message: { ...base, name: m.groupId, properties: { groupId: m.groupId, traits: m.traits ?? {} } } };
    case 'alias':
      return { ok: true, message: { ...base, name: null, previousId: m.previousId, properties: { previousId: m.previousId } } };
    case 'identify': {
      const traits = m.traits ?? {};
      const profile: NonNullable<AcceptedMessage['profile']> = { traits: {}, consent: [] };
      for (const [k, v] of Object.entries(traits)) if (!PROFILE_FIELDS.has(k)) profile.traits[k] = v;
      if (traits.email !== undefined && traits.email !== null) {
        if (typeof traits.email !== 'string') return bad('traits.email', 'email must be a string');
        const check = checkEmail(traits.email);
        if (settings.emailPolicy === 'reject' && (!check.valid || (check.role && settings.rejectRoleAddresses))) {
          return bad('traits.email', `email address refused: ${check.reason}${check.suggestion ? ` (did you mean ${check.suggestion}?)` : ''}`);
        }
        profile.email = { address: check.normalized ?? traits.email.trim().slice(0, 320), check };
      }
      if (traits.phone !== undefined && traits.phone !== null) {
        if (typeof traits.phone !== 'string' && typeof traits.phone !== 'number') return bad('traits.phone', 'phone must be a string');
        const phone = normalizePhone(String(traits.phone));
        if (!phone) return bad('traits.phone', 'phone must have 6 to 15 digits, optionally with a leading +');
        profile.phone = phone;
      }
      const zone = traits.timezone ?? context?.timezone;
      if (zone !== undefined && zone !== null) {
        if (typeof zone !== 'string' || !isTimeZone(zone)) return bad(traits.timezone !== undefined ? 'traits.timezone' : 'context.timezone', 'timezone must be an IANA time zone such as Europe/Warsaw');
        profile.timezone = zone;
      }
      if (typeof context?.locale === 'string' && context.locale.length <= 35) profile.locale = context.locale;
      if (typeof traits.locale === 'string' && traits.locale.length <= 35) profile.locale = traits.locale;
      if (traits.consent !== undefined) {
        const consent = ConsentInput.safeParse(traits.consent);
        if (!consent.success) {
          const issue = innermostIssue(consent.error.issues[0]!);
          return bad(['traits', 'consent', ...issue.path].join('.'), describeIssue(issue, ['traits', 'consent']));
        }
        profile.consent = consentRows(consent.data);
      }
      return { ok: true, message: { ...base, name: null, properties: traits, profile } };
    }
  }
}

/** An escaped UTF-16 surrogate (\\ud800 to \\udfff) in JSON text. */
export const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/** The path of the first key or string holding an unpaired surrogate, or null. */
export const unpairedSurrogateAt = (value: unknown): string | null => findString(value, (s) => !s.isWellFormed());

/** The path of the first key or string in `value` that fails `bad`, or null. */
function findString(value: unknown, bad: (s: string) => boolean, path: string[] = []): string | null {
  if (typeof value === 'string') return bad(value) ? path.join('.') : null;
  if (typeof value !== 'object' || value === null) return null;
  for (const [k, v] of Object.entries(value)) {
    if (bad(k)) return [...path, k].join('.');
    const found = findString(v, bad, [...path, k]);
    if (found !== null) return found;
  }
  return null;
}

/** E.164-ish: digits with an optional leading +, separators removed. */
export function normalizePhone(value: string): string | null {
  const trimmed = value.trim();
  const digits = trimmed.replace(/[\s().-]/g, '');
  return /^\+?[0-9]{6,15}$/.test(digits) ? digits : null;
}

/**
 * The most telling issue inside a union's failure: of the alternatives, the one that got furthest
 * into the value ("value.0 must be string" rather than "value has the wrong type"), with its path
 * made absolute. Other issues are returned as they are.
 */
export function innermostIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union' || (issue as { options?: unknown }).options) return issue;
  const deepest = issue.errors
    .map((e) => e[0])
    .filter((e): e is z.core.$ZodIssue => e !== undefined && e.path.length > 0)
    .sort((a, b) => b.path.length - a.path.length)[0];
  return deepest ? innermostIssue({ ...deepest, path: [...issue.path, ...deepest.path] } as z.core.$ZodIssue) : issue;
}

/** A readable sentence for a schema problem; `prefix` is where the checked value sits. */
export function describeIssue(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[] = []): string {
  const path = [...prefix, ...issue.path].map(String).filter((p) => p !== '');
  const where = path.length > 0 ? path.join('.') : 'value';
  switch (issue.code) {
    case 'unrecognized_keys':
      return `${where} has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    case 'too_big':
      return `${where} is too ${issue.origin === 'string' || issue.origin === 'array' ? 'long' : 'large'} (at most ${String(issue.maximum)})`;
    case 'too_small':
      return `${where} is too ${issue.origin === 'string' || issue.origin === 'array' ? 'short' : 'small'} (at least ${String(issue.minimum)})`;
    case 'invalid_type':
      return `${where} must be ${issue.expected}`;
    case 'invalid_union': {
      const { options } = issue as { options?: unknown[] };
      return options ? `${where} must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}` : `${where} has the wrong type or format`;
    }
    case 'invalid_value':
      return `${where} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${where}: ${issue.message}`;
  }
}
