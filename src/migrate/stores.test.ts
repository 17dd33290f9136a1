// ESO stores converted: each auth method maps to secretlink's or is left for the user to fill in, so that a
// converted store never silently reads with a different identity; ClusterSecretStore conditions become
// allowedNamespaces.
import { describe, expect, it } from 'vitest';
import { migrate } from './convert.ts';
import { parseDocuments } from './yaml-io.ts';

function convert(yaml: string) {
  const result = migrate(parseDocuments(yaml));
  return {
    store: result.manifests[0] as { kind: string; spec: Record<string, unknown> } | undefined,
    findings: result.findings.map((finding) => [finding.severity, finding.field]),
    result,
  };
}

function secretStore(provider: string, kind = 'SecretStore', extra = '') {
  const namespace = kind === 'SecretStore' ? '\n  namespace: analytics' : '';
  return `apiVersion: external-secrets.io/v1
kind: ${kind}
metadata:
  name: store${namespace}
spec:${extra}
  provider:
${provider
  .split('\n')
  .map((line) => `    ${line}`)
  .join('\n')}
`;
}

describe('converting a store’s provider and auth', () => {
  it.each([
    {
      what: 'AWS static keys with a session token',
      provider: `aws:
  service: SecretsManager
  region: eu-west-1
  auth:
    secretRef:
      accessKeyIDSecretRef: { name: aws-keys, key: id }
      secretAccessKeySecretRef: { name: aws-keys, key: secret }
      sessionTokenSecretRef: { name: aws-keys, key: token }`,
      expected: {
        aws: {
          region: 'eu-west-1',
          auth: {
            secretRef: {
              accessKeyId: { name: 'aws-keys', key: 'id' },
              secretAccessKey: { name: 'aws-keys', key: 'secret' },
              sessionToken: { name: 'aws-keys', key: 'token' },
            },
          },
        },
      },
      findings: [],
    },
    {
      what: 'AWS IRSA (jwt) with the role named in the store',
      provider: `aws:
  service: SecretsManager
  region: us-east-1
  role: arn:aws:iam::123456789012:role/elt-reader
  auth:
    jwt:
      serviceAccountRef: { name: elt-reader }`,
      expected: {
        aws: {
          region: 'us-east-1',
          auth: {
            webIdentity: {
              roleArn: 'arn:aws:iam::123456789012:role/elt-reader',
              serviceAccountRef: { name: 'elt-reader' },
            },
          },
        },
      },
      findings: [['changed', 'spec.provider.aws.role']],
    },
    {
      what: 'AWS IRSA (jwt) with the role only in the ServiceAccount annotation: roleArn left for the user',
      provider: `aws:
  service: SecretsManager
  region: us-east-1
  auth:
    jwt:
      serviceAccountRef: { name: elt-reader, audiences: [sts.amazonaws.com, other] }`,
      expected: {
        aws: {
          region: 'us-east-1',
          auth: {
            webIdentity: {
              roleArn: '',
              serviceAccountRef: { name: 'elt-reader', audience: 'sts.amazonaws.com' },
            },
          },
        },
      },
      findings: [
        ['changed', 'spec.provider.aws.auth.jwt.serviceAccountRef.audiences'],
        ['action', 'spec.provider.aws.auth.jwt'],
      ],
    },
    {
      what: 'GCP key file',
      provider: `gcpsm:
  projectID: acme-analytics
  auth:
    secretRef:
      secretAccessKeySecretRef: { name: gcp-key, key: key.json }`,
      expected: {
        gcp: {
          projectID: 'acme-analytics',
          auth: { secretRef: { keyJSON: { name: 'gcp-key', key: 'key.json' } } },
        },
      },
      findings: [],
    },
    {
      what: 'GCP GKE workload identity: audience left for the user',
      provider: `gcpsm:
  projectID: acme-analytics
  auth:
    workloadIdentity:
      clusterLocation: europe-west1
      clusterName: prod
      serviceAccountRef: { name: secret-reader }`,
      expected: {
        gcp: {
          projectID: 'acme-analytics',
          auth: { workloadIdentity: { serviceAccountRef: { name: 'secret-reader' } } },
        },
      },
      findings: [['action', 'spec.provider.gcpsm.auth.workloadIdentity']],
    },
    {
      what: 'Vault token, KV v2 mount given with /data',
      provider: `vault:
  server: https://vault.acme.org
  path: kv/data
  version: v2
  namespace: analytics
  auth:
    tokenSecretRef: { name: vault-token, key: token }`,
      expected: {
        vault: {
          server: 'https://vault.acme.org',
          namespace: 'analytics',
          kv: { mount: 'kv', version: 2 },
          auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } },
        },
      },
      findings: [['info', 'spec.provider.vault.path']],
    },
    {
      what: 'Vault AppRole, KV v1',
      provider: `vault:
  server: https://vault.acme.org
  path: secret
  version: v1
  auth:
    appRole:
      path: approle-elt
      roleId: db02de05-fa39-4855-059b-67221c5c2f63
      secretRef: { name: approle, key: secret-id }`,
      expected: {
        vault: {
          server: 'https://vault.acme.org',
          kv: { mount: 'secret', version: 1 },
          auth: {
            appRole: {
              mountPath: 'approle-elt',
              roleId: 'db02de05-fa39-4855-059b-67221c5c2f63',
              secretIdRef: { name: 'approle', key: 'secret-id' },
            },
          },
        },
      },
      findings: [],
    },
    {
      what: 'Vault AppRole with the role id in a Secret: roleId left for the user',
      provider: `vault:
  server: https://vault.acme.org
  auth:
    appRole:
      roleRef: { name: approle, key: role-id }
      secretRef: { name: approle, key: secret-id }`,
      expected: {
        vault: {
          server: 'https://vault.acme.org',
          auth: { appRole: { secretIdRef: { name: 'approle', key: 'secret-id' } } },
        },
      },
      findings: [['action', 'spec.provider.vault.auth.appRole.roleRef']],
    },
    {
      what: 'Vault Kubernetes auth with a ServiceAccount',
      provider: `vault:
  server: https://vault.acme.org
  path: secret
  version: v2
  auth:
    kubernetes:
      mountPath: kubernetes-prod
      role: elt
      serviceAccountRef: { name: vault-auth }`,
      expected: {
        vault: {
          server: 'https://vault.acme.org',
          kv: { mount: 'secret', version: 2 },
          auth: {
            kubernetes: {
              mountPath: 'kubernetes-prod',
              role: 'elt',
              serviceAccountRef: { name: 'vault-auth' },
            },
          },
        },
      },
      findings: [['changed', 'spec.provider.vault.auth.kubernetes.serviceAccountRef']],
    },
    {
      what: 'Vault Kubernetes auth with the controller’s own token: serviceAccountRef left for the user',
      provider: `vault:
  server: https://vault.acme.org
  auth:
    kubernetes: { role: elt }`,
      expected: { vault: { server: 'https://vault.acme.org', auth: { kubernetes: { role: 'elt' } } } },
      findings: [['action', 'spec.provider.vault.auth.kubernetes']],
    },
    {
      what: 'Vault LDAP auth, which secretlink does not support',
      provider: `vault:
  server: https://vault.acme.org
  auth:
    ldap: { username: elt, secretRef: { name: ldap, key: password } }`,
      expected: { vault: { server: 'https://vault.acme.org', auth: {} } },
      findings: [['action', 'spec.provider.vault.auth']],
    },
  ])('$what', ({ provider, expected, findings }) => {
    const converted = convert(secretStore(provider));
    expect(converted.store?.kind).toBe('SecretStore');
    expect(converted.store?.spec).toEqual({ provider: expected });
    expect(converted.findings).toEqual(findings);
  });

  it('refuses to give a namespaced SecretStore the operator’s ambient AWS identity, and says what to do', () => {
    const { store, findings, result } = convert(
      secretStore('aws: { service: SecretsManager, region: eu-west-1 }'),
    );
    // Carried over as written so the API server refuses it visibly rather than the store vanishing.
    expect(store?.spec).toEqual({ provider: { aws: { region: 'eu-west-1', auth: { defaultChain: {} } } } });
    expect(findings).toEqual([['action', 'spec.provider.aws.auth']]);
    expect(result.findings[0]!.message).toContain('ClusterSecretStore');
  });

  it('refuses to give a namespaced SecretStore the operator’s application default GCP credentials', () => {
    const { findings } = convert(secretStore('gcpsm: { projectID: acme-analytics }'));
    expect(findings).toEqual([['action', 'spec.provider.gcpsm.auth']]);
  });

  it('lets a ClusterSecretStore use the operator’s ambient identity, noting it', () => {
    const { store, findings } = convert(
      secretStore(
        'aws: { service: SecretsManager, region: eu-west-1 }',
        'ClusterSecretStore',
        '\n  conditions: [{ namespaces: [analytics] }]',
      ),
    );
    expect(store?.spec).toEqual({
      allowedNamespaces: { names: ['analytics'] },
      provider: { aws: { region: 'eu-west-1', auth: { defaultChain: {} } } },
    });
    expect(findings).toEqual([['info', 'spec.provider.aws.auth']]);
  });

  it.each([
    {
      what: 'AWS Parameter Store',
      provider: 'aws: { service: ParameterStore, region: eu-west-1 }',
      field: 'spec.provider.aws.service',
    },
    {
      what: 'Azure Key Vault',
      provider: 'azurekv: { vaultUrl: "https://x.vault.azure.net" }',
      field: 'spec.provider',
    },
  ])('does not convert a store for $what, and says so', ({ provider, field }) => {
    const { store, findings } = convert(secretStore(provider));
    expect(store).toBeUndefined();
    expect(findings).toEqual([['action', field]]);
  });

  it('requires a namespace on a ClusterSecretStore’s credentials, where ESO would use each ExternalSecret’s namespace', () => {
    const { store, findings } = convert(
      secretStore(
        'vault:\n  server: https://vault.acme.org\n  auth:\n    tokenSecretRef: { name: vault-token, key: token }',
        'ClusterSecretStore',
        '\n  conditions: [{ namespaces: [elt] }]',
      ),
    );
    expect(store?.spec).toMatchObject({
      provider: { vault: { auth: { tokenSecretRef: { name: 'vault-token', key: 'token' } } } },
    });
    expect(findings).toEqual([['action', 'spec.provider.vault.auth.tokenSecretRef.namespace']]);
  });
});

describe('converting ClusterSecretStore conditions to allowedNamespaces', () => {
  const provider =
    'gcpsm:\n  projectID: acme\n  auth:\n    secretRef:\n      secretAccessKeySecretRef: { name: k, key: k, namespace: secretlink-system }';
  it.each([
    {
      what: 'no conditions: every namespace, written out explicitly',
      conditions: '',
      allowed: { selector: {} },
      findings: [['changed', 'spec.conditions']],
    },
    {
      what: 'names in several conditions, merged',
      conditions: '\n  conditions: [{ namespaces: [elt, analytics] }, { namespaces: [dbt] }]',
      allowed: { names: ['analytics', 'dbt', 'elt'] },
      findings: [],
    },
    {
      what: 'a selector and names',
      conditions:
        '\n  conditions: [{ namespaceSelector: { matchLabels: { team: data } } }, { namespaces: [analytics] }]',
      allowed: { names: ['analytics'], selector: { matchLabels: { team: 'data' } } },
      findings: [],
    },
    {
      what: 'two selectors: only the first is kept',
      conditions:
        '\n  conditions: [{ namespaceSelector: { matchLabels: { team: data } } }, { namespaceSelector: { matchLabels: { team: ml } } }]',
      allowed: { selector: { matchLabels: { team: 'data' } } },
      findings: [['action', 'spec.conditions']],
    },
    {
      what: 'regexes only: nothing secretlink can express',
      conditions: '\n  conditions: [{ namespaceRegexes: ["^elt-"] }]',
      allowed: {},
      findings: [
        ['action', 'spec.conditions[0].namespaceRegexes'],
        ['action', 'spec.conditions'],
      ],
    },
  ])('$what', ({ conditions, allowed, findings }) => {
    const converted = convert(secretStore(provider, 'ClusterSecretStore', conditions));
    expect(converted.store?.spec.allowedNamespaces).toEqual(allowed);
    expect(converted.findings).toEqual(findings);
  });
});
