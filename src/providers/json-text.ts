// A JSON scanner that keeps where every value sits in the source, so a selected property can be returned as
// the exact bytes the store holds: integers beyond 2^53 keep every digit and objects keep their spacing and
// key order, which JSON.parse followed by JSON.stringify would both lose. It is total over hostile input:
// linear in the input, nesting bounded, and every failure a JsonSyntaxError that gives an offset, never text.

/** Where a value sits in the source: bytes [start, end). Strings include their quotes. */
export type JsonNode =
  | { kind: 'object'; start: number; end: number; members: Map<string, JsonNode> }
  | { kind: 'array'; start: number; end: number; items: JsonNode[] }
  | { kind: 'string'; start: number; end: number; escaped: boolean }
  | { kind: 'number' | 'literal'; start: number; end: number };

/** Deeper nesting than any real secret; the bound keeps the scanner's stack small. */
export const maxJsonDepth = 256;

export class JsonSyntaxError extends Error {
  readonly offset: number;
  constructor(reason: string, offset: number) {
    super(`${reason} at byte ${offset}`);
    this.name = 'JsonSyntaxError';
    this.offset = offset;
  }
}

const quote = 0x22;
const backslash = 0x5c;

export function scanJson(bytes: Uint8Array): JsonNode {
  const scanner = new Scanner(bytes);
  scanner.skipSpace();
  const node = scanner.value(0);
  scanner.skipSpace();
  if (!scanner.atEnd()) scanner.fail('unexpected text after the value');
  return node;
}

/** A string node's value, decoded as JSON.parse would (the scanner has already checked its escapes). */
export function stringValue(bytes: Uint8Array, node: JsonNode & { kind: 'string' }): string {
  const inner = Buffer.from(bytes.buffer, bytes.byteOffset + node.start, node.end - node.start);
  return node.escaped
    ? (JSON.parse(inner.toString('utf8')) as string)
    : inner.toString('utf8', 1, inner.length - 1);
}

class Scanner {
  readonly #bytes: Uint8Array;
  #pos = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  atEnd(): boolean {
    return this.#pos >= this.#bytes.length;
  }

  fail(reason: string): never {
    throw new JsonSyntaxError(reason, this.#pos);
  }

  skipSpace(): void {
    const bytes = this.#bytes;
    while (this.#pos < bytes.length) {
      const byte = bytes[this.#pos];
      if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return;
      this.#pos += 1;
    }
  }

  value(depth: number): JsonNode {
    switch (this.#bytes[this.#pos]) {
      case 0x7b:
        return this.#object(depth);
      case 0x5b:
        return this.#array(depth);
      case quote:
        return this.#string();
      case 0x74:
        return this.#literal('true');
      case 0x66:
        return this.#literal('false');
      case 0x6e:
        return this.#literal('null');
      default:
        return this.#number();
    }
  }

  #enter(depth: number): void {
    if (depth >= maxJsonDepth) this.fail(`nested deeper than ${maxJsonDepth} levels`);
    this.#pos += 1;
    this.skipSpace();
  }

  #object(depth: number): JsonNode {
    const start = this.#pos;
    const members = new Map<string, JsonNode>();
    this.#enter(depth);
    if (this.#bytes[this.#pos] === 0x7d) {
      this.#pos += 1;
      return { kind: 'object', start, end: this.#pos, members };
    }
    for (;;) {
      if (this.#bytes[this.#pos] !== quote) this.fail('expected a property name');
      const key = this.#string();
      this.skipSpace();
      if (this.#bytes[this.#pos] !== 0x3a) this.fail("expected ':'");
      this.#pos += 1;
      this.skipSpace();
      // A repeated name keeps its last value, as JSON.parse does.
      members.set(stringValue(this.#bytes, key), this.value(depth + 1));
      this.skipSpace();
      const next = this.#bytes[this.#pos];
      this.#pos += 1;
      if (next === 0x7d) return { kind: 'object', start, end: this.#pos, members };
      if (next !== 0x2c) this.#failBefore("expected ',' or '}'");
      this.skipSpace();
    }
  }

  #array(depth: number): JsonNode {
    const start = this.#pos;
    const items: JsonNode[] = [];
    this.#enter(depth);
    if (this.#bytes[this.#pos] === 0x5d) {
      this.#pos += 1;
      return { kind: 'array', start, end: this.#pos, items };
    }
    for (;;) {
      items.push(this.value(depth + 1));
      this.skipSpace();
      const next = this.#bytes[this.#pos];
      this.#pos += 1;
      if (next === 0x5d) return { kind: 'array', start, end: this.#pos, items };
      if (next !== 0x2c) this.#failBefore("expected ',' or ']'");
      this.skipSpace();
    }
  }

  #failBefore(reason: string): never {
    this.#pos -= 1;
    this.fail(reason);
  }

  #string(): JsonNode & { kind: 'string' } {
    const bytes = this.#bytes;
    const start = this.#pos;
    let escaped = false;
    this.#pos += 1;
    for (;;) {
      if (this.#pos >= bytes.length) this.fail('unterminated string');
      const byte = bytes[this.#pos]!;
      if (byte === quote) {
        this.#pos += 1;
        return { kind: 'string', start, end: this.#pos, escaped };
      }
      if (byte < 0x20) this.fail('control character in a string');
      if (byte === backslash) {
        escaped = true;
        this.#pos += 1;
        const code = bytes[this.#pos];
        if (code === 0x75) {
          for (let digit = 1; digit <= 4; digit += 1) {
            if (!isHex(bytes[this.#pos + digit])) this.fail('bad \\u escape');
          }
          this.#pos += 5;
          continue;
        }
        // " \ / b f n r t
        if (code === undefined || !'"\\/bfnrt'.includes(String.fromCharCode(code))) this.fail('bad escape');
      }
      this.#pos += 1;
    }
  }

  #literal(word: 'true' | 'false' | 'null'): JsonNode {
    const start = this.#pos;
    for (let index = 0; index < word.length; index += 1) {
      if (this.#bytes[start + index] !== word.charCodeAt(index)) this.fail('unexpected text');
    }
    this.#pos += word.length;
    return { kind: 'literal', start, end: this.#pos };
  }

  #number(): JsonNode {
    const bytes = this.#bytes;
    const start = this.#pos;
    if (bytes[this.#pos] === 0x2d) this.#pos += 1;
    if (bytes[this.#pos] === 0x30) this.#pos += 1;
    else if (isDigit(bytes[this.#pos]) && bytes[this.#pos] !== 0x30) this.#digits();
    else this.fail(this.#pos === start ? 'expected a value' : 'expected a digit');
    if (bytes[this.#pos] === 0x2e) {
      this.#pos += 1;
      if (!isDigit(bytes[this.#pos])) this.fail('expected a digit');
      this.#digits();
    }
    if (bytes[this.#pos] === 0x65 || bytes[this.#pos] === 0x45) {
      this.#pos += 1;
      if (bytes[this.#pos] === 0x2b || bytes[this.#pos] === 0x2d) this.#pos += 1;
      if (!isDigit(bytes[this.#pos])) this.fail('expected a digit');
      this.#digits();
    }
    return { kind: 'number', start, end: this.#pos };
  }

  #digits(): void {
    while (isDigit(this.#bytes[this.#pos])) this.#pos += 1;
  }
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

function isHex(byte: number | undefined): boolean {
  return (
    byte !== undefined &&
    ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66))
  );
}
