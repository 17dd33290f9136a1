// Renders target.template: each key of the Secret from a Liquid template over the resolved values. Pure but
// for zeroing the values it drops; the reads and the write are elsewhere.
//
// The sandbox: Liquid runs no code and reads only the variables given (own properties only, so no
// `constructor` or prototype); there is no file system (no include, render or layout; no partials); filters
// are ours (template-filters.ts) or Liquid's own, which work on what they are given; a template is at most
// maxTemplateLength characters, each key's output at most a Secret's size, and a render may spend a bounded
// amount of memory and time.
//
// Errors name the key and what went wrong. A parse error is about the template text alone (no value is in
// reach yet), so Liquid's message and the line and column are used. A render error is reported by its kind
// only, with no position: Liquid's message can embed what a filter saw, and where a render stops depends on
// which branches the values took.
import {
  Context,
  defaultOperators,
  type Emitter,
  type FilterImplOptions,
  Liquid,
  LiquidError,
  type Operators,
  type Tag,
  type Template,
  type Token,
  toValueSync,
} from 'liquidjs';
import type { SecretTemplate } from '../api/types.ts';
import { secretSizeLimit } from '../providers/limits.ts';
import { invalidSecretKey, quoteKey } from './secret-keys.ts';
import { BinaryValue, TemplateRefusal, templateFilters, utf8Text } from './template-filters.ts';

/** The longest template one key may have (the CRD's maxLength). */
export const maxTemplateLength = 32_768;

export interface TemplateLimits {
  /** Characters one key's output may hold (a Secret holds at most 1 MiB in all). */
  maxOutput: number;
  /** Milliseconds all keys of one reference may take to render. */
  renderMs: number;
  /** Liquid's allocation budget per key (characters of strings and items of lists it creates). */
  memory: number;
}

/**
 * The most items a list given to a filter may hold. Liquid charges a list's length to the memory budget but
 * not the work a filter does per item (where_exp evaluates an expression for each), and the time budget can
 * only be checked between calls: a bounded list keeps any one call short.
 */
export const maxListItems = 10_000;

export const defaultTemplateLimits: TemplateLimits = {
  maxOutput: secretSizeLimit,
  renderMs: 250,
  memory: 8 * secretSizeLimit,
};

/** A key of target.template failed; the message names the key (and line) and never holds a value. */
export class TemplateError extends Error {
  override name = 'TemplateError';
  readonly key: string;
  constructor(key: string, message: string) {
    super(message);
    this.key = key;
  }
}

/** Liquid's operators, each checking the time budget first: where_exp evaluates one per item of a list. */
const operators: Operators = Object.fromEntries(
  Object.entries(defaultOperators).map(([name, operator]) => [
    name,
    (left: unknown, right: unknown, context: Context) => {
      context.renderLimit.check(performance.now());
      return operator(left, right, context);
    },
  ]),
);

const liquid = new Liquid({
  operators,
  ownPropertyOnly: true,
  strictFilters: true,
  strictVariables: true,
  // `{% if x %}` and `| default:` may test a variable that is not there, as Liquid users expect.
  lenientIf: true,
  // An empty in-memory file set: no lookup ever reaches the file system.
  templates: {},
  relativeReference: false,
  dynamicPartials: false,
  cache: false,
  parseLimit: maxTemplateLength,
  timezoneOffset: 0,
});
for (const tag of ['include', 'render', 'layout']) delete liquid.tags[tag];

// Liquid charges what filters build, not what capture renders into a variable: doubling a captured string
// builds, in no time, a string of hundreds of MB that the first comparison then lays out in memory. The
// captured length is charged too, before anything can read it.
const Capture = liquid.tags.capture as unknown as typeof Tag;
const captureRender = Capture.prototype.render;
liquid.registerTag(
  'capture',
  class extends Capture {
    override *render(context: Context, emitter: Emitter): Generator<unknown, void, unknown> {
      yield captureRender.call(this, context, emitter);
      const captured: unknown = context.bottom()[(this as unknown as { variable: string }).variable];
      context.memoryLimit.use(typeof captured === 'string' ? captured.length : 0);
    }
  },
);
for (const [name, filter] of Object.entries(templateFilters)) {
  liquid.registerFilter(name, function (this: { context: Context }, input: unknown) {
    const output = filter(input);
    this.context.memoryLimit.use(output.length);
    return output;
  });
}
// Liquid checks the time budget only between tags, and a render is synchronous: every filter, Liquid's own
// and ours, checks it before it runs and refuses a list too long to walk in one call.
for (const [name, filter] of Object.entries(liquid.filters)) liquid.registerFilter(name, bounded(filter));

type FilterHandler = Extract<FilterImplOptions, (...args: never[]) => unknown>;

function bounded(filter: FilterImplOptions): FilterImplOptions {
  const handler: FilterHandler = typeof filter === 'function' ? filter : filter.handler;
  function checked(this: ThisParameterType<FilterHandler>, input: unknown, ...args: unknown[]): unknown {
    this.context.renderLimit.check(performance.now());
    if ([input, ...args].some((arg) => Array.isArray(arg) && arg.length > maxListItems))
      throw new TemplateRefusal(`a filter was given a list of more than ${maxListItems} items`);
    return handler.call(this, input, ...args);
  }
  return typeof filter === 'function' ? checked : { ...filter, handler: checked };
}

/** Stops a render the moment its output passes the cap, instead of building it first. */
class CappedOutput {
  buffer = '';
  exceeded = false;
  private readonly cap: number;
  constructor(cap: number) {
    this.cap = cap;
  }
  write(html: unknown): void {
    const text = String(html ?? '');
    if (this.buffer.length + text.length > this.cap) {
      this.exceeded = true;
      throw new TemplateRefusal('output cap');
    }
    this.buffer += text;
  }
}

/**
 * The values as template variables, by Secret key. Each becomes a string only when a template reads it (a
 * getter), so values no template uses are never copied into strings the operator cannot zero.
 */
function variablesOf(values: Readonly<Record<string, Buffer>>): object {
  const scope = Object.create(null) as object;
  for (const [key, bytes] of Object.entries(values)) {
    let read: string | BinaryValue | undefined;
    Object.defineProperty(scope, key, {
      enumerable: true,
      get: () => {
        read ??= utf8Text(bytes) ?? new BinaryValue(key, bytes);
        return read;
      },
    });
  }
  return scope;
}

/** Renders every key of `template.data`; throws TemplateError for the first key that fails. */
export function renderTemplate(
  template: SecretTemplate,
  values: Readonly<Record<string, Buffer>>,
  limits: TemplateLimits = defaultTemplateLimits,
): Record<string, Buffer> {
  const scope = variablesOf(values);
  const rendered: Record<string, Buffer> = Object.create(null);
  const until = performance.now() + limits.renderMs;
  // All keys go into one Secret, so the rendered keys together are held to one key's cap too: 64 keys of
  // 1 MiB each are refused at the second, not held in memory until the Secret is assembled.
  let total = 0;
  try {
    for (const [key, source] of Object.entries(template.data)) {
      const where = `target.template key ${quoteKey(key)}`;
      const invalid = invalidSecretKey(key);
      if (invalid) throw new TemplateError(key, `${where} cannot be a Secret key: ${invalid}`);
      if (source.length > maxTemplateLength)
        throw new TemplateError(key, `${where}: the template is longer than ${maxTemplateLength} characters`);
      const templates = parse(key, where, source);
      const output = renderKey(key, where, templates, scope, limits, until);
      const bytes = Buffer.from(output, 'utf8');
      if (bytes.length > limits.maxOutput) {
        bytes.fill(0);
        throw new TemplateError(key, `${where}: the output is larger than ${limits.maxOutput} bytes`);
      }
      rendered[key] = bytes;
      total += bytes.length;
      if (total > limits.maxOutput)
        throw new TemplateError(
          key,
          `${where}: the keys rendered so far are larger than ${limits.maxOutput} bytes`,
        );
    }
  } catch (error) {
    zero(rendered);
    throw error;
  }
  return { ...rendered };
}

/** Why `source` cannot be a template for `key` (it does not parse, or is too long), or undefined when it can. */
export function templateProblem(key: string, source: string): string | undefined {
  try {
    if (source.length > maxTemplateLength)
      return `the template is longer than ${maxTemplateLength} characters`;
    parse(key, '', source);
    return undefined;
  } catch (error) {
    return (error as Error).message.replace(/^, /, '').replace(/^: /, '');
  }
}

function parse(key: string, where: string, source: string): Template[] {
  try {
    return liquid.parse(source);
  } catch (error) {
    // Parsing sees the template text only; its message may quote the template, which is spec, not secret.
    const reason = error instanceof Error ? withoutPosition(error.message) : 'it does not parse';
    const token = LiquidError.is(error) && error.token?.input === source ? error.token : undefined;
    throw new TemplateError(key, `${where}${position(token)}: ${clip(reason)}`);
  }
}

function renderKey(
  key: string,
  where: string,
  templates: Template[],
  scope: object,
  limits: TemplateLimits,
  until: number,
): string {
  const output = new CappedOutput(limits.maxOutput);
  const context = new Context(scope, liquid.options, {
    memoryLimit: limits.memory,
    renderLimit: until - performance.now(),
  });
  try {
    toValueSync(liquid.renderer.renderTemplates(templates, context, output));
    return output.buffer;
  } catch (error) {
    // Where a render fails depends on the values (which branch of an if or a case ran), so a position or the
    // failing tag's text would spell out a value one edit at a time: only the key and the kind are reported.
    throw new TemplateError(key, `${where}: ${renderFailure(error, output, limits, templates, scope)}`);
  }
}

/** What went wrong in a render, by kind: Liquid's own messages are not used, they can hold what a filter saw. */
function renderFailure(
  error: unknown,
  output: CappedOutput,
  limits: TemplateLimits,
  templates: Template[],
  scope: object,
): string {
  if (output.exceeded) return `the output is larger than ${limits.maxOutput} bytes`;
  const cause = originalError(error);
  if (cause instanceof TemplateRefusal) return cause.message;
  const kind = error instanceof Error ? error.name : '';
  if (kind === 'UndefinedVariableError' || cause?.name === 'InternalUndefinedVariableError')
    return (
      'undefined variable (a value is reached by its Secret key; a key that is not a Liquid name as ["my.key"])' +
      namesNotKeys(templates, scope)
    );
  // Liquid's limiters raise these two fixed texts; matching them is the only way to tell them apart.
  if (cause?.message === 'template render limit exceeded')
    return `rendering took longer than ${limits.renderMs} ms`;
  if (cause?.message === 'memory alloc limit exceeded')
    return `rendering built more than the memory limit allows (${limits.memory})`;
  if (cause instanceof RangeError) return 'rendering built a string too large';
  return `rendering failed (${cause?.name || kind || 'Error'})`;
}

/**
 * The variables the template's text reads that no value is keyed by, to find a misspelt one: from the text and
 * the keys alone (Liquid's static analysis), so the same whichever branch the values took.
 */
function namesNotKeys(templates: Template[], scope: object): string {
  let globals: object;
  try {
    globals = liquid.analyzeSync(templates).globals;
  } catch {
    // Only a hint: a template the analysis cannot follow still gets the error, without it.
    return '';
  }
  const names = Object.keys(globals).filter((name) => !Object.hasOwn(scope, name));
  if (names.length === 0) return '';
  const shown = names.slice(0, 5).map((name) => JSON.stringify(name));
  return `; the template reads ${shown.join(', ')}${names.length > 5 ? ' and more' : ''}, which no key is named`;
}

function originalError(error: unknown): Error | undefined {
  if (!(error instanceof Error)) return undefined;
  const inner = (error as { originalError?: unknown }).originalError;
  return inner instanceof Error ? originalError(inner) : error;
}

function position(token: Token | undefined): string {
  if (!token) return '';
  const [line, column] = token.getPosition();
  return `, line ${line}, column ${column}`;
}

/** Liquid appends ", line:1, col:2" to its messages; the position is reported in our own words instead. */
function withoutPosition(message: string): string {
  return message.replace(/,?\s*line:\d+, col:\d+\s*$/, '');
}

function clip(text: string, length = 200): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > length ? `${flat.slice(0, length)}…` : flat;
}

function zero(data: Record<string, Buffer>): void {
  for (const bytes of Object.values(data)) bytes.fill(0);
}

/**
 * The Secret's data once `template` is applied to the resolved values: only the rendered keys (Replace, the
 * default) or the resolved keys with the rendered ones over them (Merge). Resolved values that are not kept
 * are zeroed here, since the caller will never see them again.
 */
export function applyTemplate(
  template: SecretTemplate,
  resolved: Record<string, Buffer>,
  limits: TemplateLimits = defaultTemplateLimits,
): Record<string, Buffer> {
  const rendered = renderTemplate(template, resolved, limits);
  const data: Record<string, Buffer> = {};
  const keep = (template.mergePolicy ?? 'Replace') === 'Merge';
  for (const [key, bytes] of Object.entries(resolved)) {
    if (keep && !Object.hasOwn(rendered, key)) define(data, key, bytes);
    else bytes.fill(0);
  }
  for (const [key, bytes] of Object.entries(rendered)) define(data, key, bytes);
  return data;
}

// defineProperty, not assignment: a key named __proto__ is a key like any other.
function define(data: Record<string, Buffer>, key: string, value: Buffer): void {
  Object.defineProperty(data, key, { value, enumerable: true, writable: true, configurable: true });
}
