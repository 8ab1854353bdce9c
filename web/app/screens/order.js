// One order with its items and its customer.
import { html, mount } from '../lib/html.js';
import { pageHeader, loading, errorBox, empty, statusBadge } from '../lib/ui.js';
import { formatDate, formatMoney } from '../lib/format.js';
import { toHash } from '../lib/router.js';

export default {
  path: '/orders/:orderId',
  nav: 'orders',
  title: 'Order',
  async render(view, { api, params, setTitle }) {
    const back = { href: '#/orders', label: 'Orders' };
    mount(view, html`${pageHeader(`Order ${params.orderId}`, { back })}${loading()}`);
    let o;
    try {
      o = await api.get(`/api/orders/${encodeURIComponent(params.orderId)}`);
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      return mount(view, html`${pageHeader(`Order ${params.orderId}`, { back })}${error.status === 404 ? empty('There is no such order', 'It may belong to a contact who was erased.') : errorBox(error, 'This order could not be loaded')}`);
    }
    setTitle(`Order ${o.orderId}`);
    const subtotal = o.items.reduce((sum, i) => sum + Number(i.unitPrice) * i.quantity, 0);
    mount(view, html`${pageHeader(`Order ${o.orderId}`, { back, subtitle: html`${statusBadge(o.status)} <span class="muted">${formatDate(o.orderedAt)}</span>` })}
      <div class="detail-grid">
        <div class="detail-side">
          <section class="card" data-section="customer"><div class="card-header"><h2>Customer</h2></div>
            <dl class="kv">
              <dt>Contact</dt><dd><a href="${toHash(`/contacts/${o.contactId}`)}">${o.email ?? o.userId ?? `Contact #${o.contactId}`}</a></dd>
              <dt>User id</dt><dd>${o.userId ? html`<code>${o.userId}</code>` : '—'}</dd>
            </dl></section>
          <section class="card" data-section="totals"><div class="card-header"><h2>Totals</h2></div>
            <dl class="kv">
              <dt>Items</dt><dd class="num">${formatMoney(subtotal, o.currency)}</dd>
              ${o.discount ? html`<dt>Discount</dt><dd class="num">−${formatMoney(o.discount, o.currency)}</dd>` : ''}
              ${o.coupon ? html`<dt>Coupon</dt><dd><code>${o.coupon}</code></dd>` : ''}
              <dt>Total</dt><dd class="num"><strong>${formatMoney(o.total, o.currency)}</strong></dd>
            </dl></section>
        </div>
        <div class="detail-main">
          <section class="card" data-section="items"><div class="card-header"><h2>Items</h2><span class="muted small">${o.items.length}</span></div>
            ${o.items.length === 0 ? html`<p class="muted pad">This order has no items.</p>` : html`<table class="table">
              <thead><tr><th>Product</th><th class="num">Quantity</th><th class="num">Unit price</th><th class="num">Line total</th></tr></thead>
              <tbody>${o.items.map((i) => html`<tr>
                <td><strong>${i.name ?? i.sku}</strong><div class="muted small"><code>${i.sku}</code></div></td>
                <td class="num">${i.quantity}</td>
                <td class="num">${formatMoney(i.unitPrice, o.currency)}</td>
                <td class="num">${formatMoney(Number(i.unitPrice) * i.quantity, o.currency)}</td>
              </tr>`)}</tbody></table>`}
          </section>
        </div>
      </div>`);
  },
};
