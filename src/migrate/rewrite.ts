// ESO dataFrom[].rewrite → secretlink dataFrom[].rewrite. ESO's regexp step has the same fields and meaning
// (every match replaced, `$1`/`${1}` groups); the differences are the engine (RE2 there, JavaScript here,
// with secretlink's bounds on pattern shape) and Go's named `$name` references, which are not carried over.
// A transform template that only upper- or lower-cases the key becomes secretlink's `case` step; any other
// template or a merge step leaves the whole entry out, because the Secret's keys would silently differ.
import type { KeyRewrite } from '../api/types.ts';
import { unsafePattern } from '../controller/key-rewrite.ts';
import { fields, list, otherKeys, text } from './fields.ts';
import type { FindingList } from './findings.ts';

const maxRewrites = 8;
const maxTarget = 253;
// `$name`, `${name}`, or `$1x` (Go reads this as the group named "1x", JavaScript-side as group 1 then "x").
const goOnlyReference = /\$(\{[^}]*[^0-9}][^}]*\}|[A-Za-z_]|[0-9]+[A-Za-z_])/;
const upper = /^\{\{-?\s*(\.value\s*\|\s*upper|upper\s+\.value)\s*-?\}\}$/;
const lower = /^\{\{-?\s*(\.value\s*\|\s*lower|lower\s+\.value)\s*-?\}\}$/;

/** The entry's rewrite steps, or undefined when one cannot be carried over (the finding says why). */
export function convertRewrite(
  value: unknown,
  field: string,
  findings: FindingList,
): KeyRewrite[] | undefined {
  const steps = list(value);
  if (steps.length > maxRewrites) {
    findings.action(
      field,
      `has ${steps.length} steps; secretlink allows at most ${maxRewrites}: entry left out`,
    );
    return undefined;
  }
  const out: KeyRewrite[] = [];
  for (const [index, raw] of steps.entries()) {
    const step = fields(raw) ?? {};
    const at = `${field}[${index}]`;
    const converted = convertStep(step, at, findings);
    if (!converted) return undefined;
    out.push(converted);
  }
  return out;
}

function convertStep(
  step: ReturnType<typeof fields> & object,
  at: string,
  findings: FindingList,
): KeyRewrite | undefined {
  const leftOut =
    'entry left out, because without it the Secret’s keys would differ from what consumers read';
  const extra = otherKeys(step, ['regexp', 'transform']);
  if (extra.length > 0 || (step.regexp !== undefined) === (step.transform !== undefined)) {
    findings.action(
      at,
      `is not a single regexp or transform step (${Object.keys(step).join(', ')}): ${leftOut}`,
    );
    return undefined;
  }
  const regexp = fields(step.regexp);
  if (regexp) {
    const source = text(regexp.source) ?? '';
    const target = text(regexp.target) ?? '';
    const refused = unsafePattern(source);
    if (refused) {
      findings.action(`${at}.regexp.source`, `is refused by secretlink: ${refused}; ${leftOut}`);
      return undefined;
    }
    if (goOnlyReference.test(target) || target.length > maxTarget) {
      findings.action(
        `${at}.regexp.target`,
        `uses a named or ambiguous group reference (write $1 or \${1}) or is longer than ${maxTarget} characters; ${leftOut}`,
      );
      return undefined;
    }
    return { regexp: { source, target } };
  }
  const template = text(fields(step.transform)?.template)?.trim() ?? '';
  if (upper.test(template)) return { case: 'upper' };
  if (lower.test(template)) return { case: 'lower' };
  findings.action(
    `${at}.transform.template`,
    `only {{ .value | upper }} and {{ .value | lower }} carry over (as case: upper or lower); ${leftOut}`,
  );
  return undefined;
}
