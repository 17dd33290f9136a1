// ESO's decodingStrategy carried over to secretlink's `decoding`. ESO's Auto tries base64, then base64url, and
// keeps the text when neither decodes; secretlink's `auto` decodes only text that is exactly canonical base64
// or base64url, so a value that merely looks like it (padding left out, stray whitespace) is kept as text.
import type { Decoding } from '../api/types.ts';
import type { FindingList } from './findings.ts';

const decodings: Readonly<Record<string, Decoding>> = {
  None: 'none',
  Base64: 'base64',
  Base64URL: 'base64url',
  Auto: 'auto',
};

/** The decoding for an ESO strategy, `undefined` for none; `false` (with a finding) for one not known. */
export function convertDecoding(
  strategy: string | undefined,
  field: string,
  findings: FindingList,
): Decoding | undefined | false {
  if (strategy === undefined || strategy === 'None') return undefined;
  const decoding = decodings[strategy];
  if (!decoding) {
    findings.action(field, `is ${strategy}, which secretlink does not know: entry left out`);
    return false;
  }
  if (decoding === 'auto') {
    findings.changed(
      field,
      'is Auto; secretlink’s auto decodes only exactly canonical base64 or base64url and keeps any other text',
    );
  } else {
    findings.info(field, `carried over as decoding: ${decoding}`);
  }
  return decoding;
}
