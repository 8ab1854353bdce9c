// One segment: its rule, member count and last computation, a recompute on demand, and its
// members paged by contact number.
import { html, mount } from '../lib/html.js';
import { pageHeader, loading, errorBox, empty, time, clickableRows } from '../lib/ui.js';
import { formatDate, formatNumber } from '../lib/format.js';
import { prettyRule, poster, deleteSegment, memberLabel, contactHref, segmentHref } from './segment-kit.js';

const LIMIT = 50;

const plural = (n, one, many) => `${formatNumber(n)} ${n === 1 ? one : many}`;

function summary(s) {
  return html`<div class="summary-strip" data-section="summary">
    <div><span class="stat-label">Members</span><strong data-members>${formatNumber(s.memberCount)}</strong></div>
    <div><span class="stat-label">Last computed</span><strong>${s.lastComputedAt ? time(s.lastComputedAt) : 'not yet'}</strong></div>
    <div><span class="stat-label">Computing took</span><strong>${s.lastComputeMs === null ? '—' : `${formatNumber(s.lastComputeMs)} ms`}</strong></div>
    <div><span class="stat-label">Rule changed</span><strong>${time(s.updatedAt)}</strong></div>
  </div>`;
}

function ruleCard(s, all) {
  const uses = s.dependsOn.map((id) => all.find((x) => x.id === id) ?? { id, name: `Segment #${id}` });
  const usedBy = all.filter((x) => x.dependsOn.includes(s.id));
  return html`<section class="card" data-section="rule"><div class="card-header"><h2>Rule</h2><a href="${segmentHref(s.id, 'edit')}">Edit</a></div>
      <pre class="rule-json">${prettyRule(s.rule)}</pre>
    </section>
    ${uses.length > 0 ? html`<section class="card" data-section="uses"><div class="card-header"><h2>Uses</h2></div>
      <ul class="link-list">${uses.map((x) => html`<li><a href="${segmentHref(x.id)}">${x.name}</a></li>`)}</ul></section>` : ''}
    ${usedBy.length > 0 ? html`<section class="card" data-section="used-by"><div class="card-header"><h2>Used by</h2></div>
      <ul class="link-list">${usedBy.map((x) => html`<li><a href="${segmentHref(x.id)}">${x.name}</a></li>`)}</ul></section>` : ''}`;
}

function membersTable(members) {
  return html`<table class="table table-compact">
    <thead><tr><th>Contact</th><th>User id</th><th>Entered</th></tr></thead>
    <tbody>${members.map((m) => html`<tr data-href="${contactHref(m.id)}">
      <td><a class="contact-link" href="${contactHref(m.id)}"><span class="avatar">${(memberLabel(m)[0] ?? '?').toUpperCase()}</span><span class="member-label">${memberLabel(m)}</span></a></td>
      <td>${m.userId ? html`<code>${m.userId}</code>` : html`<span class="muted">anonymous</span>`}</td>
      <td class="nowrap">${time(m.enteredAt)}</td>
    </tr>`)}</tbody></table>`;
}

export default {
  path: '/segments/:id',
  nav: 'segments',
  title: 'Segment',
  async render(view, { api, params, query, setQuery, setTitle }) {
    const back = { href: '#/segments', label: 'Segments' };
    mount(view, html`${pageHeader('Segment', { back })}${loading()}`);
    const post = poster(api);
    let segment, all;
    const load = async () => {
      [segment, { segments: all }] = await Promise.all([api.get(`/api/segments/${encodeURIComponent(params.id)}`), api.get('/api/segments')]);
    };
    try {
      await load();
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      const gone = error.status === 404 || error.status === 400;
      return mount(view, html`${pageHeader('Segment', { back })}${gone ? empty(`There is no segment #${params.id}`, 'It may have been deleted.') : errorBox(error, 'This segment could not be loaded')}`);
    }
    setTitle(segment.name);

    // Members are paged by contact number; the cursors of earlier pages let "Previous" go back.
    let after = query.after ? Number(query.after) : undefined;
    let previous = after ? [undefined] : [];

    const draw = (notice) => {
      mount(view, html`${pageHeader(segment.name, {
        back,
        subtitle: segment.description || html`<span class="muted">No description</span>`,
        actions: html`<a class="button" href="${segmentHref(segment.id, 'edit')}" data-action="edit">Edit</a>
          <button type="button" class="button" data-action="recompute">Recompute now</button>
          <button type="button" class="button button-danger-outline" data-action="delete">Delete</button>`,
      })}
        <div class="segment-notice" data-notice>${notice ?? ''}</div>
        ${summary(segment)}
        <div class="detail-grid segment-detail">
          <div class="detail-side">${ruleCard(segment, all)}</div>
          <div class="detail-main">
            <section class="card" data-section="members"><div class="card-header"><h2>Members</h2><span class="muted small">${formatNumber(segment.memberCount)}</span></div>
              <div class="members">${loading('Loading members')}</div>
            </section>
          </div>
        </div>`);
      clickableRows(view.querySelector('.members'));
    };

    async function loadMembers() {
      const box = view.querySelector('.members');
      setQuery({ after });
      try {
        const { members } = await api.get(`/api/segments/${segment.id}/members`, { limit: LIMIT, after });
        const hasNext = members.length === LIMIT;
        mount(box, members.length === 0
          ? empty(after ? 'No more members' : 'Nobody is in this segment now', after ? '' : 'Members appear as soon as contacts match the rule.')
          : html`${membersTable(members)}
            ${previous.length > 0 || hasNext ? html`<nav class="pager pad" aria-label="Pages of members">
              <button type="button" class="button" data-page="previous" ${previous.length > 0 ? '' : 'disabled'}>← Previous</button>
              <button type="button" class="button" data-page="next" data-after="${members[members.length - 1].id}" ${hasNext ? '' : 'disabled'}>Next →</button>
            </nav>` : ''}`);
      } catch (error) {
        if (error.name !== 'AbortError') mount(box, errorBox(error, 'Members could not be loaded'));
      }
    }

    async function recompute(button) {
      button.disabled = true;
      button.textContent = 'Recomputing…';
      try {
        const r = await post(`/api/segments/${segment.id}/recompute`);
        await load();
        after = undefined;
        previous = [];
        draw(html`<div class="notice-good" role="status" data-recomputed>
          <strong>Recomputed ${formatDate(segment.lastComputedAt)}</strong> in ${formatNumber(r.ms)} ms:
          ${plural(r.entered, 'contact entered', 'contacts entered')}, ${plural(r.exited, 'contact left', 'contacts left')}; ${plural(r.members, 'member', 'members')} now.
        </div>`);
        await loadMembers();
      } catch (error) {
        if (error.name === 'AbortError') return;
        mount(view.querySelector('[data-notice]'), errorBox(error, 'The segment could not be recomputed'));
        button.disabled = false;
        button.textContent = 'Recompute now';
      }
    }

    view.addEventListener('click', (event) => {
      const target = event.target.closest('[data-action], [data-page]');
      if (!target) return;
      if (target.dataset.action === 'recompute') recompute(target);
      else if (target.dataset.action === 'delete') deleteSegment(api, segment, (markup) => mount(view.querySelector('[data-notice]'), markup));
      else if (target.dataset.page === 'next') {
        previous.push(after);
        after = Number(target.dataset.after);
        loadMembers();
      } else if (target.dataset.page === 'previous') {
        after = previous.pop();
        loadMembers();
      }
    });
    draw();
    await loadMembers();
  },
};
