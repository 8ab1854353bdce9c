/**
 * The JSON body parser of Tend's server, and what a route can learn of the body it parsed: its
 * size and whether it holds a NUL character. The tracking API uses those to spare checking each
 * message of a batch again (events/validate.ts): a body within the 32 KB message limit cannot hold
 * a larger message, and JSON can only carry a NUL as the escape \u0000.
 */
import type { FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';

export type JsonBodyFacts = { bytes: number; nul: boolean };

// Each request's JSON text, for the few routes that ask what it holds (jsonBodyFacts).
const texts = new WeakMap<object, string>();

/**
 * Parses JSON, and JSON sent as text/plain (browsers' sendBeacon). An empty body is no body:
 * clients often send a JSON content type with DELETE and GET. As Fastify's own parser,
 * `__proto__` and `constructor.prototype` keys are dropped.
 */
export function parseJsonBody(request: FastifyRequest, body: string | Buffer, done: (err: Error | null, value?: unknown) => void): void {
  const text = body.toString();
  if (text.trim() === '') return done(null, undefined);
  let value: unknown;
  try {
    value = sjson.parse(text, null, { protoAction: 'remove', constructorAction: 'remove' });
  } catch (err) {
    return done(Object.assign(new Error(`malformed JSON: ${(err as Error).message}`), { statusCode: 400 }));
  }
  texts.set(request, text);
  done(null, value);
}

/** What a request's JSON body holds; null when it had none. */
export function jsonBodyFacts(request: FastifyRequest): JsonBodyFacts | null {
  const text = texts.get(request);
  return text === undefined ? null : { bytes: Buffer.byteLength(text), nul: text.includes('\\u0000') };
}
