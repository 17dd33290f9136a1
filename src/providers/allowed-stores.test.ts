import { describe, expect, it } from 'vitest';
import { allowedStoresAnnotation, allowsStore } from './allowed-stores.ts';

const annotated = (value: string) => ({ [allowedStoresAnnotation]: value });
const secretStore = { kind: 'SecretStore', name: 'vault', namespace: 'team-a' } as const;
const clusterStore = { kind: 'ClusterSecretStore', name: 'shared' } as const;

describe('allowsStore', () => {
  it('allows the stores the annotation lists, whitespace around entries ignored', () => {
    expect(allowsStore(annotated('SecretStore/vault'), 'team-a', secretStore)).toBe(true);
    expect(allowsStore(annotated(' SecretStore/other ,  SecretStore/vault '), 'team-a', secretStore)).toBe(
      true,
    );
    expect(allowsStore(annotated('ClusterSecretStore/shared'), 'platform', clusterStore)).toBe(true);
  });

  it('refuses without the annotation, or when it lists only other stores', () => {
    expect(allowsStore(undefined, 'team-a', secretStore)).toBe(false);
    expect(allowsStore({}, 'team-a', secretStore)).toBe(false);
    expect(allowsStore(annotated(''), 'team-a', secretStore)).toBe(false);
    expect(allowsStore(annotated('SecretStore/vault2'), 'team-a', secretStore)).toBe(false);
  });

  it('keeps a SecretStore and a ClusterSecretStore of the same name apart', () => {
    expect(allowsStore(annotated('SecretStore/shared'), 'platform', clusterStore)).toBe(false);
    expect(allowsStore(annotated('ClusterSecretStore/vault'), 'team-a', secretStore)).toBe(false);
  });

  it('takes SecretStore/<name> to mean the store of the object’s own namespace', () => {
    expect(allowsStore(annotated('SecretStore/vault'), 'team-b', secretStore)).toBe(false);
  });

  it('has no wildcards', () => {
    expect(allowsStore(annotated('*'), 'team-a', secretStore)).toBe(false);
    expect(allowsStore(annotated('SecretStore/*'), 'team-a', secretStore)).toBe(false);
  });
});
