import { describe, expect, it } from 'vitest';
import { seeded } from '../../test/support/seeded.ts';
import { InvalidReference, NotFound } from './errors.ts';
import { parseJson, selectProperty, topLevelProperties } from './property.ts';
import { parsePropertyPath } from './property-path.ts';

const parse = (text: string) => parseJson(Buffer.from(text), 'app/db');
const select = (text: string, path: string) => selectProperty(parse(text), path, 'app/db').toString();

describe('selectProperty', () => {
  const document = JSON.stringify({
    user: 'app',
    db: { host: 'db.internal', port: 5432, options: { tls: true } },
    'dotted.key': 'whole-key-wins',
    dotted: { key: 'nested-loses' },
    nested: { 'with.dot': 'inner' },
    hosts: ['a', { name: 'b' }],
    'a.b': 'escaped',
    'back\\slash': 'kept',
  });

  it.each([
    ['user', 'app'],
    ['db.options.tls', 'true'],
    ['db.host', 'db.internal'],
    ['dotted.key', 'whole-key-wins'],
    ['nested.with.dot', 'inner'],
    ['nested.with\\.dot', 'inner'],
    ['hosts.1.name', 'b'],
    ['hosts.0', 'a'],
    ['a\\.b', 'escaped'],
    ['back\\\\slash', 'kept'],
  ])('resolves %s', (path, expected) => {
    expect(select(document, path)).toBe(expected);
  });

  it('returns numbers and objects as the exact text stored', () => {
    const stored =
      '{"id": 12345678901234567890, "ratio": 1.50, "exp": 1E+400, "cfg": {  "b": 1,\n "a": [2, 3] }}';
    expect(select(stored, 'id')).toBe('12345678901234567890');
    expect(select(stored, 'ratio')).toBe('1.50');
    expect(select(stored, 'exp')).toBe('1E+400');
    expect(select(stored, 'cfg')).toBe('{  "b": 1,\n "a": [2, 3] }');
    expect(select(stored, 'cfg.a')).toBe('[2, 3]');
  });

  it('never splits at an escaped dot', () => {
    const error = catchError(() => select('{"a": {"b": "nested"}}', 'a\\.b'));
    expect(error).toBeInstanceOf(NotFound);
  });

  it('reports a missing property as NotFound naming the path, not the value', () => {
    const error = catchError(() => select(document, 'db.password'));
    expect(error).toBeInstanceOf(NotFound);
    expect((error as Error).message).toBe('property "db.password" was not found in "app/db"');
  });

  it.each(['', 'a..b', '.a', 'a.', 'a\\b', 'a b', 'a\\'])('refuses the malformed path %j', (path) => {
    expect(() => select(document, path)).toThrow(InvalidReference);
  });

  it('stays fast on a document built to make split points explode', () => {
    // Every head of the path names a child, and the last name is missing.
    let nested = '{"x": 1}';
    for (let level = 0; level < 60; level += 1)
      nested = `{"a": ${nested}, "a.a": ${nested.length < 2000 ? nested : '{}'}}`;
    const path = `${Array.from({ length: 60 }, () => 'a').join('.')}.missing`;
    expect(() => select(nested, path)).toThrow(NotFound);
  });

  it('returns the exact text of every value of random documents, and throws only typed errors', () => {
    const random = seeded(5);
    for (let round = 0; round < 2_000; round += 1) {
      const values: Record<string, string> = {};
      const members: string[] = [];
      for (let index = 0; index < 1 + Math.floor(random() * 5); index += 1) {
        const text = randomValue(random, 3);
        values[`k${index}`] = text;
        members.push(`${space(random)}"k${index}"${space(random)}:${space(random)}${text}${space(random)}`);
      }
      const source = `{${members.join(',')}}`;
      const document = parse(source);
      for (const [key, text] of Object.entries(values)) {
        const expected = text.startsWith('"') ? (JSON.parse(text) as string) : text;
        expect(selectProperty(document, key, 'app/db').toString(), source).toBe(expected);
        expect(topLevelProperties(document, 'app/db')[key]!.toString()).toBe(expected);
      }
      const path = Array.from({ length: 1 + Math.floor(random() * 4) }, () =>
        pick(random, ['k0', 'k1', '0', '1', 'x\\.y']),
      ).join('.');
      try {
        selectProperty(document, path, 'app/db');
      } catch (error) {
        expect(error instanceof NotFound || error instanceof InvalidReference).toBe(true);
      }
    }
  });
});

describe('parseJson', () => {
  it('refuses a value that is not JSON without quoting it', () => {
    const error = catchError(() => parse('hunter2-not-json'));
    expect(error).toBeInstanceOf(InvalidReference);
    expect((error as Error).message).toBe(
      'the value of "app/db" is not JSON (expected a value at byte 0), so a property cannot be selected',
    );
  });
});

describe('topLevelProperties', () => {
  it('returns every top-level property, non-strings as the text stored', () => {
    const values = topLevelProperties(
      parse('{"user": "app", "port": 5432, "big": 12345678901234567890, "tls": {"on": true}}'),
      'app/db',
    );
    expect(Object.fromEntries(Object.entries(values).map(([key, value]) => [key, value.toString()]))).toEqual(
      {
        user: 'app',
        port: '5432',
        big: '12345678901234567890',
        tls: '{"on": true}',
      },
    );
  });

  it('keeps a property named __proto__ as a key like any other', () => {
    const values = topLevelProperties(parse('{"__proto__": "p"}'), 'app/db');
    expect(Object.keys(values)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(values)).toBe(Object.prototype);
  });

  it('refuses a JSON value that is not an object', () => {
    expect(() => topLevelProperties(parse('["a"]'), 'app/db')).toThrow(InvalidReference);
    expect(() => topLevelProperties(parse('"text"'), 'app/db')).toThrow(InvalidReference);
  });
});

describe('parsePropertyPath', () => {
  it.each([
    ['a.b', ['a', 'b']],
    ['a\\.b', ['a.b']],
    ['a\\\\.b', ['a\\', 'b']],
    ['friends.1.first', ['friends', '1', 'first']],
    ['ключ.値', ['ключ', '値']],
  ])('splits %j', (path, names) => {
    expect(parsePropertyPath(path)).toEqual(names);
  });
});

function randomValue(random: () => number, depth: number): string {
  const choice = Math.floor(random() * (depth > 0 ? 8 : 6));
  switch (choice) {
    case 0:
      return `${random() < 0.5 ? '-' : ''}${Math.floor(random() * 9) + 1}${'0123456789'.repeat(1 + Math.floor(random() * 3))}`;
    case 1:
      return `${Math.floor(random() * 100)}.${Math.floor(random() * 1000)}e${random() < 0.5 ? '-' : '+'}${Math.floor(random() * 400)}`;
    case 2:
      return JSON.stringify(
        pick(random, ['', 'plain', 'é ü 😀', 'quote " and \\ back', 'line\nbreak', '\u0001']),
      );
    case 3:
      return '"\\u00e9\\ud83d\\ude00\\/"';
    case 4:
      return pick(random, ['true', 'false', 'null']);
    case 5:
      return '0';
    case 6:
      return `[${space(random)}${Array.from({ length: Math.floor(random() * 3) }, () => randomValue(random, depth - 1)).join(`${space(random)},`)}]`;
    default:
      return `{${Array.from({ length: Math.floor(random() * 3) }, (_, index) => `"n${index}"${space(random)}:${randomValue(random, depth - 1)}`).join(',')}}`;
  }
}

function space(random: () => number): string {
  return pick(random, ['', ' ', '\n  ', '\t']);
}

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function catchError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
