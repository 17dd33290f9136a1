// The operator's CredentialSource against the real API server: the Secret keys and ServiceAccount tokens
// that every provider's auth is built on.
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialNotAllowed, CredentialNotFound } from '../../src/providers/errors.ts';
import { ClusterCredentials, optIn } from '../conformance/cluster-credentials.ts';
import { api } from '../support/cluster.ts';

describe('KubeCredentialSource', () => {
  let cluster: ClusterCredentials;
  const aws = () => ({ kind: 'SecretStore', name: 'aws', namespace: cluster.namespace }) as const;
  const other = () => ({ kind: 'SecretStore', name: 'other', namespace: cluster.namespace }) as const;

  beforeAll(async () => {
    cluster = await ClusterCredentials.create('conf-creds');
    await cluster.secret('keys', { id: 'AKIDEXAMPLE' }, ['aws']);
    await cluster.serviceAccount('reader', ['aws']);
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('reads one key of a Secret', async () => {
    const { value, resourceVersion } = await cluster.source.readSecretKey(
      cluster.namespace,
      'keys',
      'id',
      aws(),
    );
    expect(value.toString()).toBe('AKIDEXAMPLE');
    expect(resourceVersion).not.toBe('');
  });

  it('reports a missing Secret or key as CredentialNotFound, naming it', async () => {
    const missing = cluster.source.readSecretKey(cluster.namespace, 'nope', 'id', aws());
    await expect(missing).rejects.toBeInstanceOf(CredentialNotFound);
    await expect(missing).rejects.toThrow(`Secret ${cluster.namespace}/nope does not exist`);
    await expect(
      cluster.source.readSecretKey(cluster.namespace, 'keys', 'secret', aws()),
    ).rejects.toBeInstanceOf(CredentialNotFound);
  });

  it("tells a Secret's resourceVersion, which changes when the Secret does", async () => {
    const before = await cluster.source.secretResourceVersion(cluster.namespace, 'keys');
    await api(k8s.CoreV1Api).replaceNamespacedSecret({
      namespace: cluster.namespace,
      name: 'keys',
      body: { metadata: { name: 'keys', annotations: optIn(['aws']) }, stringData: { id: 'AKIDROTATED' } },
    });
    const after = await cluster.source.secretResourceVersion(cluster.namespace, 'keys');
    expect(before).toMatch(/^\d+$/);
    expect(after).toMatch(/^\d+$/);
    expect(after).not.toBe(before);
    expect(await cluster.source.secretResourceVersion(cluster.namespace, 'nope')).toBeUndefined();
  });

  it('reads no key of a Secret that does not list the store asking', async () => {
    const refused = cluster.source.readSecretKey(cluster.namespace, 'keys', 'id', other());
    await expect(refused).rejects.toBeInstanceOf(CredentialNotAllowed);
    await expect(refused).rejects.toThrow(
      `Secret ${cluster.namespace}/keys does not allow SecretStore/other`,
    );
  });

  it('mints a token for the ServiceAccount with the audience asked for', async () => {
    const minted = await cluster.source.mintServiceAccountToken(
      cluster.namespace,
      'reader',
      { audience: 'sts.amazonaws.com', expirationSeconds: 600 },
      aws(),
    );
    const claims = JSON.parse(Buffer.from(minted.token.split('.')[1]!, 'base64url').toString()) as {
      aud: string[];
      sub: string;
    };
    expect(claims.aud).toEqual(['sts.amazonaws.com']);
    expect(claims.sub).toBe(`system:serviceaccount:${cluster.namespace}:reader`);
    expect(minted.expiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  it('reports a missing ServiceAccount as CredentialNotFound', async () => {
    await expect(
      cluster.source.mintServiceAccountToken(
        cluster.namespace,
        'ghost',
        { audience: 'vault', expirationSeconds: 600 },
        aws(),
      ),
    ).rejects.toBeInstanceOf(CredentialNotFound);
  });
});
