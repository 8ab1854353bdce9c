// What the journey screens share: their styles, status badges, a request helper that keeps every
// problem the API reports (publishing lists all template problems, not just the first), journey
// files as downloads, and the journey's steps drawn as a vertical flow with branch and split arms.
import { html } from '../lib/html.js';
import { ApiError, session } from '../lib/api.js';
import { badge } from '../lib/ui.js';
import { formatNumber } from '../lib/format.js';
import { toHash } from '../lib/router.js';
import { arms, contentLine, stepWords, triggerWords } from './journey-words.js';

// The journey screens' styles live beside them, in ./journeys.css.
if (!document.querySelector('link[data-styles="journeys"]')) {
  const link = Object.assign(document.createElement('link'), { rel: 'stylesheet', href: new URL('./journeys.css', import.meta.url).pathname });
  link.dataset.styles = 'journeys';
  document.head.append(link);
}

export const journeyHref = (id) => toHash(`/journeys/${id}`);

const statusTones = { active: 'good', paused: 'warn', draft: 'neutral', archived: 'bad' };
export const journeyStatus = (status) => html`<span class="journey-status" data-status="${status}">${badge(status, statusTones[status] ?? 'neutral')}</span>`;

/**
 * A call to the admin API that keeps the problem's `details` (the screen's client keeps only the
 * first problem): `error.details` lists `{ field, message }` for every problem.
 */
export async function request(path, { method = 'GET', body, signal } = {}) {
  const headers = { authorization: `Bearer ${session.token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, 'Tend did not answer. Check that the server is running and try again.');
  }
  const data = await res.json().catch(() => null);
  if (res.ok) return data;
  const error = new ApiError(res.status, data?.error ?? `The server answered ${res.status}`, { code: data?.code, field: data?.field });
  error.details = Array.isArray(data?.details) ? data.details : null;
  throw error;
}

/** A route this server does not have (an older Tend): the screens leave its feature out. */
export const missingRoute = (error) => error?.status === 404 && /^no route /.test(error.message ?? '');

/** Saves a journey's draft as `<name>.journey.json` (the same JSON the API and the CLI take). */
export async function downloadJourney(id) {
  const res = await fetch(`/api/journeys/${id}/export`, { headers: { authorization: `Bearer ${session.token}` } });
  if (!res.ok) throw new ApiError(res.status, `The export failed (HTTP ${res.status})`);
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `journey-${id}.journey.json`;
  const text = `${JSON.stringify(await res.json(), null, 2)}\n`;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 5000);
  return name;
}

const typeLabels = {
  wait: 'Wait', wait_until: 'Wait until', wait_for_event: 'Wait for event', branch: 'Branch', split: 'Split', send: 'Send',
  update_contact: 'Update', coupon: 'Coupon', webhook: 'Webhook', list: 'List', delete_contact: 'Delete', exit: 'Exit',
};
const terminal = (s) => s.type === 'exit' || s.type === 'delete_contact';

/** Counts on a step: runs that reached it, runs on it now, messages it sent, and a dry run's reach. */
function countsOf(id, { activity, reach }) {
  const a = activity?.steps?.[id];
  const out = [];
  if (activity) out.push(html`<span class="count" data-count="reached" title="Runs that reached this step">${formatNumber(a?.reached ?? 0)} reached</span>`);
  if (a?.here) out.push(html`<span class="count count-here" data-count="here" title="Runs on this step now">${formatNumber(a.here)} here now</span>`);
  const sent = a?.messages?.sent ?? 0;
  const other = Object.entries(a?.messages ?? {}).filter(([k]) => k !== 'sent').reduce((n, [, v]) => n + v, 0);
  if (sent || other) out.push(html`<span class="count" data-count="sent">${formatNumber(sent)} sent${other ? html` · ${formatNumber(other)} queued or failed` : ''}</span>`);
  if (reach) out.push(html`<span class="count count-dry" data-count="dry-run" title="Runs that would have reached it in the dry run">${formatNumber(reach.get(id) ?? 0)} in the dry run</span>`);
  return out.length ? html`<div class="flow-counts">${out}</div>` : '';
}

function variants(s) {
  if (s.type !== 'send' || !s.variants?.length) return '';
  const total = s.variants.reduce((n, v) => n + v.weight, 0);
  return html`<ul class="flow-variants" aria-label="A/B variants">${s.variants.map((v) => html`<li><strong>${v.name}</strong> · ${Math.round((v.weight / total) * 100)} % · ${contentLine(v.content)}</li>`)}</ul>`;
}

/**
 * The steps as a vertical flow, from the first step. A step with arms (branch, split, wait for an
 * event) draws each arm as a column until the step where the arms meet again (the first step
 * every arm reaches), and the flow goes on from there. A step reached a second time by a jump is
 * drawn once and linked; steps nothing leads to are listed at the end.
 */
export function flow(definition, { segments, activity, reach } = {}) {
  const steps = definition.steps;
  const index = new Map(steps.map((s, i) => [s.id, i]));
  const resolve = (i, target) => (target !== undefined ? target : (steps[i + 1]?.id ?? null));
  const successors = (i) => {
    const s = steps[i];
    const a = arms(s, segments);
    if (a) return a.map((x) => resolve(i, x.target));
    return terminal(s) ? [] : [resolve(i, s.next)];
  };
  // Topological order (the schema refuses loops), to find where arms meet first.
  const order = new Map();
  const seen = new Set();
  const post = [];
  const visit = (id) => {
    if (id === null || seen.has(id) || !index.has(id)) return;
    seen.add(id);
    for (const n of successors(index.get(id))) visit(n);
    post.push(id);
  };
  steps.forEach((s) => visit(s.id));
  post.reverse().forEach((id, n) => order.set(id, n));
  const reachable = new Map();
  const reachableFrom = (id) => {
    if (id === null || !index.has(id)) return new Set();
    if (reachable.has(id)) return reachable.get(id);
    const set = new Set([id]);
    reachable.set(id, set);
    for (const n of successors(index.get(id))) for (const x of reachableFrom(n)) set.add(x);
    return set;
  };
  const meet = (targets) => {
    if (targets.some((t) => t === null)) return null;
    const sets = targets.map(reachableFrom);
    const common = [...sets[0]].filter((id) => sets.every((s) => s.has(id)));
    return common.sort((a, b) => order.get(a) - order.get(b))[0] ?? null;
  };

  const drawn = new Set();
  const stepName = (id) => steps[index.get(id)]?.name ?? id;
  const node = (s, armsMarkup) => html`<li class="flow-step flow-${s.type}" data-step="${s.id}" id="step-${s.id}">
    <div class="flow-card">
      <div class="flow-head"><span class="flow-type">${typeLabels[s.type] ?? s.type}</span>${s.name ? html`<strong class="flow-name">${s.name}</strong>` : ''}<code class="flow-id">${s.id}</code></div>
      <div class="flow-words">${stepWords(s)}</div>
      ${variants(s)}
      ${countsOf(s.id, { activity, reach })}
    </div>
    ${armsMarkup ?? ''}
  </li>`;

  function chain(id, stop) {
    const out = [];
    while (id !== null && id !== stop) {
      if (!index.has(id)) {
        out.push(html`<li class="flow-note">No step has the id <code>${id}</code></li>`);
        break;
      }
      if (drawn.has(id)) {
        out.push(html`<li class="flow-note">→ goes on at <a href="#step-${id}" data-jump="${id}">${stepName(id)}</a></li>`);
        break;
      }
      drawn.add(id);
      const i = index.get(id);
      const s = steps[i];
      const a = arms(s, segments);
      if (!a) {
        out.push(node(s));
        id = successors(i)[0] ?? null;
        continue;
      }
      const targets = a.map((x) => resolve(i, x.target));
      const join = meet(targets);
      const columns = a.map((arm, k) => {
        const inner = chain(targets[k], join);
        const empty = targets[k] === null ? html`<li class="flow-note">The journey ends</li>` : inner.length === 0 ? html`<li class="flow-note">Goes straight on</li>` : '';
        return html`<div class="flow-arm"><div class="flow-arm-label">${arm.label}</div><ol class="flow">${inner}${empty}</ol></div>`;
      });
      out.push(node(s, html`<div class="flow-arms" data-arms="${a.length}">${columns}</div>`));
      id = join;
    }
    return out;
  }

  const main = chain(steps[0]?.id ?? null, null);
  const orphans = steps.filter((s) => !drawn.has(s.id));
  return html`<ol class="flow flow-root">
      <li class="flow-step flow-trigger"><div class="flow-card"><div class="flow-head"><span class="flow-type">Trigger</span></div>
        <div class="flow-words">${triggerWords(definition.trigger, segments)}</div>
        ${activity ? html`<div class="flow-counts"><span class="count" data-count="entered">${formatNumber(activity.entered)} entered</span></div>` : ''}</div></li>
      ${main}
    </ol>
    ${orphans.length ? html`<div class="flow-orphans"><h3>Not reached from the first step</h3><ol class="flow">${orphans.map((s) => node(s))}</ol></div>` : ''}`;
}
