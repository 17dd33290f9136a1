import { describe, expect, it } from 'vitest';
import { credentialNamespace } from './credentials.ts';
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
