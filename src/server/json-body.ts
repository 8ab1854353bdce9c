/**
 * The JSON body parser of Tend's server, and what a route can learn of the body it parsed: its
 * size and whether it holds a NUL character or a UTF-16 surrogate. The tracking API uses those to
 * spare checking each message of a batch again (events/validate.ts): a body within the 32 KB
 * message limit cannot hold a larger message, and JSON can only carry a NUL or an unpaired
 * surrogate as an escape (\u0000, \ud800; bytes that are not UTF-8 are read as U+FFFD).
 */
import type { FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { SURROGATE_ESCAPE, unpairedSurrogateAt } from '../events/validate.ts';

/** A request body's size, and whether it holds an escaped NUL or an escaped UTF-16 surrogate (half of a pair, perhaps unpaired). */
export type JsonBodyFacts = { bytes: number; nul: boolean; surrogate: boolean };

// Each request's JSON text, its size in bytes and whether it escapes a character, for the few
// routes that ask what it holds (jsonBodyFacts).
const texts = new WeakMap<object, { text: string; bytes: number; escapes: boolean }>();

/**
 * Parses JSON, and JSON sent as text/plain (browsers' sendBeacon). An empty body is no body:
 * clients often send a JSON content type with DELETE and GET. As Fastify's own parser,
 * `__proto__` and `constructor.prototype` keys are dropped.
 */
export function parseJsonBody(request: FastifyRequest, body: string | Buffer, done: (err: Error | null, value?: unknown) => void): void {
  const text = body.toString();
  if (text.trim() === '') return done(null, undefined);
  let value: unknown;
  // Only a body that names `proto` or `constructor`, or escapes a character (`\u…`, which could
  // spell them), needs the scan for those keys; and one that starts with a byte order mark, its
  // removal.
  const escapes = text.includes('\\u');
  try {
    value = escapes || text.charCodeAt(0) === 0xfeff || text.includes('proto') || text.includes('constructor')
      ? sjson.parse(text, null, { protoAction: 'remove', constructorAction: 'remove' })
      : JSON.parse(text);
  } catch (err) {
    return done(Object.assign(new Error(`malformed JSON: ${(err as Error).message}`), { statusCode: 400 }));
  }
  // Text that is not valid Unicode cannot be stored: refused here, naming where it is, except by
  // the tracking API, which refuses only the messages holding it and keeps the rest of a batch.
  if (!request.url.startsWith('/v1/') && escapes && SURROGATE_ESCAPE.test(text)) {
    const at = unpairedSurrogateAt(value);
    if (at !== null) {
      const field = at === '' ? 'body' : `body.${at}`;
      return done(Object.assign(new Error(`${field} contains an unpaired surrogate (half of a UTF-16 pair, such as \\ud800), which is not valid Unicode`), { statusCode: 400, field }));
    }
  }
  texts.set(request, { text, bytes: Buffer.byteLength(text), escapes });
  done(null, value);
}

/** What a request's JSON body holds; null when it had none. */
export function jsonBodyFacts(request: FastifyRequest): JsonBodyFacts | null {
  const facts = texts.get(request);
  if (facts === undefined) return null;
  const { text, bytes, escapes } = facts;
  return { bytes, nul: escapes && text.includes('\\u0000'), surrogate: escapes && SURROGATE_ESCAPE.test(text) };
}
