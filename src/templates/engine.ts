import { AssertionError, Liquid, LiquidError, Tag, type FS, type Template, type TagToken, type TopLevelToken } from 'liquidjs';
import { tendFilters } from './filters.ts';
import { closest } from './suggest.ts';

/**
 * The sandboxed Liquid engines. A template is written by a marketer and runs on Tend's servers for
 * every recipient, so it must not reach the file system or the network, and a hostile or careless
 * one must fail quickly instead of stalling the send pipeline:
 * - `include`, `render` and `layout` are replaced by tags that refuse at parse time (and the file
 *   system liquidjs would read is one that refuses too, in case a future tag tries);
 * - parse, time and memory limits bound every template: `{% for i in (1..100000000) %}` fails on the
 *   memory limit before it starts, a nested loop fails on the time limit;
 * - `ownPropertyOnly` keeps `{{ contact.constructor }}` and other prototype names unreachable.
 */

/** A problem found in a template, at a 1-based line and column of its source. */
export type TemplateProblem = { message: string; line: number; column: number; field?: string };

/** Thrown when a template cannot be compiled or rendered; `problems` say where and why. */
export class TemplateError extends Error {
  readonly problems: TemplateProblem[];
  constructor(problems: TemplateProblem[]) {
    super(problems.map(describe).join('; '));
    this.name = 'TemplateError';
    this.problems = problems;
  }
}

/** "subject, line 1, column 4: unknown filter mony; did you mean money?" */
export function describe(p: TemplateProblem): string {
  return `${p.field ? `${p.field}, ` : ''}line ${p.line}, column ${p.column}: ${p.message}`;
}

/** Templates longer than this (characters) are refused; the largest real emails are ~100 kB. */
export const PARSE_LIMIT = 1_000_000;
/**
 * One render may take this long (ms). A warm render takes about 0.1 ms, but the first one in a
 * process loads ICU's locale and zone data (25 ms measured, more on a busy machine); a legitimate
 * email must never fail on that, and a runaway loop still stops within a quarter of a second.
 */
export const RENDER_LIMIT_MS = 250;
/** Characters and array elements one render may allocate (ranges, joins, appends …). */
export const MEMORY_LIMIT = 10_000_000;

const refusingFs: FS = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async (file) => Promise.reject(new Error(`templates cannot read files (${file})`)),
  readFileSync: (file) => {
    throw new Error(`templates cannot read files (${file})`);
  },
  resolve: (_dir, file) => file,
  contains: async () => false,
  containsSync: () => false,
};

function refuse(name: string) {
  return class extends Tag {
    constructor(token: TagToken, remain: TopLevelToken[], liquid: Liquid) {
      super(token, remain, liquid);
      throw new Error(`the ${name} tag is not available: Tend templates cannot read other templates or files`);
    }
    *render(): Generator<unknown, void, unknown> {}
  };
}

function create(outputEscape: 'escape' | undefined): Liquid {
  const liquid = new Liquid({
    fs: refusingFs,
    root: [],
    relativeReference: false,
    dynamicPartials: false,
    strictFilters: true,
    ownPropertyOnly: true,
    outputEscape,
    parseLimit: PARSE_LIMIT,
    renderLimit: RENDER_LIMIT_MS,
    memoryLimit: MEMORY_LIMIT,
    // Dates without a zone render in UTC unless a filter picks the contact's zone.
    timezoneOffset: 0,
    locale: 'en-US',
  });
  for (const name of ['include', 'render', 'layout']) liquid.registerTag(name, refuse(name));
  for (const [name, filter] of Object.entries(tendFilters)) liquid.registerFilter(name, filter);
  return liquid;
}

// The engines hold configuration only (no I/O, no per-render state), so one of each serves the
// whole process, and parsed templates from either can be cached by the send pipeline.

/** Escapes every `{{ }}` output for HTML (`| raw` opts out): email bodies. */
export const htmlEngine = create('escape');
/** Writes outputs as they are: subjects, plain-text parts, SMS and push. */
export const textEngine = create(undefined);

export type Engine = typeof htmlEngine;

/** Parses a template, turning liquidjs's errors into a TemplateError with line and column. */
export function parse(engine: Engine, source: string, field?: string): Template[] {
  try {
    return engine.parse(source);
  } catch (err) {
    throw new TemplateError([problemOf(err, engine, field)]);
  }
}

/** Renders a parsed template synchronously (no tag can wait for I/O); limit breaches throw TemplateError. */
export function renderParsed(engine: Engine, template: Template[], context: object, field?: string): string {
  try {
    return engine.renderSync(template, context) as string;
  } catch (err) {
    throw new TemplateError([problemOf(err, engine, field)]);
  }
}

/** A problem for an error liquidjs threw; other errors are bugs and are thrown again. */
export function problemOf(err: unknown, engine: Engine, field?: string): TemplateProblem {
  // The parse-length limit is an assertion without a position; anything else is a bug.
  if (err instanceof AssertionError) return { message: explain(err.message, engine), line: 1, column: 1, ...(field ? { field } : {}) };
  if (!(err instanceof LiquidError)) throw err;
  const [line = 1, column = 1] = err.token?.getPosition() ?? [];
  const raw = (err as { originalError?: Error }).originalError?.message ?? err.message.replace(/, line:\d+, col:\d+$/, '');
  return { message: explain(raw, engine), line, column, ...(field ? { field } : {}) };
}

function explain(message: string, engine: Engine): string {
  const filter = /^undefined filter: (\S+)/.exec(message);
  if (filter) {
    const name = filter[1]!;
    const guess = closest(name, Object.keys(engine.filters));
    return `unknown filter ${name}${guess ? `; did you mean ${guess}?` : ''}`;
  }
  const tag = /^tag "?([^"\s]+)"? not found/.exec(message);
  if (tag) return `unknown tag ${tag[1]}`;
  if (message.includes('template render limit exceeded')) {
    return `the template took longer than ${RENDER_LIMIT_MS} ms to render; look for loops over large ranges`;
  }
  if (message.includes('memory alloc limit exceeded')) {
    return 'the template needed too much memory to render; look for large ranges or strings built in loops';
  }
  if (message.includes('parse length limit exceeded')) return `the template is longer than ${PARSE_LIMIT} characters`;
  return message;
}
