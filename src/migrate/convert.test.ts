// The migration over a whole multi-document input: which objects come out, and which credentials the
// report says must opt in to which stores.
import { describe, expect, it } from 'vitest';
import { migrate } from './convert.ts';
import { reportJson, reportText } from './report.ts';
import { parseDocuments } from './yaml-io.ts';

const input = `
apiVersion: v1
kind: Secret
metadata: { name: aws-keys, namespace: analytics }
stringData: { id: not-a-real-key }
---
apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: { name: aws-warehouse, namespace: analytics }
spec:
  provider:
    aws:
      service: SecretsManager
      region: eu-west-1
      auth:
        secretRef:
          accessKeyIDSecretRef: { name: aws-keys, key: id }
          secretAccessKeySecretRef: { name: aws-keys, key: secret }
---
apiVersion: external-secrets.io/v1beta1
kind: SecretStore
metadata: { name: aws-archive, namespace: analytics }
spec:
  provider:
    aws:
      service: SecretsManager
      region: eu-west-1
      auth:
        secretRef:
          accessKeyIDSecretRef: { name: aws-keys, key: id }
          secretAccessKeySecretRef: { name: aws-keys, key: secret }
---
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata: { name: vault-shared }
spec:
  conditions: [{ namespaces: [analytics] }]
  provider:
    vault:
      server: https://vault.acme.org
      auth:
        kubernetes:
          role: elt
          serviceAccountRef: { name: vault-auth, namespace: secretlink-system, audiences: [vault] }
---
apiVersion: external-secrets.io/v1alpha1
kind: ExternalSecret
metadata: { name: legacy, namespace: analytics }
---
apiVersion: external-secrets.io/v1alpha1
kind: PushSecret
metadata: { name: push, namespace: analytics }
---
apiVersion: external-secrets.io/v1
kind: PushSecret
metadata: { name: push, namespace: analytics }
---
# an empty document, as editors leave them
`;

describe('migrating a multi-document input', () => {
  const result = migrate(parseDocuments(input));

  it('converts the ESO objects it supports, copies other objects unchanged, in input order', () => {
    expect(
      result.manifests.map(
        (m) => `${(m as { apiVersion: string }).apiVersion} ${(m as { kind: string }).kind}`,
      ),
    ).toEqual([
      'v1 Secret',
      'secretlink.dev/v1alpha1 SecretStore',
      'secretlink.dev/v1alpha1 SecretStore',
      'secretlink.dev/v1alpha1 ClusterSecretStore',
    ]);
  });

  it('reports objects it does not convert: an older ESO API version and kinds without an equivalent', () => {
    expect(
      result.findings.filter((f) => f.severity === 'action').map((f) => `${f.object} ${f.field}`),
    ).toEqual([
      'ExternalSecret analytics/legacy apiVersion',
      'PushSecret analytics/push apiVersion',
      'PushSecret analytics/push kind',
    ]);
  });

  it('lists each credential once with every store it must allow, and asks for a token grant for ServiceAccounts', () => {
    expect(result.credentialOptIns).toEqual([
      {
        kind: 'Secret',
        namespace: 'analytics',
        name: 'aws-keys',
        annotation: 'secretlink.dev/allowed-stores',
        entries: ['SecretStore/aws-archive', 'SecretStore/aws-warehouse'],
        value: 'SecretStore/aws-archive, SecretStore/aws-warehouse',
        needsTokenRequestGrant: false,
      },
      {
        kind: 'ServiceAccount',
        namespace: 'secretlink-system',
        name: 'vault-auth',
        annotation: 'secretlink.dev/allowed-stores',
        entries: ['ClusterSecretStore/vault-shared'],
        value: 'ClusterSecretStore/vault-shared',
        needsTokenRequestGrant: true,
      },
    ]);
  });

  it('says in the text report which annotation to add to which object, and in JSON the same', () => {
    const text = reportText(result);
    expect(text).toContain(
      "kubectl annotate secret -n analytics aws-keys 'secretlink.dev/allowed-stores=SecretStore/aws-archive, SecretStore/aws-warehouse'",
    );
    expect(text).toContain(
      'create on serviceaccounts/token with resourceNames: [vault-auth] in secretlink-system',
    );
    expect(JSON.parse(reportJson(result))).toEqual({
      findings: result.findings,
      credentialOptIns: result.credentialOptIns,
    });
  });

  it('expands a List, as kubectl get -o yaml prints it', () => {
    const listed = migrate([
      {
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'external-secrets.io/v1',
            kind: 'ExternalSecret',
            metadata: { name: 'a', namespace: 'n' },
            spec: { secretStoreRef: { name: 's' }, data: [{ secretKey: 'k', remoteRef: { key: 'r' } }] },
          },
        ],
      },
    ]);
    expect(listed.manifests).toHaveLength(1);
    expect(listed.manifests[0]).toMatchObject({ kind: 'SecretReference', metadata: { name: 'a' } });
  });

  it('never copies a value: findings about a Secret passed through name it, not its data', () => {
    expect(JSON.stringify(result.findings)).not.toContain('not-a-real-key');
    expect(reportText(result)).not.toContain('not-a-real-key');
  });
});

describe('credentials of a SecretStore whose namespace the input does not name', () => {
  const result = migrate(
    parseDocuments(`apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: { name: vault-elt }
spec:
  provider:
    vault:
      server: https://vault.acme.org
      auth: { tokenSecretRef: { name: vault-token, key: token } }
`),
  );

  it('lists the Secret without a namespace and says it is the store’s own', () => {
    expect(result.credentialOptIns).toMatchObject([
      { kind: 'Secret', name: 'vault-token', entries: ['SecretStore/vault-elt'] },
    ]);
    expect(result.credentialOptIns[0]).not.toHaveProperty('namespace');
    expect(reportText(result)).toContain(
      'Secret <the store’s namespace>/vault-token: add SecretStore/vault-elt',
    );
  });
});

describe('a SecretStore credential in another namespace', () => {
  it('drops the namespace secretlink refuses and asks the user to move the credential', () => {
    const result = migrate(
      parseDocuments(`apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: { name: vault-elt, namespace: analytics }
spec:
  provider:
    vault:
      server: https://vault.acme.org
      auth: { tokenSecretRef: { name: vault-token, key: token, namespace: vault } }
`),
    );
    expect(result.manifests[0]).toMatchObject({
      spec: { provider: { vault: { auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } } } } },
    });
    expect(JSON.stringify(result.manifests[0])).not.toContain('"namespace":"vault"');
    expect(result.findings.map((f) => [f.severity, f.field])).toEqual([
      ['action', 'spec.provider.vault.auth.tokenSecretRef.namespace'],
    ]);
  });
});
