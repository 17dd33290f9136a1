// dataFrom[].find as pure decisions: what to ask the store to list, which of the listed secrets may be read,
// and which key each found secret becomes. Listing reads names (and tags) only; nothing here sees a value.
//
// External Secrets Operator's semantics, so migrated manifests keep their meaning: the name regexp matches
// anywhere in the name (as Go's MatchString does), each found secret becomes one key holding its whole value,
// and the key is the secret's name, rewritten by the entry's rewrite, then with every character a Secret key
// cannot hold replaced by "_" (ESO's Default conversion: "/path/key1" becomes "_path_key1").
import type { KeyRewrite, RemoteFind } from '../api/types.ts';
import { InvalidReference, LimitExceeded, RemoteNotAllowed } from '../providers/errors.ts';
import type { ListedSecret, ListQuery } from '../providers/types.ts';
import { rewriteKey, unsafePattern } from './key-rewrite.ts';
import { findAllowed, findRefusal, type RemoteScope, remoteAllowed } from './remote-access.ts';

/** What find.maxSecrets is when the spec leaves it out (the API server applies the same default). */
export const defaultMaxSecrets = 20;

/** Where a find sits, for messages: `spec.dataFrom[2].find`, the store's name and the reference's namespace. */
export interface FindOrigin {
  index: number;
  storeName: string;
  namespace: string;
}

export function findField(index: number): string {
  return `spec.dataFrom[${index}].find`;
}

/** The listing a find asks the store for: its path as a name prefix, its tags. */
export function listQueryOf(find: RemoteFind): ListQuery {
  return {
    ...(find.path !== undefined ? { prefix: find.path } : {}),
    ...(find.tags !== undefined ? { tags: find.tags } : {}),
  };
}

/**
 * The listings a find asks the store for. Through a ClusterSecretStore with remoteAccess the listing itself
 * stays within the namespace's grant: one listing per granted prefix or name the find's path can meet,
 * starting at the longer of the two. So the shared identity never walks another team's folders for this
 * namespace: a listing error (a Vault folder it may not list) names only what the namespace may reach, and a
 * find costs the store no more than the grant holds. Nothing to list when the path meets no grant.
 */
export function listQueriesOf(find: RemoteFind, scope: RemoteScope): ListQuery[] {
  const query = listQueryOf(find);
  if (scope.kind !== 'listed') return [query];
  const path = find.path ?? '';
  const starts = new Set<string>();
  for (const granted of [...scope.prefixes, ...scope.names])
    if (granted.startsWith(path)) starts.add(granted);
  for (const granted of scope.prefixes) if (path.startsWith(granted)) starts.add(path);
  // A start inside another one lists nothing the other does not.
  const outer = [...starts].filter(
    (start) => ![...starts].some((other) => other !== start && start.startsWith(other)),
  );
  return outer.sort().map((prefix) => ({ ...query, prefix }));
}

/**
 * The names a find reads, in name order: the listed secrets whose name matches the regexp and that the scope
 * lets the namespace reach. Secrets outside the scope are dropped here, before any value is read. More than
 * the cap (maxSecrets, lowered by the operator's --max-find-secrets) is refused with the count, so a lookup
 * never silently reads a part of what it matched.
 */
export function selectFound(
  listed: readonly ListedSecret[],
  find: RemoteFind,
  scope: RemoteScope,
  operatorCap: number,
  origin: FindOrigin,
): string[] {
  const field = findField(origin.index);
  if (!findAllowed(scope)) {
    throw new RemoteNotAllowed(`${field}: ${findRefusal(origin.storeName, origin.namespace, scope)}`);
  }
  const pattern = compileNamePattern(find, field);
  const names = listed
    .map((secret) => secret.name)
    .filter((name) => (pattern ? pattern.test(name) : true))
    .filter((name) => remoteAllowed(scope, name));
  const asked = find.maxSecrets ?? defaultMaxSecrets;
  const cap = Math.min(asked, operatorCap);
  if (names.length > cap) {
    const which =
      cap < asked
        ? `the operator's --max-find-secrets (${operatorCap}) lowers maxSecrets to ${cap}`
        : `maxSecrets is ${cap}`;
    throw new LimitExceeded(
      `${field} matches ${names.length} remote secrets and ${which}: nothing was read. Narrow path, name or ` +
        'tags, or raise maxSecrets (at most 100).',
    );
  }
  return names;
}

function compileNamePattern(find: RemoteFind, field: string): RegExp | undefined {
  const source = find.name?.regexp;
  if (source === undefined) return undefined;
  const refused = unsafePattern(source);
  if (refused) throw new InvalidReference(`${field}.name.regexp is refused: ${refused}`);
  return new RegExp(source);
}

/** Every character a Secret key cannot hold, replaced by "_" after the rewrite, as ESO's Default conversion does. */
const notKeyCharacter = /[^-._a-zA-Z0-9]/g;

/** The Secret key a found secret becomes: its name, rewritten, then made of characters a key may hold. */
export function foundKey(name: string, rewrites: readonly KeyRewrite[] | undefined): string {
  const rewritten = rewrites ? rewriteKey(name, rewrites, { remote: name }) : name;
  return rewritten.replace(notKeyCharacter, '_');
}
