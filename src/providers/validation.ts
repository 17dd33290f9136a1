// Small checks shared by the providers' static validation.
import type { StoreObject } from './store-spec.ts';
import type { StoreScope, ValidationProblem } from './types.ts';

/** Exactly one of `keys` must be set on `object`; returns the one chosen, or the problem. */
export function exactlyOne<T extends object>(
  object: T,
  keys: readonly (keyof T & string)[],
  path: string,
): { chosen?: keyof T & string; problem?: ValidationProblem } {
  const set = keys.filter((key) => object[key] !== undefined && object[key] !== null);
  if (set.length === 1) return { chosen: set[0] };
  const options = keys.join(', ');
  if (set.length === 0) return { problem: { path, message: `exactly one of ${options} is required` } };
  return { problem: { path, message: `exactly one of ${options} may be set, found ${set.join(' and ')}` } };
}

export function urlProblems(value: string, path: string): ValidationProblem[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [{ path, message: `"${value}" is not a URL` }];
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return [{ path, message: `must be an http or https URL, not ${url.protocol}` }];
  }
  return [];
}

/** Whether a host names this machine, where plaintext is acceptable (test servers, local proxies). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** The kind and namespace of a store, which decide where its credentials may be read. */
export function storeScope(store: StoreObject): StoreScope {
  return store.kind === 'SecretStore'
    ? { kind: 'SecretStore', namespace: store.metadata.namespace, name: store.metadata.name }
    : { kind: 'ClusterSecretStore', name: store.metadata.name };
}
