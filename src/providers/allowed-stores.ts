// The opt-in that makes a Secret or a ServiceAccount usable as a store's credentials. Creating a SecretStore
// is a namespace-level right; reading a Secret's keys or minting a ServiceAccount's token is a stronger one.
// Without this rule, whoever may create a SecretStore could send any credential of the namespace to a server
// of their choosing. The object's owner lists the stores it serves, and the operator uses nothing else.
import { CredentialNotAllowed } from './errors.ts';
import type { StoreKind } from './store-spec.ts';

/** The only `secretlink.dev/` key that people other than the operator may set. */
export const allowedStoresAnnotation = 'secretlink.dev/allowed-stores';

/** The store that asks for a credential. */
export interface CredentialRequester {
  kind: StoreKind;
  name: string;
  /** A SecretStore's namespace; absent for a ClusterSecretStore. */
  namespace?: string;
}

/** How the annotation names a store: `SecretStore/<name>` or `ClusterSecretStore/<name>`. */
export function annotationEntry(requester: CredentialRequester): string {
  return `${requester.kind}/${requester.name}`;
}

/**
 * Whether an object in `objectNamespace` with these annotations lets `requester` use it. Entries are
 * comma-separated, whitespace around them ignored; no wildcards. A `SecretStore/<name>` entry means the
 * SecretStore of that name in the object's own namespace.
 */
export function allowsStore(
  annotations: Readonly<Record<string, string>> | undefined,
  objectNamespace: string,
  requester: CredentialRequester,
): boolean {
  if (!requester.name) return false;
  if (requester.kind === 'SecretStore' && requester.namespace !== objectNamespace) return false;
  const entries = (annotations?.[allowedStoresAnnotation] ?? '').split(',').map((entry) => entry.trim());
  return entries.includes(annotationEntry(requester));
}

/** Throws the refusal a person can act on: which object, which store, which annotation entry to add. */
export function requireOptIn(
  object: { kind: 'Secret' | 'ServiceAccount'; namespace: string; name: string },
  annotations: Readonly<Record<string, string>> | undefined,
  requester: CredentialRequester,
): void {
  if (allowsStore(annotations, object.namespace, requester)) return;
  const entry = annotationEntry(requester);
  throw new CredentialNotAllowed(
    `${object.kind} ${object.namespace}/${object.name} does not allow ${entry}: add ${entry} to its annotation ` +
      `${allowedStoresAnnotation} (comma-separated) if this store may use it`,
    { code: 'NotOptedIn' },
  );
}
