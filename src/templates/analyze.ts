import { Tag, Variable, toValueSync, type Template } from 'liquidjs';
import { contextShape, forloopShape, type Shape } from './context.ts';
import type { Engine, TemplateProblem } from './engine.ts';
import { closest } from './suggest.ts';

/**
 * Publish-time check of the variables a template names, with liquidjs's static analysis. liquidjs
 * knows what is in scope (`assign`, `capture`, loop variables), so only names the context must
 * provide reach `contextShape`. Loop variables are checked too: in
 * `{% for item in cart.items %}{{ item.nmae }}` the analyser binds `item` to a cart item's shape.
 */

/** Reported at most this often per template: past a few dozen, the first ones are what matters. */
const MAX_PROBLEMS = 50;

type Bindings = ReadonlyMap<string, Shape>;
type Segment = string | number | Variable;

/** Problems with the variables used by a parsed template (unknown names, with a likely fix). */
export function checkVariables(engine: Engine, template: Template[], field?: string): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const report = (variable: Variable, message: string) => {
    if (problems.length < MAX_PROBLEMS) {
      problems.push({ message, line: variable.location.row, column: variable.location.col, ...(field ? { field } : {}) });
    }
  };
  const globals = engine.analyzeSync(template, { partials: false }).globals;
  for (const occurrences of Object.values(globals)) {
    for (const variable of occurrences) {
      const message = unknownPath(variable, contextShape);
      if (message) report(variable, message);
    }
  }
  checkLoops(engine, template, new Map(), report);
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

type LoopTag = Tag & { variable: string; collection: { getText(): string }; templates: Template[]; elseTemplates?: Template[] };

function isLoop(t: Template): t is LoopTag {
  return t instanceof Tag && (t.name === 'for' || t.name === 'tablerow');
}

/**
 * Walks the tree for `for`/`tablerow` blocks. Each block's own body is analysed again on its own,
 * where its loop variable (and `forloop`) show up as globals, and those are checked against the
 * shape of one element of the collection.
 */
function checkLoops(engine: Engine, templates: Template[], bindings: Bindings, report: (v: Variable, m: string) => void): void {
  for (const t of templates) {
    if (isLoop(t)) {
      const item = itemShape(t.collection.getText(), bindings);
      const inner = new Map(bindings).set(t.variable, item);
      if (t.name === 'for') inner.set('forloop', forloopShape);
      const globals = engine.analyzeSync(t.templates, { partials: false }).globals;
      for (const name of [t.variable, 'forloop']) {
        const shape = inner.get(name);
        if (!shape) continue;
        for (const variable of globals[name] ?? []) {
          const message = unknownPath(variable, { kind: 'object', fields: { [name]: shape } });
          if (message) report(variable, message);
        }
      }
      checkLoops(engine, t.templates, inner, report);
      if (t.elseTemplates) checkLoops(engine, t.elseTemplates, bindings, report);
    } else if ('children' in t && typeof t.children === 'function') {
      const children = toValueSync((t as Tag & { children(partials: boolean, sync: boolean): Generator<unknown, Template[]> }).children(false, true));
      checkLoops(engine, children, bindings, report);
    }
  }
}

/** The shape of one element of a loop's collection, when the collection is a plain path. */
function itemShape(collection: string, bindings: Bindings): Shape {
  const path = /^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*$/.test(collection.trim()) ? collection.trim().split('.') : undefined;
  if (!path) return { kind: 'any' };
  const [root, ...rest] = path as [string, ...string[]];
  let shape: Shape | undefined = bindings.get(root) ?? (contextShape.kind === 'object' ? contextShape.fields[root] : undefined);
  for (const key of rest) {
    if (!shape || shape.kind !== 'object') return { kind: 'any' };
    shape = shape.fields[key];
  }
  return shape?.kind === 'list' ? shape.item : { kind: 'any' };
}

/**
 * Undefined when the path exists in `root`; otherwise the message to show. `root` is an object
 * shape whose fields are the names at the top of the path.
 */
function unknownPath(variable: Variable, root: Shape): string | undefined {
  const segments = variable.segments as Segment[];
  let shape = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (shape.kind === 'any') return undefined;
    if (typeof segment !== 'string') {
      // An index: a number or a variable. Lists yield an element; a computed key into an object
      // (contact.traits[event.name]) cannot be checked before the data exists.
      if (shape.kind === 'list') shape = shape.item;
      else return undefined;
      continue;
    }
    // `size` works on everything; `first` and `last` on lists.
    if (segment === 'size' && i > 0) return undefined;
    if (shape.kind === 'list' && (segment === 'first' || segment === 'last')) {
      shape = shape.item;
      continue;
    }
    const next = shape.kind === 'object' ? shape.fields[segment] : undefined;
    if (next) {
      shape = next;
      continue;
    }
    const path = variable.toString();
    const guess = shape.kind === 'object' ? closest(segment, Object.keys(shape.fields)) : undefined;
    if (guess) {
      const fixed = new Variable([...segments.slice(0, i), guess, ...segments.slice(i + 1)], variable.location);
      return `unknown variable ${path}; did you mean ${fixed.toString()}?`;
    }
    if (i === 0) return `unknown variable ${path}`;
    return `unknown variable ${path}: ${new Variable(segments.slice(0, i), variable.location).toString()} has no ${segment}`;
  }
  return undefined;
}
