// Assembling the data of the Secret to be written from values read from a store: each key checked as the API
// server would check it, two store keys never silently folded into one, decoded copies owned and zeroed, and
// the total held to what a Secret can hold. Keys and remote names appear in errors; values never do.
import { type Decoding, decodeValue } from '../providers/decoding.ts';
import { InvalidReference, TooLarge } from '../providers/errors.ts';
import { secretSizeLimit, totalSize } from '../providers/limits.ts';
import { invalidSecretKey, quoteKey } from './secret-keys.ts';

/**
 * Puts one key of a dataFrom entry into the data, after checking that the API server accepts it as a Secret
 * key and that no other key of the same entry became the same key. `seen` maps keys to what they came from.
 */
export function putKey(
  data: Record<string, Buffer>,
  seen: Map<string, string>,
  where: { key: string; from: string; remote: string },
  value: () => Buffer,
): void {
  const { key, from, remote } = where;
  const rewrittenFrom = key === from ? '' : ` (rewritten from ${quoteKey(from)})`;
  // The API server would refuse the whole Secret for this key, on every write; say which key, not why not.
  const invalid = invalidSecretKey(key);
  if (invalid) {
    throw new InvalidReference(
      `remote secret "${remote}" has the key ${quoteKey(key)}${rewrittenFrom}, which cannot be a Secret key: ` +
        invalid,
      { remote },
    );
  }
  // Two keys rewritten to one would silently drop a value; which one survives is not for us to guess.
  const earlier = seen.get(key);
  if (earlier !== undefined) {
    throw new InvalidReference(
      `remote secret "${remote}": the rewrite turns both ${quoteKey(earlier)} and ${quoteKey(from)} into the ` +
        `key ${quoteKey(key)}`,
      { remote },
    );
  }
  seen.set(key, from);
  if (Object.hasOwn(data, key)) data[key]!.fill(0);
  // defineProperty, not assignment: a property named __proto__ is a key like any other.
  Object.defineProperty(data, key, { value: value(), enumerable: true, writable: true, configurable: true });
}

export function assertValuesFit(data: Record<string, Buffer>): void {
  const size = totalSize(data);
  if (size > secretSizeLimit) {
    throw new TooLarge(`the values add up to ${size} bytes; a Secret holds at most ${secretSizeLimit}`);
  }
}

// Every value a client resolves is a copy the caller owns: when decoding makes another buffer of it, the
// encoded one is zeroed at once.
export function decodeOwned(
  value: Buffer,
  decoding: Decoding | undefined,
  where: { key: string; remote: string },
): Buffer {
  const decoded = decodeValue(value, decoding, where);
  if (decoded !== value) value.fill(0);
  return decoded;
}
