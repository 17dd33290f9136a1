// How providers reach the credentials a store names, and the two rules about which they may use: a
// SecretStore reads only its own namespace, a ClusterSecretStore the namespace written in the ref; and either
// uses a Secret or a ServiceAccount only when that object opts in by naming the store (allowed-stores.ts).
import type { CredentialRequester } from './allowed-stores.ts';
import { InvalidSpec } from './errors.ts';
import type { SecretKeyRef, ServiceAccountRef, StoreScope } from './store-spec.ts';

export interface SecretKeyValue {
  value: Buffer;
  resourceVersion: string;
}

export interface MintedToken {
  token: string;
  expiresAt: Date;
}

/** What a minted token is for: exactly one audience, never empty, and a lifetime in seconds. */
export interface TokenOptions {
  audience: string;
  expirationSeconds: number;
}

/** How long every token the operator mints lives: TokenRequest's shortest allowed lifetime. */
export const mintedTokenSeconds = 600;

export interface CredentialSource {
  /**
   * One key of a Secret that lists `requester` in its allowed-stores annotation. Fails with
   * CredentialNotFound when the Secret or the key is missing, CredentialNotAllowed when it did not opt in.
   */
  readSecretKey(
    namespace: string,
    name: string,
    key: string,
    requester: CredentialRequester,
    signal?: AbortSignal,
  ): Promise<SecretKeyValue>;
  /** The Secret's resourceVersion, or undefined when it does not exist; keys the store client cache. */
  secretResourceVersion(namespace: string, name: string, signal?: AbortSignal): Promise<string | undefined>;
  /**
   * A short-lived token from the TokenRequest API for a ServiceAccount that lists `requester` in its
   * allowed-stores annotation; no token is requested for one that does not (CredentialNotAllowed).
   */
  mintServiceAccountToken(
    namespace: string,
    name: string,
    options: TokenOptions,
    requester: CredentialRequester,
    signal?: AbortSignal,
  ): Promise<MintedToken>;
}

/** The store a scope belongs to, as the allowed-stores annotation names it. */
export function requesterOf(scope: StoreScope): CredentialRequester {
  if (!scope.name) throw new InvalidSpec('a store without a name cannot be given credentials');
  return { kind: scope.kind, name: scope.name, namespace: scope.namespace };
}

/** A ServiceAccount token for the store of `scope`, with the audience and lifetime the provider needs. */
export async function mintToken(
  source: CredentialSource,
  scope: StoreScope,
  ref: { name: string; namespace?: string },
  audience: string,
  path: string,
  signal?: AbortSignal,
): Promise<string> {
  // An empty audience list would give an API-server-audience token: one that works as the ServiceAccount
  // against the cluster itself. Every token names the one service it is for.
  if (!audience) throw new InvalidSpec(`${path}.audience must not be empty`);
  const namespace = credentialNamespace(scope, ref, path);
  const minted = await source.mintServiceAccountToken(
    namespace,
    ref.name,
    { audience, expirationSeconds: mintedTokenSeconds },
    requesterOf(scope),
    signal,
  );
  return minted.token;
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
  const { value } = await source.readSecretKey(namespace, ref.name, ref.key, requesterOf(scope), signal);
  return value.toString('utf8').trim();
}

export function credentialSecret(scope: StoreScope, ref: SecretKeyRef | undefined, path: string) {
  return ref ? [{ namespace: credentialNamespace(scope, ref, path), name: ref.name }] : [];
}
