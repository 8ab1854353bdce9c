// Orders: newest first; a row opens the order with its items.
import { html, mount } from '../lib/html.js';
import { pageHeader, loading, errorBox, empty, statusBadge, pager, clickableRows, time } from '../lib/ui.js';
import { formatMoney } from '../lib/format.js';
import { toHash } from '../lib/router.js';

const LIMIT = 50;

function row(o) {
  const href = toHash(`/orders/${encodeURIComponent(o.orderId)}`);
  return html`<tr data-href="${href}">
    <td><a href="${href}"><strong>${o.orderId}</strong></a></td>
    <td><a href="${toHash(`/contacts/${o.contactId}`)}">${o.email ?? o.userId ?? `Contact #${o.contactId}`}</a></td>
    <td>${statusBadge(o.status)}</td>
    <td class="muted">${o.coupon ? html`<code>${o.coupon}</code>` : '—'}</td>
    <td class="num"><strong>${formatMoney(o.total, o.currency)}</strong></td>
    <td class="nowrap">${time(o.orderedAt)}</td>
  </tr>`;
}

export default {
  path: '/orders',
  nav: 'orders',
  title: 'Orders',
  menu: { group: 'Commerce', label: 'Orders', icon: 'orders' },
  async render(view, { api }) {
    mount(view, html`${pageHeader('Orders', { subtitle: 'Completed, refunded and cancelled orders, newest first' })}<div class="results">${loading()}</div>`);
    const results = view.querySelector('.results');
    const previous = [];
    let before;
    let next = null;

    async function load() {
      try {
        const { orders } = await api.get('/api/orders', { before, limit: LIMIT });
        next = orders.length === LIMIT ? orders[orders.length - 1].orderedAt : null;
        mount(results, orders.length === 0
          ? empty('No orders yet', 'Orders appear when your shop sends “Order Completed” events or imports its order history.')
          : html`<div class="card"><table class="table">
              <thead><tr><th>Order</th><th>Customer</th><th>Status</th><th>Coupon</th><th class="num">Total</th><th>Ordered</th></tr></thead>
              <tbody>${orders.map(row)}</tbody></table></div>
              ${pager({ hasPrevious: previous.length > 0, hasNext: next !== null })}`);
      } catch (error) {
        if (error.name !== 'AbortError') mount(results, errorBox(error, 'Orders could not be loaded'));
      }
    }
    results.addEventListener('click', (event) => {
      const button = event.target.closest('[data-page]');
      if (!button) return;
      if (button.dataset.page === 'next') {
        previous.push(before);
        before = next;
      } else {
        before = previous.pop();
      }
      load();
    });
    clickableRows(results);
    await load();
  },
};
