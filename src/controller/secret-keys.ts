// Which names a Kubernetes Secret accepts as data keys, checked before any write: a key the API server would
// refuse makes every write fail, so it is reported by name instead (never with its value).

/** The API server's rule for Secret (and ConfigMap) keys. */
const keyPattern = /^[-._a-zA-Z0-9]+$/;
const maxKeyLength = 253;
/** A key quoted in a message is cut to this length: it comes from the store, so its size is not ours. */
const quotedKeyLength = 64;

/** Why `key` cannot be a Secret key, or undefined when it can. */
export function invalidSecretKey(key: string): string | undefined {
  if (key.length === 0) return 'it is empty';
  if (key.length > maxKeyLength) return `it is longer than ${maxKeyLength} characters`;
  if (!keyPattern.test(key)) return "it may hold only letters, digits, '-', '_' and '.'";
  if (key === '.' || key === '..' || key.startsWith('..'))
    return "it may not be '.', '..' or start with '..'";
  return undefined;
}

/** The key as a message may show it: JSON-quoted (so control characters are visible) and cut short. */
export function quoteKey(key: string): string {
  const shown = key.length > quotedKeyLength ? `${key.slice(0, quotedKeyLength)}…` : key;
  return JSON.stringify(shown);
}
