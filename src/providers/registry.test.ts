// Static validation of whole stores, as a person applying one would meet it: each problem names its field.
import { describe, expect, it } from 'vitest';
import { validateStore } from './registry.ts';
import type { StoreObject } from './store-spec.ts';

const namespaced = (provider: StoreObject['spec']['provider']): StoreObject => ({
  kind: 'SecretStore',
  metadata: { name: 'store', namespace: 'team-a' },
  spec: { provider },
});
const clusterWide = (provider: StoreObject['spec']['provider']): StoreObject => ({
  kind: 'ClusterSecretStore',
  metadata: { name: 'shared' },
  spec: { provider },
});
const paths = (store: StoreObject) => validateStore(store).map((problem) => problem.path);

const keyRef = { name: 'aws-keys', key: 'id' };

describe('validateStore', () => {
  it('accepts a valid store of each provider', () => {
    expect(validateStore(clusterWide({ aws: { region: 'eu-west-1', auth: { defaultChain: {} } } }))).toEqual(
      [],
    );
    expect(
      validateStore(
        namespaced({
          gcp: {
            projectID: 'my-project',
            endpoint: '127.0.0.1:9090',
            auth: { secretRef: { keyJSON: { name: 'gcp', key: 'key.json' } } },
          },
        }),
      ),
    ).toEqual([]);
    expect(
      validateStore(
        namespaced({
          vault: {
            server: 'https://vault.example:8200',
            auth: { tokenSecretRef: { name: 'vault', key: 'token' } },
          },
        }),
      ),
    ).toEqual([]);
  });

  it('requires exactly one provider', () => {
    expect(validateStore(namespaced({}))).toEqual([
      { path: 'spec.provider', message: 'exactly one of aws, gcp, vault is required' },
    ]);
    const both = namespaced({
      aws: { region: 'eu-west-1', auth: { defaultChain: {} } },
      gcp: { projectID: 'my-project', auth: { applicationDefault: {} } },
    });
    expect(paths(both)).toEqual(['spec.provider']);
  });

  it('requires exactly one auth method', () => {
    const store = namespaced({
      aws: {
        region: 'eu-west-1',
        auth: { defaultChain: {}, secretRef: { accessKeyId: keyRef, secretAccessKey: keyRef } },
      },
    });
    expect(validateStore(store)).toEqual([
      {
        path: 'spec.provider.aws.auth',
        message:
          'exactly one of defaultChain, webIdentity, secretRef may be set, found defaultChain and secretRef',
      },
    ]);
  });

  it('refuses a SecretStore whose credentials point into another namespace', () => {
    const store = namespaced({
      aws: {
        region: 'eu-west-1',
        auth: { secretRef: { accessKeyId: { ...keyRef, namespace: 'team-b' }, secretAccessKey: keyRef } },
      },
    });
    expect(validateStore(store)).toEqual([
      {
        path: 'spec.provider.aws.auth.secretRef.accessKeyId.namespace',
        message: 'a SecretStore reads credentials from its own namespace only',
      },
    ]);
  });

  it('requires a ClusterSecretStore to say which namespace each credential is in', () => {
    const store = clusterWide({
      vault: {
        server: 'http://127.0.0.1:8200',
        auth: { kubernetes: { role: 'reader', serviceAccountRef: { name: 'vault-reader' } } },
      },
    });
    expect(paths(store)).toEqual(['spec.provider.vault.auth.kubernetes.serviceAccountRef.namespace']);
  });

  it('names each malformed field of an AWS store', () => {
    const store = namespaced({
      aws: {
        region: 'Europe',
        endpoint: 'ftp://moto',
        auth: { webIdentity: { roleArn: 'reader', serviceAccountRef: { name: 'reader' } } },
      },
    });
    expect(paths(store)).toEqual([
      'spec.provider.aws.region',
      'spec.provider.aws.endpoint',
      'spec.provider.aws.auth.webIdentity.roleArn',
    ]);
  });

  it('names each malformed field of a GCP store', () => {
    const store = namespaced({
      gcp: {
        projectID: 'X',
        endpoint: 'no-port',
        auth: {
          workloadIdentity: {
            serviceAccountRef: { name: 'reader', audience: 'sts' },
            serviceAccountEmail: 'me',
          },
        },
      },
    });
    expect(paths(store)).toEqual([
      'spec.provider.gcp.projectID',
      'spec.provider.gcp.endpoint',
      'spec.provider.gcp.auth.workloadIdentity.serviceAccountRef.audience',
      'spec.provider.gcp.auth.workloadIdentity.serviceAccountEmail',
    ]);
  });

  it('accepts a domain-scoped GCP project id, as the CRD does', () => {
    const store = (projectID: string) =>
      clusterWide({ gcp: { projectID, auth: { applicationDefault: {} } } });
    expect(validateStore(store('example.com:analytics-prod'))).toEqual([]);
    expect(paths(store('example.com:Analytics'))).toEqual(['spec.provider.gcp.projectID']);
  });

  it('accepts a workload identity pool provider as the GCP audience', () => {
    const audience =
      'https://iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/pool/providers/kube';
    const store = namespaced({
      gcp: {
        projectID: 'my-project',
        auth: { workloadIdentity: { serviceAccountRef: { name: 'reader', audience } } },
      },
    });
    expect(validateStore(store)).toEqual([]);
  });

  it('names each malformed field of a Vault store', () => {
    const store = namespaced({
      vault: {
        server: 'vault:8200',
        kv: { mount: '/secret/', version: 3 as 2 },
        caBundle: 'bm90IGEgY2VydA==',
        auth: { appRole: { roleId: '', secretIdRef: { name: 'approle', key: '' } } },
      },
    });
    expect(paths(store)).toEqual([
      'spec.provider.vault.server',
      'spec.provider.vault.kv.mount',
      'spec.provider.vault.kv.version',
      'spec.provider.vault.caBundle',
      'spec.provider.vault.auth.appRole.roleId',
      'spec.provider.vault.auth.appRole.secretIdRef.key',
    ]);
  });
});

describe('what a namespaced SecretStore may not do', () => {
  it('refuses the operator’s own AWS or Google identity, which a ClusterSecretStore may use', () => {
    const aws = { aws: { region: 'eu-west-1', auth: { defaultChain: {} } } };
    const gcp = { gcp: { projectID: 'my-project', auth: { applicationDefault: {} } } };
    expect(paths(namespaced(aws))).toEqual(['spec.provider.aws.auth.defaultChain']);
    expect(paths(namespaced(gcp))).toEqual(['spec.provider.gcp.auth.applicationDefault']);
    expect(validateStore(namespaced(aws))[0]!.message).toContain('only a ClusterSecretStore may use');
    expect(paths(clusterWide(aws))).toEqual([]);
    expect(paths(clusterWide(gcp))).toEqual([]);
  });

  it('refuses plain http beyond loopback in any store, unless allowInsecureHttp is true', () => {
    const vault = (server: string, allowInsecureHttp?: boolean) =>
      clusterWide({
        vault: {
          server,
          allowInsecureHttp,
          auth: { tokenSecretRef: { name: 'vault', key: 'token', namespace: 'platform' } },
        },
      });
    expect(paths(vault('http://vault.example.com:8200'))).toEqual(['spec.provider.vault.server']);
    expect(paths(vault('http://vault.example.com:8200', true))).toEqual([]);
    expect(paths(vault('http://127.0.0.1:8200'))).toEqual([]);
    expect(paths(vault('http://[::1]:8200'))).toEqual([]);
    const aws = namespaced({
      aws: {
        region: 'eu-west-1',
        endpoint: 'http://secretsmanager.internal.example',
        auth: { secretRef: { accessKeyId: keyRef, secretAccessKey: keyRef } },
      },
    });
    expect(paths(aws)).toEqual(['spec.provider.aws.endpoint']);
  });

  it.each([
    'https://169.254.169.254',
    'https://2852039166',
    'https://[::ffff:169.254.169.254]',
    'https://[fd00:ec2::254]',
    'https://metadata.google.internal',
    'https://kubernetes.default.svc',
    'https://KUBERNETES.DEFAULT.SVC.cluster.local.',
    'https://vault.vault.svc:8200',
    'https://vault:8200',
  ])('refuses %s as a SecretStore’s Vault server, and accepts it in a ClusterSecretStore', (server) => {
    const auth = { tokenSecretRef: { name: 'vault', key: 'token' } };
    expect(paths(namespaced({ vault: { server, auth } }))).toEqual(['spec.provider.vault.server']);
    const shared = { tokenSecretRef: { ...auth.tokenSecretRef, namespace: 'platform' } };
    expect(paths(clusterWide({ vault: { server, auth: shared } }))).toEqual([]);
  });

  it('refuses a denied GCP endpoint in a SecretStore', () => {
    const gcp = (endpoint: string) =>
      namespaced({
        gcp: { projectID: 'my-project', endpoint, auth: { secretRef: { keyJSON: { name: 'k', key: 'k' } } } },
      });
    expect(paths(gcp('metadata.google.internal:80'))).toEqual(['spec.provider.gcp.endpoint']);
    expect(paths(gcp('169.254.169.254:443'))).toEqual(['spec.provider.gcp.endpoint']);
    expect(paths(gcp('secretmanager.googleapis.com:443'))).toEqual([]);
  });
});
