// One journey: its trigger and settings in words, its steps as a flow with the contacts that
// reached each step, publish / pause / resume, the A/B and holdout results, a dry run of the draft,
// the draft's JSON editor and the journey file as a download.
import { html, mount } from '../lib/html.js';
import { pageHeader, loading, errorBox, empty, time, confirmDialog, toast } from '../lib/ui.js';
import { formatNumber } from '../lib/format.js';
import { toHash } from '../lib/router.js';
import { downloadJourney, flow, journeyStatus, missingRoute, request } from './journey-kit.js';
import { settingsWords, triggerWords, duration } from './journey-words.js';
import { editorCard, wireEditor } from './journey-editor.js';

const pct = (x) => `${(100 * x).toFixed(1)} %`;
const optional = (promise) => promise.catch((error) => (missingRoute(error) ? null : Promise.reject(error)));

let dryRunAvailable = null;
/** Whether this server has the dry run (it is listed in the API's OpenAPI document). */
function hasDryRun() {
  dryRunAvailable ??= fetch('/api/openapi.json').then((r) => (r.ok ? r.json() : null)).then((doc) => Boolean(doc?.paths?.['/api/journeys/{id}/dry-run']), () => false);
  return dryRunAvailable;
}

function results(stats) {
  if (!stats) return '';
  const experiments = [...stats.experiments, ...(stats.holdoutLift ? [stats.holdoutLift] : [])];
  return html`<section class="card" data-section="results"><div class="card-header"><h2>Results</h2>${stats.goal ? html`<span class="muted small">goal: ${stats.goal.event} within ${duration(stats.goal.within)}</span>` : ''}</div>
    <div class="card-body">
      ${stats.goal ? html`<p class="results-line"><strong>${formatNumber(stats.converted)}</strong> of ${formatNumber(stats.entered)} entries reached the goal.</p>` : ''}
      ${stats.notes.map((n) => html`<p class="muted small">${n}</p>`)}
      ${experiments.map((e) => html`<div class="experiment" data-experiment="${e.stepId ?? 'holdout'}">
        <h3>${e.kind === 'holdout' ? 'Journey against the holdout' : e.kind === 'variants' ? html`A/B test at <code>${e.stepId}</code>` : html`Split at <code>${e.stepId}</code>`}</h3>
        <table class="table table-compact"><thead><tr><th>Arm</th><th class="num">${e.unit}</th><th class="num">Converted</th><th class="num">Rate</th></tr></thead>
          <tbody>${e.arms.map((a) => html`<tr><td>${a.name}${e.decision.winner === a.name ? html` <span class="badge badge-good">winner</span>` : ''}</td><td class="num">${formatNumber(a.units)}${a.pending ? html`<span class="muted small"> +${formatNumber(a.pending)}</span>` : ''}</td><td class="num">${formatNumber(a.conversions)}</td><td class="num">${pct(a.rate)}</td></tr>`)}</tbody></table>
        <p class="muted small">${e.decision.reason}</p>
      </div>`)}
    </div></section>`;
}

function dryRunSummary(r) {
  const channels = Object.entries(r.messages.perChannel).filter(([, n]) => n > 0).map(([c, n]) => `${formatNumber(n)} ${c}`).join(', ');
  return html`<div class="notice-good dry-run-summary" role="status" data-dry-run>
    <strong>Dry run of the draft over the last ${formatNumber(Math.round((Date.parse(r.window.to) - Date.parse(r.window.from)) / 86_400_000))} days:</strong>
    ${formatNumber(r.contacts)} contacts would have entered ${formatNumber(r.entered)} times and ${formatNumber(r.messages.total)} messages gone out${channels ? ` (${channels})` : ''};
    ${formatNumber(r.exits.converted)} reached the goal. Nothing was sent or saved. The counts are on the steps below.
  </div>`;
}

export default {
  path: '/journeys/:id',
  nav: 'journeys',
  title: 'Journey',
  async render(view, { api, params, query, setTitle }) {
    const back = { href: '#/journeys', label: 'Journeys' };
    mount(view, html`${pageHeader('Journey', { back })}${loading()}`);
    let journey, activity, stats, published, segments;
    let reach = null;
    const load = async () => {
      journey = await api.get(`/api/journeys/${encodeURIComponent(params.id)}`);
      [activity, stats, published, segments] = await Promise.all([
        optional(api.get(`/api/journeys/${journey.id}/activity`)),
        optional(api.get(`/api/journeys/${journey.id}/stats`)),
        journey.publishedVersion ? api.get(`/api/journeys/${journey.id}/versions/${journey.publishedVersion}`) : null,
        api.get('/api/segments').then((r) => new Map(r.segments.map((s) => [s.id, s]))),
      ]);
    };
    try {
      await load();
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      const gone = error.status === 404 || error.status === 400;
      return mount(view, html`${pageHeader('Journey', { back })}${gone ? empty(`There is no journey #${params.id}`, 'It may have been deleted.') : errorBox(error, 'This journey could not be loaded')}`);
    }
    const dryRun = await hasDryRun();

    const header = () => {
      const j = journey;
      const changed = published && JSON.stringify(published) !== JSON.stringify(j.draft);
      return pageHeader(j.name, {
        back,
        subtitle: html`${journeyStatus(j.status)} <span data-version>${j.publishedVersion ? `version ${j.publishedVersion}` : 'never published'}</span>
          ${changed ? html`<span class="badge badge-warn" data-unpublished>unpublished changes</span>` : ''}<span class="muted">changed ${time(j.updatedAt)}</span>`,
        actions: html`${j.status !== 'archived' ? html`<button type="button" class="button button-primary" data-action="publish">${changed ? 'Publish changes' : 'Publish'}</button>` : ''}
          ${j.status === 'active' ? html`<button type="button" class="button" data-action="pause">Pause</button>` : ''}
          ${j.status === 'paused' ? html`<button type="button" class="button" data-action="resume">Resume</button>` : ''}
          <button type="button" class="button" data-action="export">Export file</button>
          <a class="button" href="${toHash('/messages', { journey: j.id })}">Messages</a>
          ${j.status !== 'archived' ? html`<button type="button" class="button button-danger-outline" data-action="archive">Archive</button>` : ''}`,
      });
    };

    const draw = () => {
      setTitle(journey.name);
      const sent = Object.values(activity?.steps ?? {}).reduce((n, s) => n + (s.messages.sent ?? 0), 0);
      mount(view, html`<div data-part="header">${header()}</div>
        <div class="journey-notice" data-notice></div>
        <div class="summary-strip" data-section="summary">
          <div><span class="stat-label">Entered</span><strong data-entered>${activity ? formatNumber(activity.entered) : '—'}</strong></div>
          <div><span class="stat-label">Inside now</span><strong data-inside>${activity ? formatNumber(activity.inside) : '—'}</strong></div>
          <div><span class="stat-label">Messages sent</span><strong data-sent>${activity ? formatNumber(sent) : '—'}</strong></div>
          <div><span class="stat-label">Reached the goal</span><strong>${stats?.goal ? formatNumber(stats.converted) : '—'}</strong></div>
        </div>
        <div class="detail-grid journey-detail">
          <div class="detail-side">
            <section class="card" data-section="about"><div class="card-header"><h2>Trigger and settings</h2></div>
              <div class="card-body">
                ${journey.draft.description ? html`<p class="journey-description">${journey.draft.description}</p>` : ''}
                <p class="journey-trigger" data-trigger>${triggerWords(journey.draft.trigger, segments)}.</p>
                <ul class="settings-list" data-settings>${settingsWords(journey.draft.settings).map((s) => html`<li>${s}</li>`)}</ul>
              </div></section>
            ${results(stats)}
          </div>
          <div class="detail-main">
            <section class="card" data-section="steps"><div class="card-header"><h2>Steps</h2>
              ${dryRun ? html`<button type="button" class="button" data-action="dry-run" title="Replay the last 28 days through the draft; nothing is sent or saved">Dry run</button>` : ''}</div>
              <div class="dry-run-result"></div>
              <div class="flow-wrap">${flow(journey.draft, { segments, activity, reach })}</div>
            </section>
          </div>
        </div>
        ${editorCard(journey.draft)}`);
      editor = wireEditor(view.querySelector('[data-section=editor]'), {
        journey: () => journey,
        onSaved: (saved) => {
          journey = saved;
          toast('Draft saved');
          mount(view.querySelector('[data-part=header]'), header());
        },
        onPublished: async (r) => {
          toast(`Version ${r.version} published`);
          await load();
          draw();
        },
      });
      if (query.edit) view.querySelector('[data-section=editor]').scrollIntoView({ block: 'start' });
    };
    let editor = null;

    async function act(action, button) {
      const j = journey;
      if (action === 'archive') {
        const ok = await confirmDialog({
          title: `Archive “${j.name}”?`,
          body: html`<p>Nobody new enters and the contacts inside stop where they are. Its messages and results stay.</p><p><strong>An archived journey cannot be published again.</strong></p>`,
          confirm: 'Archive journey',
        });
        if (!ok) return;
      }
      button.disabled = true;
      try {
        if (action === 'publish') {
          if (!(await editor.publish())) button.disabled = false;
          return;
        }
        if (action === 'export') {
          toast(`Saved ${await downloadJourney(j.id)}`);
          button.disabled = false;
          return;
        }
        if (action === 'dry-run') {
          const report = await request(`/api/journeys/${j.id}/dry-run`, { method: 'POST', body: {} });
          reach = new Map(report.perStep.map((s) => [s.stepId, s.reached]));
          mount(view.querySelector('.flow-wrap'), flow(journey.draft, { segments, activity, reach }));
          mount(view.querySelector('.dry-run-result'), dryRunSummary(report));
          button.disabled = false;
          return;
        }
        await api.post(`/api/journeys/${j.id}/${action}`);
        toast({ pause: 'Paused: nobody moves on until you resume', resume: 'Resumed', archive: 'Archived' }[action]);
        await load();
        draw();
      } catch (error) {
        if (error.name === 'AbortError') return;
        button.disabled = false;
        mount(view.querySelector('[data-notice]'), errorBox(error, `The journey could not be ${{ pause: 'paused', resume: 'resumed', archive: 'archived', export: 'exported', 'dry-run': 'dry-run' }[action] ?? action}`));
      }
    }

    view.addEventListener('click', (event) => {
      const target = event.target.closest('[data-action], [data-jump]');
      if (!target || target.closest('[data-section=editor]')) return;
      if (target.dataset.jump) {
        event.preventDefault();
        view.querySelector(`[data-step="${window.CSS.escape(target.dataset.jump)}"]`)?.scrollIntoView({ block: 'center' });
        return;
      }
      act(target.dataset.action, target);
    });
    draw();
  },
};
