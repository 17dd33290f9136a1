// A keyed fingerprint of a Secret's content, so audit records can tell versions apart without revealing
// them: without the key, a fingerprint cannot be used to test guesses of a value. Each namespace gets its own
// key, derived from the operator's master key, so a fingerprint seen in one namespace says nothing about a
// value in another: a tenant cannot use its own Secrets to test guesses of a neighbour's.
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
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

/** The key for one namespace: HKDF-SHA256 of the master key, with the namespace in the info. */
export function namespaceFingerprintKey(masterKey: Uint8Array, namespace: string): Buffer {
  return Buffer.from(
    hkdfSync(
      'sha256',
      masterKey,
      Buffer.alloc(0),
      `secretlink.dev/fingerprint/v1/namespace=${namespace}`,
      32,
    ),
  );
}

export type SecretFingerprinter = (data: Readonly<Record<string, Uint8Array>>, namespace: string) => string;

/** The fingerprint function the reconciler is given, bound to the operator's key; one derived key per namespace. */
/**
 * Marks a write so the operator can recognise it later (`secretlink.dev/claim`): hex HMAC-SHA256 under a key
 * derived from the master key for this purpose only, over the given parts.
 */
export function claimMarker(masterKey: Uint8Array): (parts: readonly string[]) => string {
  const key = createHmac('sha256', Buffer.from(masterKey)).update('secretlink.dev/claim').digest();
  return (parts) => createHmac('sha256', key).update(JSON.stringify(parts), 'utf8').digest('hex');
}

export function secretFingerprinter(masterKey: Uint8Array): SecretFingerprinter {
  const master = Buffer.from(masterKey);
  const keys = new Map<string, Buffer>();
  return (data, namespace) => {
    let key = keys.get(namespace);
    if (!key) {
      key = namespaceFingerprintKey(master, namespace);
      keys.set(namespace, key);
    }
    return fingerprintSecretData(key, data);
  };
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
  if (existing) return fingerprintKeyFromSecret(existing);
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
    return fingerprintKeyFromSecret(stored);
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

/**
 * The key a Secret holds, if the Secret is fit to hold it: type Opaque, immutable, and a `key` entry of exactly
 * 32 bytes that look random. A Secret someone created by hand with a password in it, or one that can be
 * edited later, is refused: the error says what is wrong with the Secret, never what it holds.
 */
export function fingerprintKeyFromSecret(secret: V1Secret): Buffer {
  const where = `fingerprint key Secret ${secret.metadata?.namespace}/${secret.metadata?.name}`;
  const fix = 'delete it to have the operator create a new one';
  const encoded = secret.data?.[fingerprintKeyEntry];
  const key = encoded ? Buffer.from(encoded, 'base64') : Buffer.alloc(0);
  if (key.length !== fingerprintKeyBytes) {
    throw new Error(
      `${where} has no usable "${fingerprintKeyEntry}" entry: it must hold exactly ${fingerprintKeyBytes} random bytes, base64-encoded (it holds ${key.length}); ${fix}`,
    );
  }
  if (!looksRandom(key)) {
    throw new Error(
      `${where} has a "${fingerprintKeyEntry}" entry that does not look random (printable text or repeated bytes): use 32 bytes from a random generator, or ${fix}`,
    );
  }
  if ((secret.type ?? 'Opaque') !== 'Opaque') {
    throw new Error(`${where} must be of type Opaque, not ${secret.type}; ${fix}`);
  }
  if (secret.immutable !== true) {
    throw new Error(
      `${where} must be immutable (immutable: true): a key that can be changed would make fingerprints incomparable; ${fix}`,
    );
  }
  return key;
}

/**
 * 32 random bytes have about 30 distinct values and are almost never all printable ASCII (p < 1e-16); a
 * password or a repeated pattern fails one of the two.
 */
function looksRandom(key: Buffer): boolean {
  const distinct = new Set(key).size;
  const printable = key.every((byte) => byte >= 0x20 && byte < 0x7f);
  return distinct >= 16 && !printable;
}
