// Journeys: every journey with its status, published version, who is inside and what it sent.
import { html, mount } from '../lib/html.js';
import { pageHeader, loading, errorBox, empty, time, clickableRows, toast } from '../lib/ui.js';
import { formatNumber } from '../lib/format.js';
import { toHash } from '../lib/router.js';
import { journeyHref, journeyStatus, missingRoute } from './journey-kit.js';

/** What "New journey" starts from: one email on sign-up, to be edited in the journey's JSON editor. */
const starter = {
  name: 'New journey',
  description: '',
  trigger: { type: 'event', event: 'Signed Up' },
  settings: { reentry: 'never' },
  steps: [
    { id: 'hello', name: 'Hello email', type: 'send', channel: 'email', content: { email: { subject: 'Hello {{ contact.first_name | default: "there" }}', html: '<p>Hello from {{ workspace.name }}!</p>\n<p><a href="{{ links.unsubscribe }}">Unsubscribe</a></p>' } } },
  ],
};

function row(j, a) {
  const href = journeyHref(j.id);
  return html`<tr data-href="${href}" data-journey="${j.id}">
    <td><a href="${href}"><strong class="journey-name">${j.name}</strong></a>
      ${j.draft.description ? html`<span class="muted small block truncate-2">${j.draft.description}</span>` : ''}</td>
    <td>${journeyStatus(j.status)}</td>
    <td class="num" data-col="version">${j.publishedVersion === null ? html`<span class="muted">—</span>` : `v${j.publishedVersion}`}</td>
    <td class="num" data-col="inside">${a ? formatNumber(a.inside) : '—'}</td>
    <td class="num" data-col="sent">${a ? formatNumber(a.messagesSent) : '—'}</td>
    <td class="nowrap muted small">${time(j.updatedAt)}</td>
  </tr>`;
}

export default {
  path: '/journeys',
  nav: 'journeys',
  title: 'Journeys',
  menu: { group: 'Automation', label: 'Journeys', icon: 'journeys' },
  async render(view, { api }) {
    const header = pageHeader('Journeys', {
      subtitle: 'Care models at work: who enters, what they receive, and when',
      actions: html`<a class="button" href="#/blueprints" data-action="blueprints">Blueprints</a>
        <button type="button" class="button button-primary" data-action="new">New journey</button>`,
    });
    mount(view, html`${header}${loading()}`);
    let journeys;
    let activity = new Map();
    try {
      const [list, counts] = await Promise.all([api.get('/api/journeys'), api.get('/api/journeys/activity').catch((error) => (missingRoute(error) ? null : Promise.reject(error)))]);
      journeys = list.journeys;
      if (counts) activity = new Map(counts.journeys.map((a) => [a.journeyId, a]));
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      return mount(view, html`${header}${errorBox(error, 'Journeys could not be loaded')}`);
    }
    const shown = journeys.filter((j) => j.status !== 'archived');
    const archived = journeys.length - shown.length;
    mount(view, html`${header}${shown.length === 0
      ? html`<div class="card">${empty('No journeys yet', html`Start from a <a href="#/blueprints">blueprint</a>: a ready care model — welcome programme, abandoned cart, win-back and more — that you install in one click and adjust.`)}</div>`
      : html`<div class="card"><table class="table journeys-table">
          <thead><tr><th>Journey</th><th>Status</th><th class="num">Version</th><th class="num">Inside now</th><th class="num">Messages sent</th><th>Changed</th></tr></thead>
          <tbody>${shown.map((j) => row(j, activity.get(j.id)))}</tbody></table></div>`}
      ${archived ? html`<p class="muted small archived-note">${formatNumber(archived)} archived ${archived === 1 ? 'journey is' : 'journeys are'} not shown.</p>` : ''}`);
    clickableRows(view);
    view.querySelector('[data-action=new]').addEventListener('click', async (event) => {
      event.currentTarget.disabled = true;
      try {
        const created = await api.post('/api/journeys', starter);
        toast('Draft created: edit it below, then publish');
        location.hash = toHash(`/journeys/${created.id}`, { edit: 1 });
      } catch (error) {
        if (error.name !== 'AbortError') toast(error.message, 'bad');
      }
    });
  },
};
