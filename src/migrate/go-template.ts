// Translation of External Secrets Operator's templates (Go text/template with sprig functions, engine v2)
// into secretlink's target.template syntax, Liquid (`{{ value | filter }}`). Values piped through functions
// that have a filter of the same meaning translate; control structures, variables and other functions are
// listed for the user to translate by hand, never guessed.

/** A sprig/Go function applied to one value, and the filter of secretlink's templates that does the same. */
export const sprigFilters: Readonly<Record<string, string>> = {
  b64enc: 'base64_encode',
  b64dec: 'base64_decode',
  toJson: 'json',
  toString: 'string',
  upper: 'upcase',
  lower: 'downcase',
  trim: 'strip',
  quote: 'quote',
  squote: 'squote',
  urlquery: 'url_encode',
  toYaml: 'yaml',
};

/**
 * Functions whose filter differs from sprig in a detail a user should check: Go's urlquery writes a space as
 * "+", which a connection URL would keep as a plus; sprig's squote leaves a quote inside unescaped.
 */
export const changedFilters: Readonly<Record<string, string>> = {
  urlquery: 'url_encode writes a space as %20, where urlquery wrote "+"',
  squote: "squote doubles a ' inside the value, which sprig's squote left as it was",
};

export type TemplateTranslation =
  | { translated: true; template: string; changed: string[] }
  | { translated: false; unsupported: string[] };

const action = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
const fieldRef = /^\.([A-Za-z_][A-Za-z0-9_]*)$/;
const indexRef = /^index\s+\.\s+"([^"\\]*)"$/;

/** Translates one ESO template; anything beyond values piped through known functions is listed, not guessed. */
export function translateGoTemplate(source: string): TemplateTranslation {
  const unsupported: string[] = [];
  const changed = new Set<string>();
  let output = '';
  let last = 0;
  for (const match of source.matchAll(action)) {
    literal(source.slice(last, match.index), unsupported);
    output += source.slice(last, match.index);
    last = match.index + match[0].length;
    const [, trimLeft, body = '', trimRight] = match;
    const expression = translateAction(body, unsupported, changed);
    if (expression !== undefined) output += `{{${trimLeft} ${expression} ${trimRight}}}`;
  }
  literal(source.slice(last), unsupported);
  output += source.slice(last);
  return unsupported.length === 0
    ? { translated: true, template: output, changed: [...changed] }
    : { translated: false, unsupported: [...new Set(unsupported)] };
}

/** Text between actions is copied as it is, which Liquid would not do with a tag opening in it. */
function literal(text: string, unsupported: string[]): void {
  if (text.includes('{%')) unsupported.push('text holding "{%", which starts a Liquid tag');
}

/** One `{{ ... }}` action: a value, optionally piped through functions (`.password | b64enc`). */
function translateAction(body: string, unsupported: string[], changed: Set<string>): string | undefined {
  if (/^(if|else|end|range|with|define|template|block)\b/.test(body)) {
    unsupported.push(`control structure "${body.split(/\s/)[0]}"`);
    return undefined;
  }
  if (body.startsWith('/*')) return ''; // a comment renders nothing
  if (body.includes('$')) {
    unsupported.push('template variables ($)');
    return undefined;
  }
  const stages = body.split('|').map((stage) => stage.trim());
  const head = stages.shift() ?? '';
  // `b64enc .password` is the same as `.password | b64enc`.
  const prefixCall = /^([A-Za-z][A-Za-z0-9]*)\s+(\.\S+|index\s+\.\s+"[^"]*")$/.exec(head);
  const value = translateValue(prefixCall ? prefixCall[2]! : head, unsupported);
  const functions = prefixCall ? [prefixCall[1]!, ...stages] : stages;
  const filters = functions.map((name) => {
    const filter = sprigFilters[name];
    if (filter === undefined) unsupported.push(`function "${name.split(/\s/)[0]}"`);
    const difference = changedFilters[name];
    if (difference) changed.add(difference);
    return filter;
  });
  if (value === undefined || filters.includes(undefined)) return undefined;
  return [value, ...filters].join(' | ');
}

function translateValue(expression: string, unsupported: string[]): string | undefined {
  const field = fieldRef.exec(expression);
  if (field) return field[1];
  const indexed = indexRef.exec(expression);
  if (indexed) return `["${indexed[1]}"]`;
  if (/^"[^"\\]*"$/.test(expression)) return expression;
  unsupported.push(`expression "${expression}"`);
  return undefined;
}
