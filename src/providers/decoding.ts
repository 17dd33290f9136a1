// data[].decoding and dataFrom[].decoding: how a value read from the store becomes the bytes of a Secret key.
// Stores that hold only text (Vault) keep binary data as base64; decoding turns it back into bytes. A value
// that does not decode is an error naming the Secret key and the remote, never the value.
import { InvalidReference } from './errors.ts';

export const decodings = ['none', 'base64', 'base64url', 'auto'] as const;
export type Decoding = (typeof decodings)[number];

const standard = /^[A-Za-z0-9+/]*$/;
const urlSafe = /^[A-Za-z0-9_-]*$/;
const asciiSpace = /[ \t\r\n]/g;

/**
 * The bytes `text` encodes, or undefined when it is not canonical base64 of the alphabet: `=` padding is
 * optional but must be right when present, and unused bits must be zero, so exactly one text means each value.
 */
export function decodeBase64(text: string, alphabet: 'base64' | 'base64url'): Buffer | undefined {
  const body = text.replace(/={1,2}$/, '');
  if (body.length !== text.length && text.length % 4 !== 0) return undefined;
  if (body.length % 4 === 1) return undefined;
  if (!(alphabet === 'base64' ? standard : urlSafe).test(body)) return undefined;
  const bytes = Buffer.from(body, alphabet);
  return bytes.toString(alphabet).replace(/=+$/, '') === body ? bytes : undefined;
}

/**
 * `none` keeps the value; `base64` and `base64url` decode it, ignoring ASCII whitespace (so the wrapped
 * output of the `base64` tool decodes) and failing on anything else; `auto` decodes a value that is, with no
 * whitespace at all, canonical base64 (else canonical base64url), and keeps any other value as it is.
 */
export function decodeValue(
  value: Buffer,
  decoding: Decoding | undefined,
  where: { key: string; remote: string },
): Buffer {
  if (decoding === undefined || decoding === 'none') return value;
  const text = value.toString('latin1');
  if (decoding === 'auto') {
    return (text !== '' && (decodeBase64(text, 'base64') ?? decodeBase64(text, 'base64url'))) || value;
  }
  const decoded = decodeBase64(text.replace(asciiSpace, ''), decoding);
  if (decoded === undefined) {
    throw new InvalidReference(
      `the value for key "${where.key}" from "${where.remote}" is not valid ${decoding} (decoding: ${decoding})`,
      { remote: where.remote },
    );
  }
  return decoded;
}
