import { describe, expect, it } from 'vitest';
import { InvalidReference } from '../errors.ts';
import { parseGcpVersion, secretResourceName } from './backend.ts';

describe('parseGcpVersion', () => {
  it('reads no version and latest as the current version', () => {
    expect(parseGcpVersion('db', undefined)).toEqual({ key: 'latest', current: true, floating: true });
    expect(parseGcpVersion('db', 'latest')).toEqual({ key: 'latest', current: true, floating: true });
  });

  it('reads a version number as a fixed version', () => {
    expect(parseGcpVersion('db', '7')).toEqual({ key: '7', current: false, floating: false });
  });

  it('refuses anything else', () => {
    for (const version of ['0', '-1', 'v2', 'AWSCURRENT']) {
      expect(() => parseGcpVersion('db', version)).toThrow(InvalidReference);
    }
  });
});

describe('secretResourceName', () => {
  it('places a bare secret id in the store project and keeps a full name as given', () => {
    expect(secretResourceName('my-project', 'db')).toBe('projects/my-project/secrets/db');
    expect(secretResourceName('my-project', 'projects/other/secrets/db')).toBe('projects/other/secrets/db');
  });

  it('refuses names Secret Manager cannot hold', () => {
    expect(() => secretResourceName('my-project', 'a/b')).toThrow(InvalidReference);
  });
});
