// The journey's draft as JSON: save it, publish it, and see every problem the API finds (schema,
// segments, templates with line and column) listed by field; a click on a problem selects the
// place in the editor.
import { html, mount } from '../lib/html.js';
import { icon } from '../lib/icons.js';
import { locate, lineAndColumn } from './segment-kit.js';
import { request } from './journey-kit.js';

export const prettyJourney = (definition) => JSON.stringify(definition, null, 2);

/** The JSON path of an API field ("body.steps.2.content.email.mjml" → ["steps", "2", …]). */
const pathOf = (field) => String(field ?? '').replace(/^body\.?/, '').split('.').filter(Boolean);

/** Every problem of a failed save or publish, as `{ field, message }`. */
function problemsOf(error) {
  const list = error.details?.length ? error.details : [{ field: error.field, message: error.message }];
  return list.map((p) => {
    const field = String(p.field ?? '').replace(/^body\.?/, '');
    const message = String(p.message ?? '').replace(/^body\./, '');
    return { field, message: field && message.startsWith(`${field}: `) ? message.slice(field.length + 2) : message };
  });
}

export function editorCard(definition) {
  return html`<section class="card journey-editor" data-section="editor" id="editor">
    <div class="card-header"><h2>Draft</h2><span class="muted small">The journey file (JSON), as the API and <code>tend journeys</code> take it · <kbd>Ctrl</kbd>+<kbd>S</kbd> saves</span></div>
    <div class="card-body">
      <textarea class="json-editor" name="draft" rows="24" spellcheck="false" autocapitalize="off" autocomplete="off" aria-label="Journey draft (JSON)" aria-describedby="draft-problems">${prettyJourney(definition)}</textarea>
      <div class="draft-problems" id="draft-problems" data-error="draft"></div>
      <div class="form-actions">
        <button type="button" class="button" data-action="save">Save draft</button>
        <button type="button" class="button button-primary" data-action="save-publish">Save and publish</button>
        <button type="button" class="button button-quiet" data-action="revert">Revert</button>
      </div>
    </div>
  </section>`;
}

/**
 * Wires the editor card `root` (the element `editorCard` made). `journey()` is the journey as last loaded; `onSaved(journey)` and
 * `onPublished(result)` refresh the page around it. Returns `{ dirty(), publish() }`: the header's
 * Publish button saves first when the draft was changed.
 */
export function wireEditor(root, { journey, onSaved, onPublished }) {
  const editor = root.querySelector('textarea[name=draft]');
  const box = root.querySelector('[data-error=draft]');
  const fit = () => editor.setAttribute('rows', String(Math.min(48, Math.max(16, editor.value.split('\n').length + 1))));
  fit();
  let original = editor.value;
  let problems = [];

  const select = (field) => {
    const range = field ? locate(editor.value, pathOf(field)) : null;
    if (!range) return;
    editor.focus();
    editor.setSelectionRange(range.start, Math.min(range.end, editor.value.length));
    const line = lineAndColumn(editor.value, range.start).line;
    editor.scrollTop = Math.max(0, (line - 4) * parseFloat(window.getComputedStyle(editor).lineHeight || '20'));
  };

  const show = (title, list) => {
    problems = list;
    editor.setAttribute('aria-invalid', list.length ? 'true' : 'false');
    mount(box, list.length === 0 ? '' : html`<div class="error-box" role="alert">${icon('alert', 20)}<div>
      <strong>${title}</strong>
      <ul class="problem-list">${list.map((p, i) => html`<li data-problem="${i}">${p.field ? html`<button type="button" class="problem-field" data-select="${i}" title="Show it in the draft"><code data-problem-field>${p.field}</code></button> ` : ''}<span data-problem-message>${p.message}</span></li>`)}</ul>
    </div></div>`);
    if (list[0]?.field) select(list[0].field);
  };

  /** The draft in the editor, or null after showing why it is not JSON. */
  const read = () => {
    try {
      const value = JSON.parse(editor.value);
      if (value && typeof value === 'object' && !Array.isArray(value)) return value;
      show('The draft is not a journey', [{ field: '', message: 'A journey is a JSON object with a name, a trigger and steps.' }]);
    } catch (error) {
      const at = /at position (\d+)/.exec(error.message);
      show('The draft is not valid JSON', [{ field: '', message: error.message }]);
      if (at) {
        editor.focus();
        editor.setSelectionRange(Number(at[1]), Number(at[1]) + 1);
      }
    }
    return null;
  };

  async function save() {
    show('', []);
    const body = read();
    if (!body) return null;
    try {
      const saved = await request(`/api/journeys/${journey().id}`, { method: 'PUT', body });
      original = editor.value = prettyJourney(saved.draft);
      fit();
      onSaved(saved);
      return saved;
    } catch (error) {
      if (error.name === 'AbortError') return null;
      show('The draft was not saved', problemsOf(error));
      return null;
    }
  }

  async function publish() {
    if (editor.value !== original && !(await save())) return null;
    show('', []);
    try {
      const result = await request(`/api/journeys/${journey().id}/publish`, { method: 'POST', body: {} });
      onPublished(result);
      return result;
    } catch (error) {
      if (error.name === 'AbortError') return null;
      show('Not published: fix these in the draft', problemsOf(error));
      root.scrollIntoView({ block: 'start' });
      return null;
    }
  }

  root.addEventListener('click', (event) => {
    const target = event.target.closest('[data-action], [data-select]');
    if (!target || !root.contains(target)) return;
    if (target.dataset.select !== undefined) return select(problems[Number(target.dataset.select)]?.field);
    if (target.dataset.action === 'save') save();
    else if (target.dataset.action === 'save-publish') publish();
    else if (target.dataset.action === 'revert') {
      editor.value = original;
      fit();
      show('', []);
    }
  });
  editor.addEventListener('keydown', (event) => {
    if (event.key === 's' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      save();
    }
  });
  editor.addEventListener('input', fit);
  return { dirty: () => editor.value !== original, publish, show };
}
