// Tenancy as a pure decision: may this SecretReference use the store it names? A SecretStore serves only its
// own namespace; a ClusterSecretStore only the namespaces it lists by name or by label selector. And can the
// store serve at all: one that the providers' static checks reject is reported before any store call.
import type { AllowedNamespaces } from '../api/types.ts';
import { validateStore } from '../providers/registry.ts';
import type { StoreObject } from '../providers/store-spec.ts';
import { selectorMatches } from './label-selector.ts';
import type { StoreState } from './plan.ts';

export interface StoreRef {
  kind?: 'SecretStore' | 'ClusterSecretStore';
  name: string;
}

export interface StoreObjectLike {
  metadata?: { name?: string; namespace?: string; deletionTimestamp?: Date };
  spec?: { allowedNamespaces?: AllowedNamespaces } | object;
}

export function judgeStoreAccess(
  referenceNamespace: string,
  storeRef: StoreRef,
  store: StoreObjectLike | undefined,
  namespaceLabels: Record<string, string> | undefined,
): StoreState {
  const kind = storeRef.kind ?? 'SecretStore';
  if (!store || store.metadata?.deletionTimestamp) {
    const where = kind === 'SecretStore' ? ` in namespace ${referenceNamespace}` : '';
    return {
      state: 'missing',
      message: `${kind} "${storeRef.name}" was not found${where}; create it or fix spec.storeRef.`,
    };
  }
  if (kind === 'SecretStore') {
    // The cache lookup is by the reference's namespace already; this guards a lookup done wrong.
    return store.metadata?.namespace === referenceNamespace
      ? { state: 'ready' }
      : { state: 'not-allowed', message: `SecretStore "${storeRef.name}" belongs to another namespace.` };
  }
  const allowed = (store.spec as { allowedNamespaces?: AllowedNamespaces } | undefined)?.allowedNamespaces;
  const byName = allowed?.names?.includes(referenceNamespace) ?? false;
  const bySelector =
    allowed?.selector !== undefined &&
    namespaceLabels !== undefined &&
    selectorMatches(allowed.selector, namespaceLabels);
  if (byName || bySelector) return { state: 'ready' };
  return {
    state: 'not-allowed',
    message:
      `ClusterSecretStore "${storeRef.name}" does not allow namespace ${referenceNamespace}; ` +
      'an administrator must add it to spec.allowedNamespaces (names or selector).',
  };
}

/** A store whose spec the providers reject cannot serve; the store's own status lists every problem. */
export function judgeStoreSpec(storeRef: StoreRef, store: StoreObject): StoreState {
  const problems = validateStore(store);
  const [first] = problems;
  if (!first) return { state: 'ready' };
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more, listed in the store's status)` : '';
  return {
    state: 'invalid',
    message: `${storeRef.kind ?? 'SecretStore'} "${storeRef.name}" cannot be used: ${first.path}: ${first.message}${more}; fix the store.`,
  };
}
