import { createHash, createPublicKey } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { z } from 'zod';
import type { RoutePlugin } from './app.ts';
import { sendProblem } from './routes.ts';
import type { Tend } from '../tend.ts';
import { ConfigError } from '../config.ts';
import { fail, ok, type Problem, type Result } from '../core/result.ts';
import { DEFAULT_WORKSPACE_ID } from '../workspaces/index.ts';
import type { DeliveryReport } from '../channels/port.ts';
import {
  isSnsUrl, parseMailgunEvent, parsePostmarkWebhook, parseSendGridEvents, parseSesNotification, verifyMailgunSignature, verifySendGridSignature,
  verifySnsSignature, type KeyOptions, type SnsEnvelope,
} from '../channels/email/webhooks.ts';
import { parseDsn } from '../channels/email/dsn.ts';
import { parseTwilioWebhook, verifyTwilioSignature, type TwilioParams } from '../channels/sms/webhooks.ts';
import { parsePushReceipt } from '../channels/push/webhooks.ts';
import { SERVICE_WORKER_PATH, serviceWorkerSource } from '../channels/push/service-worker.ts';
import { parsePrintEvents } from '../channels/print/webhooks.ts';
import { createReportService, hooksToken, removePushSubscription, savePushSubscription, verifyHooksToken, type ReportScope } from '../tracking/reports.ts';

/** What the webhook routes need to know to believe a request, read once at start. */
export type HooksConfig = {
  /** TEND_TWILIO_AUTH_TOKEN: checks X-Twilio-Signature. Without it the Twilio route refuses everything. */
  twilioAuthToken?: string;
  /** TEND_SENDGRID_WEBHOOK_KEY: the signed Event Webhook's verification key; when set, the signature is required. */
  sendgridKey?: string;
  /** TEND_MAILGUN_SIGNING_KEY: the webhook signing key; when set, the signature is required. */
  mailgunKey?: string;
  /** TEND_SES_TOPIC_ARNS: SNS topics whose messages are accepted without a hooks token, and whose subscriptions Tend confirms. */
  sesTopicArns: string[];
  /** TEND_EMAIL_MESSAGE_ID_DOMAIN: only Message-IDs on it name Tend's messages (otherwise: hexadecimal ones). */
  messageIdDomain?: string;
  /** TEND_VAPID_PUBLIC_KEY: what browsers subscribe with. */
  vapidPublicKey?: string;
};

const TOPIC_ARN = /^arn:aws(-[a-z]+)*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/;

/** Reads the webhook settings; a bad value throws a ConfigError naming the variable. */
export function hooksConfigFromEnv(env: NodeJS.ProcessEnv): HooksConfig {
  const topics = (env.TEND_SES_TOPIC_ARNS ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  const badTopic = topics.find((t) => !TOPIC_ARN.test(t));
  if (badTopic) throw new ConfigError(`configuration: TEND_SES_TOPIC_ARNS is not valid: "${badTopic}" is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)`);
  const sendgridKey = env.TEND_SENDGRID_WEBHOOK_KEY?.trim() || undefined;
  if (sendgridKey) {
    try {
      createPublicKey({ key: Buffer.from(sendgridKey, 'base64'), format: 'der', type: 'spki' });
    } catch {
      throw new ConfigError('configuration: TEND_SENDGRID_WEBHOOK_KEY is not valid: expected the verification key SendGrid shows for the signed Event Webhook (base64)');
    }
  }
  const mailgunKey = env.TEND_MAILGUN_SIGNING_KEY?.trim() || undefined;
  if (mailgunKey && mailgunKey.length < 16) throw new ConfigError('configuration: TEND_MAILGUN_SIGNING_KEY is not valid: the webhook signing key has at least 16 characters');
  return {
    twilioAuthToken: env.TEND_TWILIO_AUTH_TOKEN || undefined, sendgridKey, mailgunKey, sesTopicArns: topics,
    messageIdDomain: env.TEND_EMAIL_MESSAGE_ID_DOMAIN || undefined, vapidPublicKey: env.TEND_VAPID_PUBLIC_KEY || undefined,
  };
}

/**
 * Whether to visit an SNS SubscribeURL. Only for a topic the operator listed, only on SNS's own
 * host in the topic's region, and only a ConfirmSubscription for that very topic: a request can
 * never make Tend fetch a URL of its choosing.
 */
export function snsConfirmation(sub: { topicArn: string; subscribeUrl: string }, acceptedTopics: readonly string[]): { confirm: true } | { confirm: false; reason: string } {
  if (!acceptedTopics.includes(sub.topicArn)) return { confirm: false, reason: `the topic ${sub.topicArn} is not in TEND_SES_TOPIC_ARNS` };
  if (!isSnsUrl(sub.subscribeUrl)) return { confirm: false, reason: 'the SubscribeURL is not on sns.<region>.amazonaws.com' };
  const url = new URL(sub.subscribeUrl);
  const region = sub.topicArn.split(':')[3];
  if (url.hostname.split('.')[1] !== region) return { confirm: false, reason: `the SubscribeURL is not in the topic's region (${region})` };
  if (url.searchParams.get('Action') !== 'ConfirmSubscription' || url.searchParams.get('TopicArn') !== sub.topicArn) {
    return { confirm: false, reason: 'the SubscribeURL does not confirm this topic' };
  }
  return { confirm: true };
}

/** Fetches an SNS certificate or subscription URL: only when isSnsUrl says yes, without redirects. */
async function fetchSnsText(url: string): Promise<string> {
  if (!isSnsUrl(url)) throw new Error(`not an SNS URL: ${url}`);
  const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return res.text();
}

export type HooksOptions = {
  config: HooksConfig;
  /** Visits SNS URLs (certificates, subscription confirmations). Tests pass their own: nothing leaves 127.0.0.1. */
  fetchSns?: (url: string) => Promise<string>;
  log?: (line: string) => void;
};

const HOOK_BODY = 'application/x-tend-hook-body';
const Query = z.object({ token: z.string().max(400).optional(), workspace: z.string().min(1).max(100).optional() });
type Query = z.infer<typeof Query>;
const b64url = (bytes: number, what: string) =>
  z.string().regex(/^[A-Za-z0-9_-]+={0,2}$/, `${what} in URL-safe base64`).refine((s) => Buffer.from(s, 'base64url').length === bytes, `${what}: ${bytes} bytes`);
const Id = z.union([z.string().min(1).max(256), z.number().finite()]).transform(String);
const PushSubscribe = z
  .object({
    endpoint: z.string().max(2000).url().refine((u) => u.startsWith('https://'), 'endpoint must be an https: URL (a push service)'),
    expirationTime: z.number().nullable().optional(),
    keys: z.object({ p256dh: b64url(65, 'a P-256 public key'), auth: b64url(16, 'an auth secret') }),
    userId: Id.optional(),
    anonymousId: Id.optional(),
  })
  .refine((b) => b.userId !== undefined || b.anonymousId !== undefined, { message: 'userId or anonymousId is required', path: ['userId'] });

/**
 * The inbound webhook routes: what email relays, Twilio, print vendors, bounce mailboxes and
 * Tend's own service worker report after a message left (docs/channels.md, "Webhooks into Tend"),
 * and the browser's side of web push (subscribe, unsubscribe, the VAPID key, the service worker).
 *
 * Hook routes read the raw body (their content type is set aside on arrival and parsed here):
 * signatures are over the exact bytes, and a bounce message is mail, not JSON. Bad input gets a
 * 400 naming the field; a request that cannot be authenticated a 401; neither changes anything.
 */
export function createHookRoutes(options: HooksOptions): RoutePlugin {
  const { config } = options;
  const fetchSns = options.fetchSns ?? fetchSnsText;
  const keyOptions: KeyOptions = { messageIdDomain: config.messageIdDomain };
  const originalType = new WeakMap<object, string>();
  const certificates = new Map<string, Promise<string>>();

  return (routes, tend, app) => {
    const log = options.log ?? ((line: string) => app.log.info(line));
    // Bounces, deliveries and unsubscribes reach segments and journeys (waits, goals, triggers) as opens and clicks do.
    const reports = createReportService({ db: tend.db, clock: tend.clock, onEvents: (ws, ids) => tend.eventsRecorded(ws, ids) });

    app.addContentTypeParser(HOOK_BODY, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.addHook('onRequest', async (request, reply) => {
      if (!request.url.startsWith('/hooks/')) return;
      if (request.url.startsWith('/hooks/push/receipt')) {
        // The service worker posts from the shop's origin.
        reply.header('access-control-allow-origin', '*').header('access-control-allow-headers', 'content-type').header('access-control-allow-methods', 'POST, OPTIONS');
      }
      if (request.method !== 'POST') return;
      originalType.set(request.raw, request.headers['content-type'] ?? '');
      request.raw.headers['content-type'] = HOOK_BODY;
    });
    app.options('/hooks/push/receipt', async (_req, reply) => reply.code(204).send());

    const typeOf = (request: FastifyRequest) => (originalType.get(request.raw) ?? '').split(';')[0]!.trim().toLowerCase();
    const raw = (body: unknown) => (Buffer.isBuffer(body) ? body : Buffer.alloc(0));
    const jsonOf = (body: unknown): Result<unknown> => {
      const text = raw(body).toString('utf8');
      if (text.trim() === '') return fail({ code: 'invalid', message: 'the request body is empty', field: 'body' });
      try {
        return ok(sjson.parse(text, null, { protoAction: 'remove', constructorAction: 'remove' }));
      } catch (err) {
        return fail({ code: 'invalid', message: `malformed JSON: ${(err as Error).message}`, field: 'body' });
      }
    };
    const tokenOf = (request: FastifyRequest, query: Query): string | undefined => {
      if (query.token) return query.token;
      const header = request.headers.authorization;
      if (!header?.startsWith('Basic ')) return undefined;
      // Postmark's "Basic auth credentials" in the webhook URL: the token as the password (or the user name).
      const [user, pass] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
      return pass || user || undefined;
    };
    const unauthorized = (message: string): Result<never> => fail({ code: 'unauthorized', message });

    /**
     * Who a request speaks for. A signature (when the provider has one and Tend has its key) vouches
     * for the request on its own; the workspace is then the one `?workspace=` names (default
     * 'default') and a report may name a message of any workspace. A hooks token names its workspace.
     */
    async function authorize(request: FastifyRequest, query: Query, source: string, signature: 'valid' | 'invalid' | 'none', what = 'signature'): Promise<Result<ReportScope>> {
      if (signature === 'invalid') return unauthorized(`the ${what} does not verify`);
      const token = tokenOf(request, query);
      if (token) {
        const ws = await verifyHooksToken(tend.db, token);
        return ws ? ok({ workspaceId: ws, anyWorkspace: false, source }) : unauthorized('the hooks token is not valid (GET /api/hooks shows the right one)');
      }
      if (signature === 'none') return unauthorized('a hooks token is required: add ?token=… to the webhook URL (GET /api/hooks shows it)');
      if (query.workspace && !(await tend.workspaces.get(query.workspace))) return fail({ code: 'invalid', message: `no workspace "${query.workspace}"`, field: 'query.workspace' });
      return ok({ workspaceId: query.workspace ?? DEFAULT_WORKSPACE_ID, anyWorkspace: true, source });
    }

    async function applyReports(reply: FastifyReply, scope: Result<ReportScope>, parsed: Result<readonly DeliveryReport[]>) {
      if (!scope.ok) return sendProblem(reply, scope.problem);
      if (!parsed.ok) return sendProblem(reply, parsed.problem);
      return { success: true, ...(await reports.apply(scope.value, parsed.value)) };
    }

    /** A hook route: the raw body in, a problem or the outcome out. */
    const hook = (url: string, summary: string, contentType: string, handle: (ctx: { query: Query; body: unknown; request: FastifyRequest; reply: FastifyReply }) => Promise<unknown>, bodyLimit?: number) =>
      routes.add({
        method: 'POST', url, summary, tag: 'Webhooks', auth: 'none', query: Query, bodyLimit,
        rawBody: { contentType, description: summary }, responses: { 401: 'The signature or the hooks token does not verify' },
        handler: ({ query, body, request, reply }) => handle({ query, body, request, reply }),
      });

    hook('/hooks/email/ses', 'Amazon SES notifications through SNS (signed by SNS)', 'application/json', async ({ query, body, request, reply }) => {
      const json = jsonOf(body);
      if (!json.ok) return sendProblem(reply, json.problem);
      const envelope = SnsMessage.safeParse(json.value);
      if (!envelope.success) return sendProblem(reply, zodProblem(envelope.error, 'SNS message'));
      const message = envelope.data as SnsEnvelope & { SigningCertURL: string };
      if (!isSnsUrl(message.SigningCertURL) || !message.SigningCertURL.endsWith('.pem')) return sendProblem(reply, { code: 'unauthorized', message: 'SigningCertURL is not an SNS certificate URL' });
      let certificate: string;
      try {
        certificate = await certificateAt(message.SigningCertURL);
      } catch (err) {
        return sendProblem(reply, { code: 'busy', message: `the SNS signing certificate could not be fetched: ${(err as Error).message}` });
      }
      const signed = verifySnsSignature(message, certificate);
      const scope = await authorize(request, query, 'ses', signed ? 'valid' : 'invalid', 'SNS signature');
      if (!scope.ok) return sendProblem(reply, scope.problem);
      // Anyone can have SNS sign a message to this URL: without a token, only listed topics count.
      if (scope.value.anyWorkspace && !config.sesTopicArns.includes(message.TopicArn)) {
        return sendProblem(reply, { code: 'unauthorized', message: `the SNS topic ${message.TopicArn} is not accepted: list it in TEND_SES_TOPIC_ARNS or add ?token=… to the subscription URL` });
      }
      const intake = parseSesNotification(message, keyOptions);
      if (!intake.ok) return sendProblem(reply, intake.problem);
      if (intake.value.kind === 'ignored') return { success: true, ignored: intake.value.reason };
      if (intake.value.kind === 'subscription') {
        const decision = snsConfirmation(intake.value, config.sesTopicArns);
        if (!decision.confirm) {
          log(`SNS subscription to ${intake.value.topicArn} not confirmed (${decision.reason}); to confirm it by hand, open ${intake.value.subscribeUrl}`);
          return { success: true, confirmed: false, reason: decision.reason };
        }
        try {
          await fetchSns(intake.value.subscribeUrl);
        } catch (err) {
          return sendProblem(reply, { code: 'busy', message: `confirming the subscription failed: ${(err as Error).message}` });
        }
        log(`SNS subscription to ${intake.value.topicArn} confirmed`);
        return { success: true, confirmed: true };
      }
      return applyReports(reply, scope, ok(intake.value.reports));
    });

    hook('/hooks/email/sendgrid', "SendGrid's Event Webhook (signed when TEND_SENDGRID_WEBHOOK_KEY is set, else a hooks token)", 'application/json', async ({ query, body, request, reply }) => {
      const signature = request.headers['x-twilio-email-event-webhook-signature'];
      const timestamp = request.headers['x-twilio-email-event-webhook-timestamp'];
      const signed = !config.sendgridKey
        ? 'none'
        : typeof signature === 'string' && typeof timestamp === 'string' && verifySendGridSignature(config.sendgridKey, raw(body), signature, timestamp) ? 'valid' : 'invalid';
      const scope = await authorize(request, query, 'sendgrid', signed, 'SendGrid signature (X-Twilio-Email-Event-Webhook-Signature)');
      const json = jsonOf(body);
      return applyReports(reply, scope, json.ok ? parseSendGridEvents(json.value, keyOptions) : json);
    });

    hook('/hooks/email/mailgun', 'Mailgun webhooks (signed when TEND_MAILGUN_SIGNING_KEY is set, else a hooks token)', 'application/json', async ({ query, body, request, reply }) => {
      const json = jsonOf(body);
      if (!json.ok) return sendProblem(reply, json.problem);
      const signature = (json.value as { signature?: { timestamp?: unknown; token?: unknown; signature?: unknown } } | null)?.signature;
      const signed = !config.mailgunKey
        ? 'none'
        : typeof signature?.timestamp === 'string' && typeof signature.token === 'string' && typeof signature.signature === 'string' &&
            verifyMailgunSignature(config.mailgunKey, { timestamp: signature.timestamp, token: signature.token, signature: signature.signature }) ? 'valid' : 'invalid';
      const scope = await authorize(request, query, 'mailgun', signed, 'Mailgun signature');
      return applyReports(reply, scope, parseMailgunEvent(json.value, keyOptions));
    });

    hook('/hooks/email/postmark', 'Postmark webhooks (a hooks token: ?token=… or as the Basic-auth password)', 'application/json', async ({ query, body, request, reply }) => {
      const scope = await authorize(request, query, 'postmark', 'none');
      const json = jsonOf(body);
      return applyReports(reply, scope, json.ok ? parsePostmarkWebhook(json.value) : json);
    });

    hook('/hooks/email/dsn', 'A bounce or abuse report as mail (RFC 3464 / RFC 5965), the raw message as the body (a hooks token)', 'message/rfc822', async ({ query, body, request, reply }) => {
      const scope = await authorize(request, query, 'dsn', 'none');
      if (raw(body).length === 0) return applyReports(reply, scope, fail({ code: 'invalid', message: 'the request body is empty: post the bounce message as it arrived', field: 'body' }));
      return applyReports(reply, scope, parseDsn(raw(body), keyOptions));
    }, 10 * 1024 * 1024);

    hook('/hooks/print', "A print vendor's status events (a hooks token)", 'application/json', async ({ query, body, request, reply }) => {
      const scope = await authorize(request, query, 'print', 'none');
      const json = jsonOf(body);
      return applyReports(reply, scope, json.ok ? parsePrintEvents(json.value) : json);
    }, 5 * 1024 * 1024);

    hook('/hooks/push/receipt', "The service worker's receipt for a notification it showed (the message's key is the proof)", 'application/json', async ({ body, reply }) => {
      const json = jsonOf(body);
      const parsed = json.ok ? parsePushReceipt(json.value, tend.clock.now()) : json;
      return applyReports(reply, ok({ workspaceId: DEFAULT_WORKSPACE_ID, anyWorkspace: true, source: 'browser' }), parsed.ok ? ok([parsed.value]) : parsed);
    }, 4096);

    hook('/hooks/sms/twilio', 'Twilio status callbacks and inbound messages (X-Twilio-Signature); answers empty TwiML', 'application/x-www-form-urlencoded', async ({ query, body, request, reply }) => {
      if (!config.twilioAuthToken) return sendProblem(reply, { code: 'unauthorized', message: 'Twilio webhooks cannot be verified: TEND_TWILIO_AUTH_TOKEN is not set' });
      if (typeOf(request) !== 'application/x-www-form-urlencoded') {
        return sendProblem(reply, { code: 'invalid', message: 'Twilio webhooks are form-encoded (application/x-www-form-urlencoded)', field: 'body' });
      }
      const params: TwilioParams = {};
      for (const [name, value] of new URLSearchParams(raw(body).toString('utf8'))) {
        const seen = params[name];
        params[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
      }
      // The URL Twilio called, as the world sees it: behind a proxy the Host header is not it.
      const url = `${(tend.messaging.publicUrl ?? `${request.protocol}://${request.host}`).replace(/\/+$/, '')}${request.url}`;
      const signed = verifyTwilioSignature(config.twilioAuthToken, url, params, request.headers['x-twilio-signature'] as string | undefined);
      const scope = await authorize(request, query, 'twilio', signed ? 'valid' : 'invalid', 'X-Twilio-Signature');
      if (!scope.ok) return sendProblem(reply, scope.problem);
      const parsed = parseTwilioWebhook(params, url);
      if (!parsed.ok) return sendProblem(reply, parsed.problem);
      if (parsed.value) await reports.apply(scope.value, [parsed.value]);
      return reply.type('text/xml; charset=utf-8').send('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    });

    routes.add({
      method: 'GET', url: '/api/hooks', summary: "The workspace's hooks token and the webhook URLs to give each provider", tag: 'Webhooks', auth: 'admin',
      handler: async ({ workspaceId }) => {
        const token = await hooksToken(tend.db, workspaceId);
        const base = (tend.messaging.publicUrl ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
        const withToken = (path: string) => `${base}${path}?token=${encodeURIComponent(token)}`;
        const named = workspaceId === DEFAULT_WORKSPACE_ID ? '' : `?workspace=${encodeURIComponent(workspaceId)}`;
        return {
          token,
          urls: {
            ses: withToken('/hooks/email/ses'), sendgrid: config.sendgridKey ? `${base}/hooks/email/sendgrid${named}` : withToken('/hooks/email/sendgrid'),
            mailgun: config.mailgunKey ? `${base}/hooks/email/mailgun${named}` : withToken('/hooks/email/mailgun'), postmark: withToken('/hooks/email/postmark'),
            dsn: withToken('/hooks/email/dsn'), print: withToken('/hooks/print'), twilio: `${base}/hooks/sms/twilio${named}`, pushReceipt: `${base}/hooks/push/receipt`,
          },
        };
      },
    });

    // ------------------------------------------------------------ web push, the browser's side

    routes.add({
      method: 'GET', url: '/v1/push/vapid-public-key', summary: 'The VAPID public key browsers subscribe with', tag: 'Web push', auth: 'none', responses: { 404: 'Web push is not configured' },
      handler: async ({ reply }) =>
        config.vapidPublicKey ? { publicKey: config.vapidPublicKey } : sendProblem(reply, { code: 'not_found', message: 'web push is not configured on this Tend server (TEND_VAPID_PUBLIC_KEY)' }),
    });
    routes.add({
      method: 'POST', url: '/v1/push/subscribe', summary: "Store a browser's push subscription for the person (their opt-in to web push)", tag: 'Web push', auth: 'write', body: PushSubscribe,
      handler: async ({ workspaceId, body, request, reply }) => {
        // Identity goes through ingestion, as every tracking call does (profiles created or merged
        // the same way); the event's deterministic id makes a repeated subscribe a no-op there.
        const messageId = `push-subscribe:${createHash('sha256').update(`${body.endpoint}\u0000${body.userId ?? ''}\u0000${body.anonymousId ?? ''}`).digest('hex').slice(0, 32)}`;
        const userAgent = typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : undefined;
        const r = await tend.ingest.ingest(workspaceId, [{
          type: 'track', event: 'Push Subscribed', messageId, userId: body.userId, anonymousId: body.anonymousId,
          properties: { push_service: new URL(body.endpoint).origin }, context: userAgent ? { userAgent } : undefined,
        }]);
        if (r.rejected.length > 0) return sendProblem(reply, { code: 'invalid', message: r.rejected[0]!.message, field: r.rejected[0]!.field });
        const { rows } = await tend.db.query<{ contact_id: number }>(`select contact_id from events where workspace_id = $1 and message_id = $2`, [workspaceId, messageId]);
        if (!rows[0]) throw new Error('push subscribe: the event just ingested is missing');
        await savePushSubscription(tend.db, workspaceId, Number(rows[0].contact_id), { endpoint: body.endpoint, keys: body.keys, userAgent }, tend.clock.now());
        tend.segmentUpdater.enqueue(workspaceId, [Number(rows[0].contact_id)]);
        return { success: true };
      },
    });
    routes.add({
      method: 'POST', url: '/v1/push/unsubscribe', summary: "Forget a browser's push subscription", tag: 'Web push', auth: 'write',
      body: z.object({ endpoint: z.string().min(1).max(2000) }),
      handler: async ({ workspaceId, body }) => ({ success: true, removed: await removePushSubscription(tend.db, workspaceId, body.endpoint) }),
    });
    app.get(SERVICE_WORKER_PATH, async (_req, reply) =>
      reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').header('access-control-allow-origin', '*').header('service-worker-allowed', '/').send(serviceWorkerSource),
    );

    /** SNS certificates change rarely; each is fetched once per process (a few at most). */
    function certificateAt(url: string): Promise<string> {
      let hit = certificates.get(url);
      if (!hit) {
        if (certificates.size >= 20) certificates.clear();
        hit = fetchSns(url);
        certificates.set(url, hit);
        hit.catch(() => certificates.delete(url));
      }
      return hit;
    }
  };
}

const SnsMessage = z.looseObject({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'], 'an SNS message is required: Type must be Notification or SubscriptionConfirmation'),
  MessageId: z.string().max(200),
  TopicArn: z.string().max(300),
  Message: z.string(),
  Timestamp: z.string().max(100),
  SignatureVersion: z.enum(['1', '2']),
  Signature: z.string().min(1).max(2000),
  SigningCertURL: z.string().max(2000),
});

function zodProblem(error: z.ZodError, where: string): Problem {
  const issue = error.issues[0]!;
  const field = issue.path.join('.');
  return { code: 'invalid', message: `${where}: ${field ? `${field}: ` : ''}${issue.message}`, field: field || 'body' };
}

/** The webhook and web-push routes, configured from the environment (validated when the server is built). */
export const hookRoutes: RoutePlugin = (routes, tend: Tend, app) => createHookRoutes({ config: hooksConfigFromEnv(process.env) })(routes, tend, app);
