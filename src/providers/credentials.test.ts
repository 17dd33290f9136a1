import { describe, expect, it } from 'vitest';
import { MemoryCredentialSource } from '../../test/support/memory-credentials.ts';
import { credentialNamespace, mintToken } from './credentials.ts';
import { InvalidSpec } from './errors.ts';

describe('credentialNamespace', () => {
  const namespaced = { kind: 'SecretStore', namespace: 'team-a' } as const;
  const cluster = { kind: 'ClusterSecretStore' } as const;

  it('reads a SecretStore credential from the store namespace', () => {
    expect(credentialNamespace(namespaced, {}, 'ref')).toBe('team-a');
    expect(credentialNamespace(namespaced, { namespace: 'team-a' }, 'ref')).toBe('team-a');
  });

  it('never lets a SecretStore read another namespace', () => {
    expect(() => credentialNamespace(namespaced, { namespace: 'team-b' }, 'ref')).toThrow(InvalidSpec);
  });

  it('reads a ClusterSecretStore credential from the namespace in the ref, which it must name', () => {
    expect(credentialNamespace(cluster, { namespace: 'platform' }, 'ref')).toBe('platform');
    expect(() => credentialNamespace(cluster, {}, 'ref')).toThrow(/required in a ClusterSecretStore/);
  });
});

describe('mintToken', () => {
  const scope = { kind: 'SecretStore', namespace: 'team-a', name: 'vault' } as const;

  it('mints for one audience, for 600 seconds, as the store asking', async () => {
    const source = new MemoryCredentialSource();
    source.serviceAccount('team-a', 'reader', ['SecretStore/vault']);
    expect(await mintToken(source, scope, { name: 'reader' }, 'vault', 'p')).toBe('token-for-team-a-reader');
    expect(source.mints).toEqual([
      { namespace: 'team-a', name: 'reader', audience: 'vault', expirationSeconds: 600 },
    ]);
  });

  it('never asks for a token without an audience, which the API server itself would accept', async () => {
    const source = new MemoryCredentialSource();
    source.serviceAccount('team-a', 'reader', ['SecretStore/vault']);
    await expect(mintToken(source, scope, { name: 'reader' }, '', 'p')).rejects.toBeInstanceOf(InvalidSpec);
    expect(source.mints).toEqual([]);
  });
});
