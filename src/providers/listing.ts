// What a listing keeps: the store may or may not apply a query on its side (the GCP emulator ignores filters;
// AWS pairs tag keys and values loosely), so every page is checked here again, the same way for every store.
import type { ListedSecret, ListQuery } from './types.ts';

/** Whether a listed secret satisfies the query: its name starts with the prefix and it carries every tag. */
export function matchesQuery(secret: ListedSecret, query: ListQuery): boolean {
  if (query.prefix !== undefined && !secret.name.startsWith(query.prefix)) return false;
  for (const [key, value] of Object.entries(query.tags ?? {})) {
    const tags = secret.tags ?? {};
    if (!Object.hasOwn(tags, key) || tags[key] !== value) return false;
  }
  return true;
}

/** The listed secrets in name order, each name once (a store may repeat a name across pages). */
export function distinctByName(secrets: readonly ListedSecret[]): ListedSecret[] {
  const byName = new Map<string, ListedSecret>();
  for (const secret of secrets) if (!byName.has(secret.name)) byName.set(secret.name, secret);
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
