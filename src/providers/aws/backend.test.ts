import { describe, expect, it } from 'vitest';
import { InvalidReference } from '../errors.ts';
import { listFilters, parseAwsVersion } from './backend.ts';

describe('parseAwsVersion', () => {
  it('reads no version, latest and AWSCURRENT as the current version', () => {
    for (const version of [undefined, 'latest', 'AWSCURRENT']) {
      expect(parseAwsVersion('db', version)).toEqual({
        key: 'stage:AWSCURRENT',
        current: true,
        floating: true,
      });
    }
  });

  it('reads a UUID as a version id, which never moves', () => {
    expect(parseAwsVersion('db', '3F1C9A52-6C1E-4B7A-9D3E-0A1B2C3D4E5F')).toMatchObject({
      current: false,
      floating: false,
    });
    expect(parseAwsVersion('db', '3f1c9a52-6c1e-4b7a-9d3e-0a1b2c3d4e5f').key).toBe(
      'id:3f1c9a52-6c1e-4b7a-9d3e-0a1b2c3d4e5f',
    );
  });

  it('reads anything else label-shaped as a staging label, which moves on rotation', () => {
    expect(parseAwsVersion('db', 'AWSPREVIOUS')).toEqual({
      key: 'stage:AWSPREVIOUS',
      current: false,
      floating: true,
    });
  });

  it('refuses a version that is neither', () => {
    expect(() => parseAwsVersion('db', 'two words')).toThrow(InvalidReference);
  });
});

describe('ListSecrets filters', () => {
  it('narrows by name prefix and tags where AWS can, leaving the exact check to after listing', () => {
    expect(listFilters({ prefix: 'meltano/', tags: { team: 'data' } })).toEqual([
      { Key: 'name', Values: ['meltano/'] },
      { Key: 'tag-key', Values: ['team'] },
      { Key: 'tag-value', Values: ['data'] },
    ]);
  });

  it('sends no filter AWS would read as a negation ("!") or refuse (characters outside its alphabet)', () => {
    expect(listFilters({ prefix: '!meltano/', tags: { équipe: 'données', tier: '!gold' } })).toEqual([
      { Key: 'tag-key', Values: ['tier'] },
    ]);
    expect(listFilters({})).toEqual([]);
  });
});
