// Translation of External Secrets Operator's templates (Go text/template with sprig functions, engine v2)
// into secretlink's template syntax. secretlink has no `target.template` yet, so the converter only reports
// templates; this function already says which ones translate and how, and is the one place to extend once
// templates land. The target syntax is Liquid-style (`{{ value | filter }}`); the filter names in
// `sprigFilters` are provisional and must follow whatever the template library finally offers.

/** A sprig/Go function applied to one value, and the filter secretlink's templates are expected to offer. */
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

export type TemplateTranslation =
  | { translated: true; template: string }
  | { translated: false; unsupported: string[] };

const action = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
const fieldRef = /^\.([A-Za-z_][A-Za-z0-9_]*)$/;
const indexRef = /^index\s+\.\s+"([^"\\]*)"$/;

/** Translates one ESO template; anything beyond values piped through known functions is listed, not guessed. */
export function translateGoTemplate(source: string): TemplateTranslation {
  const unsupported: string[] = [];
  let output = '';
  let last = 0;
  for (const match of source.matchAll(action)) {
    output += source.slice(last, match.index);
    last = match.index + match[0].length;
    const [, trimLeft, body = '', trimRight] = match;
    const expression = translateAction(body, unsupported);
    if (expression !== undefined) output += `{{${trimLeft} ${expression} ${trimRight}}}`;
  }
  output += source.slice(last);
  return unsupported.length === 0
    ? { translated: true, template: output }
    : { translated: false, unsupported: [...new Set(unsupported)] };
}

/** One `{{ ... }}` action: a value, optionally piped through functions (`.password | b64enc`). */
function translateAction(body: string, unsupported: string[]): string | undefined {
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
