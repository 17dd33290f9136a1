import { describe, expect, it } from 'vitest';
import { seeded } from '../../test/support/seeded.ts';
import { type JsonNode, JsonSyntaxError, maxJsonDepth, scanJson, stringValue } from './json-text.ts';

const text = (source: string, node: JsonNode) =>
  Buffer.from(source).subarray(node.start, node.end).toString();

describe('scanJson', () => {
  it('keeps the exact text of every value, big integers and layout included', () => {
    const source = ' { "id" : 12345678901234567890 , "tls": { "on" : true }, "f": -1.50e+3, "l": [ 1 ,2 ] } ';
    const root = scanJson(Buffer.from(source));
    if (root.kind !== 'object') throw new Error('expected an object');
    expect(text(source, root.members.get('id')!)).toBe('12345678901234567890');
    expect(text(source, root.members.get('tls')!)).toBe('{ "on" : true }');
    expect(text(source, root.members.get('f')!)).toBe('-1.50e+3');
    expect(text(source, root.members.get('l')!)).toBe('[ 1 ,2 ]');
  });

  it('decodes names and strings as JSON.parse does, and keeps the last of repeated names', () => {
    const source = '{"a\\u002eb": "x\\n\\"\\u00e9\\ud83d\\ude00", "k": 1, "k": 2, "é": "ü"}';
    const root = scanJson(Buffer.from(source));
    if (root.kind !== 'object') throw new Error('expected an object');
    const value = root.members.get('a.b')!;
    expect(value.kind === 'string' && stringValue(Buffer.from(source), value)).toBe('x\n"é😀');
    expect(text(source, root.members.get('k')!)).toBe('2');
    const unicode = root.members.get('é')!;
    expect(unicode.kind === 'string' && stringValue(Buffer.from(source), unicode)).toBe('ü');
  });

  it.each([
    ['', 'expected a value at byte 0'],
    ['{', 'expected a property name at byte 1'],
    ['{"a" 1}', "expected ':' at byte 5"],
    ['{"a":1,}', 'expected a property name at byte 7'],
    ['[1 2]', "expected ',' or ']' at byte 3"],
    ['[1,]', 'expected a value at byte 3'],
    ['01', 'unexpected text after the value at byte 1'],
    ['-', 'expected a digit at byte 1'],
    ['1.', 'expected a digit at byte 2'],
    ['1e', 'expected a digit at byte 2'],
    ['tru', 'unexpected text at byte 0'],
    ['"abc', 'unterminated string at byte 4'],
    ['"a\tb"', 'control character in a string at byte 2'],
    ['"\\x"', 'bad escape at byte 2'],
    ['"\\u12g4"', 'bad \\u escape at byte 2'],
    ['NaN', 'expected a value at byte 0'],
    ['\ufeff{}', 'expected a value at byte 0'],
  ])('refuses %j: %s', (source, message) => {
    expect(() => scanJson(Buffer.from(source))).toThrow(message);
  });

  it(`refuses nesting deeper than ${maxJsonDepth} levels without exhausting the stack`, () => {
    expect(() => scanJson(Buffer.from('['.repeat(100_000)))).toThrow(
      `nested deeper than ${maxJsonDepth} levels`,
    );
    expect(() =>
      scanJson(Buffer.from(`${'{"a":'.repeat(maxJsonDepth)}1${'}'.repeat(maxJsonDepth)}`)),
    ).not.toThrow();
  });

  it('scans a number of a million digits as its text', () => {
    const digits = '9'.repeat(1_000_000);
    const root = scanJson(Buffer.from(`{"n":${digits}}`));
    expect(root.kind === 'object' && root.members.get('n')!.end - root.members.get('n')!.start).toBe(
      digits.length,
    );
  });

  it('agrees with JSON.parse on whether random text is JSON, and never throws anything but JsonSyntaxError', () => {
    const random = seeded(13);
    const pieces = [
      '{',
      '}',
      '[',
      ']',
      ':',
      ',',
      '"',
      '\\',
      'u',
      '0',
      '1',
      '-',
      '.',
      'e',
      '+',
      ' ',
      'true',
      'null',
      'a',
      'é',
      '\n',
      '\u0001',
    ];
    for (let round = 0; round < 20_000; round += 1) {
      const source = Array.from(
        { length: 1 + Math.floor(random() * 12) },
        () => pieces[Math.floor(random() * pieces.length)],
      ).join('');
      let parsed = true;
      try {
        JSON.parse(source);
      } catch {
        parsed = false;
      }
      let scanned = true;
      try {
        scanJson(Buffer.from(source));
      } catch (error) {
        expect(error).toBeInstanceOf(JsonSyntaxError);
        scanned = false;
      }
      expect(scanned, source).toBe(parsed);
    }
  });
});
