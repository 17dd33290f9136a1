// The audit chain's Ed25519 signing key, read from a file that a Secret volume provides. It must not live on
// the audit volume: whoever can rewrite the file must not also be able to sign.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** Reads a PKCS#8 PEM Ed25519 private key; errors name the file and what is wrong, never its content. */
export async function loadSigningKey(keyFile: string): Promise<KeyObject> {
  let pem: Buffer;
  try {
    pem = await readFile(keyFile);
  } catch (error) {
    throw new Error(
      `cannot read the audit signing key file ${keyFile} (${(error as NodeJS.ErrnoException).code ?? 'error'}); in a cluster it comes from the Secret secretlink-audit-signing-key, see docs/security.md`,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new Error(`audit signing key file ${keyFile} does not hold a PEM private key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new Error(
      `audit signing key file ${keyFile} holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; an Ed25519 key is required (openssl genpkey -algorithm ed25519)`,
    );
  }
  return key;
}

/** True when `keyFile` lies inside the directory that holds the audit file. */
export function keyOnAuditVolume(keyFile: string, auditFile: string): boolean {
  const relative = path.relative(path.dirname(path.resolve(auditFile)), path.resolve(keyFile));
  return !relative.startsWith('..') && !path.isAbsolute(relative);
}
