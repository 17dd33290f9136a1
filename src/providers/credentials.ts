// How providers reach the credentials a store names, and the one rule about where they may come from: a
// SecretStore reads only its own namespace; a ClusterSecretStore reads the namespace written in the ref.
import { InvalidSpec } from './errors.ts';
import type { SecretKeyRef, ServiceAccountRef } from './store-spec.ts';
import type { StoreScope } from './types.ts';

export interface SecretKeyValue {
  value: Buffer;
  resourceVersion: string;
}

export interface MintedToken {
  token: string;
  expiresAt: Date;
}

export interface CredentialSource {
  /** One key of a Secret; fails with CredentialNotFound when the Secret or the key is missing. */
  readSecretKey(namespace: string, name: string, key: string, signal?: AbortSignal): Promise<SecretKeyValue>;
  /** The Secret's resourceVersion, or undefined when it does not exist; keys the store client cache. */
  secretResourceVersion(namespace: string, name: string, signal?: AbortSignal): Promise<string | undefined>;
  /** A short-lived token for a ServiceAccount, from the TokenRequest API. */
  mintServiceAccountToken(
    namespace: string,
    name: string,
    options: { audience?: string; expirationSeconds?: number },
    signal?: AbortSignal,
  ): Promise<MintedToken>;
}

/**
 * The namespace a credential ref resolves to. Static validation rejects the bad cases first; this check
 * repeats it at run time so a store that slipped past validation still cannot read another namespace.
 */
export function credentialNamespace(scope: StoreScope, ref: { namespace?: string }, path: string): string {
  if (scope.kind === 'SecretStore') {
    if (!scope.namespace) throw new InvalidSpec('a SecretStore must have a namespace');
    if (ref.namespace && ref.namespace !== scope.namespace) {
      throw new InvalidSpec(`${path}.namespace must not name another namespace in a SecretStore`);
    }
    return scope.namespace;
  }
  if (!ref.namespace) throw new InvalidSpec(`${path}.namespace is required in a ClusterSecretStore`);
  return ref.namespace;
}

/** Static form of the rule above, as validation problems. */
export function namespaceProblems(scope: StoreScope, ref: { namespace?: string } | undefined, path: string) {
  if (!ref) return [];
  if (scope.kind === 'SecretStore' && ref.namespace && ref.namespace !== scope.namespace) {
    return [
      { path: `${path}.namespace`, message: 'a SecretStore reads credentials from its own namespace only' },
    ];
  }
  if (scope.kind === 'ClusterSecretStore' && !ref.namespace) {
    return [{ path: `${path}.namespace`, message: 'required in a ClusterSecretStore' }];
  }
  return [];
}

export function secretKeyRefProblems(scope: StoreScope, ref: SecretKeyRef | undefined, path: string) {
  if (!ref) return [{ path, message: 'required' }];
  const problems = [];
  if (!ref.name) problems.push({ path: `${path}.name`, message: 'required' });
  if (!ref.key) problems.push({ path: `${path}.key`, message: 'required' });
  return [...problems, ...namespaceProblems(scope, ref, path)];
}

export function serviceAccountRefProblems(
  scope: StoreScope,
  ref: ServiceAccountRef | undefined,
  path: string,
) {
  if (!ref) return [{ path, message: 'required' }];
  const problems = [];
  if (!ref.name) problems.push({ path: `${path}.name`, message: 'required' });
  return [...problems, ...namespaceProblems(scope, ref, path)];
}

/** Reads the key a ref names, from the namespace the store allows, as a string with surrounding whitespace removed. */
export async function readCredential(
  source: CredentialSource,
  scope: StoreScope,
  ref: SecretKeyRef,
  path: string,
  signal?: AbortSignal,
): Promise<string> {
  const namespace = credentialNamespace(scope, ref, path);
  const { value } = await source.readSecretKey(namespace, ref.name, ref.key, signal);
  return value.toString('utf8').trim();
}

export function credentialSecret(scope: StoreScope, ref: SecretKeyRef | undefined, path: string) {
  return ref ? [{ namespace: credentialNamespace(scope, ref, path), name: ref.name }] : [];
}
