// The per-namespace remote allow-list of a ClusterSecretStore, decided without a cluster.
import { describe, expect, it } from 'vitest';
import type { ClusterSecretStoreSpec, SecretReference } from '../api/types.ts';
import { findAllowed, judgeRemoteAccess, remoteAllowed, remoteScopeFor } from './remote-access.ts';

const spec = (remoteAccess?: ClusterSecretStoreSpec['remoteAccess']): ClusterSecretStoreSpec => ({
  provider: { aws: { region: 'eu-west-1', auth: { defaultChain: {} } } },
  allowedNamespaces: { selector: {} },
  ...(remoteAccess ? { remoteAccess } : {}),
});

const rules = spec([
  { namespaces: { names: ['analytics'] }, prefixes: ['meltano/'], names: ['shared/warehouse'] },
  { namespaces: { selector: { matchLabels: { team: 'data' } } }, prefixes: ['dbt/'] },
]);

function reference(
  remotes: string[],
  options: { find?: boolean; dataFrom?: string[] } = {},
): SecretReference {
  return {
    apiVersion: 'secretlink.dev/v1alpha1',
    kind: 'SecretReference',
    metadata: { name: 'ref', namespace: 'analytics' },
    spec: {
      storeRef: { kind: 'ClusterSecretStore', name: 'shared' },
      data: remotes.map((name, index) => ({ key: `k${index}`, remote: { name } })),
      dataFrom: [
        ...(options.dataFrom ?? []).map((name) => ({ remote: { name } })),
        ...(options.find ? [{ find: { path: 'meltano/' } }] : []),
      ],
      consumers: { matchLabels: { app: 'etl' } },
    },
  };
}

describe('the remotes a namespace may reach', () => {
  it('unions the names and prefixes of every rule that selects the namespace, by name or by label', () => {
    const scope = remoteScopeFor('ClusterSecretStore', rules, 'analytics', { team: 'data' });
    expect(remoteAllowed(scope, 'meltano/tap-postgres')).toBe(true);
    expect(remoteAllowed(scope, 'dbt/profiles')).toBe(true);
    expect(remoteAllowed(scope, 'shared/warehouse')).toBe(true);
    expect(remoteAllowed(scope, 'shared/warehouse-admin')).toBe(false);
    expect(remoteAllowed(scope, 'platform/root')).toBe(false);
  });

  it('gives a namespace no rule selects no remote at all: fail closed', () => {
    const scope = remoteScopeFor('ClusterSecretStore', rules, 'web', { team: 'web' });
    expect(remoteAllowed(scope, 'meltano/tap-postgres')).toBe(false);
    expect(findAllowed(scope)).toBe(false);
  });

  it('keeps plain references as they were on a store without remoteAccess, and refuses find there', () => {
    const scope = remoteScopeFor('ClusterSecretStore', spec(), 'analytics', {});
    expect(remoteAllowed(scope, 'anything/at/all')).toBe(true);
    expect(findAllowed(scope)).toBe(false);
  });

  it('lets a namespaced SecretStore reach (and find) whatever its own credentials can', () => {
    const scope = remoteScopeFor('SecretStore', { provider: {} }, 'analytics', {});
    expect(remoteAllowed(scope, 'anything')).toBe(true);
    expect(findAllowed(scope)).toBe(true);
  });
});

describe('judging a reference before any store call', () => {
  const scope = remoteScopeFor('ClusterSecretStore', rules, 'analytics', {});

  it('is ready when every named remote is within the scope', () => {
    expect(
      judgeRemoteAccess(reference(['meltano/a'], { dataFrom: ['shared/warehouse'], find: true }), scope),
    ).toEqual({
      state: 'ready',
    });
  });

  it('refuses with RemoteNotAllowed, naming each remote outside the scope (data and dataFrom)', () => {
    const judged = judgeRemoteAccess(
      reference(['meltano/a', 'platform/root'], { dataFrom: ['billing/key'] }),
      scope,
    );
    expect(judged).toMatchObject({ state: 'not-allowed', reason: 'RemoteNotAllowed' });
    expect(judged.state !== 'ready' && judged.message).toContain(
      'ClusterSecretStore "shared" does not let namespace analytics reach remote secret(s) "platform/root", "billing/key"',
    );
  });

  it('refuses find through a store without remoteAccess, saying what an administrator must add', () => {
    const none = remoteScopeFor('ClusterSecretStore', spec(), 'analytics', {});
    const judged = judgeRemoteAccess(reference([], { find: true }), none);
    expect(judged).toMatchObject({ state: 'not-allowed', reason: 'RemoteNotAllowed' });
    expect(judged.state !== 'ready' && judged.message).toContain(
      'has no spec.remoteAccess, so dataFrom find is refused',
    );
    expect(judgeRemoteAccess(reference(['anything']), none)).toEqual({ state: 'ready' });
  });
});
