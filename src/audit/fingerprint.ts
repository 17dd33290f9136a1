// A keyed fingerprint of a Secret's content, so audit records can tell versions apart without revealing
// them: without the key, a fingerprint cannot be used to test guesses of a value.
import { createHmac, randomBytes } from 'node:crypto';
import { ApiException, type CoreV1Api, type V1Secret } from '@kubernetes/client-node';

export const fingerprintPrefix = 'hmac-sha256:';
export const fingerprintKeyBytes = 32;
/** The data entry of the key Secret that holds the key. */
export const fingerprintKeyEntry = 'key';

/**
 * hmac-sha256:<hex> over the Secret's data in a canonical form: entries sorted by key bytes, each written as
 * the key's length, the key, the value's length and the value (lengths as 8-byte big-endian), so no two
 * different contents produce the same input.
 */
export function fingerprintSecretData(key: Uint8Array, data: Readonly<Record<string, Uint8Array>>): string {
  if (key.length < fingerprintKeyBytes) {
    throw new Error(`a fingerprint key needs at least ${fingerprintKeyBytes} bytes, got ${key.length}`);
  }
  const hmac = createHmac('sha256', key);
  const entries = Object.entries(data).map(([name, value]) => [Buffer.from(name, 'utf8'), value] as const);
  entries.sort(([a], [b]) => Buffer.compare(a, b));
  for (const [name, value] of entries) {
    hmac.update(lengthOf(name));
    hmac.update(name);
    hmac.update(lengthOf(value));
    hmac.update(value);
  }
  return fingerprintPrefix + hmac.digest('hex');
}

/** The fingerprint function the reconciler is given, bound to the operator's key. */
export function secretFingerprinter(key: Uint8Array): (data: Readonly<Record<string, Uint8Array>>) => string {
  const copy = Buffer.from(key);
  return (data) => fingerprintSecretData(copy, data);
}

function lengthOf(bytes: Uint8Array): Buffer {
  const length = Buffer.alloc(8);
  length.writeBigUInt64BE(BigInt(bytes.length));
  return length;
}

/**
 * Reads the operator's fingerprint key from its Secret, creating the Secret with a random key when it does
 * not exist. When two replicas race to create it, both end up with the one that was stored. The Secret is
 * immutable: a changed key would make every later fingerprint differ from the earlier ones.
 */
export async function loadOrCreateFingerprintKey(
  core: CoreV1Api,
  namespace: string,
  name: string,
): Promise<Buffer> {
  const existing = await readSecret(core, namespace, name);
  if (existing) return keyFrom(existing, namespace, name);
  const key = randomBytes(fingerprintKeyBytes);
  try {
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: {
          name,
          labels: { 'app.kubernetes.io/name': 'secretlink', 'app.kubernetes.io/component': 'audit' },
          annotations: {
            'secretlink.dev/purpose':
              'HMAC key for the fingerprints in audit records; replacing it makes new fingerprints incomparable with old ones',
          },
        },
        type: 'Opaque',
        immutable: true,
        data: { [fingerprintKeyEntry]: key.toString('base64') },
      },
    });
    return key;
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
    const stored = await readSecret(core, namespace, name);
    if (!stored) throw new Error(`fingerprint key Secret ${namespace}/${name} was created and then deleted`);
    return keyFrom(stored, namespace, name);
  }
}

async function readSecret(core: CoreV1Api, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ namespace, name });
  } catch (error) {
    if (error instanceof ApiException && error.code === 404) return undefined;
    throw error;
  }
}

function keyFrom(secret: V1Secret, namespace: string, name: string): Buffer {
  const encoded = secret.data?.[fingerprintKeyEntry];
  const key = encoded ? Buffer.from(encoded, 'base64') : Buffer.alloc(0);
  if (key.length < fingerprintKeyBytes) {
    // Say what is wrong with the Secret, never what it holds.
    throw new Error(
      `fingerprint key Secret ${namespace}/${name} has no usable "${fingerprintKeyEntry}" entry: it must hold at least ${fingerprintKeyBytes} random bytes, base64-encoded; delete it to have a new one created`,
    );
  }
  return key;
}
