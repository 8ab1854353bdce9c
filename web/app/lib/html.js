// Safe HTML rendering for the web app. Every value interpolated into an `html` template is escaped
// unless it is itself the result of `html` (or of `raw`, used only for constant markup such as
// icons). Contact traits, event names and properties come from anyone who holds a write key, so
// they must reach the page as text, never as markup.

/** Markup that is already safe to insert. */
export class Html {
  /** @param {string} text */
  constructor(text) {
    this.text = text;
  }
  toString() {
    return this.text;
  }
}

const entities = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for use in element content and in quoted attribute values. */
export function escape(value) {
  return String(value).replace(/[&<>"'`]/g, (c) => entities[c]);
}

function piece(value) {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(piece).join('');
  if (value === null || value === undefined || value === false) return '';
  return escape(value);
}

/** Tagged template: `html\`<td>${name}</td>\`` escapes `name`; arrays and nested `html` compose. */
export function html(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1];
  return new Html(out);
}

/** Trusted constant markup (icons). Never pass data to this. */
export const raw = (text) => new Html(text);

/** Replaces an element's content with rendered markup. */
export function mount(element, content) {
  element.innerHTML = piece(content);
}

/** An http(s) URL for an href, or null: `javascript:` and other schemes never become links. */
export function safeUrl(value) {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}
