// ESO dataFrom[].find → secretlink dataFrom[].find. The fields mean the same (path as a name prefix or Vault
// folder, name.regexp matched anywhere in the name, tags as exact tag or label values), and each found secret
// becomes one key, its name with "/" and other characters a key cannot hold replaced by "_" after the
// rewrite, as ESO's Default conversion does. What differs is reported: the cap on how many secrets a find
// reads, and that a ClusterSecretStore must grant the namespace its remotes before find may run through it.
import type { RemoteFind, StoreRef } from '../api/types.ts';
import { unsafePattern } from '../controller/key-rewrite.ts';
import { type Fields, otherKeys, stringMap, text } from './fields.ts';
import type { FindingList } from './findings.ts';

/** What the API server applies when maxSecrets is left out. */
const defaultMaxSecrets = 20;
const known = ['path', 'name', 'tags', 'conversionStrategy', 'decodingStrategy'];

/** The secretlink find for an ESO find, or undefined (with a finding) when the entry must be left out. */
export function convertFind(
  find: Fields,
  field: string,
  storeRef: StoreRef,
  findings: FindingList,
): RemoteFind | undefined {
  const leftOut = 'entry left out';
  const out: RemoteFind = {};
  const path = text(find.path);
  if (path) out.path = path;
  const regexp = text((find.name as Fields | undefined)?.regexp);
  if (regexp) {
    const refused = unsafePattern(regexp);
    if (refused) {
      findings.action(`${field}.name.regexp`, `is refused by secretlink: ${refused}; ${leftOut}`);
      return undefined;
    }
    out.name = { regexp };
  }
  const tags = stringMap(find.tags);
  if (tags && Object.keys(tags).length > 0) out.tags = tags;
  if (!out.path && !out.name && !out.tags) {
    findings.action(
      field,
      `sets no path, name or tags: it would list every secret of the store, which secretlink refuses; ${leftOut}`,
    );
    return undefined;
  }
  const conversion = text(find.conversionStrategy);
  if (conversion && conversion !== 'Default') {
    findings.changed(
      `${field}.conversionStrategy`,
      `is ${conversion}; secretlink replaces every character a Secret key cannot hold with "_" (ESO's Default)`,
    );
  }
  for (const other of otherKeys(find, known)) {
    findings.changed(`${field}.${other}`, 'is not a find field secretlink knows; not carried over');
  }
  findings.info(
    `${field}.maxSecrets`,
    `secretlink reads at most maxSecrets secrets per find (default ${defaultMaxSecrets}, at most 100) and ` +
      'refuses the reference with LimitExceeded when more match; set maxSecrets if more should',
  );
  if (storeRef.kind === 'ClusterSecretStore') {
    findings.action(
      field,
      `find through ClusterSecretStore "${storeRef.name}" runs only once an administrator adds a ` +
        'spec.remoteAccess rule granting this namespace the names or prefixes it may reach',
    );
  }
  return out;
}
