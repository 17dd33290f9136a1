import { describe, expect, it } from 'vitest';
import { InvalidReference, NotFound } from './errors.ts';
import { encodeProperty, parseJson, selectProperty, topLevelProperties } from './property.ts';

const json = (value: unknown) => parseJson(Buffer.from(JSON.stringify(value)), 'app/db');

describe('selectProperty', () => {
  const document = json({
    user: 'app',
    db: { host: 'db.internal', port: 5432, options: { tls: true } },
    'dotted.key': 'whole-key-wins',
    nested: { 'with.dot': 'inner' },
    hosts: ['a', { name: 'b' }],
  });

  it('reads a top-level string property', () => {
    expect(selectProperty(document, 'user', 'app/db')).toBe('app');
  });

  it('walks nested objects with dots', () => {
    expect(selectProperty(document, 'db.options.tls', 'app/db')).toBe(true);
    expect(selectProperty(document, 'db.host', 'app/db')).toBe('db.internal');
  });

  it('matches a key that contains dots before splitting the path', () => {
    expect(selectProperty(document, 'dotted.key', 'app/db')).toBe('whole-key-wins');
    expect(selectProperty(document, 'nested.with.dot', 'app/db')).toBe('inner');
  });

  it('indexes arrays by position', () => {
    expect(selectProperty(document, 'hosts.1.name', 'app/db')).toBe('b');
  });

  it('reports a missing property as NotFound naming the path, not the value', () => {
    const error = catchError(() => selectProperty(document, 'db.password', 'app/db'));
    expect(error).toBeInstanceOf(NotFound);
    expect((error as Error).message).toBe('property "db.password" was not found in "app/db"');
  });

  it('refuses an empty property', () => {
    expect(() => selectProperty(document, '', 'app/db')).toThrow(InvalidReference);
  });
});

describe('parseJson', () => {
  it('refuses a value that is not JSON without quoting it', () => {
    const error = catchError(() => parseJson(Buffer.from('hunter2-not-json'), 'app/db'));
    expect(error).toBeInstanceOf(InvalidReference);
    expect(String((error as Error).message)).not.toContain('hunter2');
  });
});

describe('encodeProperty', () => {
  it('writes strings as themselves and other JSON values as JSON', () => {
    expect(encodeProperty('plain').toString()).toBe('plain');
    expect(encodeProperty(5432).toString()).toBe('5432');
    expect(encodeProperty({ tls: true }).toString()).toBe('{"tls":true}');
    expect(encodeProperty(null).toString()).toBe('null');
  });
});

describe('topLevelProperties', () => {
  it('returns every top-level property, serialising non-strings as JSON', () => {
    const values = topLevelProperties(json({ user: 'app', port: 5432, tls: { on: true } }), 'app/db');
    expect(Object.fromEntries(Object.entries(values).map(([key, value]) => [key, value.toString()]))).toEqual(
      {
        user: 'app',
        port: '5432',
        tls: '{"on":true}',
      },
    );
  });

  it('refuses a JSON value that is not an object', () => {
    expect(() => topLevelProperties(json(['a']), 'app/db')).toThrow(InvalidReference);
    expect(() => topLevelProperties(json('text'), 'app/db')).toThrow(InvalidReference);
  });
});

function catchError(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
