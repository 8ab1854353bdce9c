import { z } from 'zod';
import { applyProfilePatches, channels, isTimeZone, saveConsents, type Channel, type ConsentRow, type ProfilePatch } from '../../contacts/index.ts';
import { normalizePhone } from '../../events/index.ts';
import { calendarDate, identifier, show, text, yesNo } from '../fields.ts';
import type { ImportKind, RowError } from '../types.ts';
import { extras, screenEmail } from './shared.ts';
import { contactIdsFor, type ContactKey } from './contact-ids.ts';

const phone = z.string().transform((raw, ctx) => {
  const p = normalizePhone(raw);
  if (!p) ctx.addIssue({ code: 'custom', message: `${show(raw.trim())} is not a phone number (6 to 15 digits, optionally with a leading +)` });
  return p ?? z.NEVER;
});

const known = {
  user_id: identifier(256).optional(),
  email: text(1024).optional(),
  phone: phone.optional(),
  first_name: text(200).optional(),
  last_name: text(200).optional(),
  birthday: calendarDate.optional(),
  timezone: text(64).refine(isTimeZone, { error: 'must be an IANA time zone such as Europe/Warsaw' }).optional(),
  locale: text(35).regex(/^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$/, { error: 'must be a language tag such as pl-PL' }).optional(),
  consent_email: yesNo.optional(),
  consent_sms: yesNo.optional(),
  consent_push: yesNo.optional(),
  consent_print: yesNo.optional(),
};

export const ContactRow = z
  .object(known)
  .catchall(z.string().max(10_000, { error: 'is too long (at most 10,000 characters)' }))
  .refine((r) => r.user_id !== undefined || r.email !== undefined, { error: 'user_id or email is required', path: ['user_id'] })
  .transform((r) => {
    const traits: Record<string, string> = { ...extras(r, known) };
    if (r.first_name !== undefined) traits.first_name = r.first_name;
    if (r.last_name !== undefined) traits.last_name = r.last_name;
    if (r.birthday !== undefined) traits.birthday = r.birthday;
    const consent: ConsentRow[] = [];
    for (const channel of channels) {
      const granted = r[`consent_${channel}`];
      if (granted !== undefined) consent.push({ channel, topic: '*', granted });
    }
    return { userId: r.user_id ?? null, email: r.email ?? null, phone: r.phone, timezone: r.timezone, locale: r.locale, traits, consent };
  });
export type ContactRow = z.infer<typeof ContactRow>;

type Current = { id: number; email: string | null; phone: string | null; timezone: string | null; locale: string | null; traits: Record<string, unknown> };

/**
 * Contacts, keyed by user_id, or by email when user_id is blank. A blank cell leaves the stored
 * value alone; only what differs is written, so re-importing a file changes nothing.
 */
export const contactsKind: ImportKind<ContactRow> = {
  name: 'contacts',
  columns: [
    { name: 'user_id', type: 'text, up to 256 characters', required: true, description: 'Your customer id. Required unless email is given: a row with only an email finds the contact with that address or creates one.' },
    { name: 'email', type: 'email address', required: false, description: "Checked at the door (syntax, disposable domains, typos); the workspace's email policy flags or refuses bad ones." },
    { name: 'phone', type: 'phone number', required: false, description: '6 to 15 digits, optionally with a leading +; spaces, dots, dashes and brackets are removed.' },
    { name: 'first_name', type: 'text', required: false, description: 'Stored as the trait first_name.' },
    { name: 'last_name', type: 'text', required: false, description: 'Stored as the trait last_name.' },
    { name: 'birthday', type: 'date YYYY-MM-DD', required: false, description: 'Stored as the trait birthday (birthday messages).' },
    { name: 'timezone', type: 'IANA time zone', required: false, description: 'e.g. Europe/Warsaw; quiet hours and send times use it.' },
    { name: 'locale', type: 'language tag', required: false, description: 'e.g. pl-PL.' },
    { name: 'consent_email', type: 'yes/no', required: false, description: 'Consent to the channel as a whole: true/false, yes/no or 1/0. Blank: unchanged.' },
    { name: 'consent_sms', type: 'yes/no', required: false, description: 'As consent_email, for SMS.' },
    { name: 'consent_push', type: 'yes/no', required: false, description: 'As consent_email, for web push.' },
    { name: 'consent_print', type: 'yes/no', required: false, description: 'As consent_email, for printed mail.' },
  ],
  requiredHeaders: [['user_id', 'email']],
  extraColumns: 'traits',
  schema: ContactRow,
  async write(ctx, rows) {
    const errors: RowError[] = [];
    const accepted: { row: ContactRow; key: ContactKey }[] = [];
    for (const r of rows) {
      let email: ContactKey['email'] = null;
      if (r.value.email !== null) {
        const screened = screenEmail(r.value.email, ctx.settings);
        if (!screened.ok) {
          errors.push({ line: r.line, column: 'email', message: screened.message });
          continue;
        }
        email = screened.email;
      }
      accepted.push({ row: r.value, key: { userId: r.value.userId, email } });
    }
    if (accepted.length === 0) return errors;
    await ctx.db.transaction(async (tx) => {
      const ids = await contactIdsFor(tx, ctx.workspaceId, accepted.map((a) => a.key), ctx.now);
      // Fold the rows of each contact in file order, then keep only what differs from the profile.
      const wanted = new Map<number, { patch: ProfilePatch; consent: Map<Channel, boolean> }>();
      accepted.forEach(({ row, key }, i) => {
        const id = ids[i]!;
        const w = wanted.get(id) ?? { patch: { contactId: id, traits: {} }, consent: new Map<Channel, boolean>() };
        Object.assign(w.patch.traits, row.traits);
        if (key.email) w.patch.email = key.email;
        if (row.phone !== undefined) w.patch.phone = row.phone;
        if (row.timezone !== undefined) w.patch.timezone = row.timezone;
        if (row.locale !== undefined) w.patch.locale = row.locale;
        for (const c of row.consent) w.consent.set(c.channel, c.granted);
        wanted.set(id, w);
      });
      const contactIds = [...wanted.keys()];
      const [current, consents] = await Promise.all([
        tx.query<Current>(`select id, email, phone, timezone, locale, traits from contacts where workspace_id = $1 and id = any($2::bigint[])`, [ctx.workspaceId, contactIds]),
        tx.query<{ contact_id: number; channel: Channel; granted: boolean }>(
          `select contact_id, channel, granted from contact_consents where workspace_id = $1 and contact_id = any($2::bigint[]) and topic = '*'`,
          [ctx.workspaceId, contactIds],
        ),
      ]);
      const stored = new Map(current.rows.map((c) => [c.id, c]));
      const granted = new Map(consents.rows.map((c) => [`${c.contact_id}:${c.channel}`, c.granted]));
      const patches: ProfilePatch[] = [];
      const consentEntries: { contactId: number; rows: ConsentRow[] }[] = [];
      for (const [id, w] of wanted) {
        const changed = changes(w.patch, stored.get(id));
        if (changed) patches.push(changed);
        const rows = [...w.consent].filter(([channel, g]) => granted.get(`${id}:${channel}`) !== g).map(([channel, g]) => ({ channel, topic: '*', granted: g }));
        if (rows.length > 0) consentEntries.push({ contactId: id, rows });
      }
      await applyProfilePatches(tx, ctx.workspaceId, patches, ctx.now);
      await saveConsents(tx, ctx.workspaceId, consentEntries, 'import', ctx.now);
    });
    return errors;
  },
};

/** The part of a patch that differs from the stored profile, or null when nothing does. */
function changes(patch: ProfilePatch, current: Current | undefined): ProfilePatch | null {
  if (!current) return patch;
  const out: ProfilePatch = { contactId: patch.contactId, traits: {} };
  let any = false;
  for (const [k, v] of Object.entries(patch.traits)) {
    if (current.traits[k] !== v) {
      out.traits[k] = v;
      any = true;
    }
  }
  if (patch.email && patch.email.address !== current.email) [out.email, any] = [patch.email, true];
  if (patch.phone !== undefined && patch.phone !== current.phone) [out.phone, any] = [patch.phone, true];
  if (patch.timezone !== undefined && patch.timezone !== current.timezone) [out.timezone, any] = [patch.timezone, true];
  if (patch.locale !== undefined && patch.locale !== current.locale) [out.locale, any] = [patch.locale, true];
  return any ? out : null;
}
