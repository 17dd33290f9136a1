// Which remote secrets a namespace may reach through the store it uses, as a pure decision. A SecretStore's
// credentials are its own namespace's, so they reach whatever they can. A ClusterSecretStore's identity is
// shared: its spec.remoteAccess says, per namespace, which names and prefixes each tenant may reach. Without
// it, plain references reach any remote (as before the field existed), and find, which would list everything
// the shared identity can see, is refused.
import type { AllowedNamespaces, ClusterSecretStoreSpec, SecretReference } from '../api/types.ts';
import { selectorMatches } from './label-selector.ts';
import type { StoreState } from './plan.ts';

export type RemoteScope =
  /** A SecretStore: every remote its own credentials reach, by name and by find. */
  | { kind: 'any' }
  /** A ClusterSecretStore without remoteAccess: any remote by name; find is refused. */
  | { kind: 'names-only' }
  /** A ClusterSecretStore with remoteAccess: only these, by name and by find. */
  | { kind: 'listed'; names: readonly string[]; prefixes: readonly string[] };

/** Names at most this many refused remotes in a message; the rest are counted. */
const listedRemotesLimit = 5;

/** The remotes `namespace` may reach through the store; `labels` are the namespace's own. */
export function remoteScopeFor(
  kind: 'SecretStore' | 'ClusterSecretStore',
  spec: object | undefined,
  namespace: string,
  labels: Record<string, string> | undefined,
): RemoteScope {
  if (kind === 'SecretStore') return { kind: 'any' };
  const rules = (spec as Partial<ClusterSecretStoreSpec> | undefined)?.remoteAccess;
  if (rules === undefined) return { kind: 'names-only' };
  const selecting = rules.filter((rule) => namespaceSelected(rule.namespaces, namespace, labels));
  return {
    kind: 'listed',
    names: selecting.flatMap((rule) => rule.names ?? []),
    prefixes: selecting.flatMap((rule) => rule.prefixes ?? []),
  };
}

function namespaceSelected(
  selection: AllowedNamespaces | undefined,
  namespace: string,
  labels: Record<string, string> | undefined,
): boolean {
  if (selection?.names?.includes(namespace)) return true;
  return (
    selection?.selector !== undefined && labels !== undefined && selectorMatches(selection.selector, labels)
  );
}

/** Whether a remote secret, named as a reference or a listing names it, is within the scope. */
export function remoteAllowed(scope: RemoteScope, name: string): boolean {
  if (scope.kind !== 'listed') return true;
  return scope.names.includes(name) || scope.prefixes.some((prefix) => name.startsWith(prefix));
}

/** Whether find may run at all; when it may, only the listed names within the scope are read. */
export function findAllowed(scope: RemoteScope): boolean {
  return (
    scope.kind === 'any' || (scope.kind === 'listed' && (scope.names.length > 0 || scope.prefixes.length > 0))
  );
}

/** Why find may not run through this store, for the reference's condition and the error that stops a read. */
export function findRefusal(storeName: string, namespace: string, scope: RemoteScope): string {
  return scope.kind === 'names-only'
    ? `ClusterSecretStore "${storeName}" has no spec.remoteAccess, so dataFrom find is refused through it: ` +
        `listing would reach every secret its shared identity can read. An administrator must add a ` +
        `remoteAccess rule that selects namespace ${namespace}.`
    : `no spec.remoteAccess rule of ClusterSecretStore "${storeName}" selects namespace ${namespace}, so it ` +
        'reaches no remote secret; an administrator must add one.';
}

/**
 * The store state for a reference whose store admits its namespace: not-allowed (RemoteNotAllowed) when it
 * names a remote outside the scope, or uses find where find is refused. Decided before any store call.
 */
export function judgeRemoteAccess(reference: SecretReference, scope: RemoteScope): StoreState {
  if (scope.kind === 'any') return { state: 'ready' };
  const storeName = reference.spec.storeRef.name;
  const namespace = reference.metadata.namespace ?? '';
  const usesFind = (reference.spec.dataFrom ?? []).some((entry) => entry.find !== undefined);
  if (usesFind && !findAllowed(scope)) {
    return {
      state: 'not-allowed',
      reason: 'RemoteNotAllowed',
      message: findRefusal(storeName, namespace, scope),
    };
  }
  const named = [
    ...(reference.spec.data ?? []).map((entry) => entry.remote.name),
    ...(reference.spec.dataFrom ?? []).flatMap((entry) => (entry.remote ? [entry.remote.name] : [])),
  ];
  const refused = [...new Set(named.filter((name) => !remoteAllowed(scope, name)))];
  if (refused.length === 0) return { state: 'ready' };
  const shown = refused.slice(0, listedRemotesLimit).map((name) => JSON.stringify(name));
  const more = refused.length > listedRemotesLimit ? ` and ${refused.length - listedRemotesLimit} more` : '';
  return {
    state: 'not-allowed',
    reason: 'RemoteNotAllowed',
    message:
      `ClusterSecretStore "${storeName}" does not let namespace ${namespace} reach remote secret(s) ` +
      `${shown.join(', ')}${more}: spec.remoteAccess grants it only the names and prefixes of the rules that ` +
      'select it. Nothing was read; an administrator must extend remoteAccess, or the reference must name ' +
      'another remote.',
  };
}
