/**
 * Bounce messages that come back by mail: RFC 3464 delivery status notifications (multipart/report;
 * report-type=delivery-status) and RFC 5965 abuse reports (report-type=feedback-report), for a
 * bounce mailbox that Tend reads. The MIME walk is done here rather than with a full mail parser:
 * a report is a small, rigidly structured message, and only three of its parts matter.
 */
import { fail, ok, type Result } from '../../core/result.ts';
import type { DeliveryReport } from '../port.ts';
import { keyFromMessageId, type KeyOptions } from './webhooks.ts';

type Headers = Map<string, string[]>;
type Part = { headers: Headers; body: string };

/** Header fields of a block of text (continuation lines unfolded), names lower-cased. */
function parseFields(text: string): Headers {
  const fields: Headers = new Map();
  let name: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && name) {
      const list = fields.get(name)!;
      list[list.length - 1] += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      name = undefined;
      continue;
    }
    name = line.slice(0, colon).trim().toLowerCase();
    const list = fields.get(name) ?? [];
    list.push(line.slice(colon + 1).trim());
    fields.set(name, list);
  }
  return fields;
}

function splitPart(raw: string): Part {
  const m = /\r?\n\r?\n/.exec(raw);
  if (!m) return { headers: parseFields(raw), body: '' };
  return { headers: parseFields(raw.slice(0, m.index)), body: raw.slice(m.index + m[0].length) };
}

const first = (h: Headers, name: string) => h.get(name)?.[0];

function contentType(h: Headers): { type: string; params: Record<string, string> } {
  const value = first(h, 'content-type') ?? 'text/plain';
  const [type, ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const m = /^\s*([^=\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s;]+))/.exec(p);
    if (m) params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  }
  return { type: type!.trim().toLowerCase(), params };
}

function decodeBody(part: Part): string {
  const encoding = (first(part.headers, 'content-transfer-encoding') ?? '').toLowerCase();
  if (encoding === 'base64') return Buffer.from(part.body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = Buffer.from(part.body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1');
    return bytes.toString('utf8');
  }
  return part.body;
}

function children(part: Part): Part[] {
  const boundary = contentType(part.headers).params.boundary;
  if (!boundary) return [];
  const delimiter = `--${boundary}`;
  const parts: Part[] = [];
  let current: string[] | null = null;
  for (const line of part.body.split(/\r?\n/)) {
    const trimmed = line.trimEnd();
    if (trimmed === delimiter || trimmed === `${delimiter}--`) {
      if (current) parts.push(splitPart(current.join('\n')));
      if (trimmed !== delimiter) break;
      current = [];
      continue;
    }
    current?.push(line);
  }
  return parts;
}

/** The first multipart/report in the message, looking inside multipart/mixed wrappers too. */
function findReport(part: Part, depth = 0): Part | undefined {
  const type = contentType(part.headers).type;
  if (type === 'multipart/report') return part;
  if (!type.startsWith('multipart/') || depth > 4) return undefined;
  for (const child of children(part)) {
    const found = findReport(child, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** An address field such as `rfc822; jane@example.com` without its type. */
const addressOf = (value: string | undefined) => value?.replace(/^[^;]*;\s*/, '').replace(/^<|>$/g, '').trim() || undefined;

/**
 * Turns a bounce (delivery status notification) or an abuse report into DeliveryReports, one per
 * recipient: Action failed → bounced (hard when Status is 5.x.x), delayed → a soft bounce,
 * delivered/relayed → delivered; an abuse report → complained. The message is named by the
 * original's X-Tend-Key or Message-ID, from the returned headers (text/rfc822-headers or message/rfc822).
 */
export function parseDsn(raw: string | Buffer, options: KeyOptions = {}): Result<DeliveryReport[]> {
  const report = findReport(splitPart(typeof raw === 'string' ? raw : raw.toString('utf8')));
  if (!report) return fail({ code: 'invalid', message: 'not a delivery status notification: no multipart/report part' });
  const reportType = (contentType(report.headers).params['report-type'] ?? '').toLowerCase();
  const parts = children(report);
  const typed = (...types: string[]) => parts.find((p) => types.includes(contentType(p.headers).type));

  const original = typed('text/rfc822-headers', 'message/rfc822', 'message/global', 'message/global-headers');
  const originalHeaders = original ? splitPart(decodeBody(original)).headers : new Map<string, string[]>();
  const originalMessageId = first(originalHeaders, 'message-id');
  const base = {
    channel: 'email' as const,
    idempotencyKey: first(originalHeaders, 'x-tend-key') ?? keyFromMessageId(originalMessageId, options),
    providerMessageId: originalMessageId,
  };

  if (reportType === 'feedback-report') {
    const feedback = typed('message/feedback-report');
    if (!feedback) return fail({ code: 'invalid', message: 'abuse report without a message/feedback-report part' });
    const fields = parseFields(decodeBody(feedback));
    const address = addressOf(first(fields, 'original-rcpt-to')) ?? addressOf(first(originalHeaders, 'to'));
    const arrival = first(fields, 'arrival-date');
    return ok([
      {
        ...base,
        type: 'complained',
        address,
        reason: first(fields, 'feedback-type') ?? 'abuse',
        occurredAt: arrival && !Number.isNaN(Date.parse(arrival)) ? new Date(arrival).toISOString() : undefined,
      },
    ]);
  }

  const status = typed('message/delivery-status', 'message/global-delivery-status');
  if (!status) return fail({ code: 'invalid', message: 'not a delivery status notification: no message/delivery-status part' });
  // The status part is one block of per-message fields, then one block per recipient.
  const blocks = decodeBody(status)
    .split(/\r?\n[ \t]*\r?\n/)
    .map(parseFields)
    .filter((b) => b.size > 0);
  const reports: DeliveryReport[] = [];
  for (const fields of blocks) {
    const action = first(fields, 'action')?.toLowerCase();
    const address = addressOf(first(fields, 'final-recipient') ?? first(fields, 'original-recipient'));
    if (!action || !address) continue;
    const code = first(fields, 'status') ?? '';
    const diagnostic = first(fields, 'diagnostic-code')?.replace(/^[^;]*;\s*/, '');
    const reason = diagnostic ?? (code ? `status ${code}` : action);
    const attempted = first(fields, 'last-attempt-date');
    const occurredAt = attempted && !Number.isNaN(Date.parse(attempted)) ? new Date(attempted).toISOString() : undefined;
    if (action === 'failed') reports.push({ ...base, type: 'bounced', address, hard: code.startsWith('5'), reason, occurredAt });
    else if (action === 'delayed') reports.push({ ...base, type: 'bounced', address, hard: false, reason: `delayed: ${reason}`, occurredAt });
    else if (action === 'delivered' || action === 'relayed' || action === 'expanded') reports.push({ ...base, type: 'delivered', address, reason, occurredAt });
  }
  if (reports.length === 0) return fail({ code: 'invalid', message: 'the delivery status notification names no recipient with an Action' });
  return ok(reports);
}
