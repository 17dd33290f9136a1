import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintSecretData, secretFingerprinter } from './fingerprint.ts';

const key = Buffer.alloc(32, 7);
const data = (entries: Record<string, string>) =>
  Object.fromEntries(Object.entries(entries).map(([name, value]) => [name, Buffer.from(value)]));

describe('the Secret fingerprint', () => {
  it('is hmac-sha256:<64 hex> and the same for the same data, whatever the key order', () => {
    const a = fingerprintSecretData(key, data({ user: 'loader', password: 's3cr3t-v1' }));
    const b = fingerprintSecretData(key, data({ password: 's3cr3t-v1', user: 'loader' }));
    expect(a).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(b).toBe(a);
  });

  it('differs between versions of a value', () => {
    const v1 = fingerprintSecretData(key, data({ password: 's3cr3t-v1' }));
    const v2 = fingerprintSecretData(key, data({ password: 's3cr3t-v2' }));
    expect(v2).not.toBe(v1);
  });

  it('differs when bytes move between a key and its value, or between entries', () => {
    const fingerprints = [
      data({ ab: 'c' }),
      data({ a: 'bc' }),
      data({ a: 'b', c: '' }),
      data({ a: '', bc: '' }),
      data({}),
    ].map((entries) => fingerprintSecretData(key, entries));
    expect(new Set(fingerprints).size).toBe(fingerprints.length);
  });

  it('depends on the key, so it cannot be recomputed from a guessed value without it', () => {
    const entries = data({ password: 's3cr3t-v1' });
    expect(fingerprintSecretData(randomBytes(32), entries)).not.toBe(fingerprintSecretData(key, entries));
  });

  it('contains no part of any value, in text, hex or base64', () => {
    // A hex-looking value, so that leaking it into the hex digest would be visible.
    const value = 'c0ffee15deadbeef0042';
    const fingerprint = secretFingerprinter(key)(data({ password: value }));
    const encodings = [value, Buffer.from(value).toString('hex'), Buffer.from(value).toString('base64')];
    for (const encoded of encodings) {
      for (let start = 0; start + 6 <= encoded.length; start++) {
        expect(fingerprint).not.toContain(encoded.slice(start, start + 6));
      }
    }
  });

  it('refuses a key shorter than 32 bytes', () => {
    expect(() => fingerprintSecretData(Buffer.alloc(16), data({ a: 'b' }))).toThrow(/at least 32 bytes/);
  });
});
