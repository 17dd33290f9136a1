import { describe, expect, it } from 'vitest';
import { judgeStoreAccess, judgeStoreSpec } from './store-access.ts';

const clusterStore = (allowedNamespaces: object) => ({
  metadata: { name: 'shared' },
  spec: { allowedNamespaces },
});

describe('judgeStoreAccess', () => {
  it('lets a SecretReference use a SecretStore of its own namespace', () => {
    const store = { metadata: { name: 'aws', namespace: 'etl' } };
    expect(judgeStoreAccess('etl', { name: 'aws' }, store, {})).toEqual({ state: 'ready' });
  });

  it('refuses a SecretStore of another namespace', () => {
    const store = { metadata: { name: 'aws', namespace: 'finance' } };
    expect(judgeStoreAccess('etl', { name: 'aws' }, store, {}).state).toBe('not-allowed');
  });

  it('reports a missing store with the namespace it looked in', () => {
    expect(judgeStoreAccess('etl', { name: 'aws' }, undefined, {})).toEqual({
      state: 'missing',
      message: 'SecretStore "aws" was not found in namespace etl; create it or fix spec.storeRef.',
    });
  });

  it('admits a namespace a ClusterSecretStore lists by name', () => {
    const ref = { kind: 'ClusterSecretStore', name: 'shared' } as const;
    expect(judgeStoreAccess('etl', ref, clusterStore({ names: ['etl'] }), {}).state).toBe('ready');
    expect(judgeStoreAccess('web', ref, clusterStore({ names: ['etl'] }), {}).state).toBe('not-allowed');
  });

  it('admits a namespace a ClusterSecretStore selects by label, and no other', () => {
    const ref = { kind: 'ClusterSecretStore', name: 'shared' } as const;
    const store = clusterStore({
      selector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['data'] }] },
    });
    expect(judgeStoreAccess('etl', ref, store, { team: 'data' }).state).toBe('ready');
    expect(judgeStoreAccess('etl', ref, store, { team: 'web' }).state).toBe('not-allowed');
    expect(judgeStoreAccess('etl', ref, store, undefined).state).toBe('not-allowed');
  });

  it('treats a store being deleted as gone', () => {
    const store = { metadata: { name: 'aws', namespace: 'etl', deletionTimestamp: new Date() } };
    expect(judgeStoreAccess('etl', { name: 'aws' }, store, {}).state).toBe('missing');
  });
});

describe('judgeStoreSpec', () => {
  const vaultStore = (caBundle?: string) => ({
    kind: 'SecretStore' as const,
    metadata: { name: 'vault', namespace: 'etl' },
    spec: {
      provider: {
        vault: {
          server: 'https://vault.internal:8200',
          ...(caBundle ? { caBundle } : {}),
          auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } },
        },
      },
    },
  });

  it('lets a store the providers accept serve', () => {
    expect(judgeStoreSpec({ name: 'vault' }, vaultStore())).toEqual({ state: 'ready' });
  });

  it('reports a store the providers reject, naming the field and pointing at the store', () => {
    const state = judgeStoreSpec(
      { name: 'vault' },
      vaultStore(Buffer.from('not a certificate').toString('base64')),
    );
    expect(state.state).toBe('invalid');
    expect(state).toMatchObject({
      message: expect.stringMatching(
        /^SecretStore "vault" cannot be used: spec\.provider\.vault\.caBundle: .*; fix the store\.$/,
      ),
    });
  });
});
