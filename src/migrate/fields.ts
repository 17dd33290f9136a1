// Reading untyped manifests: ESO objects arrive as parsed YAML, so every field is checked before use rather
// than trusted to have the shape ESO's schema promises.

export type Fields = Record<string, unknown>;

export function fields(value: unknown): Fields | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : undefined;
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A scalar as text: YAML turns `version: 3` into a number, which secretlink's schema wants as a string. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

export function stringMap(value: unknown): Record<string, string> | undefined {
  const map = fields(value);
  if (!map) return undefined;
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(map)) {
    const asText = text(entry);
    if (asText !== undefined) out[key] = asText;
  }
  return out;
}

/** The keys of `value` that are not in `known`, for reporting fields the converter does not carry over. */
export function otherKeys(value: Fields | undefined, known: readonly string[]): string[] {
  return value ? Object.keys(value).filter((key) => !known.includes(key)) : [];
}

/** `metadata` reduced to what a user writes: name, namespace, labels and annotations (without kubectl's). */
export function userMetadata(value: unknown): {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
} {
  const meta = fields(value) ?? {};
  const labels = stringMap(meta.labels);
  const annotations = stringMap(meta.annotations);
  delete annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
  const namespace = text(meta.namespace);
  return {
    name: text(meta.name) ?? '',
    ...(namespace ? { namespace } : {}),
    ...(labels && Object.keys(labels).length > 0 ? { labels } : {}),
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}
