/**
 * The JSON body parser of Tend's server, and what it learns of the body on the way: its size and
 * whether it holds a NUL character. The tracking API uses those to spare checking each message of
 * a batch again (events/validate.ts): a body within the 32 KB message limit cannot hold a larger
 * message, and JSON can only carry a NUL as the escape \u0000.
 */
import type { FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';

export type JsonBodyFacts = { bytes: number; nul: boolean };

const facts = new WeakMap<object, JsonBodyFacts>();

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
  facts.set(request, { bytes: Buffer.byteLength(text), nul: text.includes('\\u0000') });
  done(null, value);
}

/** What the parser learnt of a request's JSON body; null when it had none. */
export const jsonBodyFacts = (request: FastifyRequest): JsonBodyFacts | null => facts.get(request) ?? null;
