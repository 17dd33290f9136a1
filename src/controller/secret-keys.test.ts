import { describe, expect, it } from 'vitest';
import { invalidSecretKey, quoteKey } from './secret-keys.ts';

describe('Secret keys', () => {
  it.each(['password', 'DB_USER', 'tls.crt', 'a-b_c.d', '.dotfile', 'x'.repeat(253)])(
    'accepts %s, as the API server does',
    (key) => {
      expect(invalidSecretKey(key)).toBeUndefined();
    },
  );

  it.each(['my key', 'path/like', '', 'ünïcode', 'a:b', '.', '..', '..hidden', 'x'.repeat(254), 'new\nline'])(
    'refuses %j, which the API server would refuse on every write',
    (key) => {
      expect(invalidSecretKey(key)).toEqual(expect.any(String));
    },
  );

  it('quotes a key so control characters show, and cuts a long one short', () => {
    expect(quoteKey('new\nline')).toBe('"new\\nline"');
    expect(quoteKey('k'.repeat(10_000)).length).toBeLessThan(80);
  });
});
