// Creating and changing a segment: name, description and the rule as JSON, with care-model
// templates, a preview of who matches (nothing saved), and the API's validation errors shown next
// to the editor with the field they name.
import { html, mount } from '../lib/html.js';
import { pageHeader, loading, errorBox, empty, toast, turns } from '../lib/ui.js';
import { formatNumber } from '../lib/format.js';
import {
  templates, exampleRule, prettyRule, poster, readRule, ruleProblem, ignoredField, ruleProblemView, fieldPath, readableMessage,
  deleteSegment, memberLabel, contactHref, segmentHref,
} from './segment-kit.js';

const SAMPLE = 20;

/** The rule types in brief, for the help under the editor. */
const help = [
  ['and / or / not', '{"type":"and","rules":[…]} · {"type":"not","rule":{…}}'],
  ['trait', '{"type":"trait","trait":"plan","op":"eq","value":"pro"}'],
  ['event', '{"type":"event","event":"Product Added","within":"1h"}'],
  ['event_time', '{"type":"event_time","eventType":"page","which":"last","op":"more_than_ago","value":"6mo"}'],
  ['orders', '{"type":"orders","metric":"total","op":"gt","value":500}'],
  ['bought', '{"type":"bought","category":"Coffee","within":"365d"}'],
  ['date', '{"type":"date","field":"birthday","match":"anniversary"}'],
  ['engagement', '{"type":"engagement","action":"opened","within":"90d","count":{"op":"eq","value":0}}'],
  ['reachable', '{"type":"reachable","channel":"email","topic":"offers"}'],
  ['score', '{"type":"score","field":"churn_band","op":"in","value":["high","very_high"]}'],
  ['segment', '{"type":"segment","segmentId":3}'],
  ['random', '{"type":"random","seed":"holdout-2026","from":0,"to":10}'],
];

function form(segment, template, { editing }) {
  const rule = segment?.rule ?? template?.rule ?? exampleRule;
  return html`<form class="segment-form" novalidate>
    <div class="segment-layout">
      <div class="segment-editor">
        <section class="card" data-section="about">
          <div class="card-body">
            <label class="field"><span>Name</span>
              <input type="text" name="name" maxlength="200" autocomplete="off" required value="${segment?.name ?? template?.name ?? ''}" aria-describedby="name-error"></label>
            <div class="field-error" id="name-error" data-error="name" role="alert" hidden></div>
            <label class="field"><span>Description <span class="muted optional">optional</span></span>
              <textarea name="description" rows="2" maxlength="2000">${segment?.description ?? template?.description ?? ''}</textarea></label>
          </div>
        </section>
        <section class="card" data-section="rule">
          <div class="card-header"><h2>Rule</h2><span class="muted small">JSON · <kbd>Ctrl</kbd>+<kbd>Enter</kbd> previews</span></div>
          <div class="templates" role="group" aria-label="Templates">
            <span class="muted small">Start from a care model:</span>
            ${templates.map((t) => html`<button type="button" class="button template" data-template="${t.key}" aria-pressed="${t.key === template?.key ? 'true' : 'false'}" title="${t.description}">${t.label}</button>`)}
          </div>
          <div class="card-body">
            <textarea class="rule-editor" name="rule" rows="14" spellcheck="false" autocapitalize="off" autocomplete="off" aria-label="Rule (JSON)" aria-describedby="rule-problem">${prettyRule(rule)}</textarea>
            <div class="rule-problem" id="rule-problem" data-error="rule"></div>
            <details class="rule-help"><summary>Rule types</summary>
              <p class="muted small">Durations: <code>30min</code> <code>1h</code> <code>90d</code> <code>2w</code> <code>3mo</code> <code>1y</code>. Dates: <code>2026-01-31</code>.
                Comparisons: <code>eq</code> <code>neq</code> <code>gt</code> <code>gte</code> <code>lt</code> <code>lte</code>; times: <code>before</code> <code>after</code> <code>within_last</code> <code>more_than_ago</code>.</p>
              <dl class="help-list">${help.map(([type, example]) => html`<dt>${type}</dt><dd><code>${example}</code></dd>`)}</dl>
            </details>
          </div>
        </section>
      </div>
      <aside class="segment-aside">
        <section class="card" data-section="preview">
          <div class="card-header"><h2>Who matches</h2><button type="button" class="button" data-action="preview">Preview</button></div>
          <div class="preview-body"><p class="muted pad">Counts who matches the rule right now, without saving anything.</p></div>
        </section>
      </aside>
      <div class="segment-submit">
        <div class="form-problem" data-error="form"></div>
        <div class="form-actions">
          <button type="submit" class="button button-primary" data-action="save">${editing ? 'Save changes' : 'Save segment'}</button>
          <a class="button" href="${segment ? segmentHref(segment.id) : '#/segments'}">Cancel</a>
          <span class="spacer"></span>
          ${editing ? html`<button type="button" class="button button-danger-outline" data-action="delete">Delete segment</button>` : ''}
        </div>
      </div>
    </div>
  </form>`;
}

function previewResult({ count, sample }) {
  return html`<div class="preview-count" data-preview-count="${count}"><strong>${formatNumber(count)}</strong> ${count === 1 ? 'contact matches' : 'contacts match'} now</div>
    ${sample.length === 0 ? '' : html`<ul class="member-list">${sample.map((m) => html`<li><a href="${contactHref(m.id)}"><span class="avatar">${(memberLabel(m)[0] ?? '?').toUpperCase()}</span><span class="member-label">${memberLabel(m)}</span></a>
        ${m.email && m.userId ? html`<span class="muted small">${m.userId}</span>` : ''}</li>`)}</ul>`}
    ${count > sample.length ? html`<p class="muted small pad">The first ${formatNumber(sample.length)} by contact number.</p>` : ''}`;
}

async function render(view, { api, params, query, setQuery, setTitle }) {
  const editing = params.id !== undefined;
  const back = editing ? { href: segmentHref(params.id), label: 'Segment' } : { href: '#/segments', label: 'Segments' };
  const title = editing ? 'Edit segment' : 'New segment';
  mount(view, html`${pageHeader(title, { back })}${loading()}`);
  let segment = null;
  if (editing) {
    try {
      segment = await api.get(`/api/segments/${encodeURIComponent(params.id)}`);
    } catch (error) {
      if (error.name === 'AbortError') throw error;
      const gone = error.status === 404 || error.status === 400;
      return mount(view, html`${pageHeader(title, { back: { href: '#/segments', label: 'Segments' } })}${gone ? empty(`There is no segment #${params.id}`, 'It may have been deleted.') : errorBox(error, 'This segment could not be loaded')}`);
    }
    setTitle(`Edit ${segment.name}`);
  }
  let template = editing ? null : (templates.find((t) => t.key === query.template) ?? null);
  mount(view, html`${pageHeader(editing ? html`Edit <span class="segment-name">${segment.name}</span>` : title, { back: editing ? { href: segmentHref(segment.id), label: segment.name } : back })}
    ${form(segment, template, { editing })}`);

  const post = poster(api);
  const el = view.querySelector('form');
  const name = el.elements.namedItem('name');
  const description = el.elements.namedItem('description');
  const editor = el.elements.namedItem('rule');
  const previewBody = view.querySelector('.preview-body');
  const previewButton = view.querySelector('[data-action=preview]');
  const saveButton = view.querySelector('[data-action=save]');
  const problems = {
    name: view.querySelector('[data-error=name]'),
    rule: view.querySelector('[data-error=rule]'),
    form: view.querySelector('[data-error=form]'),
  };
  const turn = turns();
  // The editor grows with the rule, within limits; it can also be resized by hand.
  const fit = () => editor.setAttribute('rows', String(Math.min(40, Math.max(14, editor.value.split('\n').length + 1))));
  fit();

  const showNameProblem = (message) => {
    problems.name.textContent = message ?? '';
    problems.name.hidden = !message;
    name.setAttribute('aria-invalid', message ? 'true' : 'false');
  };
  const showRuleProblem = (problem) => {
    editor.setAttribute('aria-invalid', problem && problem.tone !== 'warn' ? 'true' : 'false');
    mount(problems.rule, problem ? ruleProblemView(problem, editor.value) : '');
    if (problem?.range) {
      // Select what the problem is about, so the person sees it in the editor.
      editor.focus();
      editor.setSelectionRange(problem.range.start, Math.min(problem.range.end, editor.value.length));
    }
  };
  const clearProblems = () => {
    showNameProblem(null);
    showRuleProblem(null);
    mount(problems.form, '');
  };

  /** The rule in the editor, or null after showing why it cannot be used. */
  const currentRule = () => {
    const { rule, problem } = readRule(editor.value);
    showRuleProblem(problem ?? null);
    return problem ? null : rule;
  };

  /** An error from the API, shown next to what it is about. */
  const showApiProblem = async (error, rule, what) => {
    const field = fieldPath(error.field);
    if (error.status === 400 && (field === 'rule' || field.startsWith('rule.'))) return showRuleProblem(await ruleProblem(error, editor.value, rule));
    if (field === 'name' || field.startsWith('name.')) {
      showNameProblem(readableMessage(error.message).replace(/^name /, 'The name '));
      return name.focus();
    }
    mount(problems.form, errorBox(error, what));
  };

  async function preview() {
    clearProblems();
    const rule = currentRule();
    if (!rule) return;
    const current = turn();
    previewButton.disabled = true;
    previewBody.classList.add('busy');
    try {
      const result = await post('/api/segments/preview', { rule, sample: SAMPLE });
      if (!current()) return;
      previewBody.classList.remove('stale');
      mount(previewBody, previewResult(result));
      showRuleProblem(await ignoredField(editor.value, rule));
    } catch (error) {
      if (error.name === 'AbortError' || !current()) return;
      mount(previewBody, html`<p class="muted pad">No preview: the rule needs fixing first.</p>`);
      await showApiProblem(error, rule, 'The preview failed');
    } finally {
      if (current()) {
        previewButton.disabled = false;
        previewBody.classList.remove('busy');
      }
    }
  }

  async function save() {
    clearProblems();
    const body = { name: name.value.trim(), description: description.value.trim(), rule: null };
    if (!body.name) {
      showNameProblem('Give the segment a name.');
      return name.focus();
    }
    body.rule = currentRule();
    if (!body.rule) return;
    saveButton.disabled = true;
    try {
      // The API would save the rule without a field it does not know: say so instead.
      const ignored = await ignoredField(editor.value, body.rule);
      if (ignored) return showRuleProblem({ ...ignored, title: 'Not saved: check the rule' });
      const saved = editing ? await api.put(`/api/segments/${segment.id}`, body) : await post('/api/segments', body);
      toast(editing ? 'Segment saved' : `Segment created with ${formatNumber(saved.memberCount)} ${saved.memberCount === 1 ? 'member' : 'members'}`);
      location.hash = segmentHref(saved.id);
    } catch (error) {
      if (error.name === 'AbortError') return;
      await showApiProblem(error, body.rule, 'The segment could not be saved');
    } finally {
      saveButton.disabled = false;
    }
  }

  function useTemplate(key) {
    const next = templates.find((t) => t.key === key);
    if (!next) return;
    // A name or description the person wrote is kept; one that came from a template follows it.
    if (!name.value.trim() || name.value === template?.name) name.value = next.name;
    if (!description.value.trim() || description.value === template?.description) description.value = next.description;
    editor.value = prettyRule(next.rule);
    fit();
    template = next;
    for (const b of view.querySelectorAll('[data-template]')) b.setAttribute('aria-pressed', String(b.dataset.template === key));
    clearProblems();
    previewBody.classList.add('stale');
    if (!editing) setQuery({ template: key });
  }

  el.addEventListener('submit', (event) => {
    event.preventDefault();
    save();
  });
  view.addEventListener('click', (event) => {
    const target = event.target.closest('[data-template], [data-action]');
    if (!target) return;
    if (target.dataset.template) useTemplate(target.dataset.template);
    else if (target.dataset.action === 'preview') preview();
    else if (target.dataset.action === 'delete') deleteSegment(api, segment, (markup) => mount(problems.form, markup));
  });
  editor.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      preview();
    }
  });
  editor.addEventListener('input', () => {
    fit();
    previewBody.classList.add('stale');
    if (editor.getAttribute('aria-invalid') === 'true') showRuleProblem(null);
  });
  name.addEventListener('input', () => showNameProblem(null));
}

export const newSegment = { path: '/segments/new', nav: 'segments', title: 'New segment', render };

export const editSegment = { path: '/segments/:id/edit', nav: 'segments', title: 'Edit segment', render };
