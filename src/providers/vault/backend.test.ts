import { describe, expect, it } from 'vitest';
import { InvalidReference } from '../errors.ts';
import { mountPath } from './auth.ts';
import { parseVaultVersion, secretPath } from './backend.ts';

describe('parseVaultVersion', () => {
  it('reads no version and latest as the current version, in either KV version', () => {
    for (const kv of [1, 2] as const) {
      expect(parseVaultVersion(kv, 'db', undefined)).toEqual({
        key: 'latest',
        current: true,
        floating: true,
      });
      expect(parseVaultVersion(kv, 'db', 'latest')).toEqual({ key: 'latest', current: true, floating: true });
    }
  });

  it('reads a KV v2 version number as a fixed version', () => {
    expect(parseVaultVersion(2, 'db', '3')).toEqual({ key: '3', current: false, floating: false });
  });

  it('refuses any version in a KV v1 mount, which keeps none', () => {
    expect(() => parseVaultVersion(1, 'db', '3')).toThrow(/keeps no versions/);
  });

  it('refuses a KV v2 version that is not a number', () => {
    expect(() => parseVaultVersion(2, 'db', 'AWSCURRENT')).toThrow(InvalidReference);
  });
});

describe('paths', () => {
  it('encodes each segment of a secret path and refuses empty or dot segments', () => {
    expect(secretPath('team a/db')).toBe('team%20a/db');
    for (const bad of ['/db', 'db/', 'a//b', '../sys/seal', 'a/./b']) {
      expect(() => secretPath(bad)).toThrow(InvalidReference);
    }
  });

  it('normalises mount paths', () => {
    expect(mountPath('/team/kv/')).toBe('team/kv');
  });
});
