// Picking values out of a JSON secret: one (possibly nested) property for data[], every top-level property
// for dataFrom[]. A string property is its text; any other value is returned as the exact bytes the store
// holds (json-text.ts keeps each value's place in the source), so big integers keep every digit and objects
// keep the store's own layout. Messages name the remote secret and the property path, never the value.
import { InvalidReference, NotFound } from './errors.ts';
import { type JsonNode, JsonSyntaxError, scanJson, stringValue } from './json-text.ts';
import { parsePropertyPath } from './property-path.ts';

export interface JsonDocument {
  bytes: Buffer;
  root: JsonNode;
}

export function parseJson(data: Buffer, remote: string): JsonDocument {
  try {
    return { bytes: data, root: scanJson(data) };
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    // The reason and offset only: never the text around it.
    throw new InvalidReference(
      `the value of "${remote}" is not JSON (${error.message}), so a property cannot be selected`,
      { remote },
    );
  }
}

/**
 * Finds `path` in the document. A key equal to the whole path wins (`{"db.host": ...}` is reached as
 * `db.host`, as External Secrets Operator does); otherwise each unescaped dot may split the path, tried from
 * the whole remaining path down to its shortest head, and array elements are reached by index. An escaped
 * dot (`a\.b`) never splits.
 */
export function selectProperty(document: JsonDocument, path: string, remote: string): Buffer {
  const names = parsePropertyPath(path);
  if (names === undefined) {
    throw new InvalidReference(
      `property "${path}" is not a dotted path of non-empty names (write a dot inside a name as \\.)`,
      { remote },
    );
  }
  const { root } = document;
  const literal = root.kind === 'object' ? root.members.get(path) : undefined;
  const found = literal ?? new Walk(names).from(root, 0);
  // A missing property is a missing remote thing, like a missing secret; it may appear on the next rotation.
  if (found === undefined) throw new NotFound(`property "${path}" was not found in "${remote}"`, { remote });
  return valueBytes(document, found);
}

/** A depth-first search over split points, remembering dead ends so a hostile document stays linear-ish. */
class Walk {
  readonly #names: string[];
  readonly #deadEnds = new Map<JsonNode, Set<number>>();

  constructor(names: string[]) {
    this.#names = names;
  }

  from(node: JsonNode, first: number): JsonNode | undefined {
    if (node.kind !== 'object' && node.kind !== 'array') return undefined;
    const dead = this.#deadEnds.get(node);
    if (dead?.has(first)) return undefined;
    const names = this.#names;
    // The whole remaining path first, then heads from the shortest.
    const child = childOf(node, names.slice(first).join('.'));
    if (child !== undefined) return child;
    for (let end = first + 1; end < names.length; end += 1) {
      const head = childOf(node, names.slice(first, end).join('.'));
      if (head === undefined) continue;
      const found = this.from(head, end);
      if (found !== undefined) return found;
    }
    if (dead) dead.add(first);
    else this.#deadEnds.set(node, new Set([first]));
    return undefined;
  }
}

function childOf(node: JsonNode, key: string): JsonNode | undefined {
  if (node.kind === 'array') return /^(0|[1-9]\d{0,8})$/.test(key) ? node.items[Number(key)] : undefined;
  if (node.kind === 'object') return node.members.get(key);
  return undefined;
}

/** A value as the bytes written to a Secret: a string as its text, anything else as the stored JSON text. */
function valueBytes(document: JsonDocument, node: JsonNode): Buffer {
  if (node.kind === 'string') return Buffer.from(stringValue(document.bytes, node), 'utf8');
  return Buffer.from(document.bytes.subarray(node.start, node.end));
}

/** Every top-level property of a JSON object, for dataFrom. */
export function topLevelProperties(document: JsonDocument, remote: string): Record<string, Buffer> {
  const { root } = document;
  if (root.kind !== 'object') {
    throw new InvalidReference(`the value of "${remote}" is not a JSON object, so it has no properties`, {
      remote,
    });
  }
  const values: Record<string, Buffer> = {};
  for (const [key, node] of root.members) {
    Object.defineProperty(values, key, {
      value: valueBytes(document, node),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return values;
}
