// Messages: what the journeys sent, newest first, and each message as it went out (the outbox
// keeps the rendered copy). An email is shown in an iframe with `sandbox=""` and `srcdoc`: no
// script runs in it, it has an origin of its own, and its markup never enters this page.
import { html, mount } from '../lib/html.js';
import { pageHeader, loading, errorBox, empty, time, badge } from '../lib/ui.js';
import { formatDate } from '../lib/format.js';
import { toHash } from '../lib/router.js';
import { journeyHref } from './journey-kit.js';

const LIMIT = 100;
const tones = { sent: 'good', queued: 'info', sending: 'info', failed: 'bad', cancelled: 'neutral' };

// Inside the preview nothing is fetched (images, fonts: the open pixel must not count the
// marketer's look as an open) and links cannot be followed (a click would count too).
const PREVIEW_HEAD = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'"><base target="_blank">`;

/**
 * The email's HTML as the iframe's document: the preview's restrictions in its head, and images
 * unloaded (their `src` renamed, so the browser neither fetches them nor reports a blocked load).
 */
export function previewDocument(source) {
  const text = String(source ?? '').replace(/<img\b[^>]*>/gi, (tag) => tag.replace(/\s(src|srcset)=/gi, ' data-preview-$1='));
  const head = /<head\b[^>]*>/i.exec(text);
  return head ? text.slice(0, head.index + head[0].length) + PREVIEW_HEAD + text.slice(head.index + head[0].length) : PREVIEW_HEAD + text;
}

function row(m, journeys, selected) {
  const j = m.journeyId ? journeys.get(Number(m.journeyId)) : null;
  return html`<tr data-message="${m.id}" class="${String(m.id) === String(selected) ? 'selected' : ''}">
    <td class="nowrap">${time(m.createdAt)}</td>
    <td class="truncate"><a href="${toHash(`/contacts/${m.contactId}`)}">${m.address}</a></td>
    <td class="truncate">${j ? html`<a href="${journeyHref(j.id)}">${j.name}</a>` : html`<span class="muted">—</span>`}<span class="muted small block">${m.stepId ?? ''}${m.variant ? ` · ${m.variant}` : ''}</span></td>
    <td>${badge(m.status, tones[m.status] ?? 'neutral')}<span class="muted small block">${m.channel}${m.transactional ? ' · transactional' : ''}</span></td>
  </tr>`;
}

function details(m) {
  const p = m.rendered;
  const field = (label, value) => (value ? html`<dt>${label}</dt><dd>${value}</dd>` : '');
  const meta = html`<dl class="kv kv-compact message-meta">
    ${field('Status', html`${badge(m.status, tones[m.status] ?? 'neutral')}${m.error ? html` <span class="muted small">${m.error}</span>` : ''}`)}
    ${field('To', m.address)}
    ${field('From', p?.from)}
    ${field('Sent', m.sentAt ? formatDate(m.sentAt) : null)}
    ${field('Variant', m.variant)}
    ${field('Provider', m.provider)}
  </dl>`;
  if (!p) return html`${meta}<p class="muted pad">No rendered copy: the outbox keeps one only for messages it delivered (other providers send them on).</p>`;
  switch (m.channel) {
    case 'email':
      return html`<div class="message-subject" data-subject>${p.subject}</div>${meta}
        <div class="tabs" role="tablist"><button type="button" class="tab" role="tab" aria-selected="true" data-tab="html">Email</button><button type="button" class="tab" role="tab" aria-selected="false" data-tab="text">Plain text</button></div>
        <div class="email-preview" data-pane="html"></div>
        <pre class="email-text" data-pane="text" hidden>${p.text}</pre>
        <p class="muted small pad">Images are not loaded and links do not open in this preview.</p>`;
    case 'sms': return html`${meta}<pre class="message-body">${p.body}</pre>`;
    case 'push': return html`<div class="message-subject">${p.notification?.title}</div>${meta}<pre class="message-body">${p.notification?.body}</pre>`;
    case 'print': return html`${meta}${p.headline ? html`<div class="message-subject">${p.headline}</div>` : ''}<pre class="message-body">${p.body}</pre>`;
    default: return html`${meta}<pre class="message-body">${typeof p.body === 'string' ? p.body : JSON.stringify(p, null, 2)}</pre>`;
  }
}

export default {
  path: '/messages',
  nav: 'messages',
  title: 'Messages',
  menu: { group: 'Automation', label: 'Messages', icon: 'messages' },
  async render(view, { api, query, setQuery }) {
    const journeyId = query.journey ? Number(query.journey) : undefined;
    let selected = query.message ?? null;
    const header = (journey) => pageHeader('Messages', {
      subtitle: journey ? html`Sent by <a href="${journeyHref(journey.id)}">${journey.name}</a> · <a href="#/messages">all messages</a>` : 'What your journeys sent, newest first',
      back: journey ? { href: journeyHref(journey.id), label: journey.name } : undefined,
    });
    mount(view, html`${header(null)}${loading()}`);
    let messages, journeys;
    try {
      [{ messages }, { journeys }] = await Promise.all([api.get('/api/messages', { journeyId, limit: LIMIT }), api.get('/api/journeys')]);
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      return mount(view, html`${header(null)}${errorBox(error, 'Messages could not be loaded')}`);
    }
    const byId = new Map(journeys.map((j) => [j.id, j]));
    const journey = journeyId ? byId.get(journeyId) : null;
    mount(view, html`${header(journey)}${messages.length === 0
      ? html`<div class="card">${empty('No messages yet', html`Messages appear when a published journey sends one. Install a care model from the <a href="#/blueprints">blueprints</a> to start.`)}</div>`
      : html`<div class="messages-layout">
          <div class="card"><table class="table table-compact messages-table">
            <thead><tr><th>When</th><th>To</th><th>Journey · step</th><th>Status</th></tr></thead>
            <tbody>${messages.map((m) => row(m, byId, selected))}</tbody></table></div>
          <aside class="card message-panel" data-section="message" aria-live="polite"><div class="state empty"><strong>Choose a message</strong><p>to see it as it was sent.</p></div></aside>
        </div>`}`);
    const panel = view.querySelector('[data-section=message]');
    if (!panel) return;

    async function show(id) {
      selected = id;
      setQuery({ journey: journeyId, message: id });
      for (const tr of view.querySelectorAll('tr[data-message]')) tr.classList.toggle('selected', tr.dataset.message === String(id));
      mount(panel, loading('Loading the message'));
      try {
        const m = await api.get(`/api/messages/${encodeURIComponent(id)}`);
        if (selected !== id) return;
        mount(panel, html`<div class="card-header"><h2>Message #${m.id}</h2><span class="muted small">${time(m.createdAt)}</span></div>${details(m)}`);
        const host = panel.querySelector('.email-preview');
        if (host) {
          // Built as a DOM node: the email's HTML goes into srcdoc as a property, never through markup.
          const frame = document.createElement('iframe');
          frame.setAttribute('sandbox', '');
          frame.setAttribute('referrerpolicy', 'no-referrer');
          frame.title = `Email: ${m.rendered.subject}`;
          frame.className = 'email-frame';
          frame.srcdoc = previewDocument(m.rendered.html);
          host.append(frame);
        }
      } catch (error) {
        if (error.name !== 'AbortError' && selected === id) mount(panel, html`<div class="pad">${errorBox(error, 'The message could not be loaded')}</div>`);
      }
    }

    view.addEventListener('click', (event) => {
      const tab = event.target.closest('[data-tab]');
      if (tab) {
        for (const t of panel.querySelectorAll('[data-tab]')) t.setAttribute('aria-selected', String(t === tab));
        for (const pane of panel.querySelectorAll('[data-pane]')) pane.hidden = pane.dataset.pane !== tab.dataset.tab;
        return;
      }
      const tr = event.target.closest('tr[data-message]');
      if (tr && !event.target.closest('a')) show(tr.dataset.message);
    });
    if (selected) show(selected);
  },
};
