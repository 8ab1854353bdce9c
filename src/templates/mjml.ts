import type mjml2htmlFn from 'mjml';
import type { Engine, TemplateProblem } from './engine.ts';
import { placeholderCounts, protectLiquid, restoreLiquid, type Protected } from './protect.ts';

/**
 * MJML → HTML once per template version, with the Liquid left in place for the per-message render.
 * MJML's file access is off: `mj-include` is refused (it is also ignored by mjml 5 by default) and
 * no `.mjmlconfig` is read.
 */

// MJML and what it loads take about 100 MB of memory: it is loaded on the first compile, so that
// processes that never compile an email (a CSV import, most CLI commands) do not carry it.
let mjml: Promise<typeof mjml2htmlFn> | null = null;
const loadMjml = () => (mjml ??= import('mjml').then((m) => m.default));

export type MjmlOutput = {
  /** The email's HTML with its Liquid restored: the template rendered per message. */
  html: string;
  /** The same HTML with placeholders, for the one-off text conversion. */
  protectedHtml: string;
  protected: Protected;
  problems: TemplateProblem[];
};

/** Compiles an MJML document whose Liquid has already parsed; problems carry source lines. */
export async function compileMjml(engine: Engine, source: string, field?: string): Promise<MjmlOutput> {
  const problems: TemplateProblem[] = [];
  const at = (line: number, column: number, message: string): TemplateProblem => ({ message, line, column, ...(field ? { field } : {}) });
  for (const m of source.matchAll(/<mj-include\b/gi)) {
    const [line, column] = position(source, m.index);
    problems.push(at(line, column, 'mj-include is not available: Tend templates cannot read files; paste the part in'));
  }
  const p = protectLiquid(engine, source, 'mjml');
  const mjml2html = await loadMjml();
  let result: Awaited<ReturnType<typeof mjml2html>>;
  try {
    result = await mjml2html(p.source, { validationLevel: 'soft', ignoreIncludes: true, minify: false, beautify: false });
  } catch (err) {
    // mjml throws on a document it cannot read at all (no <mjml> root, say).
    problems.push(at(1, 1, err instanceof Error ? err.message : String(err)));
    return { html: '', protectedHtml: '', protected: p, problems };
  }
  for (const e of result.errors) {
    problems.push(at(p.originalLine(e.line), 1, `${e.tagName}: ${e.message}`));
  }
  for (const [i, count] of placeholderCounts(p, result.html)) {
    const token = p.tokens[i]!;
    if (count === 0) {
      problems.push(at(token.line, token.column, `MJML drops ${brief(token.text)} here; put it inside mj-text, mj-raw or an attribute MJML keeps`));
    } else if (token.control && count > 1) {
      problems.push(at(token.line, token.column, `MJML repeats ${brief(token.text)} in its output; move the tag into mj-raw or mj-text`));
    }
  }
  return { html: p.prefix + restoreLiquid(p, result.html) + p.suffix, protectedHtml: result.html, protected: p, problems };
}

/** `{% for item in cart.items %}` shortened for a message. */
function brief(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > 40 ? `${oneLine.slice(0, 37)}…` : oneLine;
}

function position(source: string, offset: number): [number, number] {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  return [line, offset - before.lastIndexOf('\n')];
}
