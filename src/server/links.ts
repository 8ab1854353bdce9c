import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { RoutePlugin } from './app.ts';

const Token = z.object({ token: z.string().min(1).max(8192) });
// A transparent 1×1 GIF.
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
function page(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1f2933}button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #1f2933;background:#1f2933;color:#fff;cursor:pointer}label{display:block;margin:.4rem 0}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`);
}
const invalidLink = (reply: FastifyReply) => page(reply, 400, 'This link is not valid', '<p>The link is damaged or was not made by this shop. Nothing was changed.</p>');

/**
 * The hosted tracking routes that links in messages point at: the open pixel, the click redirect,
 * one-click unsubscribe (RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click`; a person
 * clicking the link gets a page with a button, so link scanners that GET every URL unsubscribe
 * nobody) and the preference page. No authentication: the signed token is the authority, and a
 * tampered or unsigned token never redirects and never changes anything.
 */
export const linkRoutes: RoutePlugin = (routes, tend, app) => {
  // Forms are for the hosted pages (and form-encoded webhooks); everywhere else, as before, only JSON.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 10_000 }, (req, body, done) => {
    if (!req.url.startsWith('/t/') && !req.url.startsWith('/hooks/')) {
      const err = Object.assign(new Error(`unsupported content type application/x-www-form-urlencoded; send application/json`), { statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' });
      done(err, undefined);
      return;
    }
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });

  routes.add({
    method: 'GET', url: '/t/o/:token', summary: 'Open pixel: records "Message Opened"', tag: 'Tracking links', auth: 'none', params: Token,
    handler: async ({ params, reply }) => {
      await tend.tracking.open(params.token);
      return reply.header('content-type', 'image/gif').header('cache-control', 'no-store, private').send(PIXEL);
    },
  });
  routes.add({
    method: 'GET', url: '/t/c/:token', summary: 'Click redirect: records "Message Clicked" and redirects to the signed URL', tag: 'Tracking links', auth: 'none',
    params: Token, responses: { 302: 'To the URL the link was made for', 400: 'The link is tampered or unsigned (no redirect)' },
    handler: async ({ params, reply }) => {
      const r = await tend.tracking.click(params.token);
      return r.ok ? reply.header('cache-control', 'no-store').redirect(r.url, 302) : invalidLink(reply);
    },
  });
  routes.add({
    method: 'GET', url: '/t/s/:token', summary: 'Survey answer: records "Survey Answered" with the survey (q) and the answer (a)', tag: 'Tracking links', auth: 'none',
    params: Token, query: z.object({ q: z.string().min(1).max(100), a: z.string().min(1).max(200) }),
    handler: async ({ params, query, reply }) => {
      const r = await tend.tracking.answer(params.token, query.q, query.a);
      return r.ok ? page(reply, 200, 'Thank you', '<p>Your answer is saved. Thank you for telling us.</p>') : invalidLink(reply);
    },
  });
  routes.add({
    method: 'GET', url: '/t/u/:token', summary: 'Unsubscribe page (a button that confirms)', tag: 'Tracking links', auth: 'none', params: Token,
    handler: async ({ params, reply }) => {
      const v = await tend.tracking.verify(params.token, 'u');
      if (!v.ok) return invalidLink(reply);
      const what = v.payload.t ? `${v.payload.ch} about ${v.payload.t}` : v.payload.ch;
      return page(reply, 200, 'Unsubscribe', `<p>Stop receiving ${escapeHtml(what)} messages?</p><form method="post"><button type="submit" name="confirm" value="yes">Unsubscribe</button></form>`);
    },
  });
  routes.add({
    method: 'POST', url: '/t/u/:token', summary: 'One-click unsubscribe (RFC 8058) and the page\'s confirmation', tag: 'Tracking links', auth: 'none', params: Token,
    handler: async ({ params, reply }) => {
      const r = await tend.tracking.unsubscribe(params.token);
      if (!r.ok) return invalidLink(reply);
      return page(reply, 200, 'You are unsubscribed', `<p>You will get no more ${escapeHtml(r.topic ? `${r.channel} about ${r.topic}` : r.channel)} messages from us.</p>`);
    },
  });
  routes.add({
    method: 'GET', url: '/t/p/:token', summary: 'Preference page: the channel and each topic', tag: 'Tracking links', auth: 'none', params: Token,
    handler: async ({ params, reply }) => {
      const p = await tend.tracking.preferences(params.token);
      if (!p.ok) return invalidLink(reply);
      const topics = p.topics
        .map((t) => `<label><input type="checkbox" name="topic:${escapeHtml(t.topic)}" value="on"${t.subscribed ? ' checked' : ''}> ${escapeHtml(t.topic)}</label>`)
        .join('');
      return page(reply, 200, 'Your preferences', `<form method="post"><label><input type="checkbox" name="subscribed" value="on"${p.subscribed ? ' checked' : ''}> Send me ${escapeHtml(p.channel)} messages</label><fieldset><legend>Topics</legend>${topics}</fieldset><input type="hidden" name="topics" value="${escapeHtml(p.topics.map((t) => t.topic).join(','))}"><button type="submit">Save</button></form>`);
    },
  });
  routes.add({
    method: 'POST', url: '/t/p/:token', summary: 'Save the preference page', tag: 'Tracking links', auth: 'none', params: Token,
    body: z.record(z.string(), z.string().max(10_000)),
    handler: async ({ params, body, reply }) => {
      const names = (body.topics ?? '').split(',').filter((t) => t.length > 0 && t.length <= 100).slice(0, 100);
      const r = await tend.tracking.savePreferences(params.token, { subscribed: body.subscribed === 'on', topics: Object.fromEntries(names.map((t) => [t, body[`topic:${t}`] === 'on'])) });
      return r.ok ? page(reply, 200, 'Saved', '<p>Your preferences are saved.</p>') : invalidLink(reply);
    },
  });
};
