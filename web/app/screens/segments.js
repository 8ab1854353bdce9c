// Segments: every saved audience with its member count and when it was last computed.
import { html, mount } from '../lib/html.js';
import { pageHeader, loading, errorBox, empty, time, clickableRows } from '../lib/ui.js';
import { formatNumber } from '../lib/format.js';
import { segmentHref } from './segment-kit.js';

function row(s) {
  const href = segmentHref(s.id);
  return html`<tr data-href="${href}" data-segment="${s.id}">
    <td><a href="${href}"><strong class="segment-name">${s.name}</strong></a>
      ${s.description ? html`<span class="muted small block truncate-2">${s.description}</span>` : ''}</td>
    <td class="num"><strong>${formatNumber(s.memberCount)}</strong></td>
    <td class="nowrap">${s.lastComputedAt ? html`${time(s.lastComputedAt)}${s.lastComputeMs !== null ? html` <span class="muted small">· ${formatNumber(s.lastComputeMs)} ms</span>` : ''}` : html`<span class="muted">not yet</span>`}</td>
  </tr>`;
}

export default {
  path: '/segments',
  nav: 'segments',
  title: 'Segments',
  menu: { group: 'Audience', label: 'Segments', icon: 'search' },
  async render(view, { api }) {
    const header = pageHeader('Segments', {
      subtitle: 'Saved audiences, kept current as contacts visit, buy and engage',
      actions: html`<a class="button button-primary" href="#/segments/new" data-action="new">New segment</a>`,
    });
    mount(view, html`${header}${loading()}`);
    let segments;
    try {
      ({ segments } = await api.get('/api/segments'));
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      return mount(view, html`${header}${errorBox(error, 'Segments could not be loaded')}`);
    }
    mount(view, html`${header}${segments.length === 0
      ? html`<div class="card">${empty('No segments yet', html`A segment is a saved rule: who is in it stays current. <a href="#/segments/new">Create one</a>, starting from a care-model template.`)}</div>`
      : html`<div class="card"><table class="table segments-table">
          <thead><tr><th>Segment</th><th class="num">Members</th><th>Last computed</th></tr></thead>
          <tbody>${segments.map(row)}</tbody></table></div>`}`);
    clickableRows(view);
  },
};
