// The filters target.template adds to Liquid's own (or replaces), for what a data team composes: base64,
// JSON and YAML encoding, URL escaping and quoting. Each works on text and returns text; none reads anything
// but its argument. A filter never puts its argument into an error message: a refusal says what was wrong,
// never with what.
import { Drop, toValue } from 'liquidjs';
import { stringify as toYaml } from 'yaml';

/** A filter refused its input; the message is ours and holds no part of any value. */
export class TemplateRefusal extends Error {
  override name = 'TemplateRefusal';
}

/**
 * A value that is not UTF-8 text (a keystore, a DER key). Templates work on text, so the only thing that may
 * read it is base64_encode, which encodes the exact bytes; any other use is refused, naming the key, rather
 * than writing replacement characters where bytes were.
 */
export class BinaryValue extends Drop {
  // Private fields are no properties at all, so a template cannot reach the bytes or the key by name.
  readonly #key: string;
  readonly #bytes: Buffer;
  constructor(key: string, bytes: Buffer) {
    super();
    this.#key = key;
    this.#bytes = bytes;
  }

  // Static, not on the prototype: liquidjs calls any method of a Drop a template names (`{{ v.base64 }}`).
  static base64(value: BinaryValue): string {
    return value.#bytes.toString('base64');
  }

  override valueOf(): never {
    throw new TemplateRefusal(
      `the value of key ${JSON.stringify(this.#key)} is not UTF-8 text; only base64_encode can use it`,
    );
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as text, or undefined when they are not valid UTF-8. */
export function utf8Text(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Text of a filter's input: a value, a number or a literal; a binary value throws its refusal here. */
function text(input: unknown): string {
  const value: unknown = toValue(input);
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TemplateRefusal('this filter takes text, not a list or an object');
}

function base64Encode(input: unknown): string {
  if (input instanceof BinaryValue) return BinaryValue.base64(input);
  return Buffer.from(text(input), 'utf8').toString('base64');
}

const base64Text = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict: RFC 4648 base64 (whitespace ignored) whose bytes are UTF-8 text; anything else is refused. */
function base64Decode(input: unknown): string {
  const compact = text(input).replace(/[\t\n\r ]/g, '');
  const padded = compact.length % 4 === 0 ? compact : compact + '='.repeat(4 - (compact.length % 4));
  if (!base64Text.test(compact) || padded.length % 4 !== 0 || compact.length % 4 === 1)
    throw new TemplateRefusal('base64_decode was given text that is not base64');
  const bytes = Buffer.from(padded, 'base64');
  const decoded = utf8Text(bytes);
  bytes.fill(0);
  if (decoded === undefined)
    throw new TemplateRefusal(
      'base64_decode gave bytes that are not UTF-8 text; use decoding: base64 on the data entry instead',
    );
  return decoded;
}

/** JSON text of the input: a string becomes a quoted JSON string, so it can sit inside a JSON document. */
function json(input: unknown): string {
  const value: unknown = toValue(input);
  return JSON.stringify(value === undefined ? null : value) ?? 'null';
}

/**
 * A YAML scalar on one line (a multi-line value becomes a double-quoted string with \n), so it can follow
 * `key: ` at any indentation in a profiles.yml without breaking the document.
 */
function yaml(input: unknown): string {
  const value: unknown = toValue(input);
  return toYaml(value ?? null, { lineWidth: 0, blockQuote: false, indent: 2 }).replace(/\n$/, '');
}

/**
 * RFC 3986 percent-encoding of everything but unreserved characters (A-Z a-z 0-9 - . _ ~). A space is %20,
 * never "+", which a connection URL's user or password would keep as a literal plus.
 */
function urlEncode(input: unknown): string {
  return encodeURIComponent(text(input)).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Double-quoted with JSON escapes (\" \\ \n), like sprig's quote for text. */
function quote(input: unknown): string {
  return JSON.stringify(text(input));
}

/** Single-quoted, a quote inside doubled: SQL's and YAML's single-quoted strings. */
function squote(input: unknown): string {
  return `'${text(input).replaceAll("'", "''")}'`;
}

/** Single-quoted for a POSIX shell: a quote inside becomes '\'' . */
function shellQuote(input: unknown): string {
  return `'${text(input).replaceAll("'", `'\\''`)}'`;
}

/** A field of a .pgpass line: backslash and colon escaped with a backslash, as libpq reads them. */
function pgpassEscape(input: unknown): string {
  return text(input).replace(/[\\:]/g, (char) => `\\${char}`);
}

/** Filters by name; each is registered over any Liquid filter of the same name. */
export const templateFilters: Readonly<Record<string, (input: unknown) => string>> = {
  base64_encode: base64Encode,
  base64_decode: base64Decode,
  json,
  yaml,
  string: text,
  url_encode: urlEncode,
  quote,
  squote,
  shell_quote: shellQuote,
  pgpass_escape: pgpassEscape,
};
