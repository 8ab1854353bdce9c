// Small building blocks shared by the screens: headers, states, badges, pagers, dialogs, toasts.
import { html, mount } from './html.js';
import { icon } from './icons.js';
import { formatDate, formatRelative } from './format.js';

export function pageHeader(title, { subtitle, actions, back } = {}) {
  return html`<header class="page-header">
    <div>
      ${back ? html`<a class="back-link" href="${back.href}">${icon('back', 16)} ${back.label}</a>` : ''}
      <h1>${title}</h1>
      ${subtitle ? html`<p class="subtitle">${subtitle}</p>` : ''}
    </div>
    ${actions ? html`<div class="actions">${actions}</div>` : ''}
  </header>`;
}

export const loading = (what = 'Loading') => html`<div class="state loading" role="status"><span class="spinner"></span>${what}…</div>`;

export const empty = (title, hint) => html`<div class="state empty"><strong>${title}</strong>${hint ? html`<p>${hint}</p>` : ''}</div>`;

/** An API error as a readable panel: what failed, the server's message and the field it names. */
export function errorBox(error, what = 'Something went wrong') {
  const status = error?.status ? ` (HTTP ${error.status})` : '';
  return html`<div class="error-box" role="alert">
    ${icon('alert', 20)}
    <div><strong>${what}${status}</strong><p>${error?.message ?? String(error)}</p>
    ${error?.field ? html`<p class="muted">Field: <code>${error.field}</code></p>` : ''}</div>
  </div>`;
}

export const badge = (text, tone = 'neutral', title) => html`<span class="badge badge-${tone}" title="${title ?? ''}">${text}</span>`;

/** A time shown relative ("3 hours ago") with the exact time on hover. */
export const time = (value) => html`<time datetime="${value ?? ''}" title="${formatDate(value)}">${formatRelative(value)}</time>`;

const statusTones = { completed: 'good', open: 'info', active: 'info', checkout: 'warn', refunded: 'bad', cancelled: 'bad', abandoned: 'warn' };
export const statusBadge = (status) => badge(status, statusTones[status] ?? 'neutral');

/** Badges for an email address's check result: disposable, role, typo (with the suggestion), invalid. */
export function emailBadges(check) {
  if (!check || typeof check !== 'object') return '';
  const out = [];
  if (check.reason === 'syntax') out.push(badge('Invalid address', 'bad', 'The address is not valid email syntax'));
  if (check.disposable) out.push(badge('Disposable', 'bad', 'A throwaway-mailbox service: messages will not reach a person'));
  if (check.role) out.push(badge('Role address', 'warn', 'A shared mailbox (info@, sales@…) rather than a person'));
  if (check.suggestion) out.push(badge('Possible typo', 'warn', `Did you mean ${check.suggestion}?`));
  return out;
}

/** Previous / next buttons for key-based paging. */
export function pager({ hasPrevious, hasNext }) {
  if (!hasPrevious && !hasNext) return '';
  return html`<nav class="pager" aria-label="Pages">
    <button type="button" class="button" data-page="previous" ${hasPrevious ? '' : 'disabled'}>← Newer</button>
    <button type="button" class="button" data-page="next" ${hasNext ? '' : 'disabled'}>Older →</button>
  </nav>`;
}

/** Makes table rows with `data-href` open their page when clicked anywhere but a link or button. */
export function clickableRows(root) {
  root.addEventListener('click', (event) => {
    const row = event.target.closest('tr[data-href]');
    if (!row || event.target.closest('a, button, summary, input')) return;
    location.hash = row.dataset.href;
  });
}

/**
 * A modal confirmation (a <dialog>, not window.confirm). Resolves true when the person confirms.
 */
export function confirmDialog({ title, body, confirm = 'Confirm', tone = 'danger' }) {
  return new Promise((resolve) => {
    const dialog = document.createElement('dialog');
    dialog.className = 'modal';
    mount(dialog, html`<form method="dialog">
      <h2>${title}</h2>
      <div class="modal-body">${body}</div>
      <div class="modal-actions">
        <button class="button" value="cancel" autofocus>Cancel</button>
        <button class="button button-${tone}" value="confirm">${confirm}</button>
      </div>
    </form>`);
    document.body.append(dialog);
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'confirm');
      dialog.remove();
    });
    dialog.showModal();
  });
}

/** A short message in the corner that goes away by itself. */
export function toast(message, tone = 'good') {
  let host = document.querySelector('.toasts');
  if (!host) {
    host = document.createElement('div');
    host.className = 'toasts';
    host.setAttribute('role', 'status');
    document.body.append(host);
  }
  const item = document.createElement('div');
  item.className = `toast toast-${tone}`;
  item.textContent = message;
  host.append(item);
  setTimeout(() => item.remove(), 4000);
}

/** Calls `fn` once typing has paused. */
export function debounce(fn, ms = 250) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/**
 * Guards against out-of-order answers: `const current = turn();` before a request, and after it
 * `if (!current()) return;` drops an answer that a newer request has overtaken.
 */
export function turns() {
  let latest = 0;
  return () => {
    const mine = ++latest;
    return () => mine === latest;
  };
}
