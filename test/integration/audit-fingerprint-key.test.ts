// The operator's fingerprint key lives in a Secret it owns: created once with a random key, then reused by
// every replica and every restart, so fingerprints stay comparable. A Secret someone else created in its
// place is used only if it is fit to hold the key.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintSecretData, loadOrCreateFingerprintKey } from '../../src/audit/fingerprint.ts';
import { api, createNamespace, deleteNamespace } from '../support/cluster.ts';

let namespace: string;

beforeAll(async () => {
  namespace = await createNamespace('audit-key');
});

afterAll(async () => {
  await deleteNamespace(namespace);
});

describe('the fingerprint key Secret', () => {
  it('is created with a random 32-byte key when absent, immutable, and the same key is loaded afterwards', async () => {
    const core = api(k8s.CoreV1Api);
    const key = await loadOrCreateFingerprintKey(core, namespace, 'secretlink-fingerprint-key');
    expect(key).toHaveLength(32);
    const secret = await core.readNamespacedSecret({ namespace, name: 'secretlink-fingerprint-key' });
    expect(secret.immutable).toBe(true);
    expect(Buffer.from(secret.data!.key!, 'base64').equals(key)).toBe(true);

    const again = await loadOrCreateFingerprintKey(
      api(k8s.CoreV1Api),
      namespace,
      'secretlink-fingerprint-key',
    );
    expect(again.equals(key)).toBe(true);
    const data = { password: Buffer.from('s3cr3t') };
    expect(fingerprintSecretData(again, data)).toBe(fingerprintSecretData(key, data));
  });

  it('gives replicas that start at once the same key', async () => {
    const keys = await Promise.all(
      Array.from({ length: 4 }, () =>
        loadOrCreateFingerprintKey(api(k8s.CoreV1Api), namespace, 'replicas-key'),
      ),
    );
    for (const key of keys) expect(key.equals(keys[0]!)).toBe(true);
  });

  it('refuses a Secret without a usable key, saying what is wrong and not what it holds', async () => {
    const core = api(k8s.CoreV1Api);
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'short-key' }, data: { key: Buffer.from('tooshort').toString('base64') } },
    });
    const failure = await loadOrCreateFingerprintKey(core, namespace, 'short-key').catch(
      (error: Error) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain(
      `fingerprint key Secret ${namespace}/short-key has no usable "key" entry`,
    );
    expect((failure as Error).message).not.toContain('tooshort');
  });

  it('refuses a pre-created key Secret that can be edited, naming the Secret and never its key', async () => {
    const core = api(k8s.CoreV1Api);
    const key = randomBytes(32).toString('base64');
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'mutable-key' }, type: 'Opaque', data: { key } },
    });
    const failure = await loadOrCreateFingerprintKey(core, namespace, 'mutable-key').catch(
      (error: Error) => error,
    );
    expect((failure as Error).message).toContain(
      `fingerprint key Secret ${namespace}/mutable-key must be immutable`,
    );
    expect((failure as Error).message).not.toContain(key);
  });

  it('accepts a pre-created key Secret that is Opaque, immutable and holds 32 random bytes', async () => {
    const core = api(k8s.CoreV1Api);
    const key = randomBytes(32);
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: 'precreated-key' },
        type: 'Opaque',
        immutable: true,
        data: { key: key.toString('base64') },
      },
    });
    expect((await loadOrCreateFingerprintKey(core, namespace, 'precreated-key')).equals(key)).toBe(true);
  });
});
