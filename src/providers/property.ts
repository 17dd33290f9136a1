// Picking values out of a JSON secret: one (possibly nested) property for data[], every top-level property
// for dataFrom[]. Messages name the remote secret and the property path, never the value: JSON.parse's own
// message quotes the input, so it is never passed on.
import { InvalidReference, NotFound } from './errors.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function parseJson(data: Buffer, remote: string): Json {
  try {
    return JSON.parse(data.toString('utf8')) as Json;
  } catch {
    throw new InvalidReference(`the value of "${remote}" is not JSON, so a property cannot be selected`, {
      remote,
    });
  }
}

/**
 * Walks `path` (dot-separated) into `document`. A key that itself contains dots is matched whole before the
 * path is split, so `{"db.host": ...}` is reachable as `db.host`; array elements are reached by index.
 */
export function selectProperty(document: Json, path: string, remote: string): Json {
  if (path === '') throw new InvalidReference('property must not be empty', { remote });
  const found = walk(document, path);
  // A missing property is a missing remote thing, like a missing secret; it may appear on the next rotation.
  if (found === undefined) throw new NotFound(`property "${path}" was not found in "${remote}"`, { remote });
  return found;
}

function walk(node: Json, path: string): Json | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const own = childOf(node, path);
  if (own !== undefined) return own;
  // Try each split point from the left: the head names a child, the rest walks inside it.
  for (let dot = path.indexOf('.'); dot !== -1; dot = path.indexOf('.', dot + 1)) {
    const child = childOf(node, path.slice(0, dot));
    if (child === undefined) continue;
    const found = walk(child, path.slice(dot + 1));
    if (found !== undefined) return found;
  }
  return undefined;
}

function childOf(node: Json[] | { [key: string]: Json }, key: string): Json | undefined {
  if (Array.isArray(node)) return /^(0|[1-9]\d*)$/.test(key) ? node[Number(key)] : undefined;
  return Object.hasOwn(node, key) ? node[key] : undefined;
}

/** A selected property as the bytes written to a Secret: strings as themselves, anything else as JSON. */
export function encodeProperty(value: Json): Buffer {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
}

/** Every top-level property of a JSON object, for dataFrom. */
export function topLevelProperties(document: Json, remote: string): Record<string, Buffer> {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new InvalidReference(`the value of "${remote}" is not a JSON object, so it has no properties`, {
      remote,
    });
  }
  const values: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(document)) values[key] = encodeProperty(value);
  return values;
}
