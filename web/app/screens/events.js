// Events: the workspace's most recent events, optionally of one name.
import { html, mount } from '../lib/html.js';
import { pageHeader, loading, errorBox, empty, time, badge, clickableRows, debounce, turns } from '../lib/ui.js';
import { icon } from '../lib/icons.js';
import { eventLabel, summarize, display } from '../lib/format.js';
import { toHash } from '../lib/router.js';

const LIMIT = 100;

/** Table rows for events; a row opens the contact who did it. */
export function eventRows(events, { withContact = true } = {}) {
  return events.map((e) => {
    const contact = e.contactId ? toHash(`/contacts/${e.contactId}`) : null;
    return html`<tr ${contact ? html`data-href="${contact}"` : ''}>
      <td class="nowrap">${time(e.occurredAt)}</td>
      <td><span class="event-name">${eventLabel(e)}</span> ${badge(e.type)}</td>
      ${withContact ? html`<td class="truncate">${contact ? html`<a href="${contact}">${e.userId ?? `Visitor #${e.contactId}`}</a>` : '—'}</td>` : ''}
      <td class="muted truncate props">${summarize(e.properties, 3)}</td>
    </tr>`;
  });
}

/** One event with all of its properties, for timelines. */
export function eventDetail(e) {
  const entries = Object.entries(e.properties ?? {});
  return html`<li class="timeline-item">
    <div class="timeline-dot timeline-${e.type}"></div>
    <div class="timeline-body">
      <div class="timeline-head"><span class="event-name">${eventLabel(e)}</span> ${badge(e.type)} <span class="muted small">${time(e.occurredAt)}</span></div>
      ${entries.length > 0
        ? html`<details><summary class="muted small">${summarize(e.properties, 3)}</summary>
            <dl class="kv kv-compact">${entries.map(([k, v]) => html`<dt>${k}</dt><dd><pre>${display(v)}</pre></dd>`)}</dl></details>`
        : ''}
    </div>
  </li>`;
}

export default {
  path: '/events',
  nav: 'events',
  title: 'Events',
  menu: { group: 'Audience', label: 'Events', icon: 'events' },
  async render(view, { api, query, setQuery }) {
    mount(view, html`${pageHeader('Events', { subtitle: `The latest ${LIMIT} events your shop sent, newest first` })}
      <div class="toolbar">
        <label class="search">${icon('search', 16)}<input type="search" name="name" list="event-names" placeholder="Filter by exact event name, e.g. Order Completed" value="${query.name ?? ''}" aria-label="Event name"></label>
        <datalist id="event-names"></datalist>
      </div>
      <div class="results">${loading()}</div>`);
    const results = view.querySelector('.results');
    const input = view.querySelector('input[name=name]');
    const names = view.querySelector('#event-names');
    const known = new Set();
    const turn = turns();

    async function load(name) {
      setQuery({ name });
      const current = turn();
      try {
        const { events } = await api.get('/api/events', { name, limit: LIMIT });
        if (!current()) return;
        for (const e of events) if (e.name && e.type === 'track') known.add(e.name);
        mount(names, [...known].sort().map((n) => html`<option value="${n}"></option>`));
        mount(results, events.length === 0
          ? empty(name ? `No “${name}” events` : 'No events yet', name ? 'Event names must match exactly, including capitals.' : 'Events appear here as soon as your shop sends them.')
          : html`<div class="card"><table class="table">
              <thead><tr><th>When</th><th>Event</th><th>Contact</th><th>Properties</th></tr></thead>
              <tbody>${eventRows(events)}</tbody></table></div>`);
      } catch (error) {
        if (error.name !== 'AbortError' && current()) mount(results, errorBox(error, 'Events could not be loaded'));
      }
    }
    input.addEventListener('input', debounce(() => load(input.value.trim())));
    clickableRows(results);
    await load(query.name ?? '');
  },
};
