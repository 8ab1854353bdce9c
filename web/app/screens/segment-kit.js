// What the segment screens share: the care-model rule templates, JSON positions for pointing at a
// field the API refused, readable rule errors, the delete flow (with its 409 when another segment
// uses this one), and the admin API's POST calls.
import { html } from '../lib/html.js';
import { confirmDialog, errorBox, toast } from '../lib/ui.js';
import { icon } from '../lib/icons.js';
import { toHash } from '../lib/router.js';

// The segment screens' styles live beside them, in ./segments.css.
if (!document.querySelector('link[data-styles="segments"]')) {
  const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: new URL('./segments.css', import.meta.url).pathname });
  link.dataset.styles = 'segments';
  document.head.append(link);
}

/** One-click starting points: the audiences of the care models (docs/care-models.md). */
export const templates = [
  {
    key: 'welcome', label: 'Welcome', name: 'Welcome: new, no order yet',
    description: 'Seen for the first time in the last 7 days and has not ordered.',
    rule: { type: 'and', rules: [{ type: 'trait', trait: '$first_seen_at', op: 'within_last', value: '7d' }, { type: 'orders', metric: 'count', op: 'eq', value: 0 }] },
  },
  {
    key: 'abandoned-cart', label: 'Abandoned cart', name: 'Abandoned cart',
    description: 'Added a product to the cart in the last day and has not ordered since.',
    rule: { type: 'and', rules: [{ type: 'event', event: 'Product Added', within: '1d' }, { type: 'not', rule: { type: 'orders', metric: 'last_order_at', op: 'within_last', value: '1d' } }] },
  },
  {
    key: 'win-back', label: 'Win-back', name: 'Win-back: customers gone quiet',
    description: 'Has ordered, but no visit in the last 90 days.',
    rule: { type: 'and', rules: [{ type: 'orders', metric: 'count', op: 'gte', value: 1 }, { type: 'event', eventType: 'page', within: '90d', count: { op: 'eq', value: 0 } }] },
  },
  {
    key: 'birthday', label: 'Birthday today', name: 'Birthday today',
    description: "Today is the contact's birthday, in their own time zone.",
    rule: { type: 'date', field: 'birthday', match: 'anniversary' },
  },
  {
    key: 'first-order-3mo', label: 'First order + 3 months', name: 'First order 3 months ago today',
    description: 'The first order was exactly 3 months ago today.',
    rule: { type: 'date', field: '$first_order_at', match: 'on', offset: '+3mo' },
  },
  {
    key: 'big-spenders', label: 'Big spenders', name: 'Big spenders',
    description: 'Completed orders worth more than 500 in total.',
    rule: { type: 'orders', metric: 'total', op: 'gt', value: 500 },
  },
  {
    key: 'sleeping-email', label: 'Sleeping email subscribers', name: 'Sleeping email subscribers',
    description: 'Can be emailed, but opened nothing in the last 3 months.',
    rule: { type: 'and', rules: [{ type: 'reachable', channel: 'email' }, { type: 'engagement', action: 'opened', within: '90d', count: { op: 'eq', value: 0 } }] },
  },
  {
    key: 'holdout', label: 'Holdout 10 %', name: 'Holdout 10 %',
    description: 'A stable 10 % of contacts, kept out of a care model to measure what it achieves.',
    rule: { type: 'random', seed: 'care-2026', from: 0, to: 10 },
  },
];

/** What a new segment's editor starts with: repeat customers who were active lately. */
export const exampleRule = { type: 'and', rules: [{ type: 'orders', metric: 'count', op: 'gte', value: 2 }, { type: 'event', within: '90d' }] };

export const prettyRule = (rule) => JSON.stringify(rule, null, 2);

/** A contact as the segment screens show it: email, else user id, else the visitor's number. */
export const memberLabel = (m) => m.email ?? m.userId ?? `Anonymous visitor #${m.id}`;
export const contactHref = (id) => toHash(`/contacts/${id}`);
export const segmentHref = (id, ...rest) => toHash(['/segments', id, ...rest].join('/'));

/** POST through the screen's API client (kept as a function so screens can pass it around). */
export function poster(api) {
  return (path, body) => api.post(path, body);
}

/** An API field such as "body.rule.rules.1.within" as the person wrote it: "rule.rules.1.within". */
export const fieldPath = (field) => (field ?? '').replace(/^body\./, '');

/** The API's message without the "body." prefix of its field path. */
export const readableMessage = (message) => String(message ?? '').replace(/^body\./, '');

/**
 * Where the value at `path` (keys and array indexes, as text) starts and ends in valid JSON `text`;
 * with `key`, where its key does. When the path goes further than the text (a field that is
 * missing), the deepest value on it.
 */
export function locate(text, path, { key: wantKey = false } = {}) {
  let i = 0;
  let best = null;
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const string = () => {
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const value = (at) => {
    space();
    const start = i;
    if (text[i] === '{' || text[i] === '[') {
      const object = text[i] === '{';
      const close = object ? '}' : ']';
      i++;
      space();
      for (let n = 0; i < text.length && text[i] !== close; n++) {
        let key = String(n);
        if (object) {
          const keyStart = i;
          key = string();
          if (wantKey && at.length + 1 === path.length && key === path[at.length] && at.every((k, m) => k === path[m])) {
            best = { start: keyStart, end: i, depth: Infinity };
          }
          space();
          i++; // the colon
        }
        value([...at, key]);
        space();
        if (text[i] === ',') i++;
        space();
      }
      i++;
    } else if (text[i] === '"') {
      string();
    } else {
      while (i < text.length && !' \t\n\r,]}'.includes(text[i])) i++;
    }
    const onPath = at.length <= path.length && at.every((k, n) => k === path[n]);
    if (onPath && (!best || at.length > best.depth)) best = { start, end: i, depth: at.length };
  };
  try {
    value([]);
  } catch {
    return null;
  }
  return best;
}

/** The line and column (both from 1) of an offset in text. */
export function lineAndColumn(text, offset) {
  const lines = text.slice(0, offset).split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

/**
 * Reads the rule editor: `{ rule }` when the text is a JSON object, otherwise `{ problem }` with a
 * message and, when known, the range of text it is about.
 */
export function readRule(text) {
  if (!text.trim()) return { problem: { title: 'There is no rule yet', message: 'Write a rule in JSON, or start from one of the templates above.' } };
  let rule;
  try {
    rule = JSON.parse(text);
  } catch (error) {
    const position = /at position (\d+)/.exec(error.message);
    const offset = position ? Number(position[1]) : /end of JSON/.test(error.message) ? text.trimEnd().length : null;
    const message = error.message.replace(/\s*\(line \d+ column \d+\)/, '').replace(/ in JSON at position \d+/, '');
    return { problem: { title: 'The rule is not valid JSON', message, range: offset === null ? null : { start: Math.max(0, offset - (position ? 0 : 1)), end: offset + 1 } } };
  }
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
    return { problem: { title: 'This is not a rule', message: 'A rule is a JSON object with a "type", such as {"type": "orders", "metric": "count", "op": "gte", "value": 2}.' } };
  }
  return { rule };
}

// The API names the field it refuses, except where a rule could be of several types: there it
// says only that the rule "has the wrong type or format". The JSON Schema the API publishes for
// rules (generated from the same schema that validates them) is then followed through the rule to
// the field that does not fit. The same walk finds fields that are not part of a rule, which the
// API accepts and drops without a word.

let published = null;
/** The rule's JSON Schema from the API's OpenAPI document, or null when it cannot be had. */
function ruleSchema() {
  published ??= fetch('/api/openapi.json')
    .then((res) => (res.ok ? res.json() : null))
    .then((doc) => {
      const body = doc?.paths?.['/api/segments/preview']?.post?.requestBody?.content?.['application/json']?.schema;
      return body?.properties?.rule ? { root: body, rule: body.properties.rule } : null;
    })
    .catch(() => null);
  return published;
}

/** Readable names for the patterns of the rule language. */
const patterns = {
  '^\\d{1,5}(min|h|d|w|mo|y)$': 'a duration such as 30min, 1h, 90d, 2w, 3mo or 1y',
  '^[+-]?\\d{1,5}(d|w|mo|y)$': 'an offset such as +3mo, -30d or +1y',
};

function deref(schema, root) {
  let s = schema;
  for (let n = 0; s?.$ref && n < 20; n++) s = s.$ref.startsWith('#/') ? s.$ref.slice(2).split('/').reduce((o, k) => o?.[k], root) : null;
  return s ?? {};
}

/** What a schema accepts, in words: "one of eq, neq, gt", "a number or a date such as 2026-01-31". */
function expected(schema, root) {
  const s = deref(schema, root);
  if (s.anyOf) {
    const branches = choices(s, root);
    if (branches.every((b) => b.enum)) return `one of ${branches.flatMap((b) => b.enum).join(', ')}`;
    return [...new Set(branches.map((b) => expected(b, root)))].join(' or ');
  }
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return `one of ${s.enum.join(', ')}`;
  if (s.format === 'date') return 'a date such as 2026-01-31';
  if (s.format === 'date-time') return 'a time such as 2026-01-31T09:00:00Z';
  if (s.pattern) return patterns[s.pattern] ?? `text matching ${s.pattern}`;
  return { string: 'text', number: 'a number', integer: 'a whole number', boolean: 'true or false', array: 'a list', object: 'an object' }[s.type] ?? 'something else';
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const fits = (type, v) => ({ string: typeof v === 'string', number: typeof v === 'number', integer: Number.isInteger(v), boolean: typeof v === 'boolean', array: Array.isArray(v), object: isObject(v) })[type] ?? true;

/**
 * The first thing in `value` that `schema` does not accept, as `{ path, message }`, or null. With
 * `extra`, a field the schema does not name counts too.
 */
function misfit(schema, value, path, root, extra) {
  const s = deref(schema, root);
  if (s.anyOf) return misfitOfAny(choices(s, root), value, path, root, extra);
  const must = (message) => ({ path, message });
  if (s.const !== undefined && value !== s.const) return must(`must be ${JSON.stringify(s.const)}`);
  if (s.enum && !s.enum.includes(value)) return must(`must be ${expected(s, root)}`);
  if (s.type && !fits(s.type, value)) return must(`must be ${expected(s, root)}`);
  if (typeof value === 'string') {
    if (s.minLength !== undefined && value.length < s.minLength) return must(s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters long`);
    if (s.maxLength !== undefined && value.length > s.maxLength) return must(`must be at most ${s.maxLength} characters long`);
    if (s.pattern) {
      try {
        if (!new RegExp(s.pattern).test(value)) return must(`must be ${expected(s, root)}`);
      } catch {
        // A pattern this browser cannot read: the API has the last word.
      }
    }
  }
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) return must(`must be at least ${s.minimum}`);
    if (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum) return must(`must be more than ${s.exclusiveMinimum}`);
    if (s.maximum !== undefined && value > s.maximum) return must(`must be at most ${s.maximum}`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) return must(s.minItems === 1 ? 'must list at least one' : `must list at least ${s.minItems}`);
    if (s.maxItems !== undefined && value.length > s.maxItems) return must(`must list at most ${s.maxItems}`);
    for (let i = 0; s.items && i < value.length; i++) {
      const found = misfit(s.items, value[i], [...path, String(i)], root, extra);
      if (found) return found;
    }
  }
  if (isObject(value) && s.properties) {
    for (const key of s.required ?? []) if (!(key in value)) return { path: [...path, key], message: 'is missing', missing: true };
    for (const [key, v] of Object.entries(value)) {
      if (!(key in s.properties)) {
        if (extra) return { path: [...path, key], message: `is not a field of ${typeof value.type === 'string' ? `"${value.type}" rules` : 'this part of the rule'}, so Tend would drop it. Check its spelling.`, extra: true };
        continue;
      }
      const found = misfit(s.properties[key], v, [...path, key], root, extra);
      if (found) return found;
    }
  }
  return null;
}

/** The schemas of an anyOf, with anyOfs inside it flattened (score rules are a choice of two). */
const choices = (schema, root) => schema.anyOf.flatMap((b) => (deref(b, root).anyOf ? choices(deref(b, root), root) : [deref(b, root)]));

/** For a choice of schemas: rules are told apart by their `type`, anything else by trying each. */
function misfitOfAny(branches, value, path, root, extra) {
  const typeOf = (b) => b.properties?.type?.const;
  if (isObject(value) && branches.every((b) => typeOf(b) !== undefined)) {
    const types = [...new Set(branches.map(typeOf))];
    if (!('type' in value)) return { path, message: `needs a "type", one of ${types.join(', ')}` };
    const candidates = branches.filter((b) => typeOf(b) === value.type);
    if (candidates.length === 0) return { path: [...path, 'type'], message: `${JSON.stringify(value.type)} is not a rule type. The types are ${types.join(', ')}.` };
    const found = candidates.map((b) => misfit(b, value, path, root, extra));
    // Of several readings (score rules have two), the one that got furthest says the most.
    return found.includes(null) ? null : found.sort((a, b) => b.path.length - a.path.length)[0];
  }
  const found = branches.map((b) => misfit(b, value, path, root, extra));
  if (found.includes(null)) return null;
  // A list where text or a list is allowed: what is wrong inside the list says more.
  const deeper = found.filter((f, n) => f.path.length > path.length && (!branches[n].type || fits(branches[n].type, value)));
  if (deeper.length > 0) return deeper.sort((a, b) => b.path.length - a.path.length)[0];
  return { path, message: `must be ${expected({ anyOf: branches }, root)}` };
}

/** A found misfit as a sentence about its field: `"op" must be one of …`, `item 1 of "value" …`. */
function sentence({ path, message }) {
  const last = path[path.length - 1];
  if (/^\d+$/.test(last)) return `Item ${Number(last) + 1} of "${path[path.length - 2]}" ${message}`;
  return message.startsWith('"') ? message : `"${last}" ${message}`;
}

/**
 * A rule the API refused, for showing next to the editor: its message, the field path as the
 * person wrote it ("rule.rules.1.within") and the range of that field in the editor's text.
 */
export async function ruleProblem(error, text, rule) {
  let field = fieldPath(error.field);
  let message = readableMessage(error.message);
  if (message.startsWith(`${field}: `)) message = message.slice(field.length + 2);
  let missing = null;
  if ((field === 'rule' || field.startsWith('rule.')) && /wrong type or format$/.test(message)) {
    const schema = await ruleSchema();
    const found = schema ? misfit(schema.rule, rule, ['rule'], schema.root, false) : null;
    const inside = found?.path.join('.').startsWith(field);
    if (inside) {
      field = found.path.join('.');
      message = sentence(found);
      missing = found.missing ?? null;
    }
  }
  const path = field === 'rule' || field.startsWith('rule.') ? field.split('.').slice(1) : null;
  // A missing field is pointed at on the rule that lacks it.
  const at = missing ? path?.slice(0, -1) : path;
  const range = at?.length ? locate(text, at) : null;
  return { title: 'The rule was not accepted', message, field, range };
}

/** Fields in an accepted rule that no rule type has (the API drops them): a problem, or null. */
export async function ignoredField(text, rule) {
  const schema = await ruleSchema();
  const found = schema ? misfit(schema.rule, rule, [], schema.root, true) : null;
  if (!found?.extra) return null;
  const field = ['rule', ...found.path].join('.');
  return { title: 'Check the rule', message: sentence(found), field, range: locate(text, found.path, { key: true }), tone: 'warn' };
}

/** A problem with the rule, as shown under the editor. */
export function ruleProblemView(problem, text) {
  const where = problem.range ? lineAndColumn(text, problem.range.start) : null;
  return html`<div class="error-box${problem.tone === 'warn' ? ' warn-box' : ''}" role="alert">${icon('alert', 20)}<div>
    <strong>${problem.title}</strong>
    <p data-problem-message>${problem.message}</p>
    ${problem.field || where ? html`<p class="problem-where">${problem.field ? html`Field <code data-problem-field>${problem.field}</code>` : ''}${problem.field && where ? ' · ' : ''}${where ? `line ${where.line}, column ${where.column}` : ''}</p>` : ''}
  </div></div>`;
}

/** The panel shown when the API refuses to delete a segment because others use it. */
function inUse(segment, users, error) {
  return html`<div class="error-box" role="alert" data-problem="in-use">${icon('alert', 20)}<div>
    <strong>“${segment.name}” is still in use, so it was not deleted</strong>
    ${users.length > 0
      ? html`<p>${users.length === 1 ? 'This segment includes it in its rule' : 'These segments include it in their rules'}: change ${users.length === 1 ? 'that rule' : 'them'} or delete ${users.length === 1 ? 'it' : 'them'} first.</p>
        <ul class="in-use">${users.map((s) => html`<li><a href="${segmentHref(s.id)}">${s.name}</a></li>`)}</ul>`
      : html`<p>${readableMessage(error.message)}</p>`}
  </div></div>`;
}

/**
 * Deletes a segment after a confirmation and goes to the list. `showProblem(markup)` shows why it
 * was refused: another segment using it (409) or another error.
 */
export async function deleteSegment(api, segment, showProblem) {
  const confirmed = await confirmDialog({
    title: `Delete “${segment.name}”?`,
    body: html`<p>The segment and its membership are removed. Contacts and their events stay as they are.</p><p><strong>It cannot be undone.</strong></p>`,
    confirm: 'Delete segment',
  });
  if (!confirmed) return;
  try {
    await api.delete(`/api/segments/${segment.id}`);
  } catch (error) {
    if (error.name === 'AbortError') return;
    if (error.status !== 409 && error.status !== 404) return showProblem(errorBox(error, `“${segment.name}” could not be deleted`));
    if (error.status === 409) {
      const users = await api.get('/api/segments').then((r) => r.segments.filter((s) => s.dependsOn.includes(segment.id)), () => []);
      return showProblem(inUse(segment, users, error));
    }
  }
  toast(`“${segment.name}” was deleted`);
  location.hash = '#/segments';
}
