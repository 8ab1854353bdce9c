// Blueprints: the care models as ready journeys, grouped by the customer's stage. One click
// installs one (its segments and its journey, published at once); the journey page then shows it.
import { html, mount } from '../lib/html.js';
import { pageHeader, loading, errorBox, empty, toast } from '../lib/ui.js';
import { journeyHref, missingRoute } from './journey-kit.js';
import { triggerWords } from './journey-words.js';

const stages = ['new contact', 'shopping', 'new customer', 'repeat customer', 'drifting away', 'lost', 'back again'];

function card(b, installed) {
  const mine = installed.get(b.title) ?? [];
  return html`<article class="card blueprint" data-blueprint="${b.name}">
    <div class="blueprint-body">
      <div class="blueprint-head"><span class="stage">${b.stage}</span><h3>${b.title}</h3></div>
      <p>${b.summary}</p>
      <p class="blueprint-trigger muted small">${triggerWords(b.trigger, new Map(b.segments.map((s) => [`$segment:${s.key}`, s])))}.</p>
      <details class="blueprint-more"><summary>${b.steps.length === 1 ? 'One step' : `${b.steps.length} steps`} · what to adjust</summary>
        <ol class="blueprint-steps">${b.steps.map((s) => html`<li><code>${s.type}</code> ${s.name ?? s.id}</li>`)}</ol>
        ${b.segments.length ? html`<p class="muted small">Installing creates ${b.segments.length === 1 ? 'the segment' : 'the segments'} ${b.segments.map((s, i) => html`${i > 0 ? ', ' : ''}“${s.name}”`)}, or uses the one of that name you have.</p>` : ''}
        ${b.adjust.length ? html`<ul class="blueprint-adjust">${b.adjust.map((a) => html`<li>${a}</li>`)}</ul>` : ''}
      </details>
    </div>
    <div class="blueprint-actions">
      <button type="button" class="button button-primary" data-action="install" data-name="${b.name}" title="Create its journey and publish it: contacts start entering">Install and publish</button>
      <button type="button" class="button" data-action="draft" data-name="${b.name}" title="Create its journey as a draft to adjust first">Install as draft</button>
      ${mine.length ? html`<span class="muted small installed">Installed: ${mine.map((j, i) => html`${i > 0 ? ', ' : ''}<a href="${journeyHref(j.id)}">#${j.id}</a>`)}</span>` : ''}
    </div>
  </article>`;
}

export default {
  path: '/blueprints',
  nav: 'blueprints',
  title: 'Blueprints',
  menu: { group: 'Automation', label: 'Blueprints', icon: 'blueprints' },
  async render(view, { api }) {
    const header = pageHeader('Blueprints', { subtitle: 'Every care model as a ready journey: install it in one click, then adjust its content and timing' });
    mount(view, html`${header}${loading()}`);
    let blueprints, journeys;
    try {
      [{ blueprints }, { journeys }] = await Promise.all([api.get('/api/blueprints'), api.get('/api/journeys')]);
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      if (missingRoute(error)) return mount(view, html`${header}${empty('This Tend server has no blueprints', 'Update Tend to install care models in one click.')}`);
      return mount(view, html`${header}${errorBox(error, 'Blueprints could not be loaded')}`);
    }
    const installed = new Map();
    for (const j of journeys.filter((x) => x.status !== 'archived')) {
      const base = j.name.replace(/ \(\d+\)$/, '');
      installed.set(base, [...(installed.get(base) ?? []), j]);
    }
    // In the order of the customer's life: from new contact to back again.
    const ordered = [...blueprints].sort((a, b) => stages.indexOf(a.stage) - stages.indexOf(b.stage));
    mount(view, html`${header}<div class="blueprint-notice" data-notice></div>
      <div class="blueprint-grid">${ordered.map((b) => card(b, installed))}</div>`);

    view.addEventListener('click', async (event) => {
      const button = event.target.closest('[data-action=install], [data-action=draft]');
      if (!button) return;
      const publish = button.dataset.action === 'install';
      for (const b of view.querySelectorAll(`[data-name="${button.dataset.name}"]`)) b.disabled = true;
      button.textContent = publish ? 'Installing…' : 'Creating…';
      try {
        const r = await api.post(`/api/blueprints/${encodeURIComponent(button.dataset.name)}/install`, { publish });
        const made = r.segments.filter((s) => s.created).length;
        toast(`“${r.journey.name}” ${publish ? `is live (version ${r.version})` : 'is ready as a draft'}${made ? ` · ${made} segment${made === 1 ? '' : 's'} created` : ''}`);
        location.hash = journeyHref(r.journey.id);
      } catch (error) {
        if (error.name === 'AbortError') return;
        mount(view.querySelector('[data-notice]'), errorBox(error, 'The blueprint could not be installed'));
        for (const b of view.querySelectorAll(`[data-name="${button.dataset.name}"]`)) b.disabled = false;
        button.textContent = publish ? 'Install and publish' : 'Install as draft';
      }
    });
  },
};
