// A contact: profile and email check, segments, traits, consent, anonymous ids, orders and carts
// with their items, the event timeline; GDPR export and erase.
import { html, mount } from '../lib/html.js';
import { pageHeader, loading, errorBox, empty, time, badge, statusBadge, emailBadges, confirmDialog, toast } from '../lib/ui.js';
import { contactLabel, formatDate, formatMoney, formatNumber, display } from '../lib/format.js';
import { icon } from '../lib/icons.js';
import { toHash } from '../lib/router.js';
import { eventDetail } from './events.js';

const EVENTS_PAGE = 50;
const ORDERS_WITH_ITEMS = 20;

function profile(c) {
  const check = c.emailCheck;
  const field = (label, value) => html`<dt>${label}</dt><dd>${value ?? html`<span class="muted">—</span>`}</dd>`;
  return html`<section class="card" data-section="profile"><div class="card-header"><h2>Profile</h2></div>
    <dl class="kv">
      ${field('User id', c.userId ? html`<code>${c.userId}</code>` : null)}
      ${field('Email', c.email ? html`<div class="email">${c.email}</div><div class="badges">${emailBadges(check)}</div>
        ${check?.suggestion ? html`<div class="suggestion">Did you mean <strong>${check.suggestion}</strong>?</div>` : ''}` : null)}
      ${field('Phone', c.phone)}
      ${field('Time zone', c.timezone)}
      ${field('Locale', c.locale)}
      ${field('First seen', formatDate(c.firstSeenAt))}
      ${field('Last seen', formatDate(c.lastSeenAt))}
    </dl></section>`;
}

/** The segments the contact is in now; `list` is an error when they could not be loaded. */
function segments(list) {
  return html`<section class="card" data-section="segments"><div class="card-header"><h2>Segments</h2>${Array.isArray(list) ? html`<span class="muted small">${list.length}</span>` : ''}</div>
    ${!Array.isArray(list) ? html`<div class="pad">${errorBox(list, 'Segments could not be loaded')}</div>`
      : list.length === 0 ? html`<p class="muted pad">Not in any segment.</p>`
      : html`<ul class="segment-memberships">${list.map((s) => html`<li><a href="${toHash(`/segments/${s.id}`)}">${s.name}</a><span class="muted small">entered ${time(s.enteredAt)}</span></li>`)}</ul>`}
  </section>`;
}

function traits(c) {
  const entries = Object.entries(c.traits ?? {});
  return html`<section class="card" data-section="traits"><div class="card-header"><h2>Traits</h2><span class="muted small">${entries.length}</span></div>
    ${entries.length === 0 ? html`<p class="muted pad">No traits yet.</p>`
      : html`<dl class="kv traits">${entries.map(([k, v]) => html`<dt title="${k}">${k}</dt><dd><pre>${display(v)}</pre></dd>`)}</dl>`}
  </section>`;
}

function consent(c) {
  return html`<section class="card" data-section="consent"><div class="card-header"><h2>Consent</h2></div>
    ${c.consent.length === 0 ? html`<p class="muted pad">No consent recorded: only transactional messages may be sent.</p>`
      : html`<table class="table table-compact"><thead><tr><th>Channel</th><th>Topic</th><th>Status</th><th>Source</th></tr></thead><tbody>
        ${c.consent.map((x) => html`<tr><td>${x.channel}</td><td>${x.topic}</td><td>${x.granted ? badge('Granted', 'good') : badge('Refused', 'bad')}</td>
          <td class="muted small">${x.source}<br>${time(x.updatedAt)}</td></tr>`)}</tbody></table>`}
  </section>`;
}

function anonymousIds(c) {
  return html`<section class="card" data-section="anonymous-ids"><div class="card-header"><h2>Anonymous ids</h2><span class="muted small">${c.anonymousIds.length}</span></div>
    ${c.anonymousIds.length === 0 ? html`<p class="muted pad">None: this profile has not been merged with anonymous activity.</p>`
      : html`<div class="chips">${c.anonymousIds.map((id) => html`<code class="chip">${id}</code>`)}</div>`}
  </section>`;
}

/** Items of an order or a cart; the product column only when the items carry names. */
function items(list, currency) {
  const named = list.some((i) => i.name);
  return html`<table class="table table-compact items"><thead><tr><th>SKU</th>${named ? html`<th>Product</th>` : ''}<th class="num">Qty</th><th class="num">Price</th></tr></thead><tbody>
    ${list.map((i) => html`<tr><td><code>${i.sku}</code></td>${named ? html`<td>${i.name ?? '—'}</td>` : ''}<td class="num">${i.quantity}</td><td class="num">${formatMoney(i.unitPrice ?? i.unit_price, currency)}</td></tr>`)}
  </tbody></table>`;
}

function orders(list, details) {
  return html`<section class="card" data-section="orders"><div class="card-header"><h2>Orders</h2><span class="muted small">${list.length}</span></div>
    ${list.length === 0 ? html`<p class="muted pad">No orders yet.</p>` : list.map((o) => {
      const d = details.get(o.orderId);
      const href = toHash(`/orders/${encodeURIComponent(o.orderId)}`);
      return html`<div class="order">
        <div class="order-head"><a href="${href}"><strong>${o.orderId}</strong></a> ${statusBadge(o.status)}
          <span class="muted small">${formatDate(o.orderedAt)}</span><span class="spacer"></span><strong class="num">${formatMoney(o.total, o.currency)}</strong></div>
        ${d?.items?.length ? items(d.items, o.currency) : ''}
      </div>`;
    })}
  </section>`;
}

function carts(list) {
  return html`<section class="card" data-section="carts"><div class="card-header"><h2>Carts</h2><span class="muted small">${list.length}</span></div>
    ${list.length === 0 ? html`<p class="muted pad">No carts.</p>` : list.map((c) => html`<div class="order">
      <div class="order-head"><strong>${c.cartId}</strong> ${statusBadge(c.status)} <span class="muted small">updated ${time(c.updatedAt)}</span>
        ${c.orderId ? html`<span class="spacer"></span><span class="small">became order <a href="${toHash(`/orders/${encodeURIComponent(c.orderId)}`)}">${c.orderId}</a></span>` : ''}</div>
      ${c.items.length ? items(c.items) : html`<p class="muted small">Empty</p>`}
    </div>`)}
  </section>`;
}

async function download(api, c) {
  const data = await api.get(`/api/contacts/${c.id}/export`);
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: `tend-contact-${c.id}-export.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export default {
  path: '/contacts/:id',
  nav: 'contacts',
  title: 'Contact',
  async render(view, { api, params, setTitle }) {
    const back = { href: '#/contacts', label: 'Contacts' };
    mount(view, html`${pageHeader('Contact', { back })}${loading()}`);
    const id = Number(params.id);
    let c, commerce, events, memberships;
    try {
      [c, commerce, { events }, memberships] = await Promise.all([
        api.get(`/api/contacts/${encodeURIComponent(params.id)}`),
        api.get(`/api/contacts/${encodeURIComponent(params.id)}/orders`),
        api.get(`/api/contacts/${encodeURIComponent(params.id)}/events`, { limit: EVENTS_PAGE }),
        // Segments that cannot be loaded show as an error in their panel, not over the whole page.
        api.get(`/api/contacts/${encodeURIComponent(params.id)}/segments`).then((r) => r.segments, (error) => (error.name === 'AbortError' ? Promise.reject(error) : error)),
      ]);
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      const gone = error.status === 404 || error.status === 400;
      return mount(view, html`${pageHeader('Contact', { back })}${gone ? empty(`There is no contact #${params.id}`, 'It may have been erased, or merged into another profile.') : errorBox(error, 'This contact could not be loaded')}`);
    }
    const details = new Map();
    await Promise.all(commerce.orders.slice(0, ORDERS_WITH_ITEMS).map(async (o) => details.set(o.orderId, await api.get(`/api/orders/${encodeURIComponent(o.orderId)}`).catch(() => null))));

    const label = contactLabel(c);
    setTitle(label);
    mount(view, html`${pageHeader(label, {
      back,
      subtitle: html`${c.userId ? badge('Known', 'good') : badge('Anonymous')} <span class="muted">Contact #${c.id}${c.userId ? html` · user id <code>${c.userId}</code>` : ''}</span>`,
      actions: html`<button type="button" class="button" data-action="export">${icon('download', 16)} Export data</button>
        <button type="button" class="button button-danger-outline" data-action="erase">${icon('trash', 16)} Erase contact</button>`,
    })}
      <div class="summary-strip">
        <div><span class="stat-label">Orders</span><strong>${formatNumber(c.orderCount)}</strong></div>
        <div><span class="stat-label">Total spent</span><strong>${formatMoney(c.totalSpent, commerce.orders[0]?.currency)}</strong></div>
        <div><span class="stat-label">First seen</span><strong>${time(c.firstSeenAt)}</strong></div>
        <div><span class="stat-label">Last seen</span><strong>${time(c.lastSeenAt)}</strong></div>
      </div>
      <div class="detail-grid">
        <div class="detail-side">${profile(c)}${segments(memberships)}${consent(c)}${anonymousIds(c)}${traits(c)}</div>
        <div class="detail-main">${orders(commerce.orders, details)}${carts(commerce.carts)}
          <section class="card" data-section="activity"><div class="card-header"><h2>Activity</h2></div>
            <ul class="timeline"></ul>
            <div class="timeline-more"></div>
          </section>
        </div>
      </div>`);

    const timeline = view.querySelector('.timeline');
    const more = view.querySelector('.timeline-more');
    const shown = new Set();
    let oldest = null;
    const add = (list) => {
      const fresh = list.filter((e) => !shown.has(e.id));
      for (const e of fresh) shown.add(e.id);
      timeline.insertAdjacentHTML('beforeend', html`${fresh.map(eventDetail)}`.text);
      if (list.length > 0) oldest = list[list.length - 1].occurredAt;
      return fresh.length;
    };
    const showMore = (full) =>
      mount(more, full ? html`<button type="button" class="button" data-action="more">Load older events</button>` : shown.size === 0 ? empty('No events yet') : '');
    // Several events can share one time (a batch), so the next page starts at the oldest time shown,
    // inclusive, and the overlap is dropped by id. Only a full page of one instant steps past it.
    const olderEvents = async () => {
      const inclusive = new Date(new Date(oldest).getTime() + 1).toISOString();
      let page = (await api.get(`/api/contacts/${id}/events`, { limit: EVENTS_PAGE, before: inclusive })).events;
      if (add(page) === 0 && page.length === EVENTS_PAGE) {
        page = (await api.get(`/api/contacts/${id}/events`, { limit: EVENTS_PAGE, before: oldest })).events;
        add(page);
      }
      showMore(page.length === EVENTS_PAGE);
    };
    add(events);
    showMore(events.length === EVENTS_PAGE);

    view.addEventListener('click', async (event) => {
      const action = event.target.closest('[data-action]')?.dataset.action;
      if (action === 'more') {
        event.target.closest('button').disabled = true;
        try {
          await olderEvents();
        } catch (error) {
          if (error.name !== 'AbortError') mount(more, errorBox(error, 'Older events could not be loaded'));
        }
      } else if (action === 'export') {
        try {
          await download(api, c);
          toast('Export downloaded');
        } catch (error) {
          if (error.name !== 'AbortError') toast(`Export failed: ${error.message}`, 'bad');
        }
      } else if (action === 'erase') {
        const ok = await confirmDialog({
          title: `Erase ${label}?`,
          body: html`<p>This permanently deletes the profile, its events, orders, carts, consent and anonymous ids (GDPR right to erasure).</p><p><strong>It cannot be undone.</strong> Export the data first if you need a copy.</p>`,
          confirm: 'Erase permanently',
        });
        if (!ok) return;
        try {
          await api.delete(`/api/contacts/${id}`);
          toast(`${label} was erased`);
          location.hash = '#/contacts';
        } catch (error) {
          if (error.name !== 'AbortError') toast(`Erase failed: ${error.message}`, 'bad');
        }
      }
    });
  },
};
