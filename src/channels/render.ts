import type { Db } from '../db/index.ts';
import type { Clock } from '../core/clock.ts';
import { loadMessagingSettings, type MessagingSettings } from '../policy/index.ts';
import { compileEmail, compileText, smsSegments, type CompiledEmail, type CompiledText, type RenderContext, type ItemVars } from '../templates/index.ts';
import { clickUrl, preferencesUrl, rewriteEmailLinks, surveyUrl, unsubscribeUrl, type LinkContext } from '../tracking/links.ts';
import { loadContactFactsMany, type ContactFacts } from '../journeys/contact-facts.ts';
import { stepById } from '../journeys/decide.ts';
import type { VersionCache } from '../journeys/versions.ts';
import type { Content } from '../journeys/schema.ts';
import type { RecommendationService } from '../models/recommend/index.ts';
import type { MessageRow, Renderer } from './delivery.ts';
import type { MessageSource } from './messages.ts';
import type { Channel, PayloadOf } from './port.ts';

type Compiled = { email?: CompiledEmail; texts: Map<string, CompiledText> };

/**
 * Renders recorded messages. Templates are compiled once per journey version, step and variant
 * (MJML → HTML once; only Liquid per contact). Data that changes over time — the cart, the last
 * order, recommendations — is read on the first attempt and saved on the message, so a retry
 * renders the very same message.
 */
export function createRenderer({ db, clock, versions, recommendations, publicUrl, emailFrom }: {
  db: Db; clock: Clock; versions: VersionCache; recommendations: RecommendationService; publicUrl: () => string; emailFrom: () => string;
}): Renderer & { context(m: MessageRow, prepared?: unknown): Promise<RenderContext | null> } {
  const compiled = new Map<string, Promise<Compiled>>();
  const settings = new Map<string, { at: number; value: MessagingSettings; name: string }>();

  async function workspace(ws: string) {
    const hit = settings.get(ws);
    if (hit && Date.now() - hit.at < 10_000) return hit;
    const value = await loadMessagingSettings(db, ws);
    const { rows } = await db.query<{ name: string }>(`select name from workspaces where id = $1`, [ws]);
    const entry = { at: Date.now(), value, name: rows[0]?.name ?? ws };
    settings.set(ws, entry);
    return entry;
  }

  async function contentOf(m: MessageRow): Promise<{ content: Content | null; webhookBody?: string }> {
    const source = m.source as MessageSource;
    if (source.kind !== 'journey') throw new Error(`messages from ${source.kind} are not rendered here`);
    const version = await versions.get(db, m.workspace_id, source.journeyId, source.version);
    const step = stepById(version, source.stepId);
    if (step?.type === 'webhook') return { content: null, webhookBody: step.body };
    if (step?.type !== 'send') throw new Error(`step ${source.stepId} of journey ${source.journeyId} v${source.version} is not a send step`);
    const variant = source.variant ? step.variants?.find((v) => v.name === source.variant) : undefined;
    return { content: variant?.content ?? step.content };
  }

  function compile(key: string, content: Content): Promise<Compiled> {
    let hit = compiled.get(key);
    if (!hit) {
      hit = (async () => {
        const texts = new Map<string, CompiledText>();
        const add = (name: string, source: string | undefined) => source !== undefined && texts.set(name, compileText(source, name));
        add('sms.body', content.sms?.body);
        add('push.title', content.push?.title);
        add('push.body', content.push?.body);
        add('push.url', content.push?.url);
        add('push.image', content.push?.image);
        add('print.body', content.print?.body);
        add('print.headline', content.print?.headline);
        return { email: content.email ? await compileEmail(content.email) : undefined, texts };
      })();
      compiled.set(key, hit);
      hit.catch(() => compiled.delete(key));
    }
    return hit;
  }

  /** The cart, order and recommendations the message shows, read once and kept on the message. */
  async function captured(m: MessageRow, contact: ContactFacts, sources: string): Promise<Record<string, unknown>> {
    if (m.context.captured) return m.context.captured as Record<string, unknown>;
    const needs = ['cart', 'order', 'recommendations'].filter((name) => new RegExp(`\\b${name}\\b`).test(sources));
    if (needs.length === 0) return {};
    const trigger = (m.context.trigger ?? null) as { properties?: Record<string, unknown> } | null;
    const out: Record<string, unknown> = {};
    if (/\bcart\b/.test(sources)) out.cart = await loadCart(db, m.workspace_id, contact.id, trigger?.properties?.cart_id);
    if (/\border\b/.test(sources)) out.order = await loadOrder(db, m.workspace_id, contact.id, trigger?.properties?.order_id);
    if (/\brecommendations\b/.test(sources)) {
      const recs = await recommendations.forContact(m.workspace_id, contact.id, 4);
      out.recommendations = await productVars(db, m.workspace_id, recs.map((r) => r.sku));
    }
    await db.query(`update messages set context = context || $3 where workspace_id = $1 and id = $2`, [m.workspace_id, m.id, JSON.stringify({ captured: out })]);
    return out;
  }

  /** The contacts of a batch of messages, read in one statement. */
  async function prepare(messages: readonly MessageRow[]): Promise<Map<string, ContactFacts>> {
    return loadContactFactsMany(db, messages.map((m) => ({ workspaceId: m.workspace_id, contactId: m.contact_id })));
  }

  async function context(m: MessageRow, prepared?: unknown): Promise<RenderContext | null> {
    const key = `${m.workspace_id}:${m.contact_id}`;
    const known = prepared instanceof Map ? (prepared as Map<string, ContactFacts>) : await prepare([m]);
    const contact = known.get(key) ?? null;
    if (!contact) return null;
    const { content } = await contentOf(m);
    const ws = await workspace(m.workspace_id);
    const extra = await captured(m, contact, JSON.stringify(content ?? {}));
    const link = linkContext(m, ws.value.linkSecret);
    const channel = m.channel === 'webhook' ? 'email' : m.channel;
    const trigger = m.context.trigger as { name: string | null; properties: Record<string, unknown>; occurredAt?: string } | null;
    const coupon = m.context.coupon as { code: string; percentOff: number | null; amountOff: number | null; expiresAt: string } | null;
    const t = contact.traits;
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    return {
      contact: {
        id: String(contact.id), user_id: contact.userId, email: contact.email, phone: contact.phone,
        first_name: str(t.first_name) ?? str(t.firstName), last_name: str(t.last_name) ?? str(t.lastName),
        timezone: contact.timezone, locale: contact.locale, lifecycle_stage: (contact.scores?.lifecycle_stage as string | undefined) ?? null, traits: t,
        scores: (contact.scores ?? {}) as RenderContext['contact']['scores'],
      },
      event: trigger ? { name: trigger.name ?? '', properties: trigger.properties, occurred_at: trigger.occurredAt ?? '' } : undefined,
      cart: extra.cart as RenderContext['cart'],
      order: extra.order as RenderContext['order'],
      recommendations: extra.recommendations as RenderContext['recommendations'],
      coupon: coupon ? { code: coupon.code, percent_off: coupon.percentOff, amount_off: coupon.amountOff, expires_at: coupon.expiresAt } : undefined,
      links: { unsubscribe: unsubscribeUrl({ ...link, channel }), preferences: preferencesUrl({ ...link, channel }), survey: surveyUrl(link), view_in_browser: null },
      workspace: { name: ws.name },
      message: { id: String(m.id) },
      now: clock.now().toISOString(),
    };
  }

  async function render(m: MessageRow, prepared?: unknown): Promise<{ ok: true; payload: PayloadOf[Channel] } | { ok: false; error: string }> {
    const ctx = await context(m, prepared);
    if (!ctx) return { ok: false, error: 'the contact no longer exists' };
    const { content, webhookBody } = await contentOf(m);
    const ws = await workspace(m.workspace_id);
    if (m.channel === 'webhook') {
      const body = webhookBody !== undefined ? compileText(webhookBody, 'body').render(ctx) : JSON.stringify({ contact: ctx.contact, event: ctx.event ?? null, coupon: ctx.coupon ?? null });
      return { ok: true, payload: { url: m.address, method: 'POST', headers: { 'content-type': 'application/json' }, body } };
    }
    const source = m.source as Extract<MessageSource, { kind: 'journey' }>;
    const c = await compile(`${m.workspace_id}:${source.journeyId}:${source.version}:${source.stepId}:${source.variant ?? ''}`, content!);
    const text = (name: string) => c.texts.get(name)?.render(ctx);
    const link = linkContext(m, ws.value.linkSecret);
    const track = (url: string | undefined) => (url ? clickUrl(link, url) : undefined);
    switch (m.channel) {
      case 'email': {
        const email = c.email!.render(ctx);
        const html = rewriteEmailLinks(email.html, {
          ...link,
          utm: { source: 'tend', medium: 'email', campaign: source.journeyId ? `journey-${source.journeyId}` : 'tend', content: source.variant ?? undefined },
        });
        const fromName = content!.email!.fromName;
        const from = fromName ? `${JSON.stringify(fromName)} <${emailAddress(emailFrom())}>` : emailFrom();
        return {
          ok: true,
          payload: {
            from, to: m.address, subject: email.subject, html, text: email.text,
            headers: m.transactional ? {} : { 'List-Unsubscribe': `<${ctx.links.unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
          },
        };
      }
      case 'sms': {
        const body = text('sms.body')!;
        return { ok: true, payload: { to: m.address, body, segments: smsSegments(body).segments } };
      }
      case 'push': {
        const { rows } = await db.query<{ keys: { p256dh: string; auth: string } }>(`select keys from push_subscriptions where workspace_id = $1 and endpoint = $2`, [m.workspace_id, m.address]);
        if (!rows[0]) return { ok: false, error: 'the push subscription is gone' };
        const p = content!.push!;
        return {
          ok: true,
          payload: {
            subscription: { endpoint: m.address, keys: rows[0].keys },
            notification: {
              title: text('push.title')!, body: text('push.body')!, url: track(text('push.url')), image: text('push.image'),
              actions: p.actions?.map((a, i) => ({ action: `a${i}`, title: a.title, url: track(a.url)! })),
            },
          },
        };
      }
      case 'print': {
        const a = (ctx.contact.traits.address ?? {}) as Record<string, string>;
        const name = [ctx.contact.first_name, ctx.contact.last_name].filter(Boolean).join(' ') || a.name || '';
        return {
          ok: true,
          payload: {
            format: content!.print!.format, headline: text('print.headline'), body: text('print.body')!,
            address: { name, line1: a.line1 ?? '', line2: a.line2, city: a.city ?? '', postalCode: a.postal_code ?? a.postalCode ?? '', region: a.region, country: a.country ?? '' },
          },
        };
      }
    }
  }

  function linkContext(m: MessageRow, secret: string): LinkContext {
    return { baseUrl: publicUrl(), secret, workspaceId: m.workspace_id, messageId: String(m.id), contactId: String(m.contact_id) };
  }

  return { prepare, render, context };
}

function emailAddress(from: string): string {
  return /<([^>]+)>/.exec(from)?.[1] ?? from;
}

async function productVars(db: Db, ws: string, skus: readonly string[]): Promise<NonNullable<RenderContext['recommendations']>> {
  if (skus.length === 0) return [];
  const { rows } = await db.query<{ sku: string; name: string; price: number | null; url: string | null; image_url: string | null }>(
    `select sku, name, price, url, image_url from products where workspace_id = $1 and sku = any($2::text[])`, [ws, skus],
  );
  const bySku = new Map(rows.map((r) => [r.sku, r]));
  return skus.flatMap((s) => {
    const r = bySku.get(s);
    return r ? [{ sku: r.sku, name: r.name, price: Number(r.price ?? 0), url: r.url, image_url: r.image_url }] : [];
  });
}

type ItemRow = { sku: string; name: string | null; price: number | null; quantity: number; url: string | null; image_url: string | null; category: string | null };
const toItem = (r: ItemRow): ItemVars => ({ sku: r.sku, name: r.name ?? r.sku, price: Number(r.price ?? 0), quantity: r.quantity, url: r.url, image_url: r.image_url, category: r.category });

async function loadCart(db: Db, ws: string, contactId: number, cartId: unknown): Promise<RenderContext['cart'] | null> {
  const { rows: carts } = await db.query<{ cart_id: string }>(
    typeof cartId === 'string' && cartId
      ? `select cart_id from carts where workspace_id = $1 and contact_id = $2 and cart_id = $3`
      : `select cart_id from carts where workspace_id = $1 and contact_id = $2 and status <> 'completed' order by updated_at desc limit 1`,
    typeof cartId === 'string' && cartId ? [ws, contactId, cartId] : [ws, contactId],
  );
  if (!carts[0]) return null;
  const { rows } = await db.query<ItemRow & { currency: string | null }>(
    `select i.sku, p.name, coalesce(i.unit_price, p.price) as price, i.quantity, p.url, p.image_url, p.category, p.currency
       from cart_items i left join products p on p.workspace_id = i.workspace_id and p.sku = i.sku
      where i.workspace_id = $1 and i.cart_id = $2 order by i.added_at, i.sku`,
    [ws, carts[0].cart_id],
  );
  const items = rows.map(toItem);
  return { items, total: Math.round(items.reduce((s, i) => s + i.price * i.quantity, 0) * 100) / 100, currency: rows[0]?.currency ?? 'USD' };
}

async function loadOrder(db: Db, ws: string, contactId: number, orderId: unknown): Promise<RenderContext['order'] | null> {
  const byId = typeof orderId === 'string' && orderId;
  const { rows: orders } = await db.query<{ order_id: string; total: number; currency: string | null; ordered_at: Date }>(
    byId
      ? `select order_id, total, currency, ordered_at from orders where workspace_id = $1 and contact_id = $2 and order_id = $3`
      : `select order_id, total, currency, ordered_at from orders where workspace_id = $1 and contact_id = $2 order by ordered_at desc limit 1`,
    byId ? [ws, contactId, orderId] : [ws, contactId],
  );
  const o = orders[0];
  if (!o) return null;
  const { rows } = await db.query<ItemRow>(
    `select i.sku, p.name, i.unit_price as price, i.quantity, p.url, p.image_url, p.category
       from order_items i left join products p on p.workspace_id = i.workspace_id and p.sku = i.sku
      where i.workspace_id = $1 and i.order_id = $2 order by i.sku`,
    [ws, o.order_id],
  );
  return { order_id: o.order_id, total: Number(o.total), currency: o.currency ?? 'USD', items: rows.map(toItem), ordered_at: new Date(o.ordered_at).toISOString() };
}
