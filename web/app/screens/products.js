// Products: the catalog, searchable by sku or name and filtered by category.
import { html, mount, safeUrl } from '../lib/html.js';
import { pageHeader, loading, errorBox, empty, time, pager, debounce, turns } from '../lib/ui.js';
import { formatMoney } from '../lib/format.js';
import { icon } from '../lib/icons.js';

const LIMIT = 50;

function row(p) {
  const url = safeUrl(p.url);
  const links = [p.relatedSkus.length ? `${p.relatedSkus.length} related` : '', p.upgradeSkus.length ? `${p.upgradeSkus.length} upgrades` : ''].filter(Boolean);
  return html`<tr>
    <td><strong>${p.name}</strong>${url ? html` <a class="external" href="${url}" target="_blank" rel="noopener noreferrer" title="Open in the shop">↗</a>` : ''}<div class="muted small"><code>${p.sku}</code></div></td>
    <td>${p.category ?? html`<span class="muted">—</span>`}</td>
    <td class="num">${formatMoney(p.price, p.currency)}</td>
    <td class="num">${p.lifetimeDays ? `${p.lifetimeDays} days` : '—'}</td>
    <td class="muted small">${links.join(' · ') || '—'}</td>
    <td class="nowrap">${time(p.updatedAt)}</td>
  </tr>`;
}

export default {
  path: '/products',
  nav: 'products',
  title: 'Products',
  menu: { group: 'Commerce', label: 'Products', icon: 'products' },
  async render(view, { api, query, setQuery }) {
    mount(view, html`${pageHeader('Products', { subtitle: 'Your catalog, as imported or learnt from e-commerce events' })}
      <div class="toolbar">
        <label class="search">${icon('search', 16)}<input type="search" name="q" placeholder="Search by name or SKU" value="${query.q ?? ''}" aria-label="Search products" autocomplete="off"></label>
        <select name="category" aria-label="Category"><option value="">All categories</option></select>
      </div>
      <div class="results">${loading()}</div>`);
    const results = view.querySelector('.results');
    const input = view.querySelector('input[name=q]');
    const select = view.querySelector('select[name=category]');
    const turn = turns();
    let previous = [];
    let state = { q: query.q ?? '', category: query.category ?? '', after: undefined, next: null };

    // The category list comes from the catalog itself (up to 1,000 products).
    api.get('/api/products', { limit: 1000 }).then(({ products }) => {
      const categories = [...new Set([...products.map((p) => p.category), state.category].filter(Boolean))].sort();
      mount(select, html`<option value="">All categories</option>${categories.map((c) => html`<option value="${c}">${c}</option>`)}`);
      select.value = state.category;
    }, () => {});

    async function load() {
      setQuery({ q: state.q, category: state.category });
      const current = turn();
      try {
        const { products } = await api.get('/api/products', { q: state.q, category: state.category, after: state.after, limit: LIMIT });
        if (!current()) return;
        state.next = products.length === LIMIT ? products[products.length - 1].sku : null;
        const filtered = state.q || state.category;
        mount(results, products.length === 0
          ? empty(filtered ? 'No products match' : 'No products yet', filtered ? 'Try another search or category.' : 'Import a catalog with `tend import products`, or send “Product Viewed” and “Product Added” events.')
          : html`<div class="card"><table class="table">
              <thead><tr><th>Product</th><th>Category</th><th class="num">Price</th><th class="num">Lasts</th><th>Cross-sell</th><th>Updated</th></tr></thead>
              <tbody>${products.map(row)}</tbody></table></div>
              ${pager({ hasPrevious: previous.length > 0, hasNext: state.next !== null })}`);
      } catch (error) {
        if (error.name !== 'AbortError' && current()) mount(results, errorBox(error, 'Products could not be loaded'));
      }
    }
    const restart = () => {
      state = { q: input.value.trim(), category: select.value, after: undefined, next: null };
      previous = [];
      load();
    };
    input.addEventListener('input', debounce(restart));
    select.addEventListener('change', restart);
    results.addEventListener('click', (event) => {
      const button = event.target.closest('[data-page]');
      if (!button) return;
      if (button.dataset.page === 'next') {
        previous.push(state.after);
        state.after = state.next;
      } else {
        state.after = previous.pop();
      }
      load();
    });
    await load();
  },
};
