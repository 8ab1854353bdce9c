import type { Template } from 'liquidjs';
import { checkVariables } from './analyze.ts';
import type { EmailTemplate } from './email.ts';
import { htmlEngine, problemOf, textEngine, type TemplateProblem } from './engine.ts';
import { compileMjml } from './mjml.ts';

/**
 * Publish-time validation: everything that can be known about a template before it meets a
 * contact. A journey version with problems is not published, so a typo is found by the marketer
 * in the editor rather than by ten thousand customers.
 */

/** `text`: subject, SMS, push, plain-text part; `html`: an HTML email body; `mjml`: an MJML email body. */
export type TemplateKind = 'text' | 'html' | 'mjml';

/**
 * Problems in one template, sorted by position: Liquid syntax, unknown tags, filters and variables
 * (with a suggestion), and for MJML the document's validation errors. Empty when it may be published.
 */
export async function validateTemplate(source: string, kind: TemplateKind, field?: string): Promise<TemplateProblem[]> {
  const engine = kind === 'text' ? textEngine : htmlEngine;
  let template: Template[];
  try {
    template = engine.parse(source);
  } catch (err) {
    // liquidjs stops at the first syntax error; later checks need a parsed template.
    return [problemOf(err, engine, field)];
  }
  const problems = checkVariables(engine, template, field);
  if (kind === 'mjml') problems.push(...(await compileMjml(engine, source, field)).problems);
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Problems in every part of an email, each named by its `field` (subject, preheader, mjml, html, text). */
export async function validateEmail(template: EmailTemplate): Promise<TemplateProblem[]> {
  const problems: TemplateProblem[] = [];
  if ((template.mjml === undefined) === (template.html === undefined)) {
    problems.push({ message: 'give either mjml or html', line: 1, column: 1, field: 'mjml' });
  }
  if (template.subject.trim() === '') problems.push({ message: 'the subject is empty', line: 1, column: 1, field: 'subject' });
  const parts: [string, string | undefined, TemplateKind][] = [
    ['subject', template.subject, 'text'],
    ['preheader', template.preheader, 'html'],
    ['mjml', template.mjml, 'mjml'],
    ['html', template.html, 'html'],
    ['text', template.text, 'text'],
  ];
  for (const [field, source, kind] of parts) {
    if (source !== undefined) problems.push(...(await validateTemplate(source, kind, field)));
  }
  return problems;
}
