import { describe, expect, it } from 'vitest';
import { InvalidReference } from '../errors.ts';
import { mountPath, type VaultTokens } from './auth.ts';
import { maxListDepth, parseVaultVersion, secretPath, VaultBackend } from './backend.ts';
import type { VaultTransport } from './http.ts';

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

describe('listing a KV mount for find', () => {
  /** A mount as folders: each listed path maps to its keys (folders end in "/"); it records what was asked. */
  function mountOf(tree: Record<string, string[]>) {
    const asked: string[] = [];
    const transport = {
      request: async (_method: string, path: string) => {
        asked.push(path);
        const folder = path.replace(/^secret\/metadata\//, '').replace(/\?list=true$/, '');
        const keys = tree[folder];
        return keys ? { status: 200, body: { data: { keys } } } : { status: 404, body: undefined };
      },
      close: () => {},
    } as unknown as VaultTransport;
    const tokens = { token: async () => 'token', replace: async () => false } as unknown as VaultTokens;
    return { backend: new VaultBackend(transport, tokens, 'secret', 2), asked };
  }

  async function listAll(backend: VaultBackend, prefix?: string) {
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await backend.listPage({ prefix }, cursor, AbortSignal.timeout(1_000));
      names.push(...page.secrets.map((secret) => secret.name));
      cursor = page.cursor;
    } while (cursor);
    return names;
  }

  it('starts at the folder of the prefix and goes only into folders that can hold it', async () => {
    const { backend, asked } = mountOf({
      'meltano/': ['tap-postgres/', 'tap-mysql/', 'target-x'],
      'meltano/tap-postgres/': ['password', 'ssl/'],
      'meltano/tap-postgres/ssl/': ['root-cert'],
      'meltano/tap-mysql/': ['password'],
    });
    expect(await listAll(backend, 'meltano/tap-p')).toEqual([
      'meltano/target-x',
      'meltano/tap-postgres/password',
      'meltano/tap-postgres/ssl/root-cert',
    ]);
    expect(asked).toEqual([
      'secret/metadata/meltano/?list=true',
      'secret/metadata/meltano/tap-postgres/?list=true',
      'secret/metadata/meltano/tap-postgres/ssl/?list=true',
    ]);
  });

  it('lists the whole mount from its root without a prefix, an empty or missing folder as nothing', async () => {
    const { backend } = mountOf({ '': ['a', 'empty/'] });
    expect(await listAll(backend)).toEqual(['a']);
  });

  it(`goes at most ${maxListDepth} folders below where it starts`, async () => {
    const tree: Record<string, string[]> = {};
    let folder = '';
    for (let depth = 0; depth <= maxListDepth + 1; depth++) {
      tree[folder] = [`s${depth}`, 'd/'];
      folder += 'd/';
    }
    const names = await listAll(mountOf(tree).backend);
    expect(names).toHaveLength(maxListDepth + 1);
    expect(names.at(-1)).toBe(`${'d/'.repeat(maxListDepth)}s${maxListDepth}`);
  });

  it('refuses tags, which KV does not keep, instead of ignoring them', async () => {
    const { backend, asked } = mountOf({});
    await expect(
      backend.listPage({ tags: { team: 'data' } }, undefined, AbortSignal.timeout(1_000)),
    ).rejects.toThrow(InvalidReference);
    expect(asked).toEqual([]);
  });
});
