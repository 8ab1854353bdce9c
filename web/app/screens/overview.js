// Overview: the workspace in numbers and its latest activity.
import { html, mount } from '../lib/html.js';
import { pageHeader, loading, errorBox, empty, statusBadge, clickableRows } from '../lib/ui.js';
import { formatNumber, formatMoney } from '../lib/format.js';
import { eventRows } from './events.js';
import { toHash } from '../lib/router.js';

const stat = (label, value, hint, href) => html`<a class="stat" href="${href}" data-stat="${label}">
  <span class="stat-label">${label}</span><span class="stat-value">${value}</span><span class="stat-hint">${hint}</span>
</a>`;

export default {
  path: '/',
  nav: 'overview',
  title: 'Overview',
  menu: { group: 'Workspace', label: 'Overview', icon: 'overview' },
  async render(view, { api }) {
    mount(view, html`${pageHeader('Overview', { subtitle: 'Your shop at a glance' })}${loading()}`);
    let stats, events, orders;
    try {
      [stats, { events }, { orders }] = await Promise.all([api.get('/api/stats'), api.get('/api/events', { limit: 10 }), api.get('/api/orders', { limit: 6 })]);
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      return mount(view, html`${pageHeader('Overview')}${errorBox(error, 'The overview could not be loaded')}`);
    }
    const currency = orders[0]?.currency ?? null;
    const anonymous = stats.contacts - stats.knownContacts;
    mount(view, html`${pageHeader('Overview', { subtitle: 'Your shop at a glance' })}
      <section class="stats">
        ${stat('Contacts', formatNumber(stats.contacts), `${formatNumber(anonymous)} anonymous`, '#/contacts')}
        ${stat('Known contacts', formatNumber(stats.knownContacts), 'with a user id', '#/contacts')}
        ${stat('Events', formatNumber(stats.events), 'tracked in total', '#/events')}
        ${stat('Orders', formatNumber(stats.orders), 'completed', '#/orders')}
        ${stat('Revenue', formatMoney(stats.revenue, currency), 'from completed orders', '#/orders')}
        ${stat('Open carts', formatNumber(stats.openCarts), 'not yet bought', '#/orders')}
        ${stat('Products', formatNumber(stats.products), 'in the catalog', '#/products')}
      </section>
      <div class="columns">
        <section class="card" data-section="latest-events">
          <div class="card-header"><h2>Latest events</h2><a href="#/events">All events →</a></div>
          ${events.length === 0
            ? empty('No events yet', html`Send data to <code>/v1</code> with your write key, or add <code>tend.js</code> to your shop.`)
            : html`<table class="table table-compact"><tbody>${eventRows(events)}</tbody></table>`}
        </section>
        <section class="card" data-section="latest-orders">
          <div class="card-header"><h2>Latest orders</h2><a href="#/orders">All orders →</a></div>
          ${orders.length === 0
            ? empty('No orders yet', 'Orders appear when your shop sends “Order Completed” events.')
            : html`<table class="table table-compact"><tbody>${orders.map((o) => html`<tr data-href="${toHash(`/orders/${encodeURIComponent(o.orderId)}`)}">
                <td><a href="${toHash(`/orders/${encodeURIComponent(o.orderId)}`)}">${o.orderId}</a><div class="muted small">${o.email ?? o.userId ?? ''}</div></td>
                <td>${statusBadge(o.status)}</td>
                <td class="num">${formatMoney(o.total, o.currency)}</td>
              </tr>`)}</tbody></table>`}
        </section>
      </div>`);
    clickableRows(view);
  },
};
