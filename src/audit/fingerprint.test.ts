import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintKeyFromSecret, fingerprintSecretData, secretFingerprinter } from './fingerprint.ts';

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
    const fingerprint = secretFingerprinter(key)(data({ password: value }), 'etl');
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

describe('fingerprints across namespaces', () => {
  it('the same value in two namespaces gets unrelated fingerprints, so one tenant cannot test guesses against another', () => {
    const fingerprint = secretFingerprinter(key);
    const entries = data({ password: 'summer2025' });
    const inEtl = fingerprint(entries, 'etl');
    expect(fingerprint(entries, 'etl')).toBe(inEtl);
    expect(fingerprint(entries, 'marketing')).not.toBe(inEtl);
    expect(fingerprintSecretData(key, entries)).not.toBe(inEtl);
  });
});

describe('a pre-created fingerprint key Secret', () => {
  const valid = () => ({
    metadata: { namespace: 'secretlink-system', name: 'fp' },
    type: 'Opaque',
    immutable: true,
    data: { key: randomBytes(32).toString('base64') },
  });
  const problem = (secret: ReturnType<typeof valid>) => {
    try {
      fingerprintKeyFromSecret(secret);
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('is accepted when Opaque, immutable and holding exactly 32 random bytes', () => {
    expect(problem(valid())).toBeUndefined();
  });

  const refusals: [string, (secret: ReturnType<typeof valid>) => void, RegExp][] = [
    [
      'a mutable Secret',
      (s) => {
        s.immutable = false;
      },
      /must be immutable/,
    ],
    [
      'another type',
      (s) => {
        s.type = 'kubernetes.io/basic-auth';
      },
      /must be of type Opaque/,
    ],
    [
      '64 bytes',
      (s) => {
        s.data.key = randomBytes(64).toString('base64');
      },
      /exactly 32 random bytes/,
    ],
    [
      '16 bytes',
      (s) => {
        s.data.key = randomBytes(16).toString('base64');
      },
      /exactly 32 random bytes/,
    ],
    [
      'a 32-character password',
      (s) => {
        s.data.key = Buffer.from('correct-horse-battery-staple-123').toString('base64');
      },
      /random/,
    ],
    [
      '32 zero bytes',
      (s) => {
        s.data.key = Buffer.alloc(32).toString('base64');
      },
      /random/,
    ],
  ];
  for (const [what, spoil, message] of refusals) {
    it(`is refused when it is ${what}, naming the Secret and never its value`, () => {
      const secret = valid();
      spoil(secret);
      const text = problem(secret);
      expect(text).toMatch(message);
      expect(text).toContain('fingerprint key Secret secretlink-system/fp');
      expect(text).not.toContain(secret.data.key);
      expect(text).not.toContain(Buffer.from(secret.data.key, 'base64').toString());
    });
  }
});
