// Journeys in words: the trigger, the settings, each step and the segment rules in branches, as a
// marketer would say them. Everything returned is `html` (escaped): names, events and template
// texts come from whoever wrote the journey and are shown as text.
import { html } from '../lib/html.js';

const units = { min: ['minute', 'minutes'], h: ['hour', 'hours'], d: ['day', 'days'], w: ['week', 'weeks'], mo: ['month', 'months'], y: ['year', 'years'] };

/** "90d" → "90 days", "1h" → "1 hour". */
export function duration(text) {
  const m = /^(\d+)(min|h|d|w|mo|y)$/.exec(String(text ?? ''));
  if (!m) return String(text ?? '');
  const n = Number(m[1]);
  return `${n} ${units[m[2]][n === 1 ? 0 : 1]}`;
}

/** "+3mo" → "3 months after", "-30d" → "30 days before". */
function offset(text) {
  const m = /^([+-]?)(\d+)(d|w|mo|y)$/.exec(String(text ?? ''));
  if (!m || Number(m[2]) === 0) return '';
  return `${duration(`${m[2]}${m[3]}`)} ${m[1] === '-' ? 'before' : 'after'}`;
}

const dateFields = { $first_order_at: 'their first order', $last_order_at: 'their last order', $created_at: 'their account was created' };
const dateName = (field) => dateFields[field] ?? html`their “${field}”`;
const weekdays = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const q = (text) => html`<span class="quoted">“${text}”</span>`;
const list = (items) => items.map((x, i) => html`${i > 0 ? (i === items.length - 1 ? ' or ' : ', ') : ''}${x}`);

function filters(where) {
  if (!where?.length) return '';
  return html` where ${where.map((f, i) => html`${i > 0 ? ' and ' : ''}<code>${f.path}</code> ${f.op}${f.value === undefined ? '' : html` <code>${JSON.stringify(f.value)}</code>`}`)}`;
}

/** A segment reference: its name (linked when it is a saved segment) when known. */
export function segmentRef(id, segments) {
  const s = segments?.get(id) ?? segments?.get(Number(id));
  if (!s) return html`segment #${id}`;
  return typeof s.id === 'number' ? html`segment <a href="#/segments/${s.id}">${s.name}</a>` : html`the segment ${q(s.name)}`;
}

/** The trigger, as a sentence. */
export function triggerWords(t, segments) {
  switch (t?.type) {
    case 'event': return html`When a contact does ${q(t.event)}${filters(t.where)}`;
    case 'segment': return html`When a contact ${t.on === 'exit' ? 'leaves' : 'enters'} ${segmentRef(t.segmentId, segments)}`;
    case 'change': {
      const field = { lifecycle_stage: 'lifecycle stage', rfm_cell: 'RFM cell', churn_band: 'churn-risk band' }[t.field] ?? t.field;
      return html`When the models move a contact's ${field}${t.from?.length ? html` from ${list(t.from.map(q))}` : ''}${t.to?.length ? html` to ${list(t.to.map(q))}` : ''}`;
    }
    case 'date': {
      const when = t.match === 'anniversary'
        ? html`Every year on the day and month of ${dateName(t.field)}${t.offset ? html` (${offset(t.offset)})` : ''}`
        : t.offset ? html`${offset(t.offset)} ${dateName(t.field)}` : html`On the date of ${dateName(t.field)}`;
      return html`${when}, at ${t.at ?? '09:00'} in the contact's time zone`;
    }
    case 'schedule':
      return html`${t.every === 'week' ? `Every ${weekdays[t.weekday ?? 1]}` : 'Every day'} at ${t.at} (${t.timezone ?? 'UTC'}), everyone in ${segmentRef(t.segmentId, segments)} enters`;
    case 'api': return html`Only when your systems enrol a contact through the API`;
    default: return html`<code>${JSON.stringify(t)}</code>`;
  }
}

/** The settings, one sentence each. */
export function settingsWords(s = {}) {
  const out = [];
  if (s.reentry === 'always') out.push(html`A contact may enter again once their previous run has ended.`);
  else if (s.reentry === 'once_per_period') out.push(html`A contact enters at most once every ${duration(s.reentryPeriod)}.`);
  else out.push(html`A contact goes through this journey once, ever.`);
  if (s.goal) {
    out.push(html`Goal: ${q(s.goal.event)}${filters(s.goal.where)} within ${duration(s.goal.within ?? '7d')} of entering${s.goal.exit === false ? ' (counted; the journey goes on)' : ', which ends the journey for them'}.`);
  } else {
    out.push(html`No goal: conversions are not measured.`);
  }
  out.push(html`Priority ${s.priority ?? 50} of 100 when frequency caps allow only one journey's message.`);
  if (s.sendRatePerMinute) out.push(html`At most ${s.sendRatePerMinute} messages a minute.`);
  out.push(s.holdoutPercent ? html`${s.holdoutPercent} % of entrants are held out as a control group to measure lift.` : html`No holdout group.`);
  return out;
}

const orderMetric = { count: 'number of orders', total: 'total spent', average: 'average order', first_order_at: 'first order', last_order_at: 'last order' };
const ops = { eq: 'is', neq: 'is not', gt: '>', gte: '≥', lt: '<', lte: '≤', in: 'is one of', contains: 'contains', starts_with: 'starts with', exists: 'exists', not_exists: 'does not exist', before: 'before', after: 'after', within_last: 'within the last', more_than_ago: 'more than … ago:' };
const value = (v) => (Array.isArray(v) ? list(v.map(q)) : /^\d+(min|h|d|w|mo|y)$/.test(String(v)) ? duration(v) : typeof v === 'string' ? q(v) : String(v));

/** A segment rule in words, for branch arms; JSON for what has no short sentence. */
export function ruleWords(r, segments) {
  switch (r?.type) {
    case 'and': return html`${r.rules.map((x, i) => html`${i > 0 ? ' and ' : ''}${ruleWords(x, segments)}`)}`;
    case 'or': return html`(${r.rules.map((x, i) => html`${i > 0 ? ' or ' : ''}${ruleWords(x, segments)}`)})`;
    case 'not': return html`not (${ruleWords(r.rule, segments)})`;
    case 'orders': return html`${orderMetric[r.metric]} ${ops[r.op] ?? r.op} ${value(r.value)}${r.within ? html` in the last ${duration(r.within)}` : ''}`;
    case 'score': return html`${r.field.replaceAll('_', ' ')} ${ops[r.op] ?? r.op} ${value(r.value)}`;
    case 'engagement': {
      const none = r.count?.op === 'eq' && r.count.value === 0;
      return html`${none ? 'has not ' : ''}${r.action}${r.channel ? ` an ${r.channel}` : ' a message'}${r.within ? html` in the last ${duration(r.within)}` : ''}`;
    }
    case 'event': {
      const none = r.count?.op === 'eq' && r.count.value === 0;
      return html`${none ? 'did not do' : 'did'} ${r.event ? q(r.event) : r.eventType ? `any ${r.eventType}` : 'anything'}${r.within ? html` in the last ${duration(r.within)}` : ''}`;
    }
    case 'trait': return html`<code>${r.trait}</code> ${ops[r.op] ?? r.op}${r.value === undefined ? '' : html` ${value(r.value)}`}`;
    case 'bought': return html`bought ${r.sku ? html`<code>${r.sku}</code>` : html`from ${q(r.category)}`}${r.within ? html` in the last ${duration(r.within)}` : ''}`;
    case 'reachable': return html`can be reached by ${r.channel}`;
    case 'segment': return html`is in ${segmentRef(r.segmentId, segments)}`;
    default: return html`<code>${JSON.stringify(r)}</code>`;
  }
}

const channelNames = { email: 'an email', sms: 'an SMS', push: 'a web push', print: 'a printed letter' };

/** What a message says, in one line: the email's subject, the SMS's text, the push's title. */
export function contentLine(content) {
  if (content?.email) return html`${q(content.email.subject)}`;
  if (content?.sms) return html`${q(content.sms.body)}`;
  if (content?.push) return html`${q(content.push.title)}`;
  if (content?.print) return html`${q(content.print.headline ?? content.print.body.slice(0, 80))}`;
  return '';
}

/** One step's own sentence (its arms are drawn by the flow). */
export function stepWords(s) {
  switch (s.type) {
    case 'wait': return html`Wait ${duration(s.duration)}`;
    case 'wait_until':
      return s.date ? html`Wait until ${offset(s.date.offset) ? html`${offset(s.date.offset)} ` : ''}${dateName(s.date.field)}, at ${s.time ?? '09:00'} their time` : html`Wait until ${s.time} in the contact's time zone`;
    case 'wait_for_event':
      return html`Wait up to ${duration(s.timeout)} for ${q(s.event)}${filters(s.where)}${s.matchTrigger?.length ? html` with the same ${list(s.matchTrigger.map((p) => html`<code>${p}</code>`))} as the trigger` : ''}`;
    case 'branch': return html`Check, in order, which is true`;
    case 'split': return html`Split at random`;
    case 'send': {
      const how = s.channel === 'best' ? html`on the channel they engage with most` : '';
      const flags = [
        s.transactional ? 'transactional' : null, s.bestHour ? 'at their usual hour' : null,
        s.topic && s.topic !== 'marketing' ? `topic ${s.topic}` : null, s.onCapped === 'drop' ? 'skipped when capped' : null,
        s.fallback?.length ? `else ${s.fallback.join(', else ')}` : null,
      ].filter(Boolean);
      return html`Send ${s.channel === 'best' ? 'a message' : channelNames[s.channel]} ${how}${s.variants ? '' : contentLine(s.content)}${flags.length ? html` <span class="muted">(${flags.join(' · ')})</span>` : ''}`;
    }
    case 'update_contact': {
      const parts = [
        ...Object.entries(s.traits ?? {}).map(([k, v]) => (v === null ? html`remove <code>${k}</code>` : html`set <code>${k}</code> to <code>${JSON.stringify(v)}</code>`)),
        ...(s.addTags ?? []).map((t) => html`tag ${q(t)}`), ...(s.removeTags ?? []).map((t) => html`untag ${q(t)}`),
        ...(s.consent ?? []).map((c) => html`${c.granted ? 'grant' : 'withdraw'} ${c.channel} consent${c.topic ? ` for ${c.topic}` : ''}`),
        ...(s.lifecycleStage ? [html`set the lifecycle stage to ${q(s.lifecycleStage)}`] : []),
      ];
      return html`Update the contact: ${parts.map((p, i) => html`${i > 0 ? '; ' : ''}${p}`)}`;
    }
    case 'coupon':
      return html`Create a personal coupon: ${s.percentOff !== undefined ? `${s.percentOff} % off` : `${s.amountOff} off`}, valid ${duration(s.validFor)}${s.prefix ? html` (codes start ${s.prefix})` : ''}`;
    case 'webhook': return html`Call ${s.method ?? 'POST'} <code>${s.url}</code>`;
    case 'list': return html`${s.action === 'add' ? 'Add to' : 'Remove from'} list ${q(s.list)}`;
    case 'delete_contact':
      return s.mode === 'erase' ? html`Erase the contact and all their data` : html`Anonymise the contact (orders stay, without identity)`;
    case 'exit': return html`End here`;
    default: return html`<code>${s.type}</code>`;
  }
}

/** The arms a step leads into, each `{ label, target }` (target undefined: the next step in the list). */
export function arms(s, segments) {
  switch (s.type) {
    case 'branch': return [...s.branches.map((b) => ({ label: html`${b.name}: ${ruleWords(b.rule, segments)}`, target: b.next })), { label: html`Otherwise`, target: s.otherwise }];
    case 'split': {
      const total = s.paths.reduce((n, p) => n + p.weight, 0);
      return s.paths.map((p) => ({ label: html`${p.name} · ${Math.round((p.weight / total) * 100)} %`, target: p.next }));
    }
    case 'wait_for_event': return [{ label: html`It comes`, target: s.next }, { label: html`No ${q(s.event)} in ${duration(s.timeout)}`, target: s.timeoutNext }];
    default: return null;
  }
}
