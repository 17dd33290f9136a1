import { describe, expect, it } from 'vitest';
import type { ClusterSecretStore, SecretStore, StoreProvider } from '../api/types.ts';
import { desiredStoreStatus, storeStatusDiffers } from './store-status.ts';

const now = new Date('2030-01-01T12:00:00.500Z');
const later = new Date('2030-01-01T13:00:00Z');

const aws: StoreProvider = {
  aws: {
    region: 'eu-west-1',
    auth: {
      secretRef: {
        accessKeyId: { name: 'aws-keys', key: 'id' },
        secretAccessKey: { name: 'aws-keys', key: 'secret' },
      },
    },
  },
};
const vault = (caBundle?: string): StoreProvider => ({
  vault: {
    server: 'https://vault.example:8200',
    ...(caBundle === undefined ? {} : { caBundle }),
    auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } },
  },
});
const notPem = Buffer.from('not a certificate').toString('base64');

function secretStore(provider: StoreProvider, generation = 1, status?: SecretStore['status']): SecretStore {
  return {
    apiVersion: 'secretlink.dev/v1alpha1',
    kind: 'SecretStore',
    metadata: { name: 'store', namespace: 'etl', generation },
    spec: { provider },
    ...(status ? { status } : {}),
  };
}

describe('desiredStoreStatus', () => {
  it('reports a valid store Ready with its provider, at its generation', () => {
    expect(desiredStoreStatus(secretStore(aws, 3), now)).toEqual({
      provider: 'aws',
      observedGeneration: 3,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Valid',
          message: expect.stringMatching(/^The aws store spec is valid\./),
          lastTransitionTime: '2030-01-01T12:00:00Z',
          observedGeneration: 3,
        },
      ],
    });
  });

  it('reports what the CEL rules cannot catch as InvalidSpec, naming the field and the fix', () => {
    const status = desiredStoreStatus(secretStore(vault(notPem)), now);
    expect(status.provider).toBe('vault');
    expect(status.conditions).toEqual([
      expect.objectContaining({
        type: 'Ready',
        status: 'False',
        reason: 'InvalidSpec',
        message:
          'The store spec cannot work: spec.provider.vault.caBundle: must be a base64-encoded PEM ' +
          'certificate bundle. SecretReferences cannot read from this store until it is fixed.',
      }),
      // Stalled, so Flux and Argo CD report the store as failed instead of waiting for it.
      expect.objectContaining({
        type: 'Stalled',
        status: 'True',
        reason: 'InvalidSpec',
        observedGeneration: 1,
      }),
    ]);
  });

  it('drops Stalled once the spec is fixed', () => {
    const invalid = desiredStoreStatus(secretStore(vault(notPem), 1), now);
    const fixed = desiredStoreStatus(secretStore(vault(), 2, invalid), later);
    expect(fixed.conditions?.map((condition) => condition.type)).toEqual(['Ready']);
  });

  it('judges a ClusterSecretStore by its own rule: credentials must name their namespace', () => {
    const store: ClusterSecretStore = {
      apiVersion: 'secretlink.dev/v1alpha1',
      kind: 'ClusterSecretStore',
      metadata: { name: 'shared', generation: 1 },
      spec: { provider: aws, allowedNamespaces: { names: ['etl'] } },
    };
    const ready = desiredStoreStatus(store, now).conditions?.[0];
    expect(ready?.reason).toBe('InvalidSpec');
    expect(ready?.message).toContain(
      'spec.provider.aws.auth.secretRef.accessKeyId.namespace: required in a ClusterSecretStore',
    );
  });

  it('reports no provider when the spec names none', () => {
    const status = desiredStoreStatus(secretStore({}), now);
    expect(status.provider).toBeUndefined();
    expect(status.conditions?.[0]?.message).toContain(
      'spec.provider: exactly one of aws, gcp, vault is required',
    );
  });

  it('spells out at most ten problems and counts the rest', () => {
    const broken = { name: '', key: '', namespace: 'other-team' };
    const store = secretStore({
      aws: {
        region: 'Ireland',
        endpoint: 'ftp://secretsmanager.local',
        auth: { secretRef: { accessKeyId: broken, secretAccessKey: broken, sessionToken: broken } },
      },
    });
    const message = desiredStoreStatus(store, now).conditions?.[0]?.message ?? '';
    expect(message.split('; ')).toHaveLength(11);
    expect(message).toContain('; and 1 more. SecretReferences cannot read');
  });

  it('keeps lastTransitionTime while Ready stays the same, even across generations', () => {
    const first = desiredStoreStatus(secretStore(aws, 1), now);
    const second = desiredStoreStatus(secretStore(aws, 2, first), later);
    expect(second.conditions?.[0]).toMatchObject({
      lastTransitionTime: '2030-01-01T12:00:00Z',
      observedGeneration: 2,
    });
  });

  it('moves lastTransitionTime when the store becomes valid', () => {
    const invalid = desiredStoreStatus(secretStore(vault(notPem), 1), now);
    const fixed = desiredStoreStatus(secretStore(vault(), 2, invalid), later);
    expect(fixed.conditions?.[0]).toMatchObject({
      status: 'True',
      reason: 'Valid',
      lastTransitionTime: '2030-01-01T13:00:00Z',
    });
  });

  it('leaves conditions of other types alone', () => {
    const other = {
      type: 'Audited',
      status: 'True' as const,
      reason: 'Reviewed',
      message: 'by security',
      lastTransitionTime: '2029-01-01T00:00:00Z',
    };
    const status = desiredStoreStatus(secretStore(aws, 1, { conditions: [other] }), now);
    expect(status.conditions?.map((condition) => condition.type)).toEqual(['Audited', 'Ready']);
  });
});

describe('storeStatusDiffers', () => {
  it('is false for the status the store already shows, whatever its field order', () => {
    const store = secretStore(aws, 4);
    const written = desiredStoreStatus(store, now);
    const fromServer = JSON.parse(
      JSON.stringify({
        conditions: written.conditions?.map((c) => Object.fromEntries(Object.entries(c).reverse())),
        observedGeneration: written.observedGeneration,
        provider: written.provider,
      }),
    );
    const again = desiredStoreStatus(secretStore(aws, 4, fromServer), later);
    expect(storeStatusDiffers(fromServer, again)).toBe(false);
  });

  it('is true for a store that has no status yet, and after a spec change', () => {
    const first = desiredStoreStatus(secretStore(aws, 1), now);
    expect(storeStatusDiffers(undefined, first)).toBe(true);
    expect(storeStatusDiffers(first, desiredStoreStatus(secretStore(aws, 2, first), later))).toBe(true);
  });
});
