// Contacts: search by name, email, phone or user id; page through newest first.
import { html, mount } from '../lib/html.js';
import { pageHeader, loading, errorBox, empty, time, badge, emailBadges, pager, clickableRows, debounce, turns } from '../lib/ui.js';
import { contactLabel, personName } from '../lib/format.js';
import { icon } from '../lib/icons.js';
import { toHash } from '../lib/router.js';

const LIMIT = 50;

function row(c) {
  const href = toHash(`/contacts/${c.id}`);
  const name = personName(c);
  return html`<tr data-href="${href}">
    <td>
      <a class="contact-link" href="${href}"><span class="avatar">${(contactLabel(c)[0] ?? '?').toUpperCase()}</span>
      <span><strong>${name ?? (c.userId ? c.userId : `Anonymous visitor #${c.id}`)}</strong>
      ${name && c.userId ? html`<span class="muted small block">${c.userId}</span>` : ''}</span></a>
    </td>
    <td>${c.email ? html`<span class="email">${c.email}</span> ${emailBadges(c.emailCheck)}` : html`<span class="muted">—</span>`}</td>
    <td>${c.userId ? badge('Known', 'good') : badge('Anonymous')}</td>
    <td class="muted">${c.timezone ?? '—'}</td>
    <td class="nowrap">${time(c.lastSeenAt)}</td>
  </tr>`;
}

export default {
  path: '/contacts',
  nav: 'contacts',
  title: 'Contacts',
  menu: { group: 'Audience', label: 'Contacts', icon: 'contacts' },
  async render(view, { api, query, setQuery }) {
    mount(view, html`${pageHeader('Contacts', { subtitle: 'Everyone your shop has seen, known and anonymous' })}
      <div class="toolbar">
        <label class="search">${icon('search', 16)}<input type="search" name="q" placeholder="Search by name, email, phone or user id" value="${query.q ?? ''}" aria-label="Search contacts" autocomplete="off"></label>
      </div>
      <div class="results">${loading()}</div>`);
    const results = view.querySelector('.results');
    const input = view.querySelector('input[name=q]');
    const turn = turns();
    // Cursors of the pages before this one, so "Newer" can go back without the server's help.
    let previous = query.before ? [undefined] : [];
    let state = { q: query.q ?? '', before: query.before ? Number(query.before) : undefined, next: null };

    async function load() {
      setQuery({ q: state.q, before: state.before });
      const current = turn();
      try {
        const { contacts, next } = await api.get('/api/contacts', { q: state.q, before: state.before, limit: LIMIT });
        if (!current()) return;
        state.next = contacts.length === LIMIT ? next : null;
        mount(results, contacts.length === 0
          ? empty(state.q ? `No contacts match “${state.q}”` : 'No contacts yet', state.q ? 'Search looks at names, email addresses, phone numbers and user ids.' : 'Contacts appear when your shop sends identify, track or page calls.')
          : html`<div class="card"><table class="table">
              <thead><tr><th>Contact</th><th>Email</th><th>Status</th><th>Time zone</th><th>Last seen</th></tr></thead>
              <tbody>${contacts.map(row)}</tbody></table></div>
              ${pager({ hasPrevious: previous.length > 0, hasNext: state.next !== null })}`);
      } catch (error) {
        if (error.name !== 'AbortError' && current()) mount(results, errorBox(error, 'Contacts could not be loaded'));
      }
    }

    input.addEventListener('input', debounce(() => {
      state = { q: input.value.trim(), before: undefined, next: null };
      previous = [];
      load();
    }));
    results.addEventListener('click', (event) => {
      const button = event.target.closest('[data-page]');
      if (!button) return;
      if (button.dataset.page === 'next') {
        previous.push(state.before);
        state.before = state.next;
      } else {
        state.before = previous.pop();
      }
      load();
    });
    clickableRows(results);
    await load();
  },
};
