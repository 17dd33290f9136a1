import { describe, expect, it } from 'vitest';
import { asciiSource } from '../../scripts/ascii-source.ts';

/** Evaluates a JavaScript expression's source. */
const evaluate = (source: string): unknown => new Function(`return (${source});`)();

const samples = ['a', 'à', 'ü', 'æ', 'µ', 'μ', 'ẞ', '😀', '\\', 'é', 'e', 'ss', 'x😀y'];

describe('asciiSource', () => {
  it.each([
    ['a character class of accented letters', '/[àáâãäå]/g'],
    ['a unit sign and a Greek letter', '/([a-zµμ]+)/y'],
    ['a character beyond the Basic Multilingual Plane, with the u flag', '/x😀y/u'],
    ['a character beyond the Basic Multilingual Plane, without it', '/😀/'],
    ['an identity escape of a non-ASCII letter', '/\\é/'],
    ['an escaped backslash before a non-ASCII letter', '/\\\\é/'],
    ['a capital sharp s', '/[ẞ]/i'],
  ])('keeps what a regular expression matches: %s', (_name, literal) => {
    const rewritten = asciiSource(literal);
    expect(rewritten).not.toMatch(/[\u0080-\uffff]/);
    const before = evaluate(literal) as RegExp;
    const after = evaluate(rewritten) as RegExp;
    expect(after.flags).toBe(before.flags);
    for (const sample of samples) {
      for (const text of [sample, `-${sample}-`, `\\${sample}`]) {
        before.lastIndex = 0;
        after.lastIndex = 0;
        expect(after.exec(text)?.[0], `${literal} on ${JSON.stringify(text)}`).toBe(before.exec(text)?.[0]);
      }
    }
  });

  it('keeps strings, identifiers and comments meaning the same', () => {
    const source = '(() => { const café = "naïve 😀 \\é"; /* Wärting */ return café + \'ẞ\'; })()';
    const rewritten = asciiSource(source);
    expect(rewritten).not.toMatch(/[\u0080-\uffff]/);
    expect(evaluate(rewritten)).toBe('naïve 😀 éẞ');
  });

  it('leaves the line and paragraph separators as they are: escaped, a comment or a line continuation would change', () => {
    const source = '"a\\\u2028b" /* x\u2029 */';
    expect(asciiSource(source)).toBe(source);
  });

  it('leaves ASCII source as it is', () => {
    const source = 'const re = /\\u00e9|[a-z]\\\\/g; // plain';
    expect(asciiSource(source)).toBe(source);
  });
});
