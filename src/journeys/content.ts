import type { Queryable } from '../db/index.ts';
import type { Problem } from '../core/result.ts';
import { segmentDependencies } from '../segments/compile.ts';
import { validateEmail, validateTemplate, type TemplateProblem } from '../templates/index.ts';
import type { Content, JourneyDefinition } from './schema.ts';

/**
 * What publishing checks beyond the schema: every segment the journey names exists, and every
 * template parses, names only known variables and (for MJML) is a valid document. Each problem
 * names its place (`steps.2.content.email.mjml`, line and column).
 */
export async function checkDefinition(db: Queryable, workspaceId: string, definition: JourneyDefinition): Promise<Problem[]> {
  const problems: Problem[] = [];
  const segmentIds = new Set<number>();
  const t = definition.trigger;
  if (t.type === 'segment' || t.type === 'schedule') segmentIds.add(t.segmentId);
  for (const [i, step] of definition.steps.entries()) {
    if (step.type === 'branch') for (const b of step.branches) for (const id of segmentDependencies(b.rule)) segmentIds.add(id);
    if (step.type === 'send') {
      problems.push(...(await checkContent(step.content, `steps.${i}.content`)));
      for (const [v, variant] of (step.variants ?? []).entries()) problems.push(...(await checkContent(variant.content, `steps.${i}.variants.${v}.content`)));
      const withContent = (['email', 'sms', 'push', 'print'] as const).filter((ch) => (step.content as Content)[ch] !== undefined);
      if (withContent.length === 0) problems.push({ code: 'invalid', message: 'the send step has no content for any channel', field: `steps.${i}.content` });
      if (step.channel !== 'best' && step.content[step.channel] === undefined) {
        problems.push({ code: 'invalid', message: `the send step sends ${step.channel} but has no ${step.channel} content`, field: `steps.${i}.content.${step.channel}` });
      }
    }
    if (step.type === 'webhook' && step.body !== undefined) problems.push(...toProblems(await validateTemplate(step.body, 'text', 'body'), `steps.${i}`));
  }
  if (segmentIds.size > 0) {
    const { rows } = await db.query<{ id: number }>(`select id from segments where workspace_id = $1 and id = any($2::bigint[])`, [workspaceId, [...segmentIds]]);
    const found = new Set(rows.map((r) => Number(r.id)));
    for (const id of segmentIds) if (!found.has(id)) problems.push({ code: 'invalid', message: `segment ${id} does not exist`, field: 'trigger' });
  }
  return problems;
}

async function checkContent(content: Content, at: string): Promise<Problem[]> {
  const out: Problem[] = [];
  if (content.email) out.push(...toProblems(await validateEmail(content.email), `${at}.email`));
  if (content.sms) out.push(...toProblems(await validateTemplate(content.sms.body, 'text', 'body'), `${at}.sms`));
  if (content.push) {
    for (const field of ['title', 'body', 'url', 'image'] as const) {
      const source = content.push[field];
      if (source !== undefined) out.push(...toProblems(await validateTemplate(source, 'text', field), `${at}.push`));
    }
  }
  if (content.print) {
    out.push(...toProblems(await validateTemplate(content.print.body, 'text', 'body'), `${at}.print`));
    if (content.print.headline) out.push(...toProblems(await validateTemplate(content.print.headline, 'text', 'headline'), `${at}.print`));
  }
  return out;
}

function toProblems(list: TemplateProblem[], at: string): Problem[] {
  return list.map((p) => ({
    code: 'invalid' as const,
    message: `${p.message} (line ${p.line}, column ${p.column})`,
    field: p.field ? `${at}.${p.field}` : at,
    details: { line: p.line, column: p.column },
  }));
}
